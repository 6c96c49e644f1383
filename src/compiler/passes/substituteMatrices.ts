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
        let data = m[0];
        if (groups > 1) {
          // Row r of group g's [kh·kw·cInG, cOutG] matrix holds output channels g·cOutG … of kernel row r.
          const cOutG = cOut / groups;
          data = new Float32Array(kernel.data.length);
          for (let g = 0; g < groups; g++) {
            for (let r = 0; r < kh * kw * cInG; r++) data.set(m[g].subarray(r * cOutG, (r + 1) * cOutG), r * cOut + g * cOutG);
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
    }
  });
  return { nodes, inputs: graph.inputs, outputs: graph.outputs };
}
