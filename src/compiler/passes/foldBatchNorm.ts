/**
 * Fold an inference-mode batch norm into the dense or conv2d node feeding it:
 * W' = W·γ/√(v+ε) per output channel, b' = (b − μ)·γ/√(v+ε) + β.
 *
 * Folding moves the BN scale into the conductances, so it changes what is noisy
 * whenever noise acts on the MVM output: multiplicative noise on W·x commutes with
 * the per-channel affine BN, but additive noise (signal-level Eq. 2) and the
 * device's sensing noise then act on BN-scaled outputs instead of raw ones. Whether
 * to fold is therefore decided by the caller (see `compile`'s `foldBatchNorm`),
 * never silently. The pass folds only where the BN is the sole reader of the MVM.
 */
import type { Graph, Node, NodeOf } from '../ir/graph';
import { consumers } from '../ir/graph';
import type { ConstTensor } from '../ir/ops';
import { verifyGraph } from '../ir/verify';

export interface FoldReport {
  readonly graph: Graph;
  /** `[bnName, intoNodeName]` for every folded pair. */
  readonly folded: ReadonlyArray<readonly [string, string]>;
}

function foldInto(mvm: NodeOf<'dense'> | NodeOf<'conv2d'>, bn: NodeOf<'batchNorm'>): Node {
  const { gamma, beta, mean, variance, epsilon } = bn.attrs;
  const channels = gamma.data.length;
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scale[c] = gamma.data[c] / Math.sqrt(variance.data[c] + epsilon);
  const w = mvm.op === 'dense' ? mvm.attrs.weights : mvm.attrs.kernel;
  // Output channel is the last axis of both [fanIn, fanOut] and [kh, kw, cInG, cOut].
  const data = new Float32Array(w.data.length);
  for (let i = 0; i < w.data.length; i++) data[i] = w.data[i] * scale[i % channels];
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const b = mvm.attrs.bias ? mvm.attrs.bias.data[c] : 0;
    bias[c] = (b - mean.data[c]) * scale[c] + beta.data[c];
  }
  const weights: ConstTensor = { shape: w.shape, data };
  const biasTensor: ConstTensor = { shape: [channels], data: bias };
  // The folded node takes the BN's name so every reader of the BN still finds it.
  if (mvm.op === 'dense') {
    return { ...mvm, name: bn.name, attrs: { ...mvm.attrs, weights, bias: biasTensor }, outputShape: bn.outputShape };
  }
  return { ...mvm, name: bn.name, attrs: { ...mvm.attrs, kernel: weights, bias: biasTensor }, outputShape: bn.outputShape };
}

/** A new graph with every foldable (MVM → BN) pair folded. */
export function foldBatchNorm(graph: Graph): FoldReport {
  const readers = consumers(graph);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const replaced = new Map<string, Node>();
  const dropped = new Set<string>();
  const folded: Array<readonly [string, string]> = [];
  for (const node of graph.nodes) {
    if (node.op !== 'batchNorm') continue;
    const src = byName.get(node.inputs[0]);
    if (!src || (src.op !== 'dense' && src.op !== 'conv2d')) continue;
    if ((readers.get(src.name) ?? []).length !== 1 || graph.outputs.includes(src.name)) continue;
    replaced.set(node.name, foldInto(src, node));
    dropped.add(src.name);
    folded.push([node.name, src.name]);
  }
  const nodes = graph.nodes
    .filter((n) => !dropped.has(n.name))
    .map((n) => {
      const r = replaced.get(n.name);
      if (!r) return n;
      const src = byName.get(n.inputs[0])!;
      return { ...r, inputs: src.inputs } as Node;
    });
  const out: Graph = { nodes, inputs: graph.inputs, outputs: graph.outputs };
  verifyGraph(out);
  return { graph: out, folded };
}
