/**
 * The constant matrices that an analog node multiplies by: what gets programmed
 * into crossbar tiles, and what the executor's default MVM multiplies by. The
 * executor calls the MVM hook with inputs whose columns are in exactly this row
 * order, so a crossbar model needs nothing else from the node.
 */
import type { AnalogNode } from './graph';
import type { ConstTensor } from './ops';

/** Number of separate MVM matrices of an analog node (conv groups; a GRU's three; 1 otherwise). */
export function mvmGroupCount(node: AnalogNode): number {
  if (node.op === 'conv2d') return node.attrs.groups;
  return node.op === 'gru' ? 3 : 1;
}

/** Columns `[c0, c1)` of the row-major `[rows, cols]` matrix `m`. */
function columns(m: ConstTensor, c0: number, c1: number): Float32Array {
  const [rows, cols] = m.shape;
  const out = new Float32Array(rows * (c1 - c0));
  for (let r = 0; r < rows; r++) out.set(m.data.subarray(r * cols + c0, r * cols + c1), r * (c1 - c0));
  return out;
}

/**
 * The `[rows, cols]` MVM matrix of `node` (for a grouped conv, of group `group`):
 * - dense: the weights `[fanIn, fanOut]`;
 * - conv2d: `[kh·kw·cInG, cOutG]` for the output channels of `group`, row
 *   `(c·kh + i)·kw + j`, channel-major as PyTorch's `weight.view(cOut, -1)` (see
 *   `Conv2dAttrs`), so a tile's row band is a range of input channels;
 * - lstm: `[features + units, 4·units]`, the kernel stacked over the recurrent
 *   kernel, columns in the IR gate order i, f, c, o;
 * - gru (see `GruAttrs`): group 0 `[features + units, 2·units]`, the z and r columns
 *   of the kernel stacked over those of the recurrent kernel; group 1
 *   `[features, units]`, the kernel's n columns; group 2 `[units, units]`, the
 *   recurrent kernel's n columns.
 * Biases are not part of the matrix; they are added digitally after the MVM.
 */
export function mvmMatrix(node: AnalogNode, group = 0): ConstTensor {
  switch (node.op) {
    case 'dense':
      return node.attrs.weights;
    case 'conv2d': {
      const { kernel, groups } = node.attrs;
      const [kh, kw, cInG, cOut] = kernel.shape;
      const cOutG = cOut / groups;
      const rows = kh * kw * cInG;
      const data = new Float32Array(rows * cOutG);
      for (let c = 0; c < cInG; c++) {
        for (let p = 0; p < kh * kw; p++) {
          const src = (p * cInG + c) * cOut + group * cOutG;
          data.set(kernel.data.subarray(src, src + cOutG), (c * kh * kw + p) * cOutG);
        }
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
    case 'gru': {
      const { kernel, recurrentKernel, units } = node.attrs;
      const [features] = kernel.shape;
      if (group === 1) return { shape: [features, units], data: columns(kernel, 2 * units, 3 * units) };
      if (group === 2) return { shape: [units, units], data: columns(recurrentKernel, 2 * units, 3 * units) };
      const data = new Float32Array((features + units) * 2 * units);
      data.set(columns(kernel, 0, 2 * units), 0);
      data.set(columns(recurrentKernel, 0, 2 * units), features * 2 * units);
      return { shape: [features + units, 2 * units], data };
    }
    default: {
      const unreachable: never = node;
      throw new Error(`not an analog node: ${JSON.stringify(unreachable)}`);
    }
  }
}
