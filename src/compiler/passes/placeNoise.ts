/**
 * Where signal-level noise enters the graph ({@link NoiseSite}): a pass that takes
 * out the model's own noise points (noise nodes, an LSTM's gate noise) and puts
 * `noise` nodes at the chosen site of every analog layer. The signal-level mode
 * (either engine) then applies each run's noise at those nodes.
 *
 * - `mvm`: no node is added: with no noise points in the graph the signal mode
 *   puts the noise on every MVM output, before the bias (the raw product).
 * - `bias`: a noise node after each dense/conv2d node (its output includes the bias).
 * - `norm`: after the batch norm when a batch norm is the layer's only reader,
 *   else after the bias (a classifier without batch norm), as in the paper's CNN.
 *
 * Inserted nodes are called `<layer>_noise` (the zoo's naming), so a model
 * trained with noise after its batch norms gets the same noise points, and the
 * same draws, under `norm` as from its own layers.
 */
import { ConfigError } from '../../errors';
import type { Graph, Node, NodeOf } from '../ir/graph';
import { consumers, isAnalog } from '../ir/graph';
import { verifyGraph } from '../ir/verify';
import type { NoiseSite } from '../hardware';

/** Whether the graph carries noise points of its own (noise nodes or LSTM gate noise). */
export function hasNoisePoints(graph: Graph): boolean {
  return graph.nodes.some((n) => n.op === 'noise' || (n.op === 'lstm' && n.attrs.gateNoise !== undefined));
}

/** The graph without its noise points: noise nodes bypassed, LSTM gate noise dropped. */
export function stripNoisePoints(graph: Graph): Graph {
  if (!hasNoisePoints(graph)) return graph;
  const replaced = new Map<string, string>();
  const resolve = (name: string): string => {
    let n = name;
    while (replaced.has(n)) n = replaced.get(n)!;
    return n;
  };
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (node.op === 'noise') {
      replaced.set(node.name, node.inputs[0]);
      continue;
    }
    let out: Node = node.inputs.some((i) => replaced.has(i)) ? ({ ...node, inputs: node.inputs.map(resolve) } as Node) : node;
    if (out.op === 'lstm' && out.attrs.gateNoise !== undefined) {
      const { gateNoise: _dropped, ...attrs } = out.attrs;
      out = { ...out, attrs } as Node;
    }
    nodes.push(out);
  }
  return verifyGraph({ nodes, inputs: graph.inputs, outputs: graph.outputs.map(resolve) });
}

/**
 * The graph with its signal-level noise at `site` (see the module comment).
 * @throws ConfigError for `bias` or `norm` on a model with recurrent layers, whose
 *   bias add and gates sit inside the recurrence (use `mvm`).
 */
export function placeSignalNoise(graph: Graph, site: NoiseSite): Graph {
  const clean = stripNoisePoints(graph);
  if (site === 'mvm') return clean;
  const readers = consumers(clean);
  const byName = new Map(clean.nodes.map((n) => [n.name, n]));
  const taken = new Set(clean.nodes.map((n) => n.name));
  // target node name → the noise node placed after it
  const after = new Map<string, NodeOf<'noise'>>();
  for (const node of clean.nodes) {
    if (!isAnalog(node)) continue;
    if (node.op === 'lstm' || node.op === 'gru') {
      throw new ConfigError('noiseSite', site, `"mvm" for a model with recurrent layers (${node.name} is ${node.op}: its bias add and gates sit inside the recurrence)`);
    }
    let target: Node = node;
    if (site === 'norm') {
      const r = readers.get(node.name) ?? [];
      const bn = r.length === 1 && !clean.outputs.includes(node.name) ? byName.get(r[0]) : undefined;
      if (bn?.op === 'batchNorm') target = bn;
    }
    let name = `${node.name}_noise`;
    for (let k = 2; taken.has(name); k++) name = `${node.name}_noise_${k}`;
    taken.add(name);
    after.set(target.name, { name, op: 'noise', inputs: [target.name], attrs: { kind: 'multiplicative', sigma: 0 }, outputShape: target.outputShape });
  }
  const rename = (i: string): string => after.get(i)?.name ?? i;
  const nodes: Node[] = [];
  for (const node of clean.nodes) {
    nodes.push(node.inputs.some((i) => after.has(i)) ? ({ ...node, inputs: node.inputs.map(rename) } as Node) : node);
    const noise = after.get(node.name);
    if (noise) nodes.push(noise);
  }
  return verifyGraph({ nodes, inputs: clean.inputs, outputs: clean.outputs.map(rename) });
}
