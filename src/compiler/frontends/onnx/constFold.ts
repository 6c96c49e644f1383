/**
 * Constant folding for the ONNX frontend: the shape arithmetic exporters emit
 * (`Shape → Gather → Unsqueeze → Concat → Reshape`, sizes divided by a head count)
 * and arithmetic on constant weights (`Sqrt` of a head size, `Mul` of two scales).
 *
 * The batch size is unknown until run time, so `Shape` of an activation holds
 * {@link BATCH_SIZE} at the batch axis. Moving that entry around (Gather, Slice,
 * Concat, Unsqueeze, Squeeze, Cast to an integer) keeps it; any arithmetic on it
 * gives {@link BATCH_DERIVED} (e.g. batch × heads), which no op accepts as a size,
 * so a model whose shapes depend on the batch in another way is refused, not run
 * with a wrong shape.
 */
import { ShapeError } from '../../../errors';
import { sizeOf } from '../../ir/ops';
import type { FloatTensor, HostTensor, IntTensor } from './onnxTensor';

/** Stands for the batch size in an integer tensor computed by `Shape`. */
export const BATCH_SIZE = NaN;

/** An integer computed from the batch size by arithmetic (batch × heads, batch + 1, …). */
export const BATCH_DERIVED = Infinity;

/** Whether `v` is the batch size marker. */
export function isBatchSize(v: number): boolean {
  return Number.isNaN(v);
}

/** Whether `v` depends on the batch size (the batch itself or something computed from it). */
export function dependsOnBatch(v: number): boolean {
  return !Number.isFinite(v);
}

function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** The NumPy broadcast of two shapes, or a ShapeError. */
export function broadcastDims(a: readonly number[], b: readonly number[], what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new ShapeError(`${what}: constants of dims [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** For each flat index of `dims`, the flat index of the broadcast source of dims `src`. */
export function broadcastIndex(src: readonly number[], dims: readonly number[]): Int32Array {
  const n = sizeOf(dims);
  const index = new Int32Array(n);
  const srcStrides = stridesOf(src);
  const offset = dims.length - src.length;
  const at = new Array<number>(dims.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    let s = 0;
    for (let k = 0; k < src.length; k++) if (src[k] !== 1) s += at[k + offset] * srcStrides[k];
    index[flat] = s;
    for (let k = dims.length - 1; k >= 0; k--) {
      if (++at[k] < dims[k]) break;
      at[k] = 0;
    }
  }
  return index;
}

/** `t` broadcast to `dims` (NumPy rules; `dims` must be a broadcast of t's dims). */
export function expandFloat(t: FloatTensor, dims: readonly number[]): Float32Array {
  const index = broadcastIndex(t.dims, dims);
  const out = new Float32Array(index.length);
  for (let k = 0; k < index.length; k++) out[k] = t.data[index[k]];
  return out;
}

export type ArithKind = 'add' | 'sub' | 'mul' | 'div' | 'pow';

function applyFloat(kind: ArithKind, x: number, y: number): number {
  switch (kind) {
    case 'add':
      return x + y;
    case 'sub':
      return x - y;
    case 'mul':
      return x * y;
    case 'div':
      return x / y;
    case 'pow':
      return Math.pow(x, y);
  }
}

function applyInt(kind: ArithKind, x: number, y: number): number {
  if (dependsOnBatch(x) || dependsOnBatch(y)) return BATCH_DERIVED;
  if (kind === 'div') {
    if (y === 0) throw new ShapeError(`integer division of ${x} by zero`);
    return Math.trunc(x / y);
  }
  return applyFloat(kind, x, y);
}

/**
 * `a ∘ b` of two constants of the same kind, NumPy-broadcast. Floats are computed in
 * double precision and rounded once to float32 (exact for +, −, ×, ÷ of float32 values).
 */
export function foldArith(kind: ArithKind, a: HostTensor, b: HostTensor, name: string): HostTensor {
  if (a.kind !== b.kind) throw new ShapeError(`${kind} of an integer and a float constant ('${a.name}', '${b.name}')`);
  const dims = broadcastDims(a.dims, b.dims, kind);
  const ia = broadcastIndex(a.dims, dims);
  const ib = broadcastIndex(b.dims, dims);
  if (a.kind === 'float') {
    const data = new Float32Array(ia.length);
    for (let k = 0; k < data.length; k++) data[k] = applyFloat(kind, a.data[ia[k]], (b as FloatTensor).data[ib[k]]);
    for (let k = 0; k < data.length; k++) {
      if (!Number.isFinite(data[k])) throw new ShapeError(`${kind} of constants '${a.name}' and '${b.name}' gives a non-finite value at flat index ${k}`);
    }
    return { kind: 'float', name, dims, data };
  }
  const data = Array.from(ia, (i, k) => applyInt(kind, a.data[i], (b as IntTensor).data[ib[k]]));
  return { kind: 'int', name, dims, data };
}

/** An element-wise function of a float constant (Sqrt, Erf, Neg, …), rounded to float32. */
export function foldUnary(t: HostTensor, f: (x: number) => number, what: string, name: string): HostTensor {
  if (t.kind === 'int') {
    if (t.data.some(dependsOnBatch)) return { kind: 'int', name, dims: t.dims, data: t.data.map(() => BATCH_DERIVED) };
    return { kind: 'int', name, dims: t.dims, data: t.data.map((v) => Math.trunc(f(v))) };
  }
  const data = t.data.map(f);
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k])) throw new ShapeError(`${what} of constant '${t.name}' gives a non-finite value at flat index ${k}`);
  }
  return { kind: 'float', name, dims: t.dims, data };
}

/** Select from `t` along `axis` the entries `indices` (each in range), keeping the axis. */
export function takeAlong(t: HostTensor, axis: number, indices: readonly number[], name: string): HostTensor {
  const dims = [...t.dims];
  const outer = sizeOf(dims.slice(0, axis));
  const inner = sizeOf(dims.slice(axis + 1));
  const size = dims[axis];
  const src: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const i of indices) for (let j = 0; j < inner; j++) src.push((o * size + i) * inner + j);
  }
  dims[axis] = indices.length;
  if (t.kind === 'float') return { kind: 'float', name, dims, data: Float32Array.from(src, (s) => t.data[s]) };
  return { kind: 'int', name, dims, data: src.map((s) => t.data[s]) };
}

/** Concatenation of constants of one kind along `axis`. */
export function concatConsts(parts: readonly HostTensor[], axis: number, name: string): HostTensor {
  const first = parts[0];
  for (const p of parts) {
    if (p.kind !== first.kind) throw new ShapeError('Concat of integer and float constants');
    if (p.dims.length !== first.dims.length || p.dims.some((d, i) => i !== axis && d !== first.dims[i])) {
      throw new ShapeError(`Concat on axis ${axis}: constants of dims [${first.dims.join(', ')}] and [${p.dims.join(', ')}]`);
    }
  }
  const outer = sizeOf(first.dims.slice(0, axis));
  const values: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const chunk = sizeOf(p.dims.slice(axis));
      for (let j = 0; j < chunk; j++) values.push(p.data[o * chunk + j]);
    }
  }
  const dims = [...first.dims];
  dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
  if (first.kind === 'float') return { kind: 'float', name, dims, data: Float32Array.from(values) };
  return { kind: 'int', name, dims, data: values };
}

/**
 * ONNX Slice bounds on an axis of `size`: negative starts/ends count from the end,
 * then both are clamped to [0, size] (step 1). Returns [start, end), possibly empty.
 */
export function sliceBounds(start: number, end: number, size: number): [number, number] {
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  return [clamp(start), clamp(end)];
}
