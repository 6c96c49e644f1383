/**
 * Shape inference: one rule per op kind, each a pure function of the attributes and
 * the input shapes. A rule throws `ShapeError` describing what does not fit;
 * `verifyGraph` adds the node name and its neighbourhood.
 */
import { ShapeError } from '../../errors';
import type { ConstTensor, GruAttrs, LstmAttrs, OpAttrs, OpKind, Padding, Shape } from './ops';
import { sizeOf } from './ops';

type Rule<K extends OpKind> = (attrs: OpAttrs[K], inputs: readonly Shape[]) => Shape;

function fmt(shape: Shape | readonly number[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** Render a shape as `[?, 28, 28, 1]`. */
export const formatShape = fmt;

function expectRank(shape: Shape, rank: number, what: string): void {
  if (shape.length !== rank) {
    throw new ShapeError(`${what}: expected rank ${rank}, got shape ${fmt(shape)}`);
  }
}

function expectConst(t: ConstTensor, shape: readonly number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${what}: expected shape ${fmt(shape)}, got ${fmt(t.shape)}`);
  }
}

function expectPositiveInts(values: readonly number[], what: string): void {
  if (values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new ShapeError(`${what} = ${fmt(values)}: expected positive integers`);
  }
}

/**
 * Explicit `[top, bottom, left, right]` padding for a window op on an `inH × inW`
 * image. `'same'` follows TF (smaller half on top/left).
 */
export function explicitPadding(
  padding: Padding,
  inH: number,
  inW: number,
  window: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number] = [1, 1],
): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    const total = (size: number, k: number, s: number, d: number) =>
      Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
    const th = total(inH, window[0], strides[0], dilations[0]);
    const tw = total(inW, window[1], strides[1], dilations[1]);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  return [padding[0], padding[1], padding[2], padding[3]];
}

/** Output length of a window op along one axis, or `null` when the input length is unknown. */
function windowOut(
  size: number | null,
  k: number,
  s: number,
  d: number,
  padBefore: number,
  padAfter: number,
  what: string,
): number | null {
  if (size === null) return null;
  const span = (k - 1) * d + 1;
  const out = Math.floor((size + padBefore + padAfter - span) / s) + 1;
  if (out < 1) {
    throw new ShapeError(
      `${what}: window of ${span} (size ${k}, dilation ${d}) does not fit input length ${size} with padding ${padBefore}+${padAfter}`,
    );
  }
  return out;
}

function windowShape(
  input: Shape,
  window: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  padding: Padding,
  channelsOut: number | null,
  what: string,
): Shape {
  expectRank(input, 4, `${what} input (NHWC)`);
  expectPositiveInts(window, `${what} window`);
  expectPositiveInts(strides, `${what} strides`);
  expectPositiveInts(dilations, `${what} dilations`);
  if (Array.isArray(padding) && (padding.length !== 4 || padding.some((p) => !Number.isInteger(p) || p < 0))) {
    throw new ShapeError(`${what} padding = ${JSON.stringify(padding)}: expected 'valid', 'same' or 4 non-negative integers`);
  }
  const [n, h, w] = input;
  if (padding === 'same') {
    return [n, h === null ? null : Math.ceil(h / strides[0]), w === null ? null : Math.ceil(w / strides[1]), channelsOut];
  }
  const [pt, pb, pl, pr] = padding === 'valid' ? [0, 0, 0, 0] : padding;
  return [
    n,
    windowOut(h, window[0], strides[0], dilations[0], pt, pb, `${what} height`),
    windowOut(w, window[1], strides[1], dilations[1], pl, pr, `${what} width`),
    channelsOut,
  ];
}

function elementwise(_attrs: unknown, inputs: readonly Shape[]): Shape {
  return inputs[0];
}

function sameShapes(inputs: readonly Shape[], what: string): void {
  for (let i = 1; i < inputs.length; i++) {
    const a = inputs[0];
    const b = inputs[i];
    if (a.length !== b.length || a.some((d, j) => d !== null && b[j] !== null && d !== b[j])) {
      throw new ShapeError(`${what}: input 0 has shape ${fmt(a)} but input ${i} has ${fmt(b)}`);
    }
  }
}

function checkAxis(axis: number, rank: number, what: string): void {
  if (!Number.isInteger(axis) || axis < 1 || axis >= rank) {
    throw new ShapeError(`${what} axis = ${axis}: expected an integer in [1, ${rank - 1}] (axis 0 is the batch)`);
  }
}

/** NumPy broadcast of two equal-rank shapes (each axis equal, or 1 in one of them). */
function broadcastShapes(a: Shape, b: Shape, what: string): Shape {
  if (a.length !== b.length) throw new ShapeError(`${what}: inputs ${fmt(a)} and ${fmt(b)} have different ranks`);
  return a.map((d, i) => {
    const e = b[i];
    if (i === 0) return d ?? e;
    if (d === e) return d;
    if (d === 1) return e;
    if (e === 1) return d;
    if (d === null || e === null) throw new ShapeError(`${what}: axis ${i} of ${fmt(a)} and ${fmt(b)} is unknown in one of them`);
    throw new ShapeError(`${what}: inputs ${fmt(a)} and ${fmt(b)} do not broadcast (axis ${i})`);
  });
}

/** A constant broadcast against the trailing axes of `x` (per-sample: fewer axes than `x`, each 1 or equal). */
function checkTrailingConstant(c: readonly number[], x: Shape, what: string): void {
  const tail = x.slice(x.length - c.length);
  if (c.length >= x.length || c.some((d, i) => d !== 1 && d !== tail[i])) {
    throw new ShapeError(`${what}: constant of shape ${fmt(c)} does not broadcast against the trailing axes of ${fmt(x)}`);
  }
}

function binaryRule<K extends 'mul' | 'sub' | 'div'>(what: K): Rule<K> {
  return (a: OpAttrs[K], inputs) => {
    if (inputs.length === 2) {
      if (a.constant) throw new ShapeError(`${what}: takes either two activations or one activation and a constant, not both`);
      return broadcastShapes(inputs[0], inputs[1], what);
    }
    if (!a.constant) throw new ShapeError(`${what}: one activation input needs a constant operand`);
    checkTrailingConstant(a.constant.shape, inputs[0], what);
    return inputs[0];
  };
}

function recurrentInput(x: Shape, what: string): number {
  expectRank(x, 3, `${what} input [batch, time, features]`);
  const f = x[2];
  if (f === null) throw new ShapeError(`${what}: feature axis of ${fmt(x)} is unknown`);
  return f;
}

/**
 * The checks an LSTM and a GRU share, with `gates` gate blocks of `units` columns
 * (LSTM 4, GRU 3): the units, the gate activation, `kernel` [features, gates·units],
 * `recurrentKernel` [units, gates·units] and `bias` [gates·units]. Returns the
 * output shape: the whole sequence or the last state.
 */
function recurrentCellShape(a: LstmAttrs | GruAttrs, x: Shape, what: 'lstm' | 'gru', gates: number): Shape {
  const f = recurrentInput(x, what);
  const u = a.units;
  if (!Number.isInteger(u) || u < 1) throw new ShapeError(`${what} units = ${u}: expected a positive integer`);
  checkGateActivation(a.recurrentActivation, what);
  expectConst(a.kernel, [f, gates * u], `${what} kernel`);
  expectConst(a.recurrentKernel, [u, gates * u], `${what} recurrentKernel`);
  expectConst(a.bias, [gates * u], `${what} bias`);
  return a.returnSequences ? [x[0], x[1], u] : [x[0], u];
}

function checkGateActivation(act: unknown, what: string): void {
  if (act !== undefined && act !== 'sigmoid' && act !== 'hardSigmoid') {
    throw new ShapeError(`${what} recurrentActivation = ${JSON.stringify(act)}: expected 'sigmoid' or 'hardSigmoid'`);
  }
}

const RULES: { readonly [K in OpKind]: Rule<K> } = {
  input: (a) => a.shape,
  dense: (a, [x]) => {
    if (a.weights.shape.length !== 2) throw new ShapeError(`dense weights: expected [fanIn, fanOut], got ${fmt(a.weights.shape)}`);
    const [fanIn, fanOut] = a.weights.shape;
    if (x.length < 2) throw new ShapeError(`dense input: expected rank ≥ 2, got ${fmt(x)}`);
    if (x[x.length - 1] !== fanIn) {
      throw new ShapeError(`dense: input last axis is ${x[x.length - 1]} but weights are ${fmt(a.weights.shape)} (fanIn ${fanIn})`);
    }
    if (a.bias) expectConst(a.bias, [fanOut], 'dense bias');
    return [...x.slice(0, -1), fanOut];
  },
  conv2d: (a, [x]) => {
    if (a.kernel.shape.length !== 4) throw new ShapeError(`conv2d kernel: expected [kh, kw, cIn/groups, cOut], got ${fmt(a.kernel.shape)}`);
    const [kh, kw, cInG, cOut] = a.kernel.shape;
    expectRank(x, 4, 'conv2d input (NHWC)');
    if (!Number.isInteger(a.groups) || a.groups < 1 || cOut % a.groups !== 0) {
      throw new ShapeError(`conv2d groups = ${a.groups}: expected a positive integer dividing cOut = ${cOut}`);
    }
    if (x[3] !== cInG * a.groups) {
      throw new ShapeError(
        `conv2d: input has ${x[3]} channels but kernel ${fmt(a.kernel.shape)} with groups = ${a.groups} expects ${cInG * a.groups}`,
      );
    }
    if (a.bias) expectConst(a.bias, [cOut], 'conv2d bias');
    return windowShape(x, [kh, kw], a.strides, a.dilations, a.padding, cOut, 'conv2d');
  },
  batchNorm: (a, [x]) => {
    const c = x[x.length - 1];
    if (c === null) throw new ShapeError(`batchNorm: channel axis of ${fmt(x)} is unknown`);
    for (const key of ['gamma', 'beta', 'mean', 'variance'] as const) expectConst(a[key], [c], `batchNorm ${key}`);
    if (!(a.epsilon >= 0)) throw new ShapeError(`batchNorm epsilon = ${a.epsilon}: expected ≥ 0`);
    // A variance is never negative; folding or running one would divide by √(negative) = NaN.
    const variance = a.variance.data;
    for (let i = 0; i < variance.length; i++) {
      if (!(variance[i] >= 0)) {
        throw new ShapeError(`batchNorm variance[${i}] = ${variance[i]}: expected a finite number ≥ 0 (a variance cannot be negative)`);
      }
    }
    return x;
  },
  relu: elementwise,
  tanh: elementwise,
  sigmoid: elementwise,
  identity: elementwise,
  sqrt: elementwise,
  erf: elementwise,
  mul: binaryRule('mul'),
  sub: binaryRule('sub'),
  div: binaryRule('div'),
  pow: (a, [x]) => {
    if (!Number.isFinite(a.exponent)) throw new ShapeError(`pow exponent = ${a.exponent}: expected a finite number`);
    return x;
  },
  clip: (a, [x]) => {
    for (const key of ['min', 'max'] as const) {
      const v = a[key];
      if (v !== undefined && !Number.isFinite(v)) throw new ShapeError(`clip ${key} = ${v}: expected a finite number or no bound`);
    }
    if (a.min !== undefined && a.max !== undefined && a.min > a.max) throw new ShapeError(`clip min = ${a.min} exceeds max = ${a.max}`);
    return x;
  },
  gelu: (a, [x]) => {
    if (a.approximate !== 'none' && a.approximate !== 'tanh') {
      throw new ShapeError(`gelu approximate = ${JSON.stringify(a.approximate)}: expected 'none' or 'tanh'`);
    }
    return x;
  },
  hardSigmoid: (a, [x]) => {
    if (!Number.isFinite(a.alpha) || !Number.isFinite(a.beta)) throw new ShapeError(`hardSigmoid alpha = ${a.alpha}, beta = ${a.beta}: expected finite numbers`);
    return x;
  },
  layerNorm: (a, [x]) => {
    checkAxis(a.axis, x.length, 'layerNorm');
    const tail = x.slice(a.axis);
    if (tail.includes(null)) throw new ShapeError(`layerNorm: normalised axes of ${fmt(x)} are unknown`);
    expectConst(a.gamma, tail as number[], 'layerNorm gamma');
    if (a.beta) expectConst(a.beta, tail as number[], 'layerNorm beta');
    if (!(a.epsilon >= 0) || !Number.isFinite(a.epsilon)) throw new ShapeError(`layerNorm epsilon = ${a.epsilon}: expected a finite number ≥ 0`);
    return x;
  },
  reduce: (a, [x]) => {
    if (!['mean', 'sum', 'max', 'min'].includes(a.kind)) throw new ShapeError(`reduce kind = ${JSON.stringify(a.kind)}: expected mean, sum, max or min`);
    if (a.axes.length === 0) throw new ShapeError('reduce: no axes');
    a.axes.forEach((axis, i) => {
      checkAxis(axis, x.length, 'reduce');
      if (i > 0 && axis <= a.axes[i - 1]) throw new ShapeError(`reduce axes ${fmt(a.axes)}: expected distinct axes in increasing order`);
    });
    if (a.keepDims) return x.map((d, i) => (a.axes.includes(i) ? 1 : d));
    return x.filter((_, i) => !a.axes.includes(i));
  },
  mvm: (a, [x]) => {
    if (a.matrix.shape.length !== 2) throw new ShapeError(`mvm matrix: expected [rows, cols], got ${fmt(a.matrix.shape)}`);
    const [rows, cols] = a.matrix.shape;
    if (x.length < 2 || x[x.length - 1] !== rows) {
      throw new ShapeError(`mvm: input ${fmt(x)} must end in the matrix's ${rows} rows (matrix ${fmt(a.matrix.shape)})`);
    }
    return [...x.slice(0, -1), cols];
  },
  im2col: (a, [x]) => {
    expectRank(x, 4, 'im2col input (NHWC)');
    const c = x[3];
    if (c === null || !Number.isInteger(a.channelStart) || !Number.isInteger(a.channelEnd) || a.channelStart < 0 || a.channelEnd > c || a.channelStart >= a.channelEnd) {
      throw new ShapeError(`im2col channels [${a.channelStart}, ${a.channelEnd}) of ${fmt(x)}: expected 0 ≤ start < end ≤ channels`);
    }
    const width = a.window[0] * a.window[1] * (a.channelEnd - a.channelStart);
    return windowShape(x, a.window, a.strides, a.dilations, a.padding, width, 'im2col');
  },
  pad: (a, [x]) => {
    checkAxis(a.axis, x.length, 'pad');
    if (!Number.isInteger(a.before) || !Number.isInteger(a.after) || a.before < 0 || a.after < 0) {
      throw new ShapeError(`pad before = ${a.before}, after = ${a.after}: expected non-negative integers`);
    }
    const size = x[a.axis];
    const out = [...x];
    out[a.axis] = size === null ? null : size + a.before + a.after;
    return out;
  },
  slice: (a, [x]) => {
    checkAxis(a.axis, x.length, 'slice');
    const size = x[a.axis];
    if (size === null) throw new ShapeError(`slice: axis ${a.axis} of ${fmt(x)} is unknown`);
    if (!Number.isInteger(a.start) || !Number.isInteger(a.end) || a.start < 0 || a.end > size || a.start >= a.end) {
      throw new ShapeError(`slice [${a.start}, ${a.end}) on axis ${a.axis} of ${fmt(x)}: expected 0 ≤ start < end ≤ ${size}`);
    }
    const out = [...x];
    out[a.axis] = a.end - a.start;
    return out;
  },
  noise: (a, [x]) => {
    if (!(a.sigma >= 0) || !Number.isFinite(a.sigma)) throw new ShapeError(`noise sigma = ${a.sigma}: expected a finite number ≥ 0`);
    if (a.kind !== 'multiplicative' && a.kind !== 'additive') {
      throw new ShapeError(`noise kind = ${JSON.stringify(a.kind)}: expected 'multiplicative' or 'additive'`);
    }
    return x;
  },
  maxPool: (a, [x]) => windowShape(x, a.poolSize, a.strides, [1, 1], a.padding, x[3] ?? null, 'maxPool'),
  avgPool: (a, [x]) => windowShape(x, a.poolSize, a.strides, [1, 1], a.padding, x[3] ?? null, 'avgPool'),
  globalAvgPool: (a, [x]) => {
    expectRank(x, 4, 'globalAvgPool input (NHWC)');
    return a.keepDims ? [x[0], 1, 1, x[3]] : [x[0], x[3]];
  },
  concat: (a, inputs) => {
    const rank = inputs[0].length;
    checkAxis(a.axis, rank, 'concat');
    let total: number | null = 0;
    inputs.forEach((s, i) => {
      if (s.length !== rank || s.some((d, j) => j !== a.axis && j !== 0 && d !== inputs[0][j])) {
        throw new ShapeError(`concat on axis ${a.axis}: input 0 has shape ${fmt(inputs[0])} but input ${i} has ${fmt(s)}`);
      }
      const d = s[a.axis];
      total = total === null || d === null ? null : total + d;
    });
    const out = [...inputs[0]];
    out[a.axis] = total;
    return out;
  },
  add: (a, inputs) => {
    sameShapes(inputs, 'add');
    const x = inputs[0];
    if (a.constant) checkTrailingConstant(a.constant.shape, x, 'add');
    return x;
  },
  flatten: (_a, [x]) => {
    if (x.length < 2) throw new ShapeError(`flatten input: expected rank ≥ 2, got ${fmt(x)}`);
    const rest = x.slice(1);
    return [x[0], rest.includes(null) ? null : sizeOf(rest as number[])];
  },
  reshape: (a, [x]) => {
    const rest = x.slice(1);
    if (rest.includes(null)) throw new ShapeError(`reshape: input ${fmt(x)} has an unknown non-batch axis`);
    const n = sizeOf(rest as number[]);
    const free = a.shape.filter((d) => d === -1).length;
    if (free > 1 || a.shape.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1))) {
      throw new ShapeError(`reshape target ${fmt(a.shape)}: expected positive integers and at most one -1`);
    }
    const known = sizeOf(a.shape.filter((d) => d !== -1));
    const target = a.shape.map((d) => (d === -1 ? n / known : d));
    if (sizeOf(target) !== n || !Number.isInteger(n / known)) {
      throw new ShapeError(`reshape: cannot reshape ${fmt(x)} (${n} values per sample) to [?, ${a.shape.join(', ')}]`);
    }
    return [x[0], ...target];
  },
  transpose: (a, [x]) => {
    const p = a.perm;
    const sorted = [...p].sort((u, v) => u - v);
    if (p.length !== x.length || sorted.some((v, i) => v !== i)) {
      throw new ShapeError(`transpose perm ${fmt(p)}: expected a permutation of 0..${x.length - 1} for input ${fmt(x)}`);
    }
    if (p[0] !== 0) throw new ShapeError(`transpose perm ${fmt(p)}: must keep the batch axis first (perm[0] = 0)`);
    return p.map((i) => x[i]);
  },
  lstm: (a, [x]) => recurrentCellShape(a, x, 'lstm', 4),
  gru: (a, [x]) => {
    const out = recurrentCellShape(a, x, 'gru', 3);
    if (a.recurrentBias) {
      if (!a.resetAfter) throw new ShapeError('gru recurrentBias: only with resetAfter (without it the recurrent bias belongs in bias)');
      expectConst(a.recurrentBias, [a.units], 'gru recurrentBias');
    }
    return out;
  },
  softmax: (a, [x]) => {
    checkAxis(a.axis, x.length, 'softmax');
    return x;
  },
  matmul: (_a, [x, y]) => {
    const r = x.length;
    if (r < 3 || y.length !== r) {
      throw new ShapeError(`matmul: expected two inputs of equal rank ≥ 3 (batch first), got ${fmt(x)} and ${fmt(y)}`);
    }
    const lead = (s: Shape) => s.slice(1, -2);
    if (lead(x).some((d, i) => d !== lead(y)[i]) || x[r - 1] !== y[r - 2]) {
      throw new ShapeError(`matmul: cannot multiply ${fmt(x)} by ${fmt(y)}`);
    }
    return [...x.slice(0, -1), y[r - 1]];
  },
};

/**
 * The output shape of an op of kind `op` with attributes `attrs` applied to inputs
 * of shapes `inputs`. Throws `ShapeError` when they do not fit; the message names
 * the op but not the node (callers add that).
 */
export function inferShape<K extends OpKind>(op: K, attrs: OpAttrs[K], inputs: readonly Shape[]): Shape {
  const rule = RULES[op] as Rule<K> | undefined;
  if (!rule) throw new ShapeError(`unknown op kind ${JSON.stringify(op)}`);
  return rule(attrs, inputs);
}
