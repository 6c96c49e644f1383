/**
 * The operations of ohmic's IR: one `OpKind` string per operation and one attribute
 * interface per kind, tied together by {@link OpAttrs}. A node is `{op, attrs}` with
 * `attrs: OpAttrs[op]`, so switching on `node.op` narrows `node.attrs` (see
 * `graph.ts`).
 *
 * Layout conventions (every frontend converts to these):
 * - Activations are batch-first; axis 0 is the batch and is never reshaped, moved
 *   or reduced. Images are NHWC (`[batch, height, width, channels]`), sequences
 *   are `[batch, time, features]`.
 * - Constant tensors ({@link ConstTensor}) are row-major float32.
 * - Axes stored in attributes are non-negative and count the batch axis
 *   (so the channel axis of an NHWC tensor is 3). Frontends normalise negative axes.
 *
 * @packageDocumentation
 */

/** A constant (weight) tensor: row-major float32 data and its shape. */
export interface ConstTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * An activation shape. Axis 0 is the batch; `null` marks a dimension that is not
 * known until run time (normally only the batch).
 */
export type Shape = readonly (number | null)[];

/**
 * Spatial padding of a convolution or pooling window.
 * - `'valid'`: no padding.
 * - `'same'`: TensorFlow / Keras "SAME" (= ONNX `auto_pad=SAME_UPPER`): output size
 *   `ceil(in / stride)`, total padding `max((out-1)·stride + (k-1)·dilation + 1 - in, 0)`,
 *   of which the smaller half goes on top / left.
 * - `[top, bottom, left, right]`: explicit padding in pixels.
 */
export type Padding = 'valid' | 'same' | readonly [number, number, number, number];

/** Graph input. `shape` includes the batch axis (normally `null`). */
export interface InputAttrs {
  readonly shape: Shape;
}

/**
 * Fully connected layer on the last axis: `y = x·W + b`, `x: [..., fanIn]`,
 * `y: [..., fanOut]`. Also the IR form of a MatMul / Gemm with a constant weight.
 * Analog: `W` is the crossbar matrix; the bias is added digitally after the MVM.
 */
export interface DenseAttrs {
  /** `[fanIn, fanOut]`. */
  readonly weights: ConstTensor;
  /** `[fanOut]`. */
  readonly bias?: ConstTensor;
}

/**
 * 2-D convolution (cross-correlation, as in TF and ONNX) on NHWC activations.
 * Analog: executed as im2col + one MVM per group with the
 * `(kh·kw·cIn/groups) × (cOut/groups)` matrix whose row index is `(c·kh + i)·kw + j`
 * (input channel `c` within the group, kernel row `i`, column `j`): channel-major, as
 * PyTorch's `weight.view(cOut, -1)`, so a tile's row band is a range of input channels.
 * Depthwise convolution is `groups = cIn` (with `cOut = cIn · multiplier`).
 */
export interface Conv2dAttrs {
  /** `[kh, kw, cIn / groups, cOut]`; output channel `o` belongs to group `floor(o / (cOut/groups))`. */
  readonly kernel: ConstTensor;
  /** `[cOut]`. */
  readonly bias?: ConstTensor;
  /** `[strideH, strideW]`, each ≥ 1. */
  readonly strides: readonly [number, number];
  readonly padding: Padding;
  /** `[dilationH, dilationW]`, each ≥ 1. */
  readonly dilations: readonly [number, number];
  /** ≥ 1; divides both cIn and cOut. */
  readonly groups: number;
}

/**
 * Inference-mode batch normalisation over the last (channel) axis:
 * `y = gamma · (x - mean) / sqrt(variance + epsilon) + beta`. All vectors `[channels]`.
 */
export interface BatchNormAttrs {
  readonly gamma: ConstTensor;
  readonly beta: ConstTensor;
  readonly mean: ConstTensor;
  readonly variance: ConstTensor;
  readonly epsilon: number;
}

/** Attributes of ops that have none (relu, tanh, sigmoid, sqrt, erf, flatten, identity, matmul). */
export type NoAttrs = Record<string, never>;

/**
 * Max pooling over H and W of an NHWC tensor. Padded positions never win
 * (they act as −∞), as in TF and ONNX.
 */
export interface MaxPoolAttrs {
  /** `[poolH, poolW]`. */
  readonly poolSize: readonly [number, number];
  /** `[strideH, strideW]`. */
  readonly strides: readonly [number, number];
  readonly padding: Padding;
}

/**
 * Average pooling over H and W of an NHWC tensor.
 *
 * `countIncludePad` decides the divisor at windows that overlap padding:
 * `true` divides by the full window size (ONNX `count_include_pad=1`), `false` by
 * the number of real pixels (ONNX default `count_include_pad=0`, and TF/Keras
 * `'same'`, which always excludes padding). With `padding: 'valid'` it has no effect.
 */
export interface AvgPoolAttrs {
  readonly poolSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: Padding;
  readonly countIncludePad: boolean;
}

/**
 * Mean over H and W of an NHWC tensor: `[N, H, W, C] → [N, C]`, or
 * `[N, 1, 1, C]` with `keepDims` (ONNX GlobalAveragePool).
 */
export interface GlobalAvgPoolAttrs {
  readonly keepDims: boolean;
}

/** Concatenation of all inputs along `axis` (non-negative, ≥ 1). */
export interface ConcatAttrs {
  readonly axis: number;
}

/**
 * Element-wise sum of all inputs (≥ 1 activation input, all of the same shape),
 * plus an optional constant broadcast NumPy-style against the trailing axes
 * (e.g. a `[C]` bias on `[N, H, W, C]`). Digital.
 */
export interface AddAttrs {
  readonly constant?: ConstTensor;
}

/** `[N, d1, d2, ...] → [N, d1·d2·...]` in row-major (NHWC) order. */
export type FlattenAttrs = NoAttrs;

/**
 * Reshape keeping the batch axis: `shape` is the per-sample target shape (without
 * the batch axis); at most one entry may be −1 (inferred). Row-major order.
 */
export interface ReshapeAttrs {
  readonly shape: readonly number[];
}

/**
 * Axis permutation (a layout change, e.g. NCHW ↔ NHWC). `perm` covers every axis,
 * the batch included, and must keep the batch in place: `perm[0] === 0`.
 */
export interface TransposeAttrs {
  readonly perm: readonly number[];
}

/**
 * The gate activation of a recurrent layer: `'sigmoid'` (ONNX, PyTorch), or
 * `'hardSigmoid'`, `clip(0.2·x + 0.5, 0, 1)` (the tfjs/Keras default for LSTM and GRU).
 */
export type GateActivation = 'sigmoid' | 'hardSigmoid';

/**
 * Single-layer, single-direction LSTM over `[batch, time, features]`, zero initial
 * state, tanh on the cell input and output, and `recurrentActivation` (default
 * sigmoid) on the gates.
 *
 * **Gate order in the IR is `i, f, c, o`** (input, forget, cell candidate, output),
 * the tfjs/Keras order: columns `[k·units, (k+1)·units)` of `kernel`,
 * `recurrentKernel` and `bias` belong to gate `k` in that order. (ONNX stores
 * `i, o, f, c`; its frontend permutes.) Per step:
 * `z = [x_t, h_{t-1}] · [[kernel]; [recurrentKernel]] + bias`,
 * `c_t = σ(z_f)·c_{t-1} + σ(z_i)·tanh(z_c)`, `h_t = σ(z_o)·tanh(c_t)`.
 *
 * Analog: one `(features + units) × 4·units` MVM per time step.
 */
export interface LstmAttrs {
  readonly units: number;
  /** `[features, 4·units]`. */
  readonly kernel: ConstTensor;
  /** `[units, 4·units]`. */
  readonly recurrentKernel: ConstTensor;
  /** `[4·units]` (for ONNX: input bias + recurrent bias). */
  readonly bias: ConstTensor;
  /** `true`: output `[batch, time, units]`; `false`: last state `[batch, units]`. */
  readonly returnSequences: boolean;
  /** Gate activation (i, f, o); default `'sigmoid'`. */
  readonly recurrentActivation?: GateActivation;
  /**
   * Read the sequence from its last step to its first (the backward half of a
   * bidirectional LSTM). The output sequence stays aligned with the input: step `t`
   * of the output is the state after reading `x_t`; the last state is the one after
   * reading `x_0`. The MVM of the k-th step *processed* is step k.
   */
  readonly reverse?: boolean;
  /**
   * A noise point on the gate pre-activations (the per-step MVM output, before the
   * bias), as in the paper's LSTM: models trained with it carry it here, and the
   * signal-level mode applies its run's noise there. Not a separate node because
   * it sits inside the recurrence.
   */
  readonly gateNoise?: NoiseAttrs;
}

/**
 * Single-layer, single-direction GRU over `[batch, time, features]`, zero initial
 * state, tanh on the candidate and `recurrentActivation` on the update and reset gates.
 *
 * **Gate order is `z, r, n`** (update, reset, candidate), the order of ONNX and of
 * tfjs/Keras: columns `[k·units, (k+1)·units)` of `kernel`, `recurrentKernel` and
 * `bias` belong to gate `k`. Per step, with `f` the gate activation:
 * `z = f(x·Wz + h·Rz + bz)`, `r = f(x·Wr + h·Rr + br)`,
 * `n = tanh(x·Wn + bn + r ⊙ (h·Rn + recurrentBias))` when `resetAfter`
 * (ONNX `linear_before_reset = 1`, what PyTorch exports), else
 * `n = tanh(x·Wn + bn + (r ⊙ h)·Rn)` (ONNX's default, tfjs/Keras `reset_after = false`);
 * `h' = (1 − z) ⊙ n + z ⊙ h`.
 *
 * Analog: three MVMs per step, the node's three matrices (`mvmMatrix` groups):
 * 0: `[features + units, 2·units]`, `[[Wz Wr]; [Rz Rr]]` on `[x_t, h]`;
 * 1: `[features, units]`, `Wn` on `x_t`;
 * 2: `[units, units]`, `Rn` on `h` (resetAfter) or on `r ⊙ h` (which needs matrix 0's output first).
 */
export interface GruAttrs {
  readonly units: number;
  /** `[features, 3·units]`. */
  readonly kernel: ConstTensor;
  /** `[units, 3·units]`. */
  readonly recurrentKernel: ConstTensor;
  /**
   * `[3·units]`, added outside the reset gate: for z and r the input and recurrent
   * biases summed; for n the input bias (plus, without resetAfter, the recurrent one).
   */
  readonly bias: ConstTensor;
  /** `[units]`: the candidate's recurrent bias, inside `r ⊙ (·)` (resetAfter only; zeros when absent). */
  readonly recurrentBias?: ConstTensor;
  readonly resetAfter: boolean;
  /** `true`: output `[batch, time, units]`; `false`: last state `[batch, units]`. */
  readonly returnSequences: boolean;
  /** Gate activation (z, r); default `'sigmoid'`. */
  readonly recurrentActivation?: GateActivation;
  /** Read the sequence backwards, as {@link LstmAttrs.reverse}. */
  readonly reverse?: boolean;
}

/**
 * Layer normalisation over the trailing axes `[axis, rank)` (non-negative, ≥ 1):
 * `y = (x − mean) / sqrt(var + epsilon) · gamma + beta`, mean and (biased) variance
 * per sample over those axes. `gamma` and `beta` have the shape of those axes. Digital.
 */
export interface LayerNormAttrs {
  readonly axis: number;
  readonly gamma: ConstTensor;
  /** Zeros when absent. */
  readonly beta?: ConstTensor;
  /** ≥ 0. */
  readonly epsilon: number;
}

/**
 * An element-wise `mul`, `sub` or `div`. Either two activation inputs, broadcast
 * NumPy-style on equal ranks (each axis equal, or 1 in one of them; the batch
 * equal), or one activation and `constant`, broadcast against the trailing axes as
 * {@link AddAttrs}'s. `constantFirst` puts the constant on the left (`c − x`, `c / x`).
 * Digital.
 */
export interface BinaryAttrs {
  readonly constant?: ConstTensor;
  readonly constantFirst?: boolean;
}

/** `x ** exponent`, element-wise (a constant, finite exponent). Digital. */
export interface PowAttrs {
  readonly exponent: number;
}

/** `min(max(x, min), max)`; an absent bound does not clip (ReLU6 is `{min: 0, max: 6}`). Digital. */
export interface ClipAttrs {
  readonly min?: number;
  readonly max?: number;
}

/**
 * GELU: `'none'`: `x · (1 + erf(x/√2)) / 2` (PyTorch's default); `'tanh'`:
 * `x · (1 + tanh(√(2/π) · (x + 0.044715·x³))) / 2`. Digital.
 */
export interface GeluAttrs {
  readonly approximate: 'none' | 'tanh';
}

/** `max(0, min(1, alpha·x + beta))` (ONNX HardSigmoid; tfjs's is alpha 0.2, beta 0.5). Digital. */
export interface HardSigmoidAttrs {
  readonly alpha: number;
  readonly beta: number;
}

/**
 * A reduction over non-batch `axes` (sorted, distinct, each ≥ 1). `keepDims` keeps
 * them as size-1 axes. Digital.
 */
export interface ReduceAttrs {
  readonly kind: 'mean' | 'sum' | 'max' | 'min';
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

/** `x[..., start:end, ...]` along non-batch `axis`, `0 ≤ start < end ≤ size` (step 1). */
export interface SliceAttrs {
  readonly axis: number;
  readonly start: number;
  readonly end: number;
}

/** Softmax along `axis` (non-negative, ≥ 1; normally the last). */
export interface SoftmaxAttrs {
  readonly axis: number;
}

/**
 * Product of two activations `[N, ..., m, k] · [N, ..., k, n] → [N, ..., m, n]`
 * (same leading axes, no broadcasting). Digital: neither operand is a constant,
 * so nothing can be programmed into a crossbar. A product with a constant weight
 * is a {@link DenseAttrs} node instead.
 */
export type MatMulAttrs = NoAttrs;

/**
 * A signal-level noise point (the paper's model, applied after an MVM):
 * `'multiplicative'`: `y' = y ⊙ (1 + sigma·ε)` (Eq. 3);
 * `'additive'`: `y' = y + sigma·ε` (Eq. 2); ε ~ N(0, 1) per element per run.
 */
export interface NoiseAttrs {
  readonly kind: 'multiplicative' | 'additive';
  /** ≥ 0. */
  readonly sigma: number;
}

/** Attribute interface of every op kind. The keys are the {@link OpKind}s. */
/**
 * One analog matrix–vector product of a lowered graph (the `lowerToMvm` pass):
 * `y = x · matrix` on the last axis, `x: [..., rows]` → `[..., cols]`. `matrix` is
 * `mvmMatrix` of the source analog node `layer` (group `group`, recurrent step
 * `step`): what the chip's tiles hold. In a lowered graph every analog product is an
 * `mvm` node; biases, patch extraction and gates around it are digital nodes.
 */
export interface MvmAttrs {
  /** `[rows, cols]`. */
  readonly matrix: ConstTensor;
  /** The analog node of the unlowered graph whose product this is. */
  readonly layer: string;
  readonly group: number;
  readonly step: number;
  /** Where the chip plan put the matrix (set by the `place` pass). */
  readonly tiles?: MvmPlacement;
}

/** The tiles of one MVM matrix on the chip: a `rowBlocks × colBlocks` grid from tile `firstTile`. */
export interface MvmPlacement {
  readonly rowBlocks: number;
  readonly colBlocks: number;
  readonly firstTile: number;
  /** `rows×cols` of one tile. */
  readonly tile: string;
  readonly device: string;
}

/**
 * Patch extraction of a lowered convolution: NHWC `[n, h, w, c]` →
 * `[n, outH, outW, kh·kw·(channelEnd − channelStart)]`, the patches of input channels
 * `[channelStart, channelEnd)` in the MVM row order of {@link Conv2dAttrs}
 * (`(c·kh + i)·kw + j`). Padded positions are zero. Digital (data movement).
 */
export interface Im2colAttrs {
  readonly window: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: Padding;
  readonly dilations: readonly [number, number];
  readonly channelStart: number;
  readonly channelEnd: number;
}

/** Zero padding of non-batch `axis`: `before` zeros ahead of it and `after` behind. Digital. */
export interface PadAttrs {
  readonly axis: number;
  readonly before: number;
  readonly after: number;
}

export interface OpAttrs {
  input: InputAttrs;
  dense: DenseAttrs;
  conv2d: Conv2dAttrs;
  batchNorm: BatchNormAttrs;
  relu: NoAttrs;
  tanh: NoAttrs;
  sigmoid: NoAttrs;
  maxPool: MaxPoolAttrs;
  avgPool: AvgPoolAttrs;
  globalAvgPool: GlobalAvgPoolAttrs;
  concat: ConcatAttrs;
  add: AddAttrs;
  flatten: FlattenAttrs;
  reshape: ReshapeAttrs;
  transpose: TransposeAttrs;
  lstm: LstmAttrs;
  gru: GruAttrs;
  softmax: SoftmaxAttrs;
  matmul: MatMulAttrs;
  noise: NoiseAttrs;
  identity: NoAttrs;
  layerNorm: LayerNormAttrs;
  mul: BinaryAttrs;
  sub: BinaryAttrs;
  div: BinaryAttrs;
  pow: PowAttrs;
  sqrt: NoAttrs;
  erf: NoAttrs;
  clip: ClipAttrs;
  gelu: GeluAttrs;
  hardSigmoid: HardSigmoidAttrs;
  reduce: ReduceAttrs;
  slice: SliceAttrs;
  mvm: MvmAttrs;
  im2col: Im2colAttrs;
  pad: PadAttrs;
}

/** Every operation the IR knows. */
export type OpKind = keyof OpAttrs;

/** Op kinds whose work is a matrix–vector product with constant weights. */
export const ANALOG_OP_KINDS = ['dense', 'conv2d', 'lstm', 'gru'] as const satisfies readonly OpKind[];

/** An op kind that runs on crossbar tiles. */
export type AnalogOpKind = (typeof ANALOG_OP_KINDS)[number];

/** Number of activation inputs each op takes: exact count, or `[min, max]`. */
export const OP_ARITY: { readonly [K in OpKind]: number | readonly [number, number] } = {
  input: 0,
  dense: 1,
  conv2d: 1,
  batchNorm: 1,
  relu: 1,
  tanh: 1,
  sigmoid: 1,
  maxPool: 1,
  avgPool: 1,
  globalAvgPool: 1,
  concat: [1, Infinity],
  add: [1, Infinity],
  flatten: 1,
  reshape: 1,
  transpose: 1,
  lstm: 1,
  gru: 1,
  softmax: 1,
  matmul: 2,
  noise: 1,
  identity: 1,
  layerNorm: 1,
  mul: [1, 2],
  sub: [1, 2],
  div: [1, 2],
  pow: 1,
  sqrt: 1,
  erf: 1,
  clip: 1,
  gelu: 1,
  hardSigmoid: 1,
  reduce: 1,
  slice: 1,
  mvm: 1,
  im2col: 1,
  pad: 1,
};

/** All op kinds, in a stable order (for error messages and exhaustive tests). */
export const OP_KINDS: readonly OpKind[] = Object.keys(OP_ARITY) as OpKind[];

/** The constant tensors held in a node's attributes, by attribute name. */
export function constTensorsOf(attrs: object): [string, ConstTensor][] {
  const found: [string, ConstTensor][] = [];
  for (const [key, value] of Object.entries(attrs)) {
    if (value && typeof value === 'object' && (value as ConstTensor).data instanceof Float32Array) {
      found.push([key, value as ConstTensor]);
    }
  }
  return found;
}

/** Number of elements of a constant shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
