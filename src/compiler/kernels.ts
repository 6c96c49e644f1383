/**
 * The executor's kernels: one function per op kind (the {@link KERNELS} table, which
 * tsc proves complete) and the constant tensors they read, kept apart from the
 * interpreter in `executor.ts` that walks the graph and calls them.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import type { AnalogNode, Node, NodeOf } from './ir/graph';
import { isAnalog } from './ir/graph';
import { mvmGroupCount, mvmMatrix } from './ir/mvmMatrix';
import type { ConstTensor, GateActivation, OpKind } from './ir/ops';
import { explicitPadding } from './ir/shapes';
import { batchNormAffine } from './ir/batchNormAffine';
import type { MvmSite } from './executor';

/** Per-node constant tensors, created once per executor. */
export interface NodeConstants {
  matrices?: tf.Tensor2D[];
  bias?: tf.Tensor;
  /** conv2d kernel as a tfjs filter (`[kh, kw, cIn, cOut]`, or `[kh, kw, cIn, mult]` for depthwise). */
  filter?: tf.Tensor4D;
  scale?: tf.Tensor;
  shift?: tf.Tensor;
  constant?: tf.Tensor;
  /** A GRU's candidate recurrent bias (resetAfter). */
  recurrentBias?: tf.Tensor;
}

export interface KernelContext {
  readonly constants: NodeConstants;
  /** True when no MVM hook was given, so analog products may use fused tfjs ops. */
  readonly exact: boolean;
  readonly im2colBudget: number;
  readonly convOutput?: (node: NodeOf<'conv2d'>, y: tf.Tensor4D) => tf.Tensor4D;
  input(name: string): tf.Tensor;
  mvm(node: AnalogNode, x: tf.Tensor2D, group: number, step: number, layout?: Partial<Pick<MvmSite, 'sampleStart' | 'positions' | 'channelsFirst'>>): tf.Tensor2D;
  noise(node: NodeOf<'noise'>, y: tf.Tensor): tf.Tensor;
}

/** Computes one node's output from its input values. */
export type Kernel<K extends OpKind> = (node: NodeOf<K>, inputs: tf.Tensor[], ctx: KernelContext) => tf.Tensor;

function constTensor(c: ConstTensor): tf.Tensor {
  return tf.tensor(c.data, [...c.shape], 'float32');
}

function withBias(y: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
  return bias ? tf.add(y, bias) : y;
}

/** Largest im2col patch matrix built at once, in elements (64 MB of float32). */
export const IM2COL_BUDGET = 16 * 1024 * 1024;

function convOutputSize(
  h: number,
  w: number,
  window: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  padding: readonly [number, number, number, number],
): [number, number] {
  const outH = Math.floor((h + padding[0] + padding[1] - ((window[0] - 1) * dilations[0] + 1)) / strides[0]) + 1;
  const outW = Math.floor((w + padding[2] + padding[3] - ((window[1] - 1) * dilations[1] + 1)) / strides[1]) + 1;
  return [outH, outW];
}

/**
 * im2col: `[N, H, W, C]` → `[N·oh·ow, kh·kw·C]`, column `(c·kh + i)·kw + j`
 * (channel-major, the row order of `mvmMatrix`): memory traffic only, no
 * arithmetic, and any stride, dilation and asymmetric padding.
 */
export function im2col(
  x: tf.Tensor4D,
  window: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  padding: readonly [number, number, number, number],
): { patches: tf.Tensor2D; outH: number; outW: number } {
  const [n, h, w, c] = x.shape;
  const [kh, kw] = window;
  const [sh, sw] = strides;
  const [dh, dw] = dilations;
  const [pt, pb, pl, pr] = padding;
  const [outH, outW] = convOutputSize(h, w, window, strides, dilations, padding);
  const rows = n * outH * outW;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt + pb + pl + pr === 0 && dh === 1 && dw === 1) {
    return { patches: tf.reshape(x, [rows, c]), outH, outW };
  }
  // Pure data movement in JS (on tfjs-wasm, strided slices + concat took over half
  // of a noisy CNN-6 run); padded positions stay zero.
  const src = x.dataSync() as Float32Array;
  const khw = kh * kw;
  const width = khw * c;
  const out = new Float32Array(rows * width);
  let r = 0;
  for (let b = 0; b < n; b++) {
    const base = b * h * w * c;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++, r++) {
        const row = r * width;
        for (let i = 0; i < kh; i++) {
          const y = oy * sh + i * dh - pt;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < kw; j++) {
            const xx = ox * sw + j * dw - pl;
            if (xx < 0 || xx >= w) continue;
            const at = base + (y * w + xx) * c;
            const col = row + i * kw + j;
            for (let ch = 0; ch < c; ch++) out[col + ch * khw] = src[at + ch];
          }
        }
      }
    }
  }
  return { patches: tf.tensor2d(out, [rows, width]), outH, outW };
}

function pool(
  x: tf.Tensor4D,
  kind: 'max' | 'avg',
  poolSize: readonly [number, number],
  strides: readonly [number, number],
  pads: readonly [number, number, number, number],
  countIncludePad: boolean,
): tf.Tensor {
  const size: [number, number] = [poolSize[0], poolSize[1]];
  const str: [number, number] = [strides[0], strides[1]];
  const [pt, pb, pl, pr] = pads;
  if (pt + pb + pl + pr === 0) return kind === 'max' ? tf.maxPool(x, size, str, 'valid') : tf.avgPool(x, size, str, 'valid');
  const padSpec: [number, number][] = [[0, 0], [pt, pb], [pl, pr], [0, 0]];
  if (kind === 'max') return tf.maxPool(tf.pad(x, padSpec, -Infinity), size, str, 'valid');
  const avg = tf.avgPool(tf.pad(x, padSpec), size, str, 'valid');
  if (countIncludePad) return avg;
  // Mean over real pixels = (window sum of zero-padded x) / (window count of real pixels).
  const ones = tf.ones([1, x.shape[1], x.shape[2], 1]) as tf.Tensor4D;
  const fraction = tf.avgPool(tf.pad(ones, padSpec), size, str, 'valid');
  return tf.div(avg, fraction);
}

function softmaxOnAxis(x: tf.Tensor, axis: number): tf.Tensor {
  if (axis === x.rank - 1) return tf.softmax(x);
  const m = tf.max(x, axis, true);
  const e = tf.exp(tf.sub(x, m));
  return tf.div(e, tf.sum(e, axis, true));
}

/** A recurrent layer's gate activation (see `GateActivation`). */
function gateActivation(kind: GateActivation | undefined): (x: tf.Tensor) => tf.Tensor {
  // tfjs's hardSigmoid: clip(0.2·x + 0.5, 0, 1), in that order of operations.
  if (kind === 'hardSigmoid') return (x) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1);
  return (x) => tf.sigmoid(x);
}

/** `y = x ∘ c` (or `c ∘ x`) for a binary op with a constant, else `x ∘ y` of two activations. */
function binary(op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, node: NodeOf<'mul' | 'sub' | 'div'>, inputs: tf.Tensor[], ctx: KernelContext): tf.Tensor {
  if (inputs.length === 2) return op(inputs[0], inputs[1]);
  const c = ctx.constants.constant!;
  return node.attrs.constantFirst ? op(c, inputs[0]) : op(inputs[0], c);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** One kernel per op kind; tsc proves every kind has one. */
export const KERNELS = {
  input: (node, _inputs, ctx) => ctx.input(node.name),
  dense: (node, [x], ctx) => {
    const [fanIn, fanOut] = node.attrs.weights.shape;
    const x2d = tf.reshape(x, [-1, fanIn]) as tf.Tensor2D;
    const positions = x2d.shape[0] / (x.shape[0] || 1);
    const y = withBias(ctx.mvm(node, x2d, 0, 0, { positions }), ctx.constants.bias);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), fanOut]);
  },
  conv2d: (node, [x], ctx) => {
    const { kernel, strides, dilations, padding, groups } = node.attrs;
    const [kh, kw, cInG, cOut] = kernel.shape;
    const x4 = x as tf.Tensor4D;
    const [n, h, w] = x4.shape;
    const pads = explicitPadding(padding, h, w, [kh, kw], strides, dilations);
    const filter = ctx.constants.filter;
    if ((ctx.exact || ctx.convOutput) && filter) {
      // The same product as im2col + MVM, by tfjs's fused convolution.
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]];
      const s: [number, number] = [strides[0], strides[1]];
      const d: [number, number] = [dilations[0], dilations[1]];
      const y = groups === 1 ? tf.conv2d(x4, filter, s, pad, 'NHWC', d) : tf.depthwiseConv2d(x4, filter, s, pad, 'NHWC', d);
      return withBias(ctx.convOutput ? ctx.convOutput(node, y) : y, ctx.constants.bias);
    }
    // Cut the batch so each patch matrix stays within budget: tfjs-wasm fails with
    // "memory access out of bounds" once its heap nears 2 GB (DenseNet-100, batch 32).
    const [outH, outW] = convOutputSize(h, w, [kh, kw], strides, dilations, pads);
    const perSample = outH * outW * kh * kw * cInG * groups;
    const chunk = Math.max(1, Math.min(n, Math.floor(ctx.im2colBudget / perSample)));
    const parts: tf.Tensor[] = [];
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const layout = { sampleStart: start, positions: outH * outW, channelsFirst: true };
      parts.push(
        tf.tidy(() => {
          const xs = size === n ? x4 : tf.slice(x4, [start, 0, 0, 0], [size, -1, -1, -1]);
          const { patches } = im2col(xs, [kh, kw], strides, dilations, pads);
          if (groups === 1) return ctx.mvm(node, patches, 0, 0, layout);
          // Columns are channel-major, so group g's columns are one contiguous range.
          const perGroup = tf.split(patches, groups, 1) as tf.Tensor2D[];
          return tf.concat(perGroup.map((p, g) => ctx.mvm(node, p, g, 0, layout)), 1);
        }),
      );
    }
    const y = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    return tf.reshape(withBias(y, ctx.constants.bias), [n, outH, outW, cOut]);
  },
  batchNorm: (_node, [x], ctx) => tf.add(tf.mul(x, ctx.constants.scale!), ctx.constants.shift!),
  relu: (_node, [x]) => tf.relu(x),
  tanh: (_node, [x]) => tf.tanh(x),
  sigmoid: (_node, [x]) => tf.sigmoid(x),
  maxPool: (node, [x]) => {
    const { poolSize, strides, padding } = node.attrs;
    const x4 = x as tf.Tensor4D;
    return pool(x4, 'max', poolSize, strides, explicitPadding(padding, x4.shape[1], x4.shape[2], poolSize, strides), false);
  },
  avgPool: (node, [x]) => {
    const { poolSize, strides, padding, countIncludePad } = node.attrs;
    const x4 = x as tf.Tensor4D;
    const pads = explicitPadding(padding, x4.shape[1], x4.shape[2], poolSize, strides);
    return pool(x4, 'avg', poolSize, strides, pads, countIncludePad);
  },
  globalAvgPool: (node, [x]) => tf.mean(x, [1, 2], node.attrs.keepDims),
  concat: (node, inputs) => (inputs.length === 1 ? tf.clone(inputs[0]) : tf.concat(inputs, node.attrs.axis)),
  add: (_node, inputs, ctx) => {
    const sum = inputs.length === 1 ? inputs[0] : tf.addN(inputs);
    const c = ctx.constants.constant;
    return c ? tf.add(sum, c) : tf.clone(sum);
  },
  flatten: (_node, [x]) => tf.reshape(x, [x.shape[0], -1]),
  reshape: (node, [x]) => tf.reshape(x, [x.shape[0], ...node.attrs.shape]),
  transpose: (node, [x]) => tf.transpose(x, [...node.attrs.perm]),
  lstm: (node, [x], ctx) => {
    const { units, returnSequences, reverse } = node.attrs;
    const [n, steps] = x.shape;
    const bias = ctx.constants.bias!;
    const gate = gateActivation(node.attrs.recurrentActivation);
    let h = tf.zeros([n, units]) as tf.Tensor2D;
    let c = tf.zeros([n, units]) as tf.Tensor2D;
    const xs = tf.unstack(x, 1) as tf.Tensor2D[];
    // hs[t]: the state after reading x_t (aligned with the input when reversed).
    const hs: tf.Tensor2D[] = new Array<tf.Tensor2D>(steps);
    for (let k = 0; k < steps; k++) {
      const t = reverse ? steps - 1 - k : k;
      const [hNext, cNext] = tf.tidy(() => {
        // Gate order i, f, c, o (see LstmAttrs).
        const z = tf.add(ctx.mvm(node, tf.concat([xs[t], h], 1), 0, k), bias);
        const [zi, zf, zc, zo] = tf.split(z, 4, 1);
        const cn = tf.add(tf.mul(gate(zf), c), tf.mul(gate(zi), tf.tanh(zc)));
        return [tf.mul(gate(zo), tf.tanh(cn)), cn] as tf.Tensor2D[];
      });
      c.dispose();
      if (!returnSequences) h.dispose();
      xs[t].dispose();
      h = hNext;
      c = cNext;
      hs[t] = h;
    }
    c.dispose();
    if (!returnSequences) return h;
    const out = tf.stack(hs, 1);
    hs.forEach((s) => s.dispose());
    return out;
  },
  gru: (node, [x], ctx) => {
    const { units, returnSequences, reverse, resetAfter } = node.attrs;
    const [n, steps] = x.shape;
    const gate = gateActivation(node.attrs.recurrentActivation);
    const [biasZr, biasN] = tf.split(ctx.constants.bias!, [2 * units, units]);
    const recurrentBias = ctx.constants.recurrentBias;
    let h = tf.zeros([n, units]) as tf.Tensor2D;
    const xs = tf.unstack(x, 1) as tf.Tensor2D[];
    const hs: tf.Tensor2D[] = new Array<tf.Tensor2D>(steps);
    for (let k = 0; k < steps; k++) {
      const t = reverse ? steps - 1 - k : k;
      const hNext = tf.tidy(() => {
        // Gate order z, r, n; the three matrices of GruAttrs.
        const zr = gate(tf.add(ctx.mvm(node, tf.concat([xs[t], h], 1), 0, k), biasZr));
        const [z, r] = tf.split(zr, 2, 1);
        const xn = tf.add(ctx.mvm(node, xs[t], 1, k), biasN);
        let hn: tf.Tensor;
        if (resetAfter) {
          const rh = ctx.mvm(node, h, 2, k);
          hn = tf.mul(r, recurrentBias ? tf.add(rh, recurrentBias) : rh);
        } else {
          hn = ctx.mvm(node, tf.mul(r, h) as tf.Tensor2D, 2, k);
        }
        const cand = tf.tanh(tf.add(xn, hn));
        // (1 − z) ⊙ n + z ⊙ h
        return tf.add(cand, tf.mul(z, tf.sub(h, cand))) as tf.Tensor2D;
      });
      if (!returnSequences) h.dispose();
      xs[t].dispose();
      h = hNext;
      hs[t] = h;
    }
    if (!returnSequences) return h;
    const out = tf.stack(hs, 1);
    hs.forEach((s) => s.dispose());
    return out;
  },
  softmax: (node, [x]) => softmaxOnAxis(x, node.attrs.axis),
  matmul: (_node, [a, b]) => {
    if (a.rank === 3) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
    const [m, k] = a.shape.slice(-2);
    const nCols = b.shape[b.rank - 1];
    const y = tf.matMul(tf.reshape(a, [-1, m, k]) as tf.Tensor3D, tf.reshape(b, [-1, k, nCols]) as tf.Tensor3D);
    return tf.reshape(y, [...a.shape.slice(0, -1), nCols]);
  },
  noise: (node, [x], ctx) => ctx.noise(node, x),
  identity: (_node, [x]) => tf.clone(x),
  layerNorm: (node, [x], ctx) => {
    const axes = Array.from({ length: x.rank - node.attrs.axis }, (_, i) => node.attrs.axis + i);
    const centred = tf.sub(x, tf.mean(x, axes, true));
    const variance = tf.mean(tf.square(centred), axes, true);
    const normed = tf.div(centred, tf.sqrt(tf.add(variance, node.attrs.epsilon)));
    const scaled = tf.mul(normed, ctx.constants.scale!);
    return ctx.constants.shift ? tf.add(scaled, ctx.constants.shift) : scaled;
  },
  mul: (node, inputs, ctx) => binary(tf.mul, node, inputs, ctx),
  sub: (node, inputs, ctx) => binary(tf.sub, node, inputs, ctx),
  div: (node, inputs, ctx) => binary(tf.div, node, inputs, ctx),
  pow: (node, [x]) => (node.attrs.exponent === 2 ? tf.square(x) : tf.pow(x, tf.scalar(node.attrs.exponent))),
  sqrt: (_node, [x]) => tf.sqrt(x),
  erf: (_node, [x]) => tf.erf(x),
  clip: (node, [x]) => {
    const { min, max } = node.attrs;
    const lo = min === undefined ? x : tf.maximum(x, min);
    return max === undefined ? tf.clone(lo) : tf.minimum(lo, max);
  },
  gelu: (node, [x]) => {
    const inner =
      node.attrs.approximate === 'tanh'
        ? tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), SQRT_2_OVER_PI))
        : tf.erf(tf.mul(x, Math.SQRT1_2));
    return tf.mul(tf.mul(x, tf.add(inner, 1)), 0.5);
  },
  hardSigmoid: (node, [x]) => tf.clipByValue(tf.add(tf.mul(x, node.attrs.alpha), node.attrs.beta), 0, 1),
  reduce: (node, [x]) => {
    const { kind, axes, keepDims } = node.attrs;
    const ax = [...axes];
    if (kind === 'mean') return tf.mean(x, ax, keepDims);
    if (kind === 'sum') return tf.sum(x, ax, keepDims);
    return kind === 'max' ? tf.max(x, ax, keepDims) : tf.min(x, ax, keepDims);
  },
  mvm: (node, [x], ctx) => {
    if (!ctx.exact) {
      throw new ConfigError(`node ${node.name}`, 'an mvm node run with an MVM hook', 'exact products: a lowered graph (lowerToMvm) runs on the interpreter without hooks; noisy runs take the unlowered graph');
    }
    const [rows, cols] = node.attrs.matrix.shape;
    const y = tf.matMul(tf.reshape(x, [-1, rows]) as tf.Tensor2D, ctx.constants.matrices![0]);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), cols]);
  },
  im2col: (node, [x]) => {
    const { window, strides, dilations, padding, channelStart, channelEnd } = node.attrs;
    const x4 = x as tf.Tensor4D;
    const [n, h, w, c] = x4.shape;
    const pads = explicitPadding(padding, h, w, window, strides, dilations);
    const xs = channelStart === 0 && channelEnd === c ? x4 : tf.slice(x4, [0, 0, 0, channelStart], [-1, -1, -1, channelEnd - channelStart]);
    const { patches, outH, outW } = im2col(xs, window, strides, dilations, pads);
    return tf.reshape(patches, [n, outH, outW, patches.shape[1]]);
  },
  pad: (node, [x]) => {
    const pads = x.shape.map((): [number, number] => [0, 0]);
    pads[node.attrs.axis] = [node.attrs.before, node.attrs.after];
    return tf.pad(x, pads);
  },
  slice: (node, [x]) => {
    const begin = new Array<number>(x.rank).fill(0);
    const size = new Array<number>(x.rank).fill(-1);
    begin[node.attrs.axis] = node.attrs.start;
    size[node.attrs.axis] = node.attrs.end - node.attrs.start;
    return tf.slice(x, begin, size);
  },
} satisfies { [K in OpKind]: Kernel<K> };

/**
 * The tfjs filter for the fused fast path, or undefined where tfjs has no
 * equivalent op (stride and dilation both above 1; groups other than 1 or depthwise).
 */
function fusedFilter(node: NodeOf<'conv2d'>): tf.Tensor4D | undefined {
  const { kernel, strides, dilations, groups } = node.attrs;
  const [kh, kw, cInG, cOut] = kernel.shape;
  if (Math.max(...strides) > 1 && Math.max(...dilations) > 1) return undefined;
  if (groups === 1) return tf.tensor4d(kernel.data, [kh, kw, cInG, cOut]);
  // Depthwise: [kh, kw, 1, cIn·mult] has the row-major data of [kh, kw, cIn, mult].
  if (cInG === 1) return tf.tensor4d(kernel.data, [kh, kw, groups, cOut / groups]);
  return undefined;
}

export function buildConstants(node: Node): NodeConstants {
  const out: NodeConstants = {};
  if (isAnalog(node)) {
    out.matrices = [];
    for (let g = 0; g < mvmGroupCount(node); g++) {
      const m = mvmMatrix(node, g);
      out.matrices.push(tf.tensor2d(m.data, [m.shape[0], m.shape[1]], 'float32'));
    }
    if (node.attrs.bias) out.bias = constTensor(node.attrs.bias);
    if (node.op === 'conv2d') out.filter = fusedFilter(node);
    if (node.op === 'gru' && node.attrs.recurrentBias) out.recurrentBias = constTensor(node.attrs.recurrentBias);
  } else if (node.op === 'mvm') {
    const m = node.attrs.matrix;
    out.matrices = [tf.tensor2d(m.data, [m.shape[0], m.shape[1]], 'float32')];
  } else if (node.op === 'batchNorm') {
    const { scale, shift } = batchNormAffine(node.attrs);
    out.scale = tf.tensor1d(scale);
    out.shift = tf.tensor1d(shift);
  } else if ((node.op === 'add' || node.op === 'mul' || node.op === 'sub' || node.op === 'div') && node.attrs.constant) {
    out.constant = constTensor(node.attrs.constant);
  } else if (node.op === 'layerNorm') {
    out.scale = constTensor(node.attrs.gamma);
    if (node.attrs.beta) out.shift = constTensor(node.attrs.beta);
  }
  return out;
}

