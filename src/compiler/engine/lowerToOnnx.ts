/**
 * Lowering an IR graph, as one execution of it, to an ONNX model that onnxruntime
 * runs: the exact network, the paper's signal-level noise, or a programmed chip
 * (DAC, per-tile column currents on the conductances, read noise as a variance
 * product on squared operands, sensing noise, per-tile ADC, digital sum of the row
 * blocks, output gain). The noise is not drawn inside the model: every noise site
 * becomes a graph input that the runner fills from ohmic's own Rng, keyed by sample,
 * so both engines give the same draws for the same seed.
 *
 * Layout: images are held channels-first (NCHW, what ONNX Conv and pooling take);
 * every other value keeps the IR's layout. A value is transposed only where an op
 * needs the IR's channels-last view (flatten, reshape, dense on an image, …). Graph
 * inputs and outputs are in the IR's layout.
 *
 * Elementwise work per band output is what a chip costs here beyond its products, so
 * the conversions are folded into constants: a quantising DAC feeds its integer codes
 * (its 1/L rides in the kernels); with an ADC the products come out in ADC codes (its
 * codes per unit current folded into the conductances), the noise is added in codes,
 * and one Mul per band takes the rounded codes back to output units, with the DAC
 * scale and the layer's output gain when the DAC range is fixed. A read variance that
 * is the same along each row (state-independent read noise: the ReRAM preset's) is a
 * product with one output channel, broadcast over the rest.
 *
 * A convolution on a chip whose DAC has a fixed range quantises each input pixel
 * independently, so each row band of tiles is a Conv over the band's input
 * channels (the matrix rows are channel-major); with a per-vector DAC range
 * (`perInputAbsMax`) every patch has its own scale, so the patches are built
 * explicitly (im2col by strided slices) and each band is a 1×1 Conv over them.
 *
 * Statistics (chip mode with `stats`, off by default): each analog node gets one
 * extra graph output `[cell energy pJ, DAC clipped, ADC clipped, word-line drives]`
 * summed over the batch, its groups and steps, counted as the tfjs engine's
 * `MvmStats` counts them on its im2col rows — cell energy Σ (V/V_read)²·ΣG per word
 * line as a MatMul (dense) or a one-output Conv (convolutions; on the per-patch path
 * the DAC feeds integer codes, so the kernel carries 1/L²), clipping and non-zero
 * codes as Greater/Cast/ReduceSum, per patch element through a ones kernel where
 * the DAC works on the image. The model's outputs and noise feeds are unchanged.
 */
import { ConfigError, UnsupportedOpError } from '../../errors';
import type { ProgrammedLayer, RowBlock } from '../../crossbar/layerState';
import type { SignalNoise } from '../../crossbar/noise/signalNoise';
import { signedLevels } from '../../crossbar/adc';
import { bitSerialLevels, inputCyclesOf, inputEncodingOf } from '../../crossbar/slicing';
import type { AnalogNode, Graph, Node, NodeOf } from '../ir/graph';
import { mvmMatrix } from '../ir/mvmMatrix';
import type { ConstTensor, GateActivation } from '../ir/ops';
import { explicitPadding } from '../ir/shapes';
import { batchNormAffine } from '../ir/batchNormAffine';
import { OnnxGraphBuilder, float, int, ints } from './onnxBuilder';

/** What one lowered model computes. */
export type LoweringMode =
  | { readonly kind: 'exact' }
  | {
      readonly kind: 'signal';
      readonly noise: SignalNoise;
      /** Analog nodes whose MVM output takes the noise. */
      readonly noisyMvm: (node: AnalogNode) => boolean;
      /** Whether the graph's noise nodes take the noise (else they are identities). */
      readonly noiseNodes: boolean;
    }
  | {
      readonly kind: 'chip';
      readonly layers: ReadonlyMap<string, readonly ProgrammedLayer[]>;
      /**
       * Also output each analog node's run statistics (see {@link LoweredStats}):
       * extra graph outputs only, the model's outputs and noise are unchanged. Off by default.
       */
      readonly stats?: boolean;
    };

/**
 * One noise input of a lowered model. Per sample it holds the draws of its sites one
 * after another (`perSite` values each; a grouped convolution's groups are
 * consecutive channel ranges); site k's draws for sample i come from
 * `run.fold(...sites[k]).fold(i)`, N(mean, std²). Multiplicative noise is fed as the
 * factor 1 + σε (mean 1), so the graph spends one Mul on it.
 */
export interface NoiseFeed {
  readonly input: string;
  readonly sites: readonly (readonly (string | number)[])[];
  readonly perSite: number;
  readonly mean: number;
  readonly std: number;
  /** Per-sample dims of the input (without the batch). */
  readonly dims: readonly number[];
}

/** A graph input or output: its ONNX name and per-sample dims in the IR's layout. */
export interface LoweredValue {
  readonly name: string;
  readonly dims: readonly number[];
}

/**
 * The run statistics of one analog node in a lowered chip model (mode `stats`): the
 * graph output `output` holds `[cellEnergyPicojoules, dacClipped, adcClipped,
 * dacDrives]` summed over the batch and the node's MVMs (its groups and steps), as
 * the tfjs engine's `MvmStats` counts them; the counts that do not depend on the
 * data are given per sample.
 */
export interface LoweredStats {
  readonly node: string;
  readonly output: string;
  readonly perSample: {
    readonly mvms: number;
    readonly adcConversions: number;
    readonly digitalAdds: number;
    readonly digitalMultiplies: number;
    readonly shiftAdds: number;
    readonly inputCycles: number;
  };
}

export interface LoweredModel {
  readonly bytes: Uint8Array;
  readonly inputs: readonly LoweredValue[];
  readonly outputs: readonly LoweredValue[];
  readonly noise: readonly NoiseFeed[];
  /** Values in the largest per-sample output of the graph's nodes (what sizes a call to fit in cache). */
  readonly largestValuePerSample: number;
  /** Present in mode `chip` with `stats`: one entry per analog node, its output after `outputs`. */
  readonly stats?: readonly LoweredStats[];
}

/** A value during lowering: its ONNX name, per-sample IR dims, and whether it is held NCHW. */
interface Value {
  readonly name: string;
  readonly dims: readonly number[];
  readonly nchw: boolean;
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
/** Where an NHWC axis sits in NCHW. */
const NHWC_AXIS_IN_NCHW = [0, 2, 3, 1];

/** Whether every entry of `a` is the same. */
function uniform(a: Float32Array): boolean {
  for (let i = 1; i < a.length; i++) if (a[i] !== a[0]) return false;
  return true;
}

function prod(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function staticDims(node: Node): number[] {
  const dims = node.outputShape.slice(1);
  if (dims.some((d) => d === null)) {
    throw new ConfigError(`graph.${node.name}.outputShape`, node.outputShape, 'static dimensions apart from the batch (the onnxruntime engine needs them)');
  }
  return dims as number[];
}

/** Row-major `data` of `shape` permuted by `perm` (output dim k is input dim perm[k]). */
function permuteConst(data: Float32Array, shape: readonly number[], perm: readonly number[]): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = shape.map((_, k) => prod(shape.slice(k + 1)));
  const out = new Float32Array(data.length);
  const idx = new Array(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += idx[k] * inStrides[perm[k]];
    out[o] = data[src];
    for (let k = perm.length - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return { data: out, shape: outShape };
}

class Lowering {
  readonly b = new OnnxGraphBuilder();
  readonly noise: NoiseFeed[] = [];
  /** Per row band, its conductance arrays as the products use them ({@link bandArray}). */
  private readonly bandArrays = new WeakMap<RowBlock, Map<string, Float32Array>>();
  private readonly values = new Map<string, Value>();
  private readonly nchwCache = new Map<string, Value>();
  private readonly irCache = new Map<string, Value>();
  /** Per analog node (stats mode): the `[4]` statistics vectors of its MVM sites, and its per-sample counts. */
  private readonly statSites = new Map<string, { vectors: string[]; mvms: number; adcConversions: number; digitalAdds: number; digitalMultiplies: number; shiftAdds: number; inputCycles: number }>();

  constructor(private readonly graph: Graph, private readonly mode: LoweringMode) {}

  private get counting(): boolean {
    return this.mode.kind === 'chip' && this.mode.stats === true;
  }

  /** A scalar's name as a `[1]` vector. */
  private vec1(scalar: string): string {
    return this.b.op('Reshape', [scalar, this.b.int64([1])]);
  }

  /** Σ over every element (a scalar). */
  private total(t: string): string {
    return this.b.op('ReduceSum', [t], { keepdims: int(0) });
  }

  /** 1 where `|t| > bound`, else 0 (float). */
  private beyond(t: string, bound: number): string {
    return this.b.op('Cast', [this.b.op('Greater', [this.b.op('Abs', [t]), this.b.scalar(bound)])], { to: int(1) });
  }

  /** Record one MVM site's statistics (scalars or '' for none) and per-sample counts. */
  private recordStats(
    node: string,
    layer: ProgrammedLayer,
    mvmsPerSample: number,
    scalars: { energyUnits: string[]; dacClipped: string; adcClipped: string[]; nonZero: string },
    slice: { readonly index: number; readonly count: number } = { index: 0, count: 1 },
  ): void {
    const b = this.b;
    const d = layer.chip.device;
    const zero = () => b.constant(new Float32Array(1), [1]);
    const sumAll = (xs: string[]) => (xs.length === 0 ? '' : xs.length === 1 ? xs[0] : b.op('Sum', xs));
    // µS · V² · ns = 1e-3 pJ.
    const energy = b.op('Mul', [sumAll(scalars.energyUnits), b.scalar(d.readVoltageVolts ** 2 * d.readPulseNs * 1e-3)]);
    const adc = sumAll(scalars.adcClipped);
    const drives = b.op('Mul', [scalars.nonZero, b.scalar(layer.grid.colBlocks)]);
    const v = b.op('Concat', [this.vec1(energy), scalars.dacClipped ? this.vec1(scalars.dacClipped) : zero(), adc ? this.vec1(adc) : zero(), this.vec1(drives)], { axis: int(0) });
    let entry = this.statSites.get(node);
    if (!entry) {
      entry = { vectors: [], mvms: 0, adcConversions: 0, digitalAdds: 0, digitalMultiplies: 0, shiftAdds: 0, inputCycles: 0 };
      this.statSites.set(node, entry);
    }
    const blocks = layer.rowBlocks.length;
    const cycles = inputCyclesOf(layer.chip);
    // As analogMvm counts: the input vectors, cycles and output gain once per layer (slice 0), the rest per slice.
    const once = slice.index === 0 ? 1 : 0;
    entry.vectors.push(v);
    entry.mvms += once * mvmsPerSample;
    entry.inputCycles += once * mvmsPerSample * cycles;
    entry.adcConversions += mvmsPerSample * layer.fanOut * blocks * cycles;
    entry.digitalAdds += mvmsPerSample * layer.fanOut * (blocks - 1);
    entry.digitalMultiplies += once * mvmsPerSample * layer.fanOut;
    entry.shiftAdds += mvmsPerSample * layer.fanOut * (blocks * (cycles - 1) + once * (slice.count - 1));
  }

  lower(): LoweredModel {
    const inputs: LoweredValue[] = [];
    for (const node of this.graph.nodes) {
      if (node.op === 'input') {
        const dims = staticDims(node);
        const name = this.b.input(`input_${inputs.length}`, ['N', ...dims]);
        inputs.push({ name, dims });
        this.values.set(node.name, { name, dims, nchw: false });
        continue;
      }
      this.values.set(node.name, this.emit(node));
    }
    const outputs = this.graph.outputs.map((o, k) => {
      const v = this.ir(this.values.get(o)!);
      const name = `output_${k}`;
      this.b.output(v.name, name, ['N', ...v.dims]);
      return { name, dims: v.dims };
    });
    const largestValuePerSample = Math.max(1, ...[...this.values.values()].map((v) => prod(v.dims)));
    if (!this.counting) return { bytes: this.b.encode(), inputs, outputs, noise: this.noise, largestValuePerSample };
    const stats: LoweredStats[] = [];
    for (const [node, e] of this.statSites) {
      const name = `stats_${stats.length}`;
      this.b.output(e.vectors.length === 1 ? e.vectors[0] : this.b.op('Sum', e.vectors), name, [4]);
      stats.push({ node, output: name, perSample: { mvms: e.mvms, adcConversions: e.adcConversions, digitalAdds: e.digitalAdds, digitalMultiplies: e.digitalMultiplies, shiftAdds: e.shiftAdds, inputCycles: e.inputCycles } });
    }
    return { bytes: this.b.encode(), inputs, outputs, noise: this.noise, largestValuePerSample, stats };
  }

  // ── layout ──────────────────────────────────────────────────────────────

  private nchw(v: Value): Value {
    if (v.dims.length !== 3 || v.nchw) return v;
    let out = this.nchwCache.get(v.name);
    if (!out) {
      out = { name: this.b.op('Transpose', [v.name], { perm: ints(NHWC_TO_NCHW) }), dims: v.dims, nchw: true };
      this.nchwCache.set(v.name, out);
    }
    return out;
  }

  private ir(v: Value): Value {
    if (!v.nchw) return v;
    let out = this.irCache.get(v.name);
    if (!out) {
      out = { name: this.b.op('Transpose', [v.name], { perm: ints(NCHW_TO_NHWC) }), dims: v.dims, nchw: false };
      this.irCache.set(v.name, out);
    }
    return out;
  }

  private arg(node: Node, k = 0): Value {
    return this.values.get(node.inputs[k])!;
  }

  /** A per-channel vector as a constant broadcasting against `v` (`[C,1,1]` for NCHW, `[C]` otherwise). */
  private channelConst(data: Float32Array, nchw: boolean): string {
    return nchw ? this.b.constant(data, [data.length, 1, 1]) : this.b.constant(data, [data.length]);
  }

  // ── noise ───────────────────────────────────────────────────────────────

  private noiseInput(sites: (string | number)[][], perSite: number, dims: readonly number[], std: number, mean = 0): string {
    const input = this.b.input(`noise_${this.noise.length}`, ['N', ...dims]);
    this.noise.push({ input, sites, perSite, mean, std, dims: [...dims] });
    return input;
  }

  /** `y` with the signal-level noise of `sites` (one per group, consecutive in `y`'s per-sample order). */
  private signalNoise(y: string, noise: SignalNoise, sites: (string | number)[][], dims: readonly number[]): string {
    if (noise.sigma === 0) return y;
    const mult = noise.kind === 'multiplicative';
    const e = this.noiseInput(sites, prod(dims) / sites.length, dims, noise.sigma, mult ? 1 : 0);
    return this.b.op(mult ? 'Mul' : 'Add', [y, e]);
  }

  // ── ops ─────────────────────────────────────────────────────────────────

  private emit(node: Node): Value {
    const b = this.b;
    const dims = staticDims(node);
    switch (node.op) {
      case 'dense': {
        const x = this.ir(this.arg(node));
        let y = this.mvm(node, 0, x.name, dims, 0);
        if (node.attrs.bias) y = b.op('Add', [y, b.constant(node.attrs.bias.data, [node.attrs.bias.data.length])]);
        return { name: y, dims, nchw: false };
      }
      case 'conv2d':
        return { name: this.conv(node, this.nchw(this.arg(node)), dims), dims, nchw: true };
      case 'batchNorm': {
        const x = this.arg(node);
        const { scale, shift } = batchNormAffine(node.attrs);
        const y = b.op('Add', [b.op('Mul', [x.name, this.channelConst(scale, x.nchw)]), this.channelConst(shift, x.nchw)]);
        return { name: y, dims, nchw: x.nchw };
      }
      case 'relu':
      case 'tanh':
      case 'sigmoid': {
        const x = this.arg(node);
        const op = node.op === 'relu' ? 'Relu' : node.op === 'tanh' ? 'Tanh' : 'Sigmoid';
        return { name: b.op(op, [x.name]), dims, nchw: x.nchw };
      }
      case 'maxPool':
      case 'avgPool': {
        const x = this.nchw(this.arg(node));
        const { poolSize, strides, padding } = node.attrs;
        const [pt, pb, pl, pr] = explicitPadding(padding, x.dims[0], x.dims[1], poolSize, strides);
        const attrs = { kernel_shape: ints(poolSize), strides: ints(strides), pads: ints([pt, pl, pb, pr]) };
        const y =
          node.op === 'maxPool'
            ? b.op('MaxPool', [x.name], attrs)
            : b.op('AveragePool', [x.name], { ...attrs, count_include_pad: int(node.attrs.countIncludePad ? 1 : 0) });
        return { name: y, dims, nchw: true };
      }
      case 'globalAvgPool': {
        const x = this.nchw(this.arg(node));
        const y = b.op('GlobalAveragePool', [x.name]);
        if (node.attrs.keepDims) return { name: y, dims, nchw: true };
        return { name: b.op('Flatten', [y], { axis: int(1) }), dims, nchw: false };
      }
      case 'concat': {
        const xs = node.inputs.map((_, k) => this.arg(node, k));
        const image = dims.length === 3;
        const vs = xs.map((v) => (image ? this.nchw(v) : this.ir(v)));
        if (vs.length === 1) return vs[0];
        const axis = image ? NHWC_AXIS_IN_NCHW[node.attrs.axis] : node.attrs.axis;
        return { name: b.op('Concat', vs.map((v) => v.name), { axis: int(axis) }), dims, nchw: image };
      }
      case 'add': {
        const image = dims.length === 3;
        const vs = node.inputs.map((_, k) => (image ? this.nchw(this.arg(node, k)) : this.ir(this.arg(node, k))));
        let y = vs.length === 1 ? vs[0].name : vs.length === 2 ? b.op('Add', [vs[0].name, vs[1].name]) : b.op('Sum', vs.map((v) => v.name));
        const c = node.attrs.constant;
        if (c) y = b.op('Add', [y, this.broadcastConst(c, image)]);
        else if (vs.length === 1) y = b.op('Identity', [y]);
        return { name: y, dims, nchw: image };
      }
      case 'flatten': {
        const x = this.ir(this.arg(node));
        return { name: b.op('Flatten', [x.name], { axis: int(1) }), dims, nchw: false };
      }
      case 'reshape': {
        const x = this.ir(this.arg(node));
        return { name: b.op('Reshape', [x.name, b.int64([0, ...dims])]), dims, nchw: false };
      }
      case 'transpose': {
        const x = this.ir(this.arg(node));
        return { name: b.op('Transpose', [x.name], { perm: ints(node.attrs.perm) }), dims, nchw: false };
      }
      case 'lstm':
        return { name: this.lstm(node, this.ir(this.arg(node))), dims, nchw: false };
      case 'softmax': {
        const x = this.arg(node);
        const axis = x.nchw ? NHWC_AXIS_IN_NCHW[node.attrs.axis] : node.attrs.axis;
        return { name: b.op('Softmax', [x.name], { axis: int(axis) }), dims, nchw: x.nchw };
      }
      case 'matmul': {
        const a = this.ir(this.arg(node, 0));
        const c = this.ir(this.arg(node, 1));
        return { name: b.op('MatMul', [a.name, c.name]), dims, nchw: false };
      }
      case 'noise': {
        const x = this.arg(node);
        const m = this.mode;
        if (m.kind !== 'signal' || !m.noiseNodes) return x;
        const v = dims.length === 3 ? this.nchw(x) : x;
        const perSampleDims = v.nchw ? [dims[2], dims[0], dims[1]] : dims;
        return { name: this.signalNoise(v.name, m.noise, [[node.name]], perSampleDims), dims, nchw: v.nchw };
      }
      case 'identity':
        return this.arg(node);
      case 'gru':
        return { name: this.gru(node, this.ir(this.arg(node))), dims, nchw: false };
      case 'layerNorm': {
        const x = this.ir(this.arg(node));
        const { axis, gamma, beta, epsilon } = node.attrs;
        const inputs = [x.name, b.constant(gamma.data, gamma.shape)];
        if (beta) inputs.push(b.constant(beta.data, beta.shape));
        return { name: b.op('LayerNormalization', inputs, { axis: int(axis), epsilon: float(epsilon) }), dims, nchw: false };
      }
      case 'mul':
      case 'sub':
      case 'div': {
        const op = node.op === 'mul' ? 'Mul' : node.op === 'sub' ? 'Sub' : 'Div';
        const image = dims.length === 3;
        const vs = node.inputs.map((_, k) => (image ? this.nchw(this.arg(node, k)) : this.ir(this.arg(node, k))));
        const c = node.attrs.constant;
        let operands = vs.map((v) => v.name);
        if (c) operands = node.attrs.constantFirst ? [this.broadcastConst(c, image), operands[0]] : [operands[0], this.broadcastConst(c, image)];
        return { name: b.op(op, operands), dims, nchw: image };
      }
      case 'pow':
      case 'sqrt':
      case 'erf':
      case 'clip':
      case 'gelu':
      case 'hardSigmoid': {
        const x = this.arg(node);
        return { name: this.unary(node, x.name), dims, nchw: x.nchw };
      }
      case 'reduce': {
        const x = this.ir(this.arg(node));
        const { kind, axes, keepDims } = node.attrs;
        const attrs = { keepdims: int(keepDims ? 1 : 0) };
        // At the emitted opset ReduceSum takes its axes as an input, the others as an attribute.
        const y =
          kind === 'sum'
            ? b.op('ReduceSum', [x.name, b.int64(axes)], attrs)
            : b.op(kind === 'mean' ? 'ReduceMean' : kind === 'max' ? 'ReduceMax' : 'ReduceMin', [x.name], { ...attrs, axes: ints(axes) });
        return { name: y, dims, nchw: false };
      }
      case 'slice': {
        const x = this.ir(this.arg(node));
        const { axis, start, end } = node.attrs;
        return { name: b.op('Slice', [x.name, b.int64([start]), b.int64([end]), b.int64([axis])]), dims, nchw: false };
      }
      case 'input':
        throw new Error('unreachable: inputs are bound before emission');
      case 'mvm':
      case 'im2col':
      case 'pad':
        // The engine lowers analog layers itself (per tile, with converters); it takes the unlowered graph.
        throw new ConfigError(`node ${node.name}`, `a ${node.op} node`, 'the unlowered graph (CompiledModel.graph): onnxruntime lowering takes dense/conv2d/lstm/gru nodes, not the lowerToMvm output');
      default: {
        const unknown: never = node;
        throw new UnsupportedOpError((unknown as Node).op, (unknown as Node).name, []);
      }
    }
  }

  /** An element-wise op that keeps its input's layout. */
  private unary(node: NodeOf<'pow'> | NodeOf<'sqrt'> | NodeOf<'erf'> | NodeOf<'clip'> | NodeOf<'gelu'> | NodeOf<'hardSigmoid'>, x: string): string {
    const b = this.b;
    switch (node.op) {
      case 'pow':
        return b.op('Pow', [x, b.scalar(node.attrs.exponent)]);
      case 'sqrt':
        return b.op('Sqrt', [x]);
      case 'erf':
        return b.op('Erf', [x]);
      case 'clip': {
        const { min, max } = node.attrs;
        return b.op('Clip', [x, min === undefined ? '' : b.scalar(min), max === undefined ? '' : b.scalar(max)]);
      }
      case 'hardSigmoid':
        return b.op('HardSigmoid', [x], { alpha: float(node.attrs.alpha), beta: float(node.attrs.beta) });
      case 'gelu': {
        // As the tfjs kernel: x · (1 + inner) · 0.5.
        const inner =
          node.attrs.approximate === 'tanh'
            ? b.op('Tanh', [b.op('Mul', [b.op('Add', [x, b.op('Mul', [b.op('Mul', [b.op('Mul', [x, x]), x]), b.scalar(0.044715)])]), b.scalar(Math.sqrt(2 / Math.PI))])])
            : b.op('Erf', [b.op('Mul', [x, b.scalar(Math.SQRT1_2)])]);
        return b.op('Mul', [b.op('Mul', [x, b.op('Add', [inner, b.scalar(1)])]), b.scalar(0.5)]);
      }
      default: {
        const unknown: never = node;
        throw new UnsupportedOpError((unknown as Node).op, (unknown as Node).name, []);
      }
    }
  }

  /** A recurrent layer's gate activation, as the tfjs kernel's. */
  private gate(z: string, kind: GateActivation | undefined): string {
    return kind === 'hardSigmoid' ? this.b.op('HardSigmoid', [z], { alpha: float(0.2), beta: float(0.5) }) : this.b.op('Sigmoid', [z]);
  }

  /** A NumPy-broadcast constant (trailing IR axes) against a value of per-sample rank 3 (NCHW) or its IR layout. */
  private broadcastConst(c: ConstTensor, image: boolean): string {
    if (!image) return this.b.constant(c.data, c.shape);
    const full = [...new Array(4 - c.shape.length).fill(1), ...c.shape];
    const p = permuteConst(c.data, full, NHWC_TO_NCHW);
    return this.b.constant(p.data, p.shape);
  }

  // ── analog nodes ────────────────────────────────────────────────────────

  /** One MVM site of a dense, lstm or gru node: `x` [N, …, fanIn] in the IR's layout → [N, …, fanOut]. */
  private mvm(node: AnalogNode, group: number, x: string, yDims: readonly number[], step: number): string {
    const b = this.b;
    const m = this.mode;
    if (m.kind === 'chip') return this.deviceMvm(m.layers.get(node.name)![group], x, yDims, [node.name, group, step], node.name);
    const w = mvmMatrix(node, group);
    const y = b.op('MatMul', [x, b.constant(w.data, w.shape, `${node.name}_w`)]);
    if (m.kind === 'signal' && m.noisyMvm(node)) return this.signalNoise(y, m.noise, [[node.name, group, step]], yDims);
    return y;
  }

  private conv(node: NodeOf<'conv2d'>, x: Value, dims: readonly number[]): string {
    const b = this.b;
    const { kernel, strides, dilations, padding, groups, bias } = node.attrs;
    const [kh, kw, cInG, cOut] = kernel.shape;
    const [h, w] = x.dims;
    const [oh, ow, oc] = dims;
    const [pt, pb, pl, pr] = explicitPadding(padding, h, w, [kh, kw], strides, dilations);
    const geom = { kh, kw, strides, dilations, pads: [pt, pl, pb, pr] as const, oh, ow };
    const m = this.mode;
    let y: string;
    if (m.kind === 'chip') {
      const layers = m.layers.get(node.name)!;
      const parts = layers.map((layer, g) => {
        const xg = groups === 1 ? x.name : b.op('Slice', [x.name, b.int64([g * cInG]), b.int64([(g + 1) * cInG]), b.int64([1])]);
        return this.deviceConv(layer, xg, cInG, geom, [node.name, g, 0], node.name);
      });
      y = parts.length === 1 ? parts[0] : b.op('Concat', parts, { axis: int(1) });
    } else {
      // OIHW from the IR's HWIO kernel.
      const wOihw = permuteConst(kernel.data, kernel.shape, [3, 2, 0, 1]);
      const attrs = {
        kernel_shape: ints([kh, kw]),
        strides: ints(strides),
        dilations: ints(dilations),
        pads: ints(geom.pads),
        group: int(groups),
      };
      const noisy = m.kind === 'signal' && m.noisyMvm(node);
      const wName = b.constant(wOihw.data, wOihw.shape, `${node.name}_w`);
      if (!noisy && bias) return b.op('Conv', [x.name, wName, b.constant(bias.data, [cOut])], attrs);
      y = b.op('Conv', [x.name, wName], attrs);
      if (noisy) {
        const sites = Array.from({ length: groups }, (_, g) => [node.name, g, 0]);
        y = this.signalNoise(y, m.noise, sites, [oc, oh, ow]);
      }
    }
    if (bias) y = b.op('Add', [y, this.channelConst(bias.data, true)]);
    return y;
  }

  /** Zeros `[N, units]`: a recurrent layer's initial state. */
  private zeroState(x: Value, units: number): string {
    const b = this.b;
    const batch = b.op('Slice', [b.op('Shape', [x.name]), b.int64([0]), b.int64([1])]);
    return b.op('ConstantOfShape', [b.op('Concat', [batch, b.int64([units])], { axis: int(0) })]);
  }

  private lstm(node: NodeOf<'lstm'>, x: Value): string {
    const b = this.b;
    const { units, bias, returnSequences, reverse, recurrentActivation } = node.attrs;
    const steps = x.dims[0];
    const zeros = this.zeroState(x, units);
    const biasName = b.constant(bias.data, [4 * units], `${node.name}_b`);
    const split = b.int64([units, units, units, units]);
    let h = zeros;
    let c = zeros;
    const hs: string[] = new Array<string>(steps);
    for (let k = 0; k < steps; k++) {
      const t = reverse ? steps - 1 - k : k;
      const xt = b.op('Gather', [x.name, b.int64Scalar(t)], { axis: int(1) });
      const v = b.op('Concat', [xt, h], { axis: int(1) });
      const z = b.op('Add', [this.mvm(node, 0, v, [4 * units], k), biasName]);
      const [zi, zf, zc, zo] = b.opMulti('Split', [z, split], 4, { axis: int(1) });
      const gate = (g: string) => this.gate(g, recurrentActivation);
      c = b.op('Add', [b.op('Mul', [gate(zf), c]), b.op('Mul', [gate(zi), b.op('Tanh', [zc])])]);
      h = b.op('Mul', [gate(zo), b.op('Tanh', [c])]);
      if (returnSequences) hs[t] = b.op('Unsqueeze', [h, b.int64([1])]);
    }
    return returnSequences ? b.op('Concat', hs, { axis: int(1) }) : b.op('Identity', [h]);
  }

  /** A GRU unrolled over its steps, with the three MVMs of `GruAttrs` per step (as the tfjs kernel). */
  private gru(node: NodeOf<'gru'>, x: Value): string {
    const b = this.b;
    const { units, bias, recurrentBias, resetAfter, returnSequences, reverse, recurrentActivation } = node.attrs;
    const steps = x.dims[0];
    const biasZr = b.constant(bias.data.slice(0, 2 * units), [2 * units], `${node.name}_bzr`);
    const biasN = b.constant(bias.data.slice(2 * units), [units], `${node.name}_bn`);
    const rb = recurrentBias ? b.constant(recurrentBias.data, [units], `${node.name}_rbn`) : undefined;
    const split = b.int64([units, units]);
    let h = this.zeroState(x, units);
    const hs: string[] = new Array<string>(steps);
    for (let k = 0; k < steps; k++) {
      const t = reverse ? steps - 1 - k : k;
      const xt = b.op('Gather', [x.name, b.int64Scalar(t)], { axis: int(1) });
      const zrIn = b.op('Concat', [xt, h], { axis: int(1) });
      const zr = this.gate(b.op('Add', [this.mvm(node, 0, zrIn, [2 * units], k), biasZr]), recurrentActivation);
      const [z, r] = b.opMulti('Split', [zr, split], 2, { axis: int(1) });
      const xn = b.op('Add', [this.mvm(node, 1, xt, [units], k), biasN]);
      let hn: string;
      if (resetAfter) {
        const rh = this.mvm(node, 2, h, [units], k);
        hn = b.op('Mul', [r, rb ? b.op('Add', [rh, rb]) : rh]);
      } else {
        hn = this.mvm(node, 2, b.op('Mul', [r, h]), [units], k);
      }
      const cand = b.op('Tanh', [b.op('Add', [xn, hn])]);
      h = b.op('Add', [cand, b.op('Mul', [z, b.op('Sub', [h, cand])])]);
      if (returnSequences) hs[t] = b.op('Unsqueeze', [h, b.int64([1])]);
    }
    return returnSequences ? b.op('Concat', hs, { axis: int(1) }) : b.op('Identity', [h]);
  }

  // ── the chip ────────────────────────────────────────────────────────────

  /**
   * DAC on `x` (elementwise or per vector along `axis`): the voltages `v` the array
   * sees, the digital rescale, and `gain`, what `v` is in normalised volts: a
   * quantising DAC hands out its integer codes (gain 1/L, which the conductance
   * kernels carry), so the conversion is one Mul, Clip and Round on the input. In
   * stats mode with a fixed range, also the 0/1 map of the inputs it clips.
   */
  private dac(layer: ProgrammedLayer, x: string, axis: number, quantize = true): { v: string; scale: () => string; clippedMap: string; gain: number } {
    const b = this.b;
    const { dac } = layer;
    const levels = dac.bits !== null && quantize ? signedLevels(dac.bits) : 0;
    let clippedMap = '';
    if (dac.range.kind === 'perInputAbsMax') {
      const m = b.op('ReduceMax', [b.op('Abs', [x])], { axes: ints([axis]), keepdims: int(1) });
      const perInput = b.op('Where', [b.op('Equal', [m, b.scalar(0)]), b.scalar(1), m]);
      const u = b.op('Div', [x, perInput]);
      const scale = () => perInput;
      return levels ? { v: b.op('Round', [b.op('Mul', [u, b.scalar(levels)])]), scale, clippedMap, gain: 1 / levels } : { v: u, scale, clippedMap, gain: 1 };
    }
    if (dac.range.kind !== 'fixed') throw new ConfigError('dac.range', dac.range.kind, 'a calibrated DAC range: the layer was not calibrated');
    const m = dac.range.maxAbs;
    // Made only where used: a folded output gain leaves it out of the graph.
    const scale = () => b.scalar(m);
    if (!levels) {
      const u = b.op('Div', [x, scale()]);
      if (this.counting) clippedMap = this.beyond(u, 1);
      return { v: b.op('Clip', [u, b.scalar(-1), b.scalar(1)]), scale, clippedMap, gain: 1 };
    }
    // round(clip(x/m, ±1)·L) = round(clip(x·L/m, ±L)).
    const q = b.op('Mul', [x, b.scalar(levels / m)]);
    if (this.counting) clippedMap = this.beyond(q, levels);
    return { v: b.op('Round', [b.op('Clip', [q, b.scalar(-levels), b.scalar(levels)])]), scale, clippedMap, gain: 1 / levels };
  }

  /**
   * The gain each band's ADC step multiplies its codes by besides current per code:
   * the constant DAC scale times the layer's output gain, per column, so the layer
   * needs no Mul after its bands are summed. Null (the caller multiplies after the
   * sum) without an ADC, with a per-input DAC range or a bit-serial input.
   */
  private foldedOutputGain(layer: ProgrammedLayer, serial: boolean): Float32Array | null {
    const range = layer.dac.range;
    if (serial || layer.chip.adc.bits === null || range.kind !== 'fixed') return null;
    return layer.outputScale.map((o) => o * range.maxAbs);
  }

  /**
   * A row band's conductances as one lowered product uses them, made once per band:
   * scaled by the DAC's `gain` (squared for variances) and, with an ADC, by its codes
   * per unit current, so the product comes out in ADC codes.
   */
  private bandArray(rb: RowBlock, key: string, make: () => Float32Array): Float32Array {
    let m = this.bandArrays.get(rb);
    if (!m) this.bandArrays.set(rb, (m = new Map()));
    let a = m.get(key);
    if (!a) m.set(key, (a = make()));
    return a;
  }

  /**
   * One row band's converted current. `product(g, squared, cols)` applies a
   * `[rows × cols]` array to the band's voltages (`squared`: to their squares); `gain`
   * is what the voltages are in normalised volts (see {@link dac}); per-column vectors
   * are shaped by `col`. With an ADC the products come out in its codes (its codes per
   * unit current folded into the conductances), the noise is added in codes, and the
   * codes are clipped, rounded and multiplied by `outGain` (current per code times
   * the layer's digital output gain, when the caller folds that in; else current
   * per code). A read variance that is the same along each row (`gSqRow`) with one
   * ADC scale across the band is evaluated on one output channel and broadcast.
   */
  private bandCurrent(
    layer: ProgrammedLayer,
    rb: RowBlock,
    product: (g: Float32Array, squared: boolean, cols: number) => string,
    col: (a: Float32Array) => string,
    site: (string | number)[],
    noiseDims: readonly number[],
    gain: number,
    outGain: Float32Array | null,
    adcClipped?: string[],
    rowSquares?: () => string,
  ): string {
    const b = this.b;
    const { fanOut } = layer;
    const d = layer.chip.device;
    const adcBits = layer.chip.adc.bits;
    const levels = adcBits === null ? 0 : signedLevels(adcBits);
    // Codes per unit current per column (1 without an ADC).
    const cpu = levels ? rb.adcCodesPerUnit : null;
    const k = (j: number) => (cpu ? cpu[j] : 1);
    const g = this.bandArray(rb, `g:${gain}`, () => rb.gDiff.map((v, i) => v * gain * k(i % fanOut)));
    let current = product(g, false, fanOut);
    if (rb.gSq || d.senseNoiseRelStd > 0) {
      const eps = this.noiseInput([site], prod(noiseDims), noiseDims, 1);
      const g2 = gain * gain;
      const senseCodes = this.bandArray(rb, 'sense', () => rb.senseVarianceN.map((v, j) => v * k(j) * k(j)));
      let sd: string;
      if (!rb.gSq) {
        sd = col(senseCodes.map((v) => Math.sqrt(v)));
      } else if (rb.gSqRow && uniform(senseCodes) && (!cpu || uniform(cpu))) {
        const k0 = k(0);
        const row = this.bandArray(rb, `row:${gain}`, () => rb.gSqRow!.map((v) => v * g2 * k0 * k0));
        // The same variance on every row: its Σ V² (cheaper than a one-column product) times that variance.
        const variance = rowSquares && uniform(row) ? b.op('Mul', [rowSquares(), b.scalar(row[0])]) : product(row, true, 1);
        sd = b.op('Sqrt', [b.op('Add', [variance, b.scalar(senseCodes[0])])]);
      } else if (rb.gSqRow) {
        const row = this.bandArray(rb, `row:${gain}:units`, () => rb.gSqRow!.map((v) => v * g2));
        const cpu2 = this.bandArray(rb, 'cpu2', () => Float32Array.from({ length: fanOut }, (_, j) => k(j) * k(j)));
        sd = b.op('Sqrt', [b.op('Add', [b.op('Mul', [product(row, true, 1), col(cpu2)]), col(senseCodes)])]);
      } else {
        const sq = this.bandArray(rb, `sq:${gain}`, () => rb.gSq!.map((v, i) => v * g2 * k(i % fanOut) * k(i % fanOut)));
        sd = b.op('Sqrt', [b.op('Add', [product(sq, true, fanOut), col(senseCodes)])]);
      }
      current = b.op('Add', [current, b.op('Mul', [sd, eps])]);
    }
    if (levels) {
      if (adcClipped) adcClipped.push(this.total(this.beyond(current, levels + 0.5)));
      const perCode = outGain ? this.bandArray(rb, 'perCode:out', () => rb.adcUnitsPerCode.map((v, j) => v * outGain[j])) : rb.adcUnitsPerCode;
      current = b.op('Mul', [b.op('Round', [b.op('Clip', [current, b.scalar(-levels), b.scalar(levels)])]), col(perCode)]);
    }
    return current;
  }

  private sumBands(parts: string[]): string {
    let acc = parts[0];
    for (let k = 1; k < parts.length; k++) acc = this.b.op('Add', [acc, parts[k]]);
    return acc;
  }

  /**
   * Sign-magnitude bit planes of a bit-serial input: `magnitude` holds integer codes
   * c ≥ 0, `sign` ±1; plane t = sign·bit_t(c) = sign·(⌊c/2^t⌋ − 2⌊c/2^{t+1}⌋), exact in float32.
   */
  private planesOf(magnitude: string, sign: string, count: number): string[] {
    const b = this.b;
    const floorDiv = (p: number) => (p === 1 ? magnitude : b.op('Floor', [b.op('Div', [magnitude, b.scalar(p)])]));
    return Array.from({ length: count }, (_, t) => {
      const bit = b.op('Sub', [floorDiv(2 ** t), b.op('Mul', [floorDiv(2 ** (t + 1)), b.scalar(2)])]);
      return b.op('Mul', [sign, bit]);
    });
  }

  /** The bit planes of normalised voltages `v` ∈ [−1, 1] as a `bits`-bit bit-serial input (as analogMvm's `bitPlanes`). */
  private bitPlanes(v: string, bits: number): string[] {
    const b = this.b;
    const magnitude = b.op('Round', [b.op('Mul', [b.op('Abs', [v]), b.scalar(bitSerialLevels(bits))])]);
    return this.planesOf(magnitude, b.op('Sign', [v]), bits - 1);
  }

  /**
   * The read-noise form every row band of a dense layer shares, when it has more
   * than one band and they all share one (what {@link stackedBands} needs); else null.
   */
  private stackable(layer: ProgrammedLayer): 'none' | 'row' | 'full' | null {
    const bands = layer.rowBlocks;
    if (bands.length < 2) return null;
    const form = (rb: RowBlock) => (!rb.gSq ? 'none' : rb.gSqRow ? 'row' : 'full');
    const variance = form(bands[0]);
    return bands.every((rb) => form(rb) === variance) ? variance : null;
  }

  /**
   * A dense layer's row bands with their noise, ADC and sum run once on a stacked
   * [N, bands, fanOut] tensor: each band's product is its own MatMul on a 2-D
   * constant (which onnxruntime prepacks; a batched [bands, rows, fanOut] one it
   * repacks every call, 2× slower on CNN-6's 3136-input dense), the products are
   * concatenated, and the read variances Σ V²·σ² of row-uniform bands come from one
   * MatMul of V² on a [fanIn, bands] matrix. The same converted currents as
   * {@link bandCurrent} band by band, with one noise input holding every band's
   * site (the same draws): ~30 graph nodes where CNN-6's 13 bands took ~100.
   */
  private stackedBands(
    layer: ProgrammedLayer,
    variance: 'none' | 'row' | 'full',
    v: string,
    key: (string | number)[],
    gain: number,
    outGain: Float32Array | null,
  ): string {
    const b = this.b;
    const { fanOut, fanIn } = layer;
    const bands = layer.rowBlocks;
    const n = bands.length;
    const d = layer.chip.device;
    const adcBits = layer.chip.adc.bits;
    const levels = adcBits === null ? 0 : signedLevels(adcBits);
    const k = (rb: RowBlock, j: number) => (levels ? rb.adcCodesPerUnit[j] : 1);
    /** A per band, per column constant [bands, fanOut]. */
    const perColumn = (value: (rb: RowBlock, j: number) => number) => {
      const data = new Float32Array(n * fanOut);
      bands.forEach((rb, a) => {
        for (let j = 0; j < fanOut; j++) data[a * fanOut + j] = value(rb, j);
      });
      return b.constant(data, [n, fanOut]);
    };
    const cut = (u: string, rb: RowBlock) => b.op('Slice', [u, b.int64([rb.row0]), b.int64([rb.row0 + rb.rows]), b.int64([-1])]);
    /** Per band, `u`'s band rows times `array(rb)` [rows × fanOut], stacked to [N, bands, fanOut]. */
    const stacked = (u: string, array: (rb: RowBlock) => Float32Array) =>
      b.op('Reshape', [b.op('Concat', bands.map((rb) => b.op('MatMul', [cut(u, rb), b.constant(array(rb), [rb.rows, fanOut])])), { axis: int(1) }), b.int64([0, n, fanOut])]);
    let current = stacked(v, (rb) => this.bandArray(rb, `g:${gain}`, () => rb.gDiff.map((q, i) => q * gain * k(rb, i % fanOut))));
    if (variance !== 'none' || d.senseNoiseRelStd > 0) {
      const eps = this.noiseInput(bands.map((_, a) => [...key, a]), fanOut, [n, fanOut], 1);
      const g2 = gain * gain;
      /** The sensing variance in codes² (units² without an ADC). */
      const sense = (rb: RowBlock, j: number) => rb.senseVarianceN[j] * k(rb, j) * k(rb, j);
      let sd: string;
      if (variance === 'none') {
        sd = perColumn((rb, j) => Math.sqrt(sense(rb, j)));
      } else {
        const vSq = b.op('Mul', [v, v]);
        let readVariance: string;
        if (variance === 'row') {
          // Σ over each band's rows of V²·σ²_row: one [fanIn, bands] matrix, then codes² per column.
          const m = new Float32Array(fanIn * n);
          bands.forEach((rb, a) => rb.gSqRow!.forEach((q, r) => (m[(rb.row0 + r) * n + a] = q * g2)));
          const perBand = b.op('Reshape', [b.op('MatMul', [vSq, b.constant(m, [fanIn, n])]), b.int64([0, n, 1])]);
          readVariance = b.op('Mul', [perBand, perColumn((rb, j) => k(rb, j) * k(rb, j))]);
        } else {
          readVariance = stacked(vSq, (rb) => this.bandArray(rb, `sq:${gain}`, () => rb.gSq!.map((q, i) => q * g2 * k(rb, i % fanOut) * k(rb, i % fanOut))));
        }
        sd = b.op('Sqrt', [b.op('Add', [readVariance, perColumn(sense)])]);
      }
      current = b.op('Add', [current, b.op('Mul', [sd, eps])]);
    }
    if (levels) {
      const perCode = perColumn((rb, j) => rb.adcUnitsPerCode[j] * (outGain ? outGain[j] : 1));
      current = b.op('Mul', [b.op('Round', [b.op('Clip', [current, b.scalar(-levels), b.scalar(levels)])]), perCode]);
    }
    return b.op('ReduceSum', [current, b.int64([1])], { keepdims: int(0) });
  }

  /** A programmed dense MVM: `x` [N, …, fanIn] (IR layout) → [N, …, fanOut]. */
  private deviceMvm(
    layer: ProgrammedLayer,
    x: string,
    yDims: readonly number[],
    key: (string | number)[],
    node: string,
    slice: { readonly index: number; readonly count: number } = { index: 0, count: 1 },
  ): string {
    const b = this.b;
    const slices = layer.slices;
    if (slices) {
      // Each slice reads its own cells with its own noise (as analogMvm: rng.fold('slice').fold(s));
      // its digital gain carries its shift, so the layer's output is the sum of the slices'.
      return this.sumBands(slices.map((sl, s) => this.deviceMvm(sl, x, yDims, [...key, 'slice', s], node, { index: s, count: slices.length })));
    }
    const { fanOut } = layer;
    const counting = this.counting;
    const encoding = inputEncodingOf(layer.chip);
    const serial = encoding.kind === 'bitSerial';
    const { v, scale, clippedMap, gain } = this.dac(layer, x, -1, !serial);
    const planes = encoding.kind === 'bitSerial' ? this.bitPlanes(v, encoding.bits) : [v];
    const outGain = this.foldedOutputGain(layer, serial);
    const needSq = counting || layer.rowBlocks.some((rb) => rb.gSq);
    const adcClipped: string[] = [];
    const energyUnits: string[] = [];
    const nonZero: string[] = [];
    const stacked = !counting && yDims.length === 1 ? this.stackable(layer) : null;
    const cycles = planes.map((p, t) => {
      // Each DAC cycle draws its own noise (as analogMvm: rng.fold('cycle').fold(t)).
      const cycleKey = serial ? [...key, 'cycle', t] : key;
      if (stacked) {
        const sum = this.stackedBands(layer, stacked, p, cycleKey, gain, outGain);
        return encoding.kind === 'bitSerial' ? b.op('Mul', [sum, b.scalar(2 ** t / bitSerialLevels(encoding.bits))]) : sum;
      }
      const vSq = needSq ? b.op('Mul', [p, p]) : '';
      const parts = layer.rowBlocks.map((rb, a) => {
        const single = layer.rowBlocks.length === 1;
        const cut = (u: string) => (single ? u : b.op('Slice', [u, b.int64([rb.row0]), b.int64([rb.row0 + rb.rows]), b.int64([-1])]));
        const va = cut(p);
        const vaSq = vSq ? cut(vSq) : '';
        if (counting) {
          // Σ (V/V_read)² · ΣG over the band's word lines.
          const rowG = layer.rowConductanceMicroSiemens.subarray(rb.row0, rb.row0 + rb.rows).map((g) => g * gain * gain);
          energyUnits.push(this.total(b.op('MatMul', [vaSq, b.constant(rowG, [rb.rows, 1])])));
        }
        return this.bandCurrent(
          layer,
          rb,
          (g, squared, cols) => b.op('MatMul', [squared ? vaSq : va, b.constant(g, [rb.rows, cols])]),
          (c) => b.constant(c, [fanOut]),
          [...cycleKey, a],
          yDims,
          gain,
          outGain,
          counting ? adcClipped : undefined,
        );
      });
      if (counting) nonZero.push(this.total(this.beyond(p, 0)));
      const sum = this.sumBands(parts);
      // Shift-add: plane t weighs 2^t / (2^{n−1} − 1).
      return encoding.kind === 'bitSerial' ? b.op('Mul', [sum, b.scalar(2 ** t / bitSerialLevels(encoding.bits))]) : sum;
    });
    if (counting) {
      this.recordStats(node, layer, prod(yDims) / fanOut, {
        energyUnits,
        // The slices share the input: its clipping is counted once.
        dacClipped: clippedMap && slice.index === 0 ? this.total(clippedMap) : '',
        adcClipped,
        nonZero: nonZero.length === 1 ? nonZero[0] : b.op('Sum', nonZero),
      }, slice);
    }
    if (outGain) return this.sumBands(cycles);
    return b.op('Mul', [b.op('Mul', [this.sumBands(cycles), scale()]), b.constant(layer.outputScale, [fanOut])]);
  }

  /**
   * Σ v² over each row band's rows at every output position of a convolution, from
   * `vSq` [N, cIn, H, W] (the squared DAC output): `[N, bands, oh, ow]`, channel a for
   * band a. Each band's rows are whole channels plus at most a partial first and last
   * one, so a 1×1 Conv reduces `vSq` to those channel sums (one output per distinct
   * set), and one small Conv sums each band's window positions over them. It replaces
   * a one-output Conv over each band's channels, which onnxruntime pads to a block of
   * 16 outputs: half the band's own product on the zoo CNN-6.
   */
  private bandRowSquares(
    vSq: string,
    layer: ProgrammedLayer,
    cIn: number,
    geom: { kh: number; kw: number; strides: readonly [number, number]; dilations: readonly [number, number]; pads: readonly [number, number, number, number] },
  ): string {
    const b = this.b;
    const { kh, kw } = geom;
    const khw = kh * kw;
    /** The channel ranges [c0, c1) the 1×1 Conv sums, one output each. */
    const sets: Array<readonly [number, number]> = [];
    const setOf = (c0: number, c1: number) => {
      const i = sets.findIndex(([a, z]) => a === c0 && z === c1);
      return i >= 0 ? i : sets.push([c0, c1]) - 1;
    };
    /** Per band: (channel set, window positions [p0, p1) it counts). */
    const terms = layer.rowBlocks.map((rb) => {
      const end = rb.row0 + rb.rows;
      const fullFirst = Math.ceil(rb.row0 / khw);
      const fullEnd = Math.floor(end / khw);
      const t: Array<{ set: number; p0: number; p1: number }> = [];
      if (fullEnd > fullFirst) t.push({ set: setOf(fullFirst, fullEnd), p0: 0, p1: khw });
      const first = rb.row0 % khw !== 0 ? Math.floor(rb.row0 / khw) : -1;
      if (first >= 0) t.push({ set: setOf(first, first + 1), p0: rb.row0 % khw, p1: Math.min(khw, (rb.row0 % khw) + rb.rows) });
      // A band inside one channel is all in its first partial.
      if (end % khw !== 0 && fullEnd !== first) t.push({ set: setOf(fullEnd, fullEnd + 1), p0: 0, p1: end % khw });
      return t;
    });
    const k = sets.length;
    const reduce = new Float32Array(k * cIn);
    sets.forEach(([c0, c1], i) => reduce.fill(1, i * cIn + c0, i * cIn + c1));
    const sums = b.op('Conv', [vSq, b.constant(reduce, [k, cIn, 1, 1])]);
    const window = new Float32Array(terms.length * k * khw);
    terms.forEach((t, a) => {
      for (const q of t) window.fill(1, (a * k + q.set) * khw + q.p0, (a * k + q.set) * khw + q.p1);
    });
    const attrs = { kernel_shape: ints([kh, kw]), strides: ints(geom.strides), dilations: ints(geom.dilations), pads: ints(geom.pads) };
    return b.op('Conv', [sums, b.constant(window, [terms.length, k, kh, kw])], attrs);
  }

  /** A programmed convolution group: `x` [N, cIn, H, W] → [N, fanOut, oh, ow]. */
  private deviceConv(
    layer: ProgrammedLayer,
    x: string,
    cIn: number,
    geom: {
      kh: number;
      kw: number;
      strides: readonly [number, number];
      dilations: readonly [number, number];
      pads: readonly [number, number, number, number];
      oh: number;
      ow: number;
    },
    key: (string | number)[],
    node: string,
    slice: { readonly index: number; readonly count: number } = { index: 0, count: 1 },
  ): string {
    const b = this.b;
    const slices = layer.slices;
    if (slices) {
      // As deviceMvm: one programmed convolution per slice, summed.
      return this.sumBands(slices.map((sl, s) => this.deviceConv(sl, x, cIn, geom, [...key, 'slice', s], node, { index: s, count: slices.length })));
    }
    const { fanOut } = layer;
    const { kh, kw, strides, dilations, pads, oh, ow } = geom;
    const khw = kh * kw;
    const col = (c: Float32Array) => b.constant(c, [fanOut, 1, 1]);
    const noiseDims = [fanOut, oh, ow];
    const counting = this.counting;
    const needSq = counting || layer.rowBlocks.some((rb) => rb.gSq);
    const encoding = inputEncodingOf(layer.chip);
    const serial = encoding.kind === 'bitSerial';
    const planeCount = encoding.kind === 'bitSerial' ? encoding.bits - 1 : 1;
    // Each DAC cycle draws its own noise (as analogMvm: rng.fold('cycle').fold(t)).
    const cycleKey = (t: number) => (serial ? [...key, 'cycle', t] : key);
    const adcClipped: string[] = [];
    const energyUnits: string[] = [];
    const nonZeroParts: string[] = [];
    let dacClipped = '';
    /** Per row band, per DAC cycle: the band's converted current. */
    let currents: string[][];
    let scale: () => string;
    /** What the band convolutions' inputs are in normalised volts (see `dac`). */
    let gain = 1;
    const outGain = this.foldedOutputGain(layer, serial);
    if (layer.dac.range.kind === 'fixed') {
      // Elementwise DAC on the image; each row band is a Conv over its input channels.
      const dac = this.dac(layer, x, 1, !serial);
      scale = dac.scale;
      gain = dac.gain;
      const planes = encoding.kind === 'bitSerial' ? this.bitPlanes(dac.v, encoding.bits) : [dac.v];
      const planesSq = needSq ? planes.map((p) => b.op('Mul', [p, p])) : [];
      /** Per DAC cycle, every band's Σ v² (see {@link bandRowSquares}), made when a band first needs it. */
      const rowSquares: string[] = [];
      const convAttrs = { kernel_shape: ints([kh, kw]), strides: ints(strides), dilations: ints(dilations), pads: ints(pads) };
      if (counting) {
        // Per patch element, as the tfjs engine counts on its im2col rows: a ones kernel over the window.
        const ones = b.constant(new Float32Array(cIn * khw).fill(1), [1, cIn, kh, kw]);
        if (dac.clippedMap && slice.index === 0) dacClipped = this.total(b.op('Conv', [dac.clippedMap, ones], convAttrs));
        for (const p of planes) nonZeroParts.push(this.total(b.op('Conv', [this.beyond(p, 0), ones], convAttrs)));
      }
      currents = layer.rowBlocks.map((rb, a) => {
        const [cFirst, nc] = bandChannels(Math.floor(rb.row0 / khw), Math.floor((rb.row0 + rb.rows - 1) / khw), cIn);
        const whole = cFirst === 0 && nc === cIn;
        const cut = (t: string) => (whole ? t : b.op('Slice', [t, b.int64([cFirst]), b.int64([cFirst + nc]), b.int64([1])]));
        const kernels = new Map<Float32Array, string>();
        const kernelOf = (g: Float32Array, cols: number) => {
          let name = kernels.get(g);
          if (name) return name;
          // Kernel rows outside the band (its partial first and last channels, the alignment's extra channels) stay zero.
          const k = new Float32Array(cols * nc * khw);
          for (let r = 0; r < rb.rows; r++) {
            const row = rb.row0 + r;
            const c = Math.floor(row / khw) - cFirst;
            const p = row % khw;
            for (let o = 0; o < cols; o++) k[(o * nc + c) * khw + p] = g[r * cols + o];
          }
          name = b.constant(k, [cols, nc, kh, kw]);
          kernels.set(g, name);
          return name;
        };
        let rowGConst = '';
        if (counting) {
          const rowG = new Float32Array(nc * khw);
          for (let r = 0; r < rb.rows; r++) {
            const row = rb.row0 + r;
            rowG[(Math.floor(row / khw) - cFirst) * khw + (row % khw)] = layer.rowConductanceMicroSiemens[row] * gain * gain;
          }
          rowGConst = b.constant(rowG, [1, nc, kh, kw]);
        }
        return planes.map((p, t) => {
          const va = cut(p);
          const vaSq = needSq ? cut(planesSq[t]) : '';
          if (counting) energyUnits.push(this.total(b.op('Conv', [vaSq, rowGConst], convAttrs)));
          return this.bandCurrent(
            layer,
            rb,
            (g, sq, cols) => b.op('Conv', [sq ? vaSq : va, kernelOf(g, cols)], convAttrs),
            col,
            [...cycleKey(t), a],
            noiseDims,
            gain,
            outGain,
            counting ? adcClipped : undefined,
            () => {
              const all = (rowSquares[t] ??= this.bandRowSquares(planesSq[t], layer, cIn, geom));
              return layer.rowBlocks.length === 1 ? all : b.op('Slice', [all, b.int64([a]), b.int64([a + 1]), b.int64([1])]);
            },
          );
        });
      });
    } else {
      // Per-patch DAC range: each patch's scale is the max |x| over its window (a
      // MaxPool of the per-pixel channel max), and each row band's patches are built
      // by a depthwise one-hot Conv over the band's input channels (channel-major rows).
      const windowAttrs = { kernel_shape: ints([kh, kw]), strides: ints(strides), dilations: ints(dilations), pads: ints(pads) };
      const pixelMax = b.op('ReduceMax', [b.op('Abs', [x])], { axes: ints([1]), keepdims: int(1) });
      const m = b.op('MaxPool', [pixelMax], windowAttrs);
      const patchScale = b.op('Where', [b.op('Equal', [m, b.scalar(0)]), b.scalar(1), m]);
      scale = () => patchScale;
      const bits = layer.dac.bits;
      currents = layer.rowBlocks.map((rb, a) => {
        const cFirst = Math.floor(rb.row0 / khw);
        const cLast = Math.floor((rb.row0 + rb.rows - 1) / khw);
        const nc = cLast - cFirst + 1;
        const xs = cFirst === 0 && nc === cIn ? x : b.op('Slice', [x, b.int64([cFirst]), b.int64([cLast + 1]), b.int64([1])]);
        const onehot = new Float32Array(nc * khw * khw);
        for (let c = 0; c < nc; c++) for (let p = 0; p < khw; p++) onehot[(c * khw + p) * khw + p] = 1;
        const patches = b.op('Conv', [xs, b.constant(onehot, [nc * khw, 1, kh, kw])], { ...windowAttrs, group: int(nc) });
        // The patches are 9× the image, so the DAC does one Mul and one Round on them: the
        // codes round(x·L/m) are applied as integers and 1/L goes into the kernels. A
        // bit-serial input's planes are ±1/0 voltages already (gain 1).
        let levels: number;
        let vs: string[];
        if (encoding.kind === 'bitSerial') {
          levels = 1;
          const magnitude = b.op('Round', [b.op('Mul', [b.op('Abs', [patches]), b.op('Div', [b.scalar(bitSerialLevels(encoding.bits)), patchScale])])]);
          vs = this.planesOf(magnitude, b.op('Sign', [patches]), planeCount);
        } else {
          levels = bits === null ? 1 : signedLevels(bits);
          vs = [bits === null ? b.op('Div', [patches, patchScale]) : b.op('Round', [b.op('Mul', [patches, b.op('Div', [b.scalar(levels), patchScale])])])];
        }
        const kernels = new Map<Float32Array, string>();
        const kernelOf = (g: Float32Array, squared: boolean, cols: number) => {
          if (!squared && kernels.has(g)) return kernels.get(g)!;
          // Rows of the channels' patches outside the band stay zero.
          const gain = squared ? 1 / (levels * levels) : 1 / levels;
          const k = new Float32Array(cols * nc * khw);
          for (let r = 0; r < rb.rows; r++) {
            const at = rb.row0 + r - cFirst * khw;
            for (let o = 0; o < cols; o++) k[o * nc * khw + at] = g[r * cols + o] * gain;
          }
          const name = b.constant(k, [cols, nc * khw, 1, 1]);
          if (!squared) kernels.set(g, name);
          return name;
        };
        let rowGConst = '';
        let inBandConst = '';
        if (counting) {
          // The band's rows only (the channels' patches outside it stay zero); v holds codes, so 1/L² on v².
          const rowG = new Float32Array(nc * khw);
          const inBand = new Float32Array(nc * khw);
          for (let r = 0; r < rb.rows; r++) {
            const at = rb.row0 + r - cFirst * khw;
            rowG[at] = layer.rowConductanceMicroSiemens[rb.row0 + r] / (levels * levels);
            inBand[at] = 1;
          }
          rowGConst = b.constant(rowG, [1, nc * khw, 1, 1]);
          inBandConst = b.constant(inBand, [1, nc * khw, 1, 1]);
        }
        return vs.map((v, t) => {
          const vSq = needSq ? b.op('Mul', [v, v]) : '';
          if (counting) {
            energyUnits.push(this.total(b.op('Conv', [vSq, rowGConst])));
            nonZeroParts.push(this.total(b.op('Conv', [this.beyond(v, 0), inBandConst])));
          }
          return this.bandCurrent(layer, rb, (g, sq, cols) => b.op('Conv', [sq ? vSq : v, kernelOf(g, sq, cols)]), col, [...cycleKey(t), a], noiseDims, 1, null, counting ? adcClipped : undefined);
        });
      });
    }
    if (counting) {
      this.recordStats(node, layer, oh * ow, {
        energyUnits,
        dacClipped,
        adcClipped,
        nonZero: nonZeroParts.length === 1 ? nonZeroParts[0] : b.op('Sum', nonZeroParts),
      }, slice);
    }
    // Row bands summed per cycle, then the cycles shift-added: plane t weighs 2^t / (2^{n−1} − 1).
    const cycles = Array.from({ length: planeCount }, (_, t) => {
      const sum = this.sumBands(currents.map((c) => c[t]));
      return encoding.kind === 'bitSerial' ? b.op('Mul', [sum, b.scalar(2 ** t / bitSerialLevels(encoding.bits))]) : sum;
    });
    if (outGain) return this.sumBands(cycles);
    return b.op('Mul', [b.op('Mul', [this.sumBands(cycles), scale()]), col(layer.outputScale)]);
  }
}

/**
 * Channel counts onnxruntime's fast (NCHWc) Conv takes: fewer than its block or a
 * multiple of it (8 with AVX2, 16 with AVX-512; `MlasNchwcGetBlockSize`). Any other
 * count falls back to im2col and GEMM, 13× slower per MAC on the zoo CNN-6's
 * 29-channel bands.
 */
export const BAND_CHANNEL_ALIGNMENT = 16;

/**
 * The input channels `[first, first + count)` a row band's Conv reads: the band's
 * channels `[cFirst, cLast]`, widened (its kernel is zero on the extra channels) to
 * a count onnxruntime's NCHWc Conv takes (see {@link BAND_CHANNEL_ALIGNMENT}) where
 * the image has that many, else as they are.
 */
export function bandChannels(cFirst: number, cLast: number, cIn: number): [number, number] {
  const q = BAND_CHANNEL_ALIGNMENT;
  const count = cLast - cFirst + 1;
  const wide = Math.ceil(count / q) * q;
  if (count < q || wide > cIn) return [cFirst, count];
  // Where the band starts, unless the image ends first.
  return [Math.min(cFirst, cIn - wide), wide];
}

/** Lower `graph` (verified, shapes inferred) for one kind of execution. */
export function lowerToOnnx(graph: Graph, mode: LoweringMode): LoweredModel {
  return new Lowering(graph, mode).lower();
}

