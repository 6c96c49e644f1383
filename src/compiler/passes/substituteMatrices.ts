/**
 * A graph whose analog nodes carry other MVM matrices (e.g. a programmed chip's
 * effective weights), laid back into each op's own weight layout: the inverse of
 * `mvmMatrix`. With it, a chip whose MVMs are linear and free of dynamic noise runs
 * on the executor's fused kernels (tfjs conv2d) instead of im2col.
 */
import type { Graph, Node } from '../ir/graph';
import { isAnalog } from '../ir/graph';
import type { ConstTensor } from '../ir/ops';

/** `matrices.get(node)[group]` is the `[rows, cols]` matrix of that node's group. */
export function substituteMatrices(graph: Graph, matrices: ReadonlyMap<string, readonly Float32Array[]>): Graph {
  const nodes = graph.nodes.map((node): Node => {
    const m = matrices.get(node.name);
    if (!m || !isAnalog(node)) return node;
    switch (node.op) {
      case 'dense':
        return { ...node, attrs: { ...node.attrs, weights: { shape: node.attrs.weights.shape, data: m[0] } } };
      case 'conv2d': {
        const { kernel, groups } = node.attrs;
        const [kh, kw, cInG, cOut] = kernel.shape;
        // Row (c·kh·kw + p) of group g's [kh·kw·cInG, cOutG] matrix holds output channels
        // g·cOutG … of kernel position p, input channel c (see mvmMatrix).
        const cOutG = cOut / groups;
        const data = new Float32Array(kernel.data.length);
        for (let g = 0; g < groups; g++) {
          for (let c = 0; c < cInG; c++) {
            for (let p = 0; p < kh * kw; p++) {
              const r = c * kh * kw + p;
              data.set(m[g].subarray(r * cOutG, (r + 1) * cOutG), (p * cInG + c) * cOut + g * cOutG);
            }
          }
        }
        const k: ConstTensor = { shape: kernel.shape, data };
        return { ...node, attrs: { ...node.attrs, kernel: k } };
      }
      case 'lstm': {
        const { kernel, recurrentKernel } = node.attrs;
        const split = kernel.data.length;
        return {
          ...node,
          attrs: {
            ...node.attrs,
            kernel: { shape: kernel.shape, data: m[0].slice(0, split) },
            recurrentKernel: { shape: recurrentKernel.shape, data: m[0].slice(split) },
          },
        };
      }
      case 'gru': {
        // The inverse of mvmMatrix's three GRU matrices (z, r columns stacked; then the n columns of each).
        const { kernel, recurrentKernel, units } = node.attrs;
        const features = kernel.shape[0];
        const k = new Float32Array(kernel.data.length);
        const rk = new Float32Array(recurrentKernel.data.length);
        const w = 3 * units;
        for (let r = 0; r < features; r++) {
          k.set(m[0].subarray(r * 2 * units, (r + 1) * 2 * units), r * w);
          k.set(m[1].subarray(r * units, (r + 1) * units), r * w + 2 * units);
        }
        for (let r = 0; r < units; r++) {
          rk.set(m[0].subarray((features + r) * 2 * units, (features + r + 1) * 2 * units), r * w);
          rk.set(m[2].subarray(r * units, (r + 1) * units), r * w + 2 * units);
        }
        return {
          ...node,
          attrs: { ...node.attrs, kernel: { shape: kernel.shape, data: k }, recurrentKernel: { shape: recurrentKernel.shape, data: rk } },
        };
      }
    }
  });
  return { nodes, inputs: graph.inputs, outputs: graph.outputs };
}
