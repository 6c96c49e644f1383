/**
 * Compilation as a list of passes: each takes a graph and returns a graph, and the
 * graph is verified after every one, so a pass that breaks it is named at once
 * (`after pass 'lowerToMvm': node 'x' ...`). The compiler strips the final softmax
 * and folds batch norms itself (it keeps what they found: the softmax axis, the
 * folded pairs), then runs `lowerToMvm` and `place` here; `CompiledModel.passTrace`
 * shows every stage.
 */
import { ShapeError } from '../../errors';
import type { ChipPlan } from '../chipPlan';
import type { Graph, Node, NodeOf } from '../ir/graph';
import { verifyGraph } from '../ir/verify';
import { lowerToMvm } from './lowerToMvm';

/** One compiler stage: a pure function from graph to graph. */
export interface GraphPass {
  readonly name: string;
  readonly run: (graph: Graph) => Graph;
}

/** The graph after each pass, in order (the first entry is the verified input). */
export interface PassTrace {
  readonly pass: string;
  readonly graph: Graph;
}

/**
 * Runs `passes` in order, verifying the graph before the first and after each.
 * @throws ShapeError naming the pass whose output does not verify.
 */
export function runPasses(graph: Graph, passes: readonly GraphPass[]): { graph: Graph; trace: PassTrace[] } {
  let g = verifyGraph(graph);
  const trace: PassTrace[] = [{ pass: 'input', graph: g }];
  for (const pass of passes) {
    const out = pass.run(g);
    try {
      g = verifyGraph(out);
    } catch (err) {
      if (err instanceof ShapeError) throw new ShapeError(`after pass '${pass.name}': ${err.message}`);
      throw err;
    }
    trace.push({ pass: pass.name, graph: g });
  }
  return { graph: g, trace };
}

/** The graph without a trailing softmax nobody reads, so runs return logits (what voting and the CLI report). */
export function stripFinalSoftmax(graph: Graph): { graph: Graph; endsInSoftmax: boolean; axis?: number } {
  if (graph.outputs.length !== 1) return { graph, endsInSoftmax: false };
  const last = graph.nodes.find((n) => n.name === graph.outputs[0])!;
  if (last.op !== 'softmax') return { graph, endsInSoftmax: false };
  const readers = graph.nodes.filter((n) => n.inputs.includes(last.name));
  if (readers.length > 0) return { graph, endsInSoftmax: false };
  return {
    graph: { nodes: graph.nodes.filter((n) => n !== last), inputs: graph.inputs, outputs: [last.inputs[0]] },
    endsInSoftmax: true,
    axis: last.attrs.axis,
  };
}

export const LOWER_TO_MVM: GraphPass = { name: 'lowerToMvm', run: lowerToMvm };

/**
 * The `place` pass: each `mvm` node gets the tiles the chip plan gave its matrix
 * (`MvmAttrs.tiles`), so the lowered graph reads as the chip's map.
 */
export function placePass(plan: ChipPlan): GraphPass {
  const matrices = new Map(plan.layers.flatMap((l) => l.matrices.map((m) => [`${m.node}#${m.group}`, m] as const)));
  return {
    name: 'place',
    run: (graph) => ({
      ...graph,
      nodes: graph.nodes.map((n): Node => {
        if (n.op !== 'mvm') return n;
        const m = matrices.get(`${n.attrs.layer}#${n.attrs.group}`);
        if (!m) throw new ShapeError(`place: mvm node '${n.name}' is of layer '${n.attrs.layer}' group ${n.attrs.group}, which the chip plan does not hold`);
        const { rows, cols } = m.chip.tile;
        const tiles = { rowBlocks: m.grid.rowBlocks, colBlocks: m.grid.colBlocks, firstTile: m.firstTile, tile: `${rows}x${cols}`, device: m.chip.device.kind };
        return { ...n, attrs: { ...n.attrs, tiles } } satisfies NodeOf<'mvm'>;
      }),
    }),
  };
}
