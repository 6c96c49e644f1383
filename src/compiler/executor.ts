/**
 * Runs an IR graph on TensorFlow.js tensors, batched: an interpreter over the node
 * list (jax's `eval_jaxpr`), one kernel per op kind in the {@link KERNELS} table.
 *
 * Analog nodes never multiply by their weights directly: every matrix product of
 * a dense, conv2d (im2col) or lstm (per step) node goes through `hooks.mvm`, whose
 * default is the exact product. A crossbar model replaces that hook. Only when no
 * `mvm` hook is given (ideal execution) does a conv2d use tfjs's fused convolution,
 * which computes the same product without materialising im2col patches (about 7×
 * faster on the wasm backend for a 3×3, 48→12 channel conv); pass
 * `{ mvm: exactMvm }` to force the im2col path. Noise nodes go
 * through `hooks.noise`, whose default draws from the explicit `hooks.rng`.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../errors';
import type { Rng } from '../rng';
import { applySignalNoise, type SignalNoise } from '../crossbar/noise/signalNoise';
import type { AnalogNode, Graph, Node, NodeOf } from './ir/graph';
import { isAnalog } from './ir/graph';
import { mvmGroupCount, mvmMatrix } from './ir/mvmMatrix';
import type { ConstTensor, OpKind } from './ir/ops';
import { explicitPadding, formatShape } from './ir/shapes';

/** Where in a node an MVM happens. */
export interface MvmSite {
  /** Conv group index (0 for ungrouped convs, dense and lstm). */
  readonly group: number;
  /** LSTM time step (0 for dense and conv2d). */
  readonly step: number;
  /**
   * Batch chunk of a large convolution (0 otherwise): im2col of a big batch is cut
   * into chunks of samples so no patch matrix exceeds {@link IM2COL_BUDGET}; a noisy
   * hook must draw independent noise per chunk.
   */
  readonly chunk: number;
  /**
   * The node's exact `[rows, cols]` matrix for this group (see `mvmMatrix`), cached
   * by the executor; a hook may use it (e.g. exact product + signal-level noise).
   * Owned by the executor: do not dispose.
   */
  readonly matrix: tf.Tensor2D;
}

/**
 * Computes one analog matrix product: `x: [rows, fanIn]` → `[rows, fanOut]`, where
 * the matrix is `mvmMatrix(node, site.group)`. Biases are added by the executor
 * afterwards. Runs inside the executor's `tf.tidy`.
 */
export type MvmHook = (node: AnalogNode, x: tf.Tensor2D, site: MvmSite) => tf.Tensor2D;

/** Applies a noise node to its input `y`; returns a tensor of the same shape. */
export type NoiseHook = (node: NodeOf<'noise'>, y: tf.Tensor) => tf.Tensor;

/** Replaceable parts of execution. Every field is optional. */
export interface ExecutorHooks {
  /** Analog MVM; default: the exact product `x · site.matrix`. */
  readonly mvm?: MvmHook;
  /**
   * Noise nodes; default: {@link signalNoiseHook} over `rng`. Use {@link NOISE_OFF}
   * to run noise nodes as identities.
   */
  readonly noise?: NoiseHook;
  /** Stream for the default noise hook (required if the graph has noise nodes and no `noise` hook). */
  readonly rng?: Rng;
}

/** The exact product: the default MVM. */
export const exactMvm: MvmHook = (_node, x, site) => tf.matMul(x, site.matrix);

/** A noise hook that leaves values unchanged (noise points switched off). */
export const NOISE_OFF: NoiseHook = (_node, y) => y;

/**
 * The paper's signal-level noise (Eq. 2 and 3) drawn from `rng.fold(node.name)`:
 * multiplicative `y ⊙ (1 + σε)` or additive `y + σε`, ε ~ N(0,1) per element. The
 * draw depends only on `rng` and the node's name, so pass a fresh stream per run
 * (e.g. `root.fold('run').fold(i)`) to get independent noise across runs. With `override`,
 * every noise node takes that kind and σ instead of its own (the signal-level mode).
 */
export function signalNoiseHook(rng: Rng, override?: SignalNoise): NoiseHook {
  return (node, y) => applySignalNoise(y, override ?? node.attrs, rng.fold(node.name));
}

/** Per-node constant tensors, created once per executor. */
interface NodeConstants {
  matrices?: tf.Tensor2D[];
  bias?: tf.Tensor;
  /** conv2d kernel as a tfjs filter (`[kh, kw, cIn, cOut]`, or `[kh, kw, cIn, mult]` for depthwise). */
  filter?: tf.Tensor4D;
  scale?: tf.Tensor;
  shift?: tf.Tensor;
  constant?: tf.Tensor;
}

interface KernelContext {
  readonly constants: NodeConstants;
  /** True when no MVM hook was given, so analog products may use fused tfjs ops. */
  readonly exact: boolean;
  input(name: string): tf.Tensor;
  mvm(node: AnalogNode, x: tf.Tensor2D, group: number, step: number, chunk?: number): tf.Tensor2D;
  noise(node: NodeOf<'noise'>, y: tf.Tensor): tf.Tensor;
}

/** Computes one node's output from its input values. */
type Kernel<K extends OpKind> = (node: NodeOf<K>, inputs: tf.Tensor[], ctx: KernelContext) => tf.Tensor;

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
 * im2col: `[N, H, W, C]` → `[N·oh·ow, kh·kw·C]`, column `(i·kw + j)·C + c`, by one
 * strided slice per kernel position and a concat: memory traffic only, no
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
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt + pb + pl + pr === 0) {
    return { patches: tf.reshape(x, [rows, c]), outH, outW };
  }
  // Pure data movement, done in JS with TypedArray copies of whole channel vectors:
  // on tfjs-wasm, strided slices + concat (or one gather) took over half of a
  // noisy CNN-6 run; padded positions stay zero.
  const src = x.dataSync() as Float32Array;
  const width = kh * kw * c;
  const out = new Float32Array(rows * width);
  let r = 0;
  for (let b = 0; b < n; b++) {
    const base = b * h * w * c;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++, r++) {
        let col = r * width;
        for (let i = 0; i < kh; i++) {
          const y = oy * sh + i * dh - pt;
          for (let j = 0; j < kw; j++, col += c) {
            const xx = ox * sw + j * dw - pl;
            if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
            const at = base + (y * w + xx) * c;
            if (c === 1) out[col] = src[at];
            else out.set(src.subarray(at, at + c), col);
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

/** One kernel per op kind; tsc proves every kind has one. */
const KERNELS = {
  input: (node, _inputs, ctx) => ctx.input(node.name),
  dense: (node, [x], ctx) => {
    const [fanIn, fanOut] = node.attrs.weights.shape;
    const x2d = tf.reshape(x, [-1, fanIn]) as tf.Tensor2D;
    const y = withBias(ctx.mvm(node, x2d, 0, 0), ctx.constants.bias);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), fanOut]);
  },
  conv2d: (node, [x], ctx) => {
    const { kernel, strides, dilations, padding, groups } = node.attrs;
    const [kh, kw, cInG, cOut] = kernel.shape;
    const x4 = x as tf.Tensor4D;
    const [n, h, w] = x4.shape;
    const pads = explicitPadding(padding, h, w, [kh, kw], strides, dilations);
    const filter = ctx.constants.filter;
    if (ctx.exact && filter) {
      // Ideal execution: the same product as im2col + MVM, by tfjs's fused convolution.
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]];
      const s: [number, number] = [strides[0], strides[1]];
      const d: [number, number] = [dilations[0], dilations[1]];
      const y = groups === 1 ? tf.conv2d(x4, filter, s, pad, 'NHWC', d) : tf.depthwiseConv2d(x4, filter, s, pad, 'NHWC', d);
      return withBias(y, ctx.constants.bias);
    }
    // Cut the batch so each patch matrix stays within budget: tfjs-wasm fails with
    // "memory access out of bounds" once its heap nears 2 GB (DenseNet-100, batch 32).
    const [outH, outW] = convOutputSize(h, w, [kh, kw], strides, dilations, pads);
    const perSample = outH * outW * kh * kw * cInG * groups;
    const chunk = Math.max(1, Math.min(n, Math.floor(IM2COL_BUDGET / perSample)));
    const parts: tf.Tensor[] = [];
    for (let start = 0, k = 0; start < n; start += chunk, k++) {
      const size = Math.min(chunk, n - start);
      const chunkIndex = k;
      parts.push(
        tf.tidy(() => {
          const xs = size === n ? x4 : tf.slice(x4, [start, 0, 0, 0], [size, -1, -1, -1]);
          const { patches } = im2col(xs, [kh, kw], strides, dilations, pads);
          if (groups === 1) return ctx.mvm(node, patches, 0, 0, chunkIndex);
          // Columns are (position, channel); regroup to (group, position, channel-in-group).
          const rows = patches.shape[0];
          const byGroup = tf.transpose(tf.reshape(patches, [rows, kh * kw, groups, cInG]), [2, 0, 1, 3]);
          const perGroup = tf.unstack(tf.reshape(byGroup, [groups, rows, kh * kw * cInG]));
          return tf.concat(perGroup.map((p, g) => ctx.mvm(node, p as tf.Tensor2D, g, 0, chunkIndex)), 1);
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
    const { units, returnSequences } = node.attrs;
    const [n, steps] = x.shape;
    const bias = ctx.constants.bias!;
    let h = tf.zeros([n, units]) as tf.Tensor2D;
    let c = tf.zeros([n, units]) as tf.Tensor2D;
    const xs = tf.unstack(x, 1) as tf.Tensor2D[];
    const hs: tf.Tensor2D[] = [];
    for (let t = 0; t < steps; t++) {
      const [hNext, cNext] = tf.tidy(() => {
        // Gate order i, f, c, o (see LstmAttrs).
        const z = tf.add(ctx.mvm(node, tf.concat([xs[t], h], 1), 0, t), bias);
        const [zi, zf, zc, zo] = tf.split(z, 4, 1);
        const cn = tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(tf.sigmoid(zi), tf.tanh(zc)));
        return [tf.mul(tf.sigmoid(zo), tf.tanh(cn)), cn] as tf.Tensor2D[];
      });
      c.dispose();
      if (!returnSequences) h.dispose();
      xs[t].dispose();
      h = hNext;
      c = cNext;
      hs.push(h);
    }
    c.dispose();
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

function buildConstants(node: Node): NodeConstants {
  const out: NodeConstants = {};
  if (isAnalog(node)) {
    out.matrices = [];
    for (let g = 0; g < mvmGroupCount(node); g++) {
      const m = mvmMatrix(node, g);
      out.matrices.push(tf.tensor2d(m.data, [m.shape[0], m.shape[1]], 'float32'));
    }
    if (node.attrs.bias) out.bias = constTensor(node.attrs.bias);
    if (node.op === 'conv2d') out.filter = fusedFilter(node);
  } else if (node.op === 'batchNorm') {
    const { gamma, beta, mean, variance, epsilon } = node.attrs;
    const c = gamma.data.length;
    const scale = new Float32Array(c);
    const shift = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      // Double precision here so the folded affine matches (x-mean)/sqrt(var+eps) to float32 rounding.
      const s = gamma.data[i] / Math.sqrt(variance.data[i] + epsilon);
      scale[i] = s;
      shift[i] = beta.data[i] - mean.data[i] * s;
    }
    out.scale = tf.tensor1d(scale);
    out.shift = tf.tensor1d(shift);
  } else if (node.op === 'add' && node.attrs.constant) {
    out.constant = constTensor(node.attrs.constant);
  }
  return out;
}

/** Graph inputs as one tensor (single-input graphs), a list in `graph.inputs` order, or a map by name. */
export type ExecutorInputs = tf.Tensor | readonly tf.Tensor[] | Readonly<Record<string, tf.Tensor>>;

/**
 * Runs one graph many times. Holds the graph's weights as tfjs tensors, created
 * once; call {@link GraphExecutor.dispose} to free them.
 *
 * @example
 * const ex = new GraphExecutor(graph);
 * const y = ex.run(x);            // exact (ideal) execution
 * const yNoisy = ex.run(x, { rng: Rng.fromSeed(1) });
 * ex.dispose();
 */
export class GraphExecutor {
  private readonly constants = new Map<string, NodeConstants>();
  private disposed = false;
  /** Last node index that reads each node's output (graph outputs: never freed). */
  private readonly lastUse = new Map<string, number>();

  constructor(readonly graph: Graph) {
    for (const node of graph.nodes) {
      const c = buildConstants(node);
      if (Object.keys(c).length > 0) this.constants.set(node.name, c);
    }
    graph.nodes.forEach((node, i) => node.inputs.forEach((name) => this.lastUse.set(name, i)));
    for (const out of graph.outputs) this.lastUse.set(out, Infinity);
  }

  /**
   * Run the graph on a batch and return its outputs in `graph.outputs` order.
   * Tensors the caller passes in are not disposed; the returned ones are the
   * caller's to dispose.
   */
  runAll(inputs: ExecutorInputs, hooks: ExecutorHooks = {}): tf.Tensor[] {
    if (this.disposed) throw new ConfigError('executor', 'disposed', 'an executor whose dispose() has not been called');
    const bound = this.bindInputs(inputs);
    const mvmHook = hooks.mvm ?? exactMvm;
    const noiseHook = hooks.noise ?? (hooks.rng ? signalNoiseHook(hooks.rng) : undefined);
    return tf.tidy(() => {
      const env = new Map<string, tf.Tensor>();
      const refs = new Map<number, number>(); // tensor id → number of env entries holding it
      const callerTensors = new Set([...bound.values()].map((t) => t.id));
      const ctxBase = {
        input: (name: string) => bound.get(name)!,
        mvm: (node: AnalogNode, x: tf.Tensor2D, group: number, step: number, chunk = 0) => {
          const matrix = this.constants.get(node.name)!.matrices![group];
          const y = mvmHook(node, x, { group, step, chunk, matrix });
          const expected = matrix.shape[1];
          if (y.rank !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== expected) {
            throw new ShapeError(
              `node '${node.name}': mvm hook returned shape ${formatShape(y.shape)}, expected [${x.shape[0]}, ${expected}]`,
            );
          }
          return y;
        },
        noise: (node: NodeOf<'noise'>, y: tf.Tensor) => {
          if (!noiseHook) {
            throw new ConfigError(
              'hooks.rng',
              undefined,
              `an Rng (or a hooks.noise function, e.g. NOISE_OFF) because the graph has noise node '${node.name}'`,
            );
          }
          return noiseHook(node, y);
        },
      };
      this.graph.nodes.forEach((node, index) => {
        const args = node.inputs.map((i) => env.get(i)!);
        const ctx: KernelContext = { ...ctxBase, exact: hooks.mvm === undefined, constants: this.constants.get(node.name) ?? {} };
        const kernel = KERNELS[node.op] as Kernel<OpKind>;
        // A tidy per node frees its temporaries (im2col slices and patches) at once,
        // not when the whole graph ends: DenseNet-100 would otherwise hold gigabytes.
        const y = tf.tidy(() => kernel(node as NodeOf<OpKind>, args, ctx));
        env.set(node.name, y);
        refs.set(y.id, (refs.get(y.id) ?? 0) + 1);
        // Free inputs whose last reader this was, unless another live value is the same tensor.
        for (const name of new Set(node.inputs)) {
          if (this.lastUse.get(name) !== index) continue;
          const t = env.get(name)!;
          env.delete(name);
          const left = refs.get(t.id)! - 1;
          refs.set(t.id, left);
          if (left === 0 && !callerTensors.has(t.id)) t.dispose();
        }
      });
      return this.graph.outputs.map((o) => env.get(o)!);
    });
  }

  /** Run a single-output graph; see {@link GraphExecutor.runAll}. */
  run(inputs: ExecutorInputs, hooks: ExecutorHooks = {}): tf.Tensor {
    if (this.graph.outputs.length !== 1) {
      throw new ConfigError('graph.outputs', this.graph.outputs, 'exactly one output for run(); use runAll()');
    }
    return this.runAll(inputs, hooks)[0];
  }

  /** Free the cached weight tensors. The executor cannot run afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const c of this.constants.values()) {
      c.matrices?.forEach((m) => m.dispose());
      for (const t of [c.bias, c.filter, c.scale, c.shift, c.constant]) t?.dispose();
    }
    this.constants.clear();
    this.disposed = true;
  }

  private bindInputs(inputs: ExecutorInputs): Map<string, tf.Tensor> {
    const names = this.graph.inputs;
    let list: tf.Tensor[];
    if (inputs instanceof tf.Tensor) list = [inputs];
    else if (Array.isArray(inputs)) list = [...(inputs as readonly tf.Tensor[])];
    else {
      const byName = inputs as Readonly<Record<string, tf.Tensor>>;
      list = names.map((n) => {
        if (!(n in byName)) throw new ConfigError(`inputs.${n}`, undefined, `a tensor for graph input '${n}'`);
        return byName[n];
      });
    }
    if (list.length !== names.length) {
      throw new ConfigError('inputs', `${list.length} tensor(s)`, `${names.length} tensor(s) for graph inputs ${names.join(', ')}`);
    }
    const bound = new Map<string, tf.Tensor>();
    names.forEach((name, i) => {
      const t = list[i];
      const node = this.graph.nodes.find((n) => n.name === name)!;
      const want = node.outputShape;
      if (t.rank !== want.length || want.some((d, j) => d !== null && d !== t.shape[j])) {
        throw new ShapeError(`graph input '${name}': got shape ${formatShape(t.shape)}, expected ${formatShape(want)}`);
      }
      if (t.dtype !== 'float32') throw new ShapeError(`graph input '${name}': got dtype ${t.dtype}, expected float32`);
      bound.set(name, t);
    });
    return bound;
  }
}

/**
 * One-shot execution of a single-output graph: builds the weight tensors, runs,
 * frees them. For repeated runs of one graph use {@link GraphExecutor}.
 */
export function execute(graph: Graph, inputs: ExecutorInputs, hooks: ExecutorHooks = {}): tf.Tensor {
  const ex = new GraphExecutor(graph);
  try {
    return ex.run(inputs, hooks);
  } finally {
    ex.dispose();
  }
}
