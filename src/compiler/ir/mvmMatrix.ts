/**
 * The constant matrices that an analog node multiplies by: what gets programmed
 * into crossbar tiles, and what the executor's default MVM multiplies by. The
 * executor calls the MVM hook with inputs whose columns are in exactly this row
 * order, so a crossbar model needs nothing else from the node.
 */
import type { AnalogNode } from './graph';
import type { ConstTensor } from './ops';

/** Number of separate MVM matrices of an analog node (conv groups; 1 otherwise). */
export function mvmGroupCount(node: AnalogNode): number {
  return node.op === 'conv2d' ? node.attrs.groups : 1;
}

/**
 * The `[rows, cols]` MVM matrix of `node` (for a grouped conv, of group `group`):
 * - dense: the weights `[fanIn, fanOut]`;
 * - conv2d: `[kh·kw·cInG, cOutG]` for the output channels of `group`, row
 *   `(i·kw + j)·cInG + c` (see `Conv2dAttrs`);
 * - lstm: `[features + units, 4·units]`, the kernel stacked over the recurrent
 *   kernel, columns in the IR gate order i, f, c, o.
 * Biases are not part of the matrix; they are added digitally after the MVM.
 */
export function mvmMatrix(node: AnalogNode, group = 0): ConstTensor {
  switch (node.op) {
    case 'dense':
      return node.attrs.weights;
    case 'conv2d': {
      const { kernel, groups } = node.attrs;
      const [kh, kw, cInG, cOut] = kernel.shape;
      if (groups === 1) return { shape: [kh * kw * cInG, cOut], data: kernel.data };
      const cOutG = cOut / groups;
      const rows = kh * kw * cInG;
      const data = new Float32Array(rows * cOutG);
      for (let r = 0; r < rows; r++) {
        const src = r * cOut + group * cOutG;
        data.set(kernel.data.subarray(src, src + cOutG), r * cOutG);
      }
      return { shape: [rows, cOutG], data };
    }
    case 'lstm': {
      const { kernel, recurrentKernel } = node.attrs;
      const data = new Float32Array(kernel.data.length + recurrentKernel.data.length);
      data.set(kernel.data, 0);
      data.set(recurrentKernel.data, kernel.data.length);
      return { shape: [kernel.shape[0] + recurrentKernel.shape[0], kernel.shape[1]], data };
    }
    default: {
      const unreachable: never = node;
      throw new Error(`not an analog node: ${JSON.stringify(unreachable)}`);
    }
  }
}
