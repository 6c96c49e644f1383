/**
 * The names a user may give a layer in per-layer overrides (`layers: { conv1: … }`):
 * the analog node's name in the compiled graph (the lowered name, e.g. `conv1_bn`
 * once the batch norm is folded into conv1), the source layer's name (`conv1`),
 * and for ONNX models the source node's name (`/features/0/Conv`) beside its
 * output tensor's (`h`). `ohmic compile --layers` lists them.
 */
import * as fs from 'fs';
import { ConfigError } from '../errors';
import type { AnalogNode, Graph } from './ir/graph';
import { isAnalog } from './ir/graph';
import type { LayerOverrides, RawChipConfig } from './chipPlan';
import { decodeOnnxModel } from './frontends/onnx/onnxProto';

/** One analog layer and every name that selects it. */
export interface LayerNames {
  /** The node's name in the compiled graph (what reports print). */
  readonly name: string;
  readonly op: AnalogNode['op'];
  /** Every accepted name, the lowered name first, then source names. */
  readonly names: readonly string[];
}

/** Source names by graph value name: from an ONNX file, each node's name by its outputs. */
export type SourceNames = ReadonlyMap<string, readonly string[]>;

/**
 * The other names of an ONNX file's values, for {@link analogLayerNames}: each
 * output tensor's node name, and each node's output tensor names (the IR names a
 * node after the one or the other). Nodes without a name are left out.
 */
export function onnxSourceNames(file: string): Map<string, string[]> {
  const model = decodeOnnxModel(new Uint8Array(fs.readFileSync(file)), file);
  const out = new Map<string, string[]>();
  const link = (a: string, b: string): void => {
    const list = out.get(a) ?? [];
    if (!list.includes(b)) list.push(b);
    out.set(a, list);
  };
  for (const node of model.graph?.node ?? []) {
    if (!node.name) continue;
    for (const o of node.output ?? []) {
      if (!o || o === node.name) continue;
      link(o, node.name);
      link(node.name, o);
    }
  }
  return out;
}

/**
 * The PyTorch module of a `torch.onnx.export` node name: `/features/features.0/Conv`
 * → `features.0`, `/fc/Gemm` → `fc` (what the module is called in the model's code).
 */
function torchModuleName(name: string): string | undefined {
  const m = /^\/(?:.*\/)?([^/]+)\/[A-Za-z]+(?:_\d+)?$/.exec(name);
  return m ? m[1] : undefined;
}

/**
 * Every analog layer of `graph` with its accepted names.
 * @param folded `[bn, into]` pairs folded into the graph (the folded node carries the bn's name).
 */
export function analogLayerNames(graph: Graph, folded: ReadonlyArray<readonly [string, string]> = [], sourceNames?: SourceNames): LayerNames[] {
  const into = new Map(folded.map(([bn, mvm]) => [bn, mvm]));
  const rows = graph.nodes.filter(isAnalog).map((node) => {
    const names = [node.name];
    const add = (n: string | undefined): void => {
      if (n !== undefined && n !== '' && !names.includes(n)) names.push(n);
    };
    const source = into.get(node.name);
    add(source);
    for (const value of [node.name, source]) {
      if (value === undefined) continue;
      for (const s of sourceNames?.get(value) ?? []) add(s);
    }
    // The PyTorch module names of the MVM's node (the source layer before a folded batch norm first).
    for (const n of [...names].reverse()) add(torchModuleName(n));
    return { name: node.name, op: node.op, names };
  });
  // A name that would select two layers selects neither (their own names still do).
  const count = new Map<string, number>();
  for (const r of rows) for (const n of r.names) count.set(n, (count.get(n) ?? 0) + 1);
  return rows.map((r) => ({ ...r, names: r.names.filter((n, i) => i === 0 || count.get(n) === 1) }));
}

/**
 * Per-layer overrides keyed by any accepted name, re-keyed by the compiled graph's
 * node names (a function form is passed through).
 * @throws ConfigError `layers.NAME` for a name no layer has (listing the names), or
 *   two keys naming one layer.
 */
export function resolveLayerOverrides(overrides: LayerOverrides | undefined, layers: readonly LayerNames[]): LayerOverrides | undefined {
  if (overrides === undefined || typeof overrides === 'function') return overrides;
  const byName = new Map<string, string>();
  for (const l of layers) for (const n of l.names) if (!byName.has(n)) byName.set(n, l.name);
  const out: Record<string, RawChipConfig> = {};
  const keyOf = new Map<string, string>();
  for (const [key, value] of Object.entries(overrides)) {
    const name = byName.get(key);
    if (name === undefined) {
      const list = layers.map((l) => l.names.join(' / ')).join(', ');
      throw new ConfigError(`layers.${key}`, key, `a layer name of the model (${list || 'it has no analog layers'}); ohmic compile --layers lists them`);
    }
    const first = keyOf.get(name);
    if (first !== undefined) throw new ConfigError(`layers.${key}`, key, `one override per layer (layers.${first} already names layer ${name})`);
    keyOf.set(name, key);
    out[name] = value;
  }
  return out;
}
