/**
 * How an ONNX tensor sits in the IR tensor that holds it.
 *
 * ONNX images are NCHW, the IR's are NHWC, and ONNX models move axes around freely
 * (Transpose, LSTM's time-major input, Squeeze/Unsqueeze of size-1 axes). Rather than
 * emitting an IR node for each of those, the frontend records for every value an
 * {@link AxisMap} and emits a transpose or reshape only where an op needs a particular
 * arrangement ({@link layoutChange}). So an ONNX `Transpose` to NHWC right after a
 * convolution costs nothing, and a `Flatten` after NCHW conv features gets exactly
 * one NHWC → NCHW transpose, which makes it flatten in ONNX's (C, H, W) order.
 */
import { ShapeError } from '../../../errors';
import type { Shape } from '../../ir/ops';

/**
 * `axes[i]` is the IR axis that holds ONNX axis `i`, or `null` for a size-1 ONNX axis
 * the IR tensor does not have. Every IR axis appears exactly once; IR axis 0 is
 * always the batch.
 */
export type AxisMap = readonly (number | null)[];

/** ONNX NCHW held as IR NHWC: ONNX axes (N, C, H, W) are IR axes (0, 3, 1, 2). */
export const NCHW_AS_NHWC: AxisMap = [0, 3, 1, 2];

/** ONNX axis `i` is IR axis `i`. */
export function identityAxes(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i);
}

/** Number of IR axes an axis map uses. */
export function irRankOf(axes: AxisMap): number {
  return axes.filter((a) => a !== null).length;
}

/** The ONNX axis that holds the batch (IR axis 0). */
export function batchAxisOf(axes: AxisMap): number {
  return axes.indexOf(0);
}

/** The value's ONNX shape, given the IR tensor's shape (`null` = batch or unknown). */
export function onnxShapeOf(axes: AxisMap, irShape: Shape): (number | null)[] {
  return axes.map((a) => (a === null ? 1 : irShape[a]));
}

/** ONNX `Transpose(perm)`: output ONNX axis `i` is input ONNX axis `perm[i]`. */
export function transposeAxes(axes: AxisMap, perm: readonly number[]): AxisMap {
  return perm.map((p) => axes[p]);
}

/**
 * The arrangement that keeps the IR order of every axis except ONNX axis `onnxAxis`,
 * which becomes the last IR axis (made real if it was a size-1 axis the IR lacked).
 * Dense layers need their input features last, batch norm its channels.
 */
export function moveAxisLast(axes: AxisMap, onnxAxis: number): AxisMap {
  const moving = axes[onnxAxis];
  const rank = irRankOf(axes);
  if (moving === null) return axes.map((a, i) => (i === onnxAxis ? rank : a));
  return axes.map((a, i) => {
    if (i === onnxAxis) return rank - 1;
    return a !== null && a > moving ? a - 1 : a;
  });
}

/** The IR order equals the ONNX order of the real axes (size-1 axes the IR lacks stay absent). */
export function rowMajorAxes(axes: AxisMap): AxisMap {
  let next = 0;
  return axes.map((a) => (a === null ? null : next++));
}

/** Whether two axis maps are equal. */
export function sameAxes(a: AxisMap, b: AxisMap): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** IR nodes that turn a value from one arrangement into another. */
export interface LayoutChange {
  /** IR transpose permutation (output IR axis `k` is input IR axis `transpose[k]`), if the order changes. */
  readonly transpose?: number[];
  /** Per-sample IR shape to reshape to (after the transpose), if size-1 axes appear or vanish. */
  readonly reshape?: number[];
}

/**
 * The IR transpose and/or reshape that re-arrange a value held as `from` into `to`
 * (same ONNX rank). The batch must stay where it is in ONNX terms; size-1 axes may
 * appear or vanish (by a reshape, which needs every non-batch size known).
 *
 * @throws ShapeError if `to` puts the batch elsewhere, an axis that `to` drops is not
 *   of size 1, or a reshape needs an unknown size.
 */
export function layoutChange(from: AxisMap, to: AxisMap, onnxShape: readonly (number | null)[]): LayoutChange {
  const batch = batchAxisOf(from);
  if (to[batch] !== 0) {
    throw new ShapeError(
      `cannot hold ONNX shape [${onnxShape.map((d) => d ?? 'N').join(', ')}] with its batch at ONNX axis ${batch} in the arrangement an op needs (batch at ONNX axis ${to.indexOf(0)}); ohmic keeps the batch axis in place`,
    );
  }
  const order: number[] = [];
  to.forEach((ir, onnx) => {
    if (ir !== null) order[ir] = onnx;
  });
  const kept = order.filter((o) => from[o] !== null);
  const droppedIr: number[] = [];
  from.forEach((ir, onnx) => {
    if (ir !== null && to[onnx] === null) {
      if (onnxShape[onnx] !== 1) {
        throw new ShapeError(`cannot drop ONNX axis ${onnx} of size ${onnxShape[onnx] ?? 'unknown'}: only size-1 axes can be dropped`);
      }
      droppedIr.push(ir);
    }
  });
  const keptIr = kept.map((o) => from[o] as number);
  const change: { transpose?: number[]; reshape?: number[] } = {};
  // Dropped axes have size 1, so they move no data: if the kept axes are already in
  // order, the reshape alone re-arranges the tensor.
  if (keptIr.some((p, k) => k > 0 && p < keptIr[k - 1])) change.transpose = [...keptIr, ...droppedIr];
  if (droppedIr.length > 0 || kept.length !== order.length) {
    const target = order.slice(1).map((o) => onnxShape[o]);
    if (target.some((d) => d === null)) {
      throw new ShapeError(`cannot reshape ONNX shape [${onnxShape.map((d) => d ?? '?').join(', ')}]: a non-batch size is unknown`);
    }
    change.reshape = target as number[];
  }
  return change;
}

/**
 * Row-major transpose index: `out[k] = src[index[k]]` transposes a tensor of `dims`
 * so that output axis `j` is input axis `perm[j]`. Returns the index and the output dims.
 */
export function permutationIndex(dims: readonly number[], perm: readonly number[]): { index: Int32Array; dims: number[] } {
  const rank = dims.length;
  const outDims = perm.map((p) => dims[p]);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1] * dims[i + 1];
  const strideOfOut = perm.map((p) => inStrides[p]);
  let n = 1;
  for (const d of dims) n *= d;
  const index = new Int32Array(n);
  const at = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < n; flat++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += at[k] * strideOfOut[k];
    index[flat] = src;
    for (let k = rank - 1; k >= 0; k--) {
      if (++at[k] < outDims[k]) break;
      at[k] = 0;
    }
  }
  return { index, dims: outDims };
}
