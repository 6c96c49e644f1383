/**
 * The compile report: per analog layer and in total, tiles, cells, utilisation,
 * stage time, energy per inference (the worst-case bound and, on data, the measured
 * figure, per component), area per component, and the effective noise a device
 * setting amounts to.
 *
 * Effective σ is measured on the model's own calibration inputs (a batch of its
 * data set, `calibration`): the exact network is run on them and every analog
 * layer's actual MVM inputs are recorded (up to `maxRowsPerMatrix` rows per matrix,
 * evenly strided); each layer's matrix is programmed (seeded) and compared, on those
 * inputs, in five executions:
 *   exact    y
 *   static   programmed, no read or sensing noise, ideal converters
 *   read     programmed, read noise only, ideal converters
 *   noisy    programmed, read and sensing noise, ideal converters
 *   chip     programmed, read and sensing noise, the chip's DAC and ADC
 * σ = rms(error)/rms(y) over the layer's outputs: static = static − exact
 * (programming, stuck cells, drift and its compensation), dynamic = chip − static,
 * split into read, sensing (√(noisy² − read²): independent noises) and converters
 * (chip − noisy, the same dynamic draws); total = chip − exact. SNR = 10·log10(1/σ²),
 * the paper's multiplicative figure; the total over layers is the rms of theirs.
 *
 * Output-proportional vs additive: per layer, the error's systematic gain β
 * (least squares e ≈ β·y) is taken out and the squared residual regressed on y²,
 * E[r² | y] = a + b·y²: √b is the output-proportional (multiplicative) σ, √a the
 * additive one. On its own this cannot decide the equivalence: a frozen weight error
 * is mostly "additive" per output element, and an ADC that rounds small outputs to
 * zero looks perfectly proportional (e = −y); so the verdict combines it with the
 * error's origin (cells: programming, stuck, drift, read — they scale with the
 * signal path; columns: sensing and converters — fixed in current) and with its
 * permanence (static vs dynamic). See {@link EquivalenceVerdict}; the thresholds were
 * set on the zoo CNN-6 and are tested there (test/compiler/effectiveSigma.test.ts).
 *
 * Measured energy: the programmed chip run on the calibration inputs with statistics
 * (tfjs engine), priced by the peripheral model (`peripherals.ts`), next to the
 * plan's worst-case bound.
 *
 * Without calibration data the report falls back to 64 seeded inputs uniform in
 * [0, 1) per matrix (post-ReLU-like), labelled `uniform-random-fallback`; real
 * activations give 1.1–4× higher σ, and no measured energy is given then.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { ConfigError } from '../errors';
import { analogMvm, ONE_ROW_PER_SAMPLE, type MvmStats } from '../crossbar/analogMvm';
import { combineSlices } from '../crossbar/slicedLayer';
import { layerFromConductances, type ProgrammedLayer } from '../crossbar/layerState';
import { IDEAL_ADC, IDEAL_DAC, type ChipSpec } from '../crossbar/chipSpec';
import { addBreakdowns, sumBreakdown, ZERO_BREAKDOWN, type Breakdown } from '../crossbar/peripherals';
import { isAnalog, staticSampleDims, type AnalogNode } from './ir/graph';
import { mvmMatrix } from './ir/mvmMatrix';
import { GraphExecutor, NOISE_OFF, type MvmHook } from './executor';
import type { CompiledModel } from './compile';
import { measuredLayerEnergy, type LayerCostSummary, type LayerPlan } from './chipPlan';
import type { ProgrammedChip } from './programmedChip';
import type { EngineName, LayerStats } from './engine/modelRunner';
import { bitLineWarnings, irDropNote, IrDropSums, type ReportWarning } from './wireReport';

/**
 * Sensing and converter errors carrying this share of the error variance or more
 * (a layer's, for its `origin`; the mean over layers, for the verdict): the chip is
 * column-dominated and the signal-level equivalence is not claimed.
 */
export const COLUMN_SHARE_LIMIT = 0.5;

/**
 * Largest |systematic gain error| for the equivalence. A frozen programming draw
 * gives a small layer's fit a chance gain of ~0.1 (zero over chips); a 4-bit ADC at
 * the worst-case full scale gives −0.7 to −0.9 (it rounds most outputs to zero).
 */
export const SYSTEMATIC_GAIN_LIMIT = 0.25;

/**
 * Largest rms over layers of the additive σ (relative to rms y) for the equivalence.
 * Set from the zoo CNN-6 on MNIST: read-noise-dominated PCM at 0.32 was predicted
 * within 2 points, at 0.51 it was 41 points below the signal level.
 */
export const ADDITIVE_SIGMA_LIMIT = 0.35;

/** σ_eff at or below which the noise is too small for its form to matter. */
export const NEGLIGIBLE_SIGMA = 0.15;

/**
 * Share of the error variance that is static at or above which a cell-dominated chip
 * gets the verdict `static`: its error is frozen per chip, unlike the signal-level
 * model's fresh noise (on the zoo CNN-6 at σ ≈ 0.3 the signal level matched the best
 * of six programmed chips, the mean was 5–8 points lower, single chips down to 70 %).
 */
export const STATIC_SHARE_LIMIT = 0.5;

/** Share of the error variance ∝ y² above which a layer's law is `proportional` (below 1 − this: `additive`). */
export const PROPORTIONAL_FRACTION = 0.7;

/** How a layer's error behaves. */
export type ErrorLaw = 'proportional' | 'additive' | 'mixed';

export interface NoiseSplit {
  /** Programming, stuck cells, drift (and its compensation): programmed chip without dynamic noise vs exact. */
  readonly staticSigma: number;
  /** Read and sensing noise plus the converters: chip vs programmed chip without dynamic noise. */
  readonly dynamicSigma: number;
  /** The read and sensing part of `dynamicSigma` (ideal converters). */
  readonly readSenseSigma: number;
  /** Read noise alone (the cells' per-MVM fluctuation). */
  readonly readSigma: number;
  /** Sensing noise alone (additive column current): √(readSense² − read²), independent noises. */
  readonly senseSigma: number;
  /** The DAC and ADC part of `dynamicSigma` (quantisation and clipping). */
  readonly converterSigma: number;
  /** The cells' part, √(static² + read²): errors that scale with the signal path (weights × inputs). */
  readonly cellSigma: number;
  /** The columns' part, √(sense² + converters²): errors fixed in current, whatever the signal. */
  readonly columnSigma: number;
  /** columnSigma² / (cellSigma² + columnSigma²). */
  readonly columnShare: number;
  /** `column` when columnShare >= {@link COLUMN_SHARE_LIMIT}: sensing/converter-dominated. */
  readonly origin: 'cell' | 'column';
  /**
   * β of the least-squares fit e ≈ β·y: a systematic relative gain error (e.g. an ADC
   * that rounds most outputs to zero gives β near −1). The signal-level model's noise
   * has none; the regression below is on the residual r = e − β·y.
   */
  readonly systematicGain: number;
  /** √b of E[r² | y] = a + b·y²: the output-proportional (multiplicative) σ. */
  readonly proportionalSigma: number;
  /** √a relative to rms(y): the additive σ as a fraction of the layer's signal. */
  readonly additiveSigmaRelative: number;
  /** √a in the layer's output units (what the paper's additive model's σ is). */
  readonly additiveSigma: number;
  /** b·mean(y²) / mean(e²): the share of the error variance that is output-proportional. */
  readonly proportionalFraction: number;
  readonly law: ErrorLaw;
}

export interface LayerReport extends LayerCostSummary {
  readonly name: string;
  readonly op: string;
  readonly device: string;
  /** `[rows, cols]` of each programmed matrix (one per conv group). */
  readonly matrixShape: readonly [number, number];
  readonly groups: number;
  /** Total σ_eff = rms(chip − exact) / rms(exact) on the calibration inputs. */
  readonly effectiveSigma: number;
  readonly snrDb: number;
  readonly noise: NoiseSplit;
  /** The worst-case bound (= `energyPerInferencePicojoules`), pJ. */
  readonly boundEnergyPerInferencePicojoules: number;
  /** Measured on the calibration data (null without data), pJ per inference. */
  readonly measuredEnergyPerInferencePicojoules: number | null;
  readonly measuredEnergyBreakdownPicojoules: Breakdown | null;
  /** The run's counts per inference on the calibration data (null without data). */
  readonly measuredCountsPerInference: Readonly<MvmStats> | null;
  /**
   * With resistive wires only: the IR drop's own output error on the same inputs,
   * rms(x·ΔW)/rms(x·W) (ΔW: what the wires change in the programmed weights). Static
   * and input-pattern independent for linear cells, it is part of `noise.staticSigma`.
   */
  readonly irDropSigma?: number;
}

/**
 * - `holds`: dominated by the cells' dynamic (read) noise, no systematic gain, a
 *   small additive part: the signal-level multiplicative model at `sigma` predicts
 *   the chip's accuracy (on the zoo CNN-6 within 3 points, see
 *   test/compiler/effectiveSigma.test.ts);
 * - `static`: as `holds` but mostly static (programming, stuck cells, drift): the
 *   signal level predicts the best programmed chips, typical chips fall below it
 *   and chips vary widely (frozen errors hit every input alike);
 * - `negligible`: σ_eff <= {@link NEGLIGIBLE_SIGMA}, too small for the form to matter;
 * - `fails`: sensing/converter-dominated, a systematic gain error, or a large additive
 *   part: the signal level overstates the accuracy; measure at the device level.
 */
export type EquivalenceVerdict = 'holds' | 'static' | 'negligible' | 'fails';

/** Whether the paper's signal-level model at the reported σ stands for the chip. */
export interface SignalLevelEquivalence {
  readonly verdict: EquivalenceVerdict;
  /** verdict is `holds` or `negligible`: the signal level at `sigma` predicts the chip. */
  readonly holds: boolean;
  /** The σ to use at the signal level (multiplicative): `totals.effectiveSigma`. */
  readonly sigma: number;
  /** Which part dominates the error variance (mean over layers). */
  readonly dominant: 'static' | 'read' | 'sensing' | 'converters';
  /** Layers where sensing and converters carry >= {@link COLUMN_SHARE_LIMIT} of the error variance. */
  readonly columnDominatedLayers: readonly string[];
  /** Share of the error variance that is static (votes over passes of one chip cannot average it). */
  readonly staticShare: number;
  /** Share of the error variance from sensing and converters (mean over layers). */
  readonly columnShare: number;
  /** Largest |systematic gain| over the layers. */
  readonly maxSystematicGain: number;
  /** rms over layers of the additive σ relative to rms y. */
  readonly additiveSigmaRms: number;
  readonly reason: string;
}

export interface CalibrationInfo {
  /** `data`: the caller's inputs; `uniform-random-fallback`: no data was given. */
  readonly source: 'data' | 'uniform-random-fallback';
  /** Samples (inferences) of the data, or the fallback vectors per matrix. */
  readonly samples: number;
  /** Most rows per matrix used for σ (evenly strided over the recorded MVM inputs). */
  readonly maxRowsPerMatrix: number;
}

export interface CompileReport {
  readonly layers: readonly LayerReport[];
  readonly totals: {
    readonly analogLayers: number;
    readonly tiles: number;
    readonly cells: number;
    readonly utilization: number;
    /** Σ stage times: latency of one inference with no pipelining, ns. */
    readonly latencyNs: number;
    /** The slowest stage: a pipelined chip's decision interval, ns. */
    readonly maxStageTimeNs: number;
    /** The worst-case bound per inference, pJ (kept under this name; see `boundEnergyPerInferencePicojoules`). */
    readonly energyPerInferencePicojoules: number;
    readonly boundEnergyPerInferencePicojoules: number;
    readonly energyBreakdownPicojoules: Breakdown;
    /** Measured on the calibration data, pJ per inference (null without data): what studies and the scheduler take. */
    readonly measuredEnergyPerInferencePicojoules: number | null;
    readonly measuredEnergyBreakdownPicojoules: Breakdown | null;
    readonly areaSquareMicrometers: number;
    readonly areaBreakdownSquareMicrometers: Breakdown;
    readonly foldedBatchNorms: number;
    /** Copies of the network on the chip; tiles, cells and area count all of them. */
    readonly replicas: number;
    /** √(mean over layers of σ_l²): the one signal-level σ the chip amounts to. */
    readonly effectiveSigma: number;
    readonly snrDb: number;
    readonly staticSigma: number;
    readonly dynamicSigma: number;
    readonly equivalence: SignalLevelEquivalence;
  };
  readonly calibration: CalibrationInfo;
  readonly seed: number;
  /** Per tile whose worst-case bit-line current exceeds its chip's limit, a warning naming layer, tile, current and limit. */
  readonly warnings: readonly ReportWarning[];
  /** How modelled non-idealities enter the figures (e.g. IR drop in the effective σ). */
  readonly notes: readonly string[];
}

export interface ReportOptions {
  readonly seed?: number;
  /**
   * Calibration inputs: a batch of the model's own data, `[N, ...input dims]`
   * flattened (IR layout, images NHWC). Without it the report uses the labelled
   * uniform-random fallback and gives no measured energy.
   */
  readonly calibration?: Float32Array;
  /** Most rows per matrix used for σ (default 8192). */
  readonly maxRowsPerMatrix?: number;
}

const FALLBACK_VECTORS = 64;

/**
 * Without data, the converter ranges are calibrated on the same kind of fallback:
 * 64 seeded network inputs uniform in [0, 1) (images' range), labelled like the rest
 * of the report as `uniform-random-fallback`.
 */
function uniformFallback(model: CompiledModel): tf.Tensor | undefined {
  // A chip is only planned for static layer shapes; several inputs get no fallback (programming then names `calibration`).
  const dims = staticSampleDims(model.graph);
  if (!dims) return undefined;
  const x = new Float32Array(FALLBACK_VECTORS * dims.reduce((a, b) => a * b, 1));
  Rng.fromSeed(0).fold('report-range-calibration').fillUniform(x);
  return tf.tensor(x, [FALLBACK_VECTORS, ...dims], 'float32');
}
const DEFAULT_MAX_ROWS = 8192;

/** Running sums over a layer's output elements. */
class ErrorSums {
  n = 0;
  signal = 0;
  total = 0;
  stat = 0;
  dynamic = 0;
  readSense = 0;
  read = 0;
  converters = 0;
  // Regression of e² on y².
  su = 0;
  suu = 0;
  sv = 0;
  suv = 0;
  sey = 0;
  suey = 0;

  add(exact: ArrayLike<number>, stat: ArrayLike<number>, read: ArrayLike<number>, noisy: ArrayLike<number>, chip: ArrayLike<number>): void {
    for (let i = 0; i < exact.length; i++) {
      this.read += (read[i] - stat[i]) ** 2;
      const y = exact[i];
      const e = chip[i] - y;
      const u = y * y;
      const v = e * e;
      this.n++;
      this.signal += u;
      this.total += v;
      this.stat += (stat[i] - y) ** 2;
      this.dynamic += (chip[i] - stat[i]) ** 2;
      this.readSense += (noisy[i] - stat[i]) ** 2;
      this.converters += (chip[i] - noisy[i]) ** 2;
      this.su += u;
      this.suu += u * u;
      this.sv += v;
      this.suv += u * v;
      this.sey += e * y;
      this.suey += u * e * y;
    }
  }

  sigma(sq: number): number {
    return this.signal > 0 ? Math.sqrt(sq / this.signal) : 0;
  }

  split(): NoiseSplit {
    const { n, su, suu } = this;
    // The systematic gain error β (least squares e ≈ β·y), then the residual r = e − β·y:
    // Σ r² and Σ y²·r² from the sums of e², e·y and their y²-weighted forms.
    const gain = su > 0 ? this.sey / su : 0;
    const sv = this.sv - 2 * gain * this.sey + gain * gain * su;
    const suv = this.suv - 2 * gain * this.suey + gain * gain * suu;
    let a = 0;
    let b = 0;
    if (n > 0 && sv > 0) {
      const den = n * suu - su * su;
      b = den > 0 ? (n * suv - su * sv) / den : 0;
      a = (sv - b * su) / n;
      if (b < 0) {
        b = 0;
        a = sv / n;
      } else if (a < 0) {
        a = 0;
        b = suu > 0 ? suv / suu : 0;
      }
    }
    const meanU = n > 0 ? su / n : 0;
    const meanV = n > 0 ? sv / n : 0;
    const fraction = meanV > 0 ? Math.min(1, (b * meanU) / meanV) : 1;
    const rmsY = Math.sqrt(meanU);
    const law: ErrorLaw = fraction >= PROPORTIONAL_FRACTION ? 'proportional' : fraction <= 1 - PROPORTIONAL_FRACTION ? 'additive' : 'mixed';
    // Read and sensing noise are independent: the sensing variance is the rest of their sum.
    const sense = Math.max(0, this.readSense - this.read);
    const cell = this.stat + this.read;
    const column = sense + this.converters;
    const columnShare = cell + column > 0 ? column / (cell + column) : 0;
    return {
      staticSigma: this.sigma(this.stat),
      dynamicSigma: this.sigma(this.dynamic),
      readSenseSigma: this.sigma(this.readSense),
      readSigma: this.sigma(this.read),
      senseSigma: this.sigma(sense),
      converterSigma: this.sigma(this.converters),
      cellSigma: this.sigma(cell),
      columnSigma: this.sigma(column),
      columnShare,
      origin: columnShare >= COLUMN_SHARE_LIMIT ? 'column' : 'cell',
      systematicGain: gain,
      proportionalSigma: Math.sqrt(b),
      additiveSigmaRelative: rmsY > 0 ? Math.sqrt(a) / rmsY : 0,
      additiveSigma: Math.sqrt(a),
      proportionalFraction: fraction,
      law,
    };
  }
}

/** The same programmed conductances on another chip description (noise or converters turned off). */
function variant(layer: ProgrammedLayer, chip: ChipSpec, keepReadNoise: boolean): ProgrammedLayer {
  // A bit-sliced layer: the same variant of every slice, recombined.
  if (layer.slices) return combineSlices(layer.slices.map((sl) => variant(sl, chip, keepReadNoise)));
  const { fanIn, fanOut, gPlus, gMinus, targetPlus, targetMinus, weightPerMicroSiemens, driftGain, programming } = layer;
  const readVariance = (layer as { readVarianceMicroSiemens2?: Float32Array }).readVarianceMicroSiemens2;
  return layerFromConductances({
    fanIn, fanOut, chip, gPlus, gMinus, targetPlus, targetMinus, weightPerMicroSiemens, driftGain, programming,
    ...(keepReadNoise && readVariance ? { readVarianceMicroSiemens2: readVariance } : {}),
  });
}

/** Ideal converters; the ADC keeps its range (the sensing noise is a fraction of its full scale). */
function idealConverters(chip: ChipSpec): ChipSpec {
  // Amplitude-coded inputs: a bit-serial input's quantisation is the DAC's.
  const { inputEncoding: _serial, ...amplitude } = chip;
  return { ...amplitude, dac: IDEAL_DAC, adc: { ...IDEAL_ADC, rangeFraction: chip.adc.rangeFraction } };
}

function noDynamicNoise(chip: ChipSpec): ChipSpec {
  return { ...idealConverters(chip), device: { ...chip.device, readNoiseRelStd: 0, readNoiseAddMicroSiemens: 0, senseNoiseRelStd: 0 } };
}

function readNoiseOnly(chip: ChipSpec): ChipSpec {
  return { ...idealConverters(chip), device: { ...chip.device, senseNoiseRelStd: 0 } };
}

/** Compare one programmed matrix's four executions on `x` ([rows, fanIn]) and add them to `sums`. */
function measureMatrix(layer: ProgrammedLayer, w: Float32Array, x: Float32Array, rows: number, rng: Rng, sums: ErrorSums): void {
  const { fanIn, fanOut, chip } = layer;
  const staticLayer = variant(layer, noDynamicNoise(chip), false);
  const readLayer = variant(layer, readNoiseOnly(chip), true);
  const noisyLayer = variant(layer, idealConverters(chip), true);
  const xs = tf.tensor2d(x, [rows, fanIn]);
  try {
    const exact = tf.tidy(() => tf.matMul(xs, tf.tensor2d(w, [fanIn, fanOut])).dataSync());
    const run = (l: ProgrammedLayer, r: Rng) => {
      const y = analogMvm(l, xs, r, undefined, ONE_ROW_PER_SAMPLE);
      const d = y.dataSync();
      y.dispose();
      return d;
    };
    const stat = run(staticLayer, rng.fold('static'));
    const read = run(readLayer, rng.fold('read'));
    // The same dynamic draws with and without the converters, so their difference is the converters' alone.
    const noisy = run(noisyLayer, rng.fold('dynamic'));
    const full = run(layer, rng.fold('dynamic'));
    sums.add(exact, stat, read, noisy, full);
  } finally {
    xs.dispose();
    staticLayer.dispose();
    readLayer.dispose();
    noisyLayer.dispose();
  }
}

/** The recorded MVM inputs of one matrix: up to `cap` rows, evenly strided. */
interface Recorded {
  stride: number;
  seen: number;
  rows: number;
  chunks: Float32Array[];
}

/**
 * Every analog matrix's actual inputs on the calibration data, in the exact network
 * (`[rows, fanIn]`, strided to at most `cap` rows per matrix).
 */
function recordInputs(model: CompiledModel, calibration: Float32Array, cap: number): Map<string, Recorded> {
  const graph = model.graph;
  const dims = staticSampleDims(graph);
  if (!dims) throw new ConfigError('calibration', 'inputs for this graph', 'a graph with one input of static dimensions');
  const per = dims.reduce((a, b) => a * b, 1);
  if (!(calibration instanceof Float32Array) || calibration.length === 0 || calibration.length % per !== 0) {
    throw new ConfigError('calibration', calibration instanceof Float32Array ? `${calibration.length} values` : typeof calibration, `a Float32Array of N·${per} values (N samples of [${dims.join(', ')}])`);
  }
  const samples = calibration.length / per;
  const recorded = new Map<string, Recorded>();
  for (const l of model.plan.layers) {
    for (const m of l.matrices) {
      const expected = samples * l.mvmsPerInference;
      recorded.set(`${m.node}/${m.group}`, { stride: Math.max(1, Math.floor(expected / cap)), seen: 0, rows: 0, chunks: [] });
    }
  }
  const hook: MvmHook = (node, x, site) => {
    const r = recorded.get(`${node.name}/${site.group}`)!;
    const [rows, fanIn] = x.shape;
    const data = x.dataSync() as Float32Array;
    const keep: number[] = [];
    for (let i = 0; i < rows; i++) {
      if ((r.seen + i) % r.stride === 0 && r.rows + keep.length < cap) keep.push(i);
    }
    r.seen += rows;
    if (keep.length > 0) {
      const out = new Float32Array(keep.length * fanIn);
      keep.forEach((i, k) => out.set(data.subarray(i * fanIn, (i + 1) * fanIn), k * fanIn));
      r.chunks.push(out);
      r.rows += keep.length;
    }
    return tf.matMul(x, site.matrix);
  };
  const executor = new GraphExecutor(graph);
  const input = tf.tensor(calibration, [samples, ...dims], 'float32');
  try {
    executor.run(input, { mvm: hook, noise: NOISE_OFF }).dispose();
  } finally {
    input.dispose();
    executor.dispose();
  }
  return recorded;
}

function concatRows(r: Recorded, fanIn: number): Float32Array {
  const out = new Float32Array(r.rows * fanIn);
  let at = 0;
  for (const c of r.chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The measured counts and energy of `chip` on the calibration data (tfjs engine), per analog node. */
function measureEnergy(model: CompiledModel, chip: ProgrammedChip, calibration: Float32Array, seed: number): { stats: Record<string, MvmStats>; samples: number } {
  // Checked by recordInputs, which runs first.
  const dims = staticSampleDims(model.graph)!;
  const samples = calibration.length / dims.reduce((a, b) => a * b, 1);
  const stats: Record<string, MvmStats> = {};
  const x = tf.tensor(calibration, [samples, ...dims], 'float32');
  try {
    chip.run(x, { seed: Rng.fromSeed(seed).fold('report').fold('energy'), layerStats: stats }).dispose();
  } finally {
    x.dispose();
  }
  return { stats, samples };
}

function perInference(s: MvmStats, samples: number): MvmStats {
  const out = { ...s };
  for (const k of Object.keys(out) as (keyof MvmStats)[]) out[k] = s[k] / samples;
  return out;
}

function equivalenceOf(layers: readonly LayerReport[], sigma: number): SignalLevelEquivalence {
  const n = Math.max(1, layers.length);
  const mean = (f: (l: LayerReport) => number) => layers.reduce((s, l) => s + f(l), 0) / n;
  const stat = mean((l) => l.noise.staticSigma ** 2);
  const read = mean((l) => l.noise.readSigma ** 2);
  const sense = mean((l) => l.noise.senseSigma ** 2);
  const conv = mean((l) => l.noise.converterSigma ** 2);
  const parts = { static: stat, read, sensing: sense, converters: conv } as const;
  const dominant = (Object.keys(parts) as (keyof typeof parts)[]).reduce((a, b) => (parts[b] > parts[a] ? b : a));
  const totalVar = stat + read + sense + conv;
  const columnShare = totalVar > 0 ? (sense + conv) / totalVar : 0;
  const maxGain = Math.max(0, ...layers.map((l) => Math.abs(l.noise.systematicGain)));
  const additiveRms = Math.sqrt(mean((l) => l.noise.additiveSigmaRelative ** 2));
  const columnLayers = layers.filter((l) => l.noise.origin === 'column').map((l) => l.name);
  const name = { static: 'programming/stuck/drift (static)', read: 'read noise', sensing: 'sensing noise', converters: 'ADC/DAC quantisation and clipping' }[dominant];
  const at = `σ = ${sigma.toFixed(4)} (SNR ${sigma > 0 ? (10 * Math.log10(1 / (sigma * sigma))).toFixed(2) : 'inf'} dB)`;
  const failures: string[] = [];
  if (columnShare >= COLUMN_SHARE_LIMIT) {
    failures.push(`sensing and converter errors carry ${(columnShare * 100).toFixed(0)} % of the error variance (${columnLayers.join(', ') || 'over the layers'}): they are fixed in current, not scaled with the signal`);
  }
  if (maxGain > SYSTEMATIC_GAIN_LIMIT) {
    failures.push(`a systematic gain error of up to ${(maxGain * 100).toFixed(0)} % (${layers.filter((l) => Math.abs(l.noise.systematicGain) > SYSTEMATIC_GAIN_LIMIT).map((l) => l.name).join(', ')}; e.g. an ADC that rounds small outputs to zero), which zero-mean signal-level noise does not have`);
  }
  if (additiveRms > ADDITIVE_SIGMA_LIMIT) {
    failures.push(`an additive (not output-proportional) error of ${additiveRms.toFixed(3)} of rms y over the layers (limit ${ADDITIVE_SIGMA_LIMIT}): it also reaches outputs near zero, which multiplicative noise leaves alone`);
  }
  let verdict: EquivalenceVerdict;
  let reason: string;
  const staticShare = totalVar > 0 ? stat / totalVar : 0;
  if (sigma <= NEGLIGIBLE_SIGMA) {
    verdict = 'negligible';
    reason = `the noise is small (${at} <= ${NEGLIGIBLE_SIGMA}): signal-level and device-level accuracy agree whatever its form; ${name} dominates`;
  } else if (failures.length === 0 && staticShare >= STATIC_SHARE_LIMIT) {
    verdict = 'static';
    reason = `the error comes from the cells but is mostly static (${(staticShare * 100).toFixed(0)} % of its variance: programming, stuck cells, drift), frozen in each programmed chip: the signal-level model at ${at} (fresh noise per run) predicts the best chips, while typical chips fall below it and vary widely from chip to chip; votes over passes of one chip cannot average it — measure several programmed chips`;
  } else if (failures.length === 0) {
    verdict = 'holds';
    reason = `the error comes from the cells (${name} dominates; sensing and converters ${(columnShare * 100).toFixed(0)} %), has no systematic gain and a small additive part: the signal-level multiplicative model at ${at} stands for this chip`;
  } else {
    verdict = 'fails';
    reason = `${failures.join('; ')}. The signal-level accuracy at ${at} does not predict this chip's accuracy (it overstates it): measure at the device level. ${name[0].toUpperCase()}${name.slice(1)} dominates`;
  }
  return {
    verdict,
    holds: verdict === 'holds' || verdict === 'negligible',
    sigma,
    dominant,
    columnDominatedLayers: columnLayers,
    staticShare,
    columnShare,
    maxSystematicGain: maxGain,
    additiveSigmaRms: additiveRms,
    reason,
  };
}

export function buildReport(model: CompiledModel, seedOrOptions: number | ReportOptions = {}): CompileReport {
  const options: ReportOptions = typeof seedOrOptions === 'number' ? { seed: seedOrOptions } : seedOrOptions;
  const seed = options.seed ?? 0;
  const cap = options.maxRowsPerMatrix ?? DEFAULT_MAX_ROWS;
  if (!Number.isSafeInteger(cap) || cap < 1) throw new ConfigError('maxRowsPerMatrix', cap, 'an integer >= 1');
  const calibration = options.calibration;
  const root = Rng.fromSeed(seed).fold('report');
  const fallback = calibration ? undefined : uniformFallback(model);
  let chip: ProgrammedChip;
  try {
    chip = model.program(root.fold('program'), { calibration: calibration ?? fallback });
  } finally {
    fallback?.dispose();
  }
  try {
    const recorded = calibration ? recordInputs(model, calibration, cap) : null;
    const energy = calibration ? measureEnergy(model, chip, calibration, seed) : null;
    const byName = new Map(model.graph.nodes.map((n) => [n.name, n]));
    const layers: LayerReport[] = model.plan.layers.map((l: LayerPlan) => {
      const node = byName.get(l.node)! as AnalogNode;
      const sums = new ErrorSums();
      const irSums = new IrDropSums();
      if (isAnalog(node)) {
        for (const m of l.matrices) {
          const w = mvmMatrix(node, m.group).data;
          const layer = chip.layers.get(l.node)![m.group];
          const site = root.fold('run').fold(l.node).fold(m.group);
          if (recorded) {
            const r = recorded.get(`${m.node}/${m.group}`)!;
            if (r.rows > 0) {
              const x = concatRows(r, m.fanIn);
              measureMatrix(layer, w, x, r.rows, site, sums);
              irSums.add(layer, w, x, r.rows);
            }
          } else {
            const x = new Float32Array(FALLBACK_VECTORS * m.fanIn);
            root.fold('inputs').fold(l.node).fold(m.group).fillUniform(x);
            measureMatrix(layer, w, x, FALLBACK_VECTORS, site, sums);
            irSums.add(layer, w, x, FALLBACK_VECTORS);
          }
        }
      }
      const sigma = sums.sigma(sums.total);
      const c = l.matrices[0].chip;
      const s = energy?.stats[l.node];
      const measured = s && energy ? measuredLayerEnergy(l, s, energy.samples) : null;
      return {
        name: l.node,
        op: l.op,
        device: c.device.kind,
        matrixShape: [l.matrices[0].fanIn, l.matrices[0].fanOut] as const,
        groups: l.matrices.length,
        mvmsPerInference: l.mvmsPerInference,
        tiles: l.tiles,
        cells: l.cells,
        utilization: l.utilization,
        stageTimeNs: l.stageTimeNs,
        energyPerInferencePicojoules: l.energyPerInferencePicojoules,
        energyBreakdownPicojoules: l.energyBreakdownPicojoules,
        areaSquareMicrometers: l.areaSquareMicrometers,
        areaBreakdownSquareMicrometers: l.areaBreakdownSquareMicrometers,
        bufferBitsPerInference: l.bufferBitsPerInference,
        effectiveSigma: sigma,
        snrDb: sigma > 0 ? 10 * Math.log10(1 / (sigma * sigma)) : Infinity,
        noise: sums.split(),
        boundEnergyPerInferencePicojoules: l.energyPerInferencePicojoules,
        measuredEnergyPerInferencePicojoules: measured ? sumBreakdown(measured) : null,
        measuredEnergyBreakdownPicojoules: measured,
        measuredCountsPerInference: s && energy ? perInference(s, energy.samples) : null,
        ...(irSums.sigma() !== undefined ? { irDropSigma: irSums.sigma() } : {}),
      };
    });
    const sum = (f: (l: LayerReport) => number) => layers.reduce((acc, l) => acc + f(l), 0);
    const slots = model.plan.layers.reduce((s, l) => s + l.tiles * l.matrices[0].chip.tile.rows * l.matrices[0].chip.tile.cols, 0);
    const used = model.plan.layers.reduce((s, l) => s + l.matrices.reduce((t, m) => t + m.fanIn * m.fanOut, 0), 0);
    const rmsOver = (f: (l: LayerReport) => number) => (layers.length > 0 ? Math.sqrt(sum((l) => f(l) ** 2) / layers.length) : 0);
    const sigma = rmsOver((l) => l.effectiveSigma);
    const replicas = model.plan.replicas;
    const measuredBreakdown = energy
      ? layers.reduce((acc, l) => addBreakdowns(acc, l.measuredEnergyBreakdownPicojoules ?? ZERO_BREAKDOWN), ZERO_BREAKDOWN)
      : null;
    const area = layers.reduce((acc, l) => addBreakdowns(acc, l.areaBreakdownSquareMicrometers, replicas), ZERO_BREAKDOWN);
    const bound = sum((l) => l.energyPerInferencePicojoules);
    return {
      layers,
      totals: {
        analogLayers: layers.length,
        tiles: sum((l) => l.tiles) * replicas,
        cells: sum((l) => l.cells) * replicas,
        utilization: slots > 0 ? used / slots : 0,
        latencyNs: sum((l) => l.stageTimeNs),
        maxStageTimeNs: Math.max(0, ...layers.map((l) => l.stageTimeNs)),
        energyPerInferencePicojoules: bound,
        boundEnergyPerInferencePicojoules: bound,
        energyBreakdownPicojoules: layers.reduce((acc, l) => addBreakdowns(acc, l.energyBreakdownPicojoules), ZERO_BREAKDOWN),
        measuredEnergyPerInferencePicojoules: measuredBreakdown ? sumBreakdown(measuredBreakdown) : null,
        measuredEnergyBreakdownPicojoules: measuredBreakdown,
        areaSquareMicrometers: sumBreakdown(area),
        areaBreakdownSquareMicrometers: area,
        foldedBatchNorms: model.foldedBatchNorms.length,
        replicas,
        effectiveSigma: sigma,
        snrDb: sigma > 0 ? 10 * Math.log10(1 / (sigma * sigma)) : Infinity,
        staticSigma: rmsOver((l) => l.noise.staticSigma),
        dynamicSigma: rmsOver((l) => l.noise.dynamicSigma),
        equivalence: equivalenceOf(layers, sigma),
      },
      calibration: calibration
        ? { source: 'data', samples: energy!.samples, maxRowsPerMatrix: cap }
        : { source: 'uniform-random-fallback', samples: FALLBACK_VECTORS, maxRowsPerMatrix: FALLBACK_VECTORS },
      seed,
      warnings: bitLineWarnings(chip.layers),
      notes: [
        irDropNote(
          model.plan.layers.flatMap((l) => l.matrices.map((m) => m.chip)),
          layers.flatMap((l) => (l.irDropSigma === undefined ? [] : [{ name: l.name, sigma: l.irDropSigma }])),
        ),
      ].filter((n): n is string => n !== null),
    };
  } finally {
    chip.dispose();
  }
}

/** Measured energy of one inference on data, next to the plan's worst-case bound. */
export interface MeasuredEnergy {
  /** Σ of `breakdownPicojoules`: what studies, Pareto fronts and the scheduler take, pJ. */
  readonly perInferencePicojoules: number;
  readonly breakdownPicojoules: Breakdown;
  /** The plan's worst-case bound (every input at full scale), pJ. */
  readonly boundPerInferencePicojoules: number;
  readonly boundBreakdownPicojoules: Breakdown;
  /** Per analog node: measured and bound per inference, pJ. */
  readonly layers: Readonly<Record<string, { readonly measured: Breakdown; readonly bound: Breakdown }>>;
  /** Inferences the counts were taken over. */
  readonly samples: number;
  /**
   * Per analog node, the converter clipping counted on those samples: DAC inputs
   * beyond a fixed range and ADC conversions beyond full scale (what calibrated
   * ranges show when inputs move away from the calibration batch, or the chip drifts).
   */
  readonly clipping: Readonly<Record<string, ClippingCounts>>;
}

/** Converter clipping of one layer over a run. */
export interface ClippingCounts {
  readonly dacClipped: number;
  readonly adcClipped: number;
  readonly adcConversions: number;
}

/**
 * Price run statistics (`runner.runAll(x, { seed, stats })` over `samples`
 * inferences, either engine) with the peripheral model: measured energy per
 * inference per layer and component, next to the bound.
 */
export function energyFromStats(model: CompiledModel, stats: Readonly<Record<string, MvmStats>>, samples: number): MeasuredEnergy {
  if (!(Number.isSafeInteger(samples) && samples > 0)) throw new ConfigError('samples', samples, 'a positive integer number of inferences');
  const layers: Record<string, { measured: Breakdown; bound: Breakdown }> = {};
  const clipping: Record<string, ClippingCounts> = {};
  let measured = ZERO_BREAKDOWN;
  let bound = ZERO_BREAKDOWN;
  for (const l of model.plan.layers) {
    const s = stats[l.node];
    if (!s) throw new ConfigError(`stats.${l.node}`, undefined, `the counts of every analog node (a chip run with stats over the ${samples} samples)`);
    const m = measuredLayerEnergy(l, s, samples);
    layers[l.node] = { measured: m, bound: l.energyBreakdownPicojoules };
    clipping[l.node] = { dacClipped: s.dacClipped, adcClipped: s.adcClipped, adcConversions: s.adcConversions };
    measured = addBreakdowns(measured, m);
    bound = addBreakdowns(bound, l.energyBreakdownPicojoules);
  }
  return {
    perInferencePicojoules: sumBreakdown(measured),
    breakdownPicojoules: measured,
    boundPerInferencePicojoules: sumBreakdown(bound),
    boundBreakdownPicojoules: bound,
    layers,
    samples,
    clipping,
  };
}

/** Options of {@link measureEnergyOnData}. */
export interface MeasureEnergyOptions {
  /** Inference engine (default onnxruntime). */
  readonly engine?: EngineName;
  /** Programming seed of the measured chip (default 0; cell energy depends on the programmed G only slightly). */
  readonly programSeed?: number;
  /** Seed of the run's dynamic noise (default 0; only clipping counts depend on it). */
  readonly runSeed?: number;
  /** Inputs the chip's converter ranges are calibrated on (default: the first 256 samples of `x`). */
  readonly calibration?: Float32Array;
  /** Use at most this many samples of `x`, the first ones (default all). */
  readonly limit?: number;
  readonly batchSize?: number;
}

/**
 * The measured energy per inference of `model`'s chip on the data `x` (`[N, ...input
 * dims]`, the model's own inputs): programs one chip (from `programSeed`, folded by
 * `energy`), runs the samples with statistics and prices them. Deterministic for
 * given inputs and seeds. What a study calls once per (model, device, data set).
 */
export async function measureEnergyOnData(model: CompiledModel, x: Float32Array, options: MeasureEnergyOptions = {}): Promise<MeasuredEnergy> {
  const inputNode = model.graph.nodes.find((n) => n.name === model.graph.inputs[0])!;
  const per = (inputNode.outputShape.slice(1) as number[]).reduce((a, b) => a * b, 1);
  const n = Math.min(x.length / per, options.limit ?? Infinity);
  if (!(Number.isSafeInteger(n) && n > 0)) throw new ConfigError('x', `${x.length} values`, `N·${per} values with N >= 1`);
  // Ranges calibrated on the caller's calibration inputs, else on the first 256 samples measured.
  const chip = model.program(Rng.fromSeed(options.programSeed ?? 0).fold('energy'), { calibration: options.calibration ?? x.subarray(0, Math.min(n, 256) * per) });
  try {
    const runner = await model.runner({ kind: 'chip', chip }, { engine: options.engine ?? 'onnxruntime' });
    try {
      const stats: LayerStats = {};
      await runner.runAll(x.subarray(0, n * per), { seed: Rng.fromSeed(options.runSeed ?? 0).fold('energy'), stats, ...(options.batchSize ? { batchSize: options.batchSize } : {}) });
      return energyFromStats(model, stats, n);
    } finally {
      await runner.dispose();
    }
  } finally {
    chip.dispose();
  }
}

function capitalized(k: string): string {
  return k[0].toUpperCase() + k.slice(1);
}

/**
 * Flat result metrics of a measured energy for V votes (what a study record adds
 * beside the scheduler's `energyPicojoules`, which takes the measured figure):
 * `energyBoundPicojoules` (V × the bound), `energyPerInferencePicojoules` and
 * `energyBoundPerInferencePicojoules`, `energy<Component>PerInferencePicojoules`
 * (measured) and `area<Component>SquareMicrometers` (one copy).
 */
export function energyMetrics(model: CompiledModel, energy: MeasuredEnergy, votes: number): Record<string, number> {
  const out: Record<string, number> = {
    energyBoundPicojoules: votes * energy.boundPerInferencePicojoules,
    energyPerInferencePicojoules: energy.perInferencePicojoules,
    energyBoundPerInferencePicojoules: energy.boundPerInferencePicojoules,
    energyMeasuredSamples: energy.samples,
  };
  const clips = Object.values(energy.clipping);
  const conversions = clips.reduce((a, c) => a + c.adcConversions, 0);
  out.adcClippedFraction = conversions > 0 ? clips.reduce((a, c) => a + c.adcClipped, 0) / conversions : 0;
  out.dacClippedPerInference = clips.reduce((a, c) => a + c.dacClipped, 0) / energy.samples;
  const area = model.plan.layers.reduce((acc, l) => addBreakdowns(acc, l.areaBreakdownSquareMicrometers), ZERO_BREAKDOWN);
  for (const k of Object.keys(energy.breakdownPicojoules) as (keyof Breakdown)[]) {
    out[`energy${capitalized(k)}PerInferencePicojoules`] = energy.breakdownPicojoules[k];
    out[`area${capitalized(k)}SquareMicrometers`] = area[k];
  }
  return out;
}
