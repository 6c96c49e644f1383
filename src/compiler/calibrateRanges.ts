/**
 * Converter ranges calibrated on data: each layer's DAC range and each tile's (or
 * column's) ADC full scale, measured on a calibration batch run through the
 * programmed chip, then fixed. A chip bring-up does the same: program, read a batch
 * of representative inputs, set the references. Afterwards the ranges stay as they
 * are, so drift or a shifted input distribution shows up as clipping and lost
 * resolution (counted in the run statistics) rather than as silent re-ranging.
 *
 * The calibration batch runs noise-free on the programmed conductances (programming
 * noise and stuck cells included, read and sensing noise left out), layer by layer:
 * a layer's inputs set its DAC range, then its tiles' column currents through that
 * DAC set their ADC full scales, then its converted outputs feed the next layer.
 * `max` takes the largest |value|; `percentile` the given percentile of the |values|,
 * read from a histogram over [0, max] (4096 bins for a DAC, 1024 per tile, 256 per
 * column), rounded up to the bin's edge (at most max/bins above the exact value).
 */
import * as tf from '@tensorflow/tfjs';
import { applyDac } from '../crossbar/dac';
import { applyAdc, signedLevels } from '../crossbar/adc';
import { layerFromConductances, type CalibratedRanges, type ProgrammedLayer } from '../crossbar/layerState';
import { combineSlices, physicalLayers } from '../crossbar/slicedLayer';
import { inputEncodingOf } from '../crossbar/slicing';
import { analogMvm, forEachBitPlane } from '../crossbar/analogMvm';
import type { ProgrammedConductances } from '../crossbar/programmedLayer';
import type { CalibrationSpec, DacSpec } from '../crossbar/chipSpec';
import { needsCalibratedAdc, needsCalibratedDac, needsCalibrationData } from '../crossbar/chipSpec';
import { ConfigError, DataError } from '../errors';
import { Rng } from '../rng';
import { isAnalog as isAnalogNode, type AnalogNode } from './ir/graph';
import { NOISE_OFF, type ExecutorInputs, type GraphExecutor, type MvmHook } from './executor';

type Layers = ReadonlyMap<string, readonly ProgrammedLayer[]>;

/** What a layer's ranges were set from, for reports. */
export interface LayerCalibration {
  readonly node: string;
  readonly group: number;
  readonly method: CalibrationSpec['method'];
  /** The calibrated DAC range max |x|, or null (the layer's DAC is not calibrated). */
  readonly dacMaxAbs: number | null;
  /** Smallest and largest calibrated ADC full scale over the layer's tiles/columns, µA (null: ideal ADC). */
  readonly adcFullScaleMicroAmps: readonly [number, number] | null;
}

/** The stored state of a layer, without the derived fields (to rebuild it with new ranges). */
function conductancesOf(l: ProgrammedLayer): ProgrammedConductances {
  return {
    fanIn: l.fanIn,
    fanOut: l.fanOut,
    chip: l.chip,
    gPlus: l.gPlus,
    gMinus: l.gMinus,
    targetPlus: l.targetPlus,
    targetMinus: l.targetMinus,
    weightPerMicroSiemens: l.weightPerMicroSiemens,
    driftGain: l.driftGain,
    programming: l.programming,
    ...(l.readVarianceMicroSiemens2 ? { readVarianceMicroSiemens2: l.readVarianceMicroSiemens2 } : {}),
  };
}

/** `layer` with converter ranges `ranges` (the conductances are shared, not copied). */
export function withRanges(layer: ProgrammedLayer, ranges: CalibratedRanges): ProgrammedLayer {
  // A bit-sliced layer: each slice takes its own ranges (its own ADCs).
  if (layer.slices) return combineSlices(layer.slices.map((sl, s) => withRanges(sl, ranges.slices?.[s] ?? ranges)));
  return layerFromConductances({ ...conductancesOf(layer), ranges });
}

/** Running max and (second pass) histogram of |values| for one range. */
class AbsStat {
  max = 0;
  count = 0;
  hist: Float64Array | null = null;
  constructor(readonly bins: number) {}
  /** Start the histogram pass over [0, max]. */
  beginHistogram(): void {
    this.hist = new Float64Array(this.bins);
  }
  /** Count |values[r + offset + c]| for each row start r (every `colWidth`) and c < cols; defaults: every value. */
  addHistogram(values: Float32Array, offset = 0, cols = 1, colWidth = 1): void {
    const h = this.hist!;
    const scale = this.max > 0 ? this.bins / this.max : 0;
    const last = this.bins - 1;
    for (let r = 0; r < values.length; r += colWidth) {
      for (let c = 0; c < cols; c++) {
        const v = values[r + offset + c];
        const a = v < 0 ? -v : v;
        const b = (a * scale) | 0;
        h[b > last ? last : b]++;
        this.count++;
      }
    }
  }
  /** The percentile's value: the upper edge of the bin where the cumulative count reaches it. */
  value(method: CalibrationSpec['method'], percentile: number): number {
    if (method !== 'percentile' || this.max === 0 || !this.hist) return this.max;
    const target = (percentile / 100) * this.count;
    let cum = 0;
    for (let b = 0; b < this.bins; b++) {
      cum += this.hist[b];
      if (cum >= target) return ((b + 1) / this.bins) * this.max;
    }
    return this.max;
  }
}

/** Per row block, per tile (column block) or per column: the stats an ADC range is set from. */
type AdcStats = AbsStat[][];

function newAdcStats(layer: ProgrammedLayer): AdcStats {
  const perColumn = layer.chip.calibration.adcGranularity === 'column';
  return layer.rowBlocks.map(() =>
    Array.from({ length: perColumn ? layer.fanOut : layer.grid.colBlocks }, () => new AbsStat(perColumn ? 256 : 1024)),
  );
}

/** A key per programmed layer: node and group. */
const keyOf = (node: string, group: number) => `${node}\u0000${group}`;

const needsDac = (l: ProgrammedLayer) => needsCalibratedDac(l.chip);
const needsAdc = (l: ProgrammedLayer) => needsCalibratedAdc(l.chip);
const isRecurrent = (node: AnalogNode) => node.op === 'lstm' || node.op === 'gru';

/** The DAC a layer runs with a calibrated range `maxAbs` (or its own, when not calibrated). */
function dacWith(l: ProgrammedLayer, maxAbs: number | null): DacSpec {
  return maxAbs !== null ? { bits: l.chip.dac.bits, range: { kind: 'fixed', maxAbs } } : l.dac;
}

/**
 * Per row block, the conductances an MVM multiplies by, as tensors made once per
 * calibration: either the block's own rows (its inputs are sliced) or, for narrow
 * layers whose input is a tall patch matrix, zero-padded to the full fan-in (a
 * wider product is cheaper than slicing hundreds of MB of patches), pre-scaled by
 * the DAC's volts per code.
 */
class BlockMatrices {
  private readonly cache = new Map<string, { padded: boolean; g: tf.Tensor2D[] }>();
  get(l: ProgrammedLayer, perCode: number): { padded: boolean; g: tf.Tensor2D[] } {
    const key = `${keyOfLayer(l)}/${perCode}`;
    let m = this.cache.get(key);
    if (!m) {
      const padded = l.rowBlocks.length > 1 && l.fanOut <= 64;
      const g = l.rowBlocks.map((rb) => {
        const data = new Float32Array((padded ? l.fanIn : rb.rows) * l.fanOut);
        const at = padded ? rb.row0 * l.fanOut : 0;
        for (let k = 0; k < rb.gDiff.length; k++) data[at + k] = rb.gDiff[k] * perCode;
        return tf.keep(tf.tensor2d(data, [padded ? l.fanIn : rb.rows, l.fanOut]));
      });
      m = { padded, g };
      this.cache.set(key, m);
    }
    return m;
  }
  dispose(): void {
    for (const m of this.cache.values()) tf.dispose(m.g);
    this.cache.clear();
  }
}

const layerIds = new WeakMap<ProgrammedLayer, number>();
let nextLayerId = 0;
function keyOfLayer(l: ProgrammedLayer): number {
  let id = layerIds.get(l);
  if (id === undefined) layerIds.set(l, (id = nextLayerId++));
  return id;
}

/**
 * Rows of a calibration input worked on at once. A convolution's whole-batch patch
 * matrix is hundreds of MB; its DAC codes and currents, made a slice at a time, are
 * not held beside it (tfjs-wasm's heap, which never shrinks, stayed at 800 MB per
 * calibrated CNN-6 chip when they were).
 */
const CALIBRATION_ROWS = 1 << 13;

/**
 * `fn` on each slice of at most {@link CALIBRATION_ROWS} rows of `x`, in order;
 * `data`: x's values when the caller has read them already.
 */
function forRowChunks(x: tf.Tensor2D, fn: (rows: tf.Tensor2D) => void, data?: Float32Array): void {
  const [n, width] = x.shape;
  if (n <= CALIBRATION_ROWS) return fn(x);
  // One read of x, not tf.slice: tfjs-wasm's slice copies its whole input out of the heap per call.
  data ??= x.dataSync() as Float32Array;
  for (let r0 = 0; r0 < n; r0 += CALIBRATION_ROWS) {
    const r1 = Math.min(n, r0 + CALIBRATION_ROWS);
    const rows = tf.tensor2d(data.subarray(r0 * width, r1 * width), [r1 - r0, width]);
    try {
      fn(rows);
    } finally {
      rows.dispose();
    }
  }
}

/** `fn` of each row slice of `x` (as {@link forRowChunks}), the results stacked in row order. */
function mapRowChunks(x: tf.Tensor2D, fn: (rows: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
  if (x.shape[0] <= CALIBRATION_ROWS) return fn(x);
  const parts: tf.Tensor2D[] = [];
  forRowChunks(x, (rows) => parts.push(fn(rows)));
  const out = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return out;
}

/** max |x| over all of `x`: the larger magnitude of its max and min, two reductions that copy nothing. */
function maxAbsOf(x: tf.Tensor2D): number {
  const hi = tf.tidy(() => tf.max(x)).dataSync()[0];
  const lo = tf.tidy(() => tf.min(x)).dataSync()[0];
  return Math.max(Math.abs(hi), Math.abs(lo));
}

/**
 * Column currents of each row block of tiles for inputs `x` through `dac`, in the
 * engines' units (µS × normalised volts: current per V_read), with the factor that
 * takes a normalised output back to input units. Every step frees its intermediates
 * at once: a convolution's calibration batch of patches is hundreds of MB.
 */
function blockCurrents(l: ProgrammedLayer, x: tf.Tensor2D, dac: DacSpec, matrices: BlockMatrices): { currents: tf.Tensor2D[]; rowScale: tf.Tensor2D } {
  const levels = dac.bits === null ? 0 : signedLevels(dac.bits);
  // Integer codes when quantised (1/L goes into the matrices): round(clip(x/m)·L) = clip(round(x·L/m), ±L).
  const [v, rowScale] = tf.tidy(() => {
    if (dac.range.kind === 'perInputAbsMax') {
      const m = tf.max(tf.abs(x), 1, true);
      const scale = tf.where(tf.equal(m, 0), tf.onesLike(m), m);
      const u = tf.div(x, scale);
      return [levels ? tf.round(tf.mul(u, levels)) : u, scale];
    }
    if (dac.range.kind !== 'fixed') throw new ConfigError('dac.range', dac.range.kind, 'a fixed or per-input range while calibrating');
    const m = dac.range.maxAbs;
    const codes = levels ? tf.clipByValue(tf.round(tf.mul(x, levels / m)), -levels, levels) : tf.clipByValue(tf.mul(x, 1 / m), -1, 1);
    return [codes, tf.fill([1, 1], m)];
  }) as [tf.Tensor2D, tf.Tensor2D];
  const { padded, g } = matrices.get(l, levels ? 1 / levels : 1);
  const currents = l.rowBlocks.map((rb, a) =>
    tf.tidy(() => {
      const part = padded || l.rowBlocks.length === 1 ? v : (tf.slice(v, [0, rb.row0], [v.shape[0], rb.rows]) as tf.Tensor2D);
      return tf.matMul(part, g[a]) as tf.Tensor2D;
    }),
  );
  v.dispose();
  return { currents, rowScale };
}

/** Add one row block's currents [rows × fanOut] to its stats: max first, then (percentile) the histogram of the same data. */
function observeCurrents(l: ProgrammedLayer, groups: AbsStat[], cur: tf.Tensor2D, histogram: boolean): void {
  const perColumn = l.chip.calibration.adcGranularity === 'column';
  const cols = l.chip.tile.cols;
  const fanOut = l.fanOut;
  if (!histogram) {
    const colMax = tf.tidy(() => tf.max(tf.abs(cur), 0)).dataSync() as Float32Array;
    for (let j = 0; j < colMax.length; j++) {
      const g = groups[perColumn ? j : Math.floor(j / cols)];
      if (colMax[j] > g.max) g.max = colMax[j];
    }
    return;
  }
  const data = cur.dataSync() as Float32Array;
  groups.forEach((g, k) => {
    if (!g.hist) return;
    if (perColumn) g.addHistogram(data, k, 1, fanOut);
    else g.addHistogram(data, k * cols, Math.min(cols, fanOut - k * cols), fanOut);
  });
}

/** Per row block × output column, the full scales the stats give. */
function adcRanges(l: ProgrammedLayer, stats: AdcStats): Float32Array {
  const c = l.chip.calibration;
  const out = new Float32Array(l.rowBlocks.length * l.fanOut);
  const perColumn = c.adcGranularity === 'column';
  const cols = l.chip.tile.cols;
  // Stats are in the engines' units (current per V_read): full scales in µA.
  const vRead = l.chip.device.readVoltageVolts;
  stats.forEach((groups, a) => {
    const values = groups.map((g) => g.value(c.method, c.percentile) * vRead);
    for (let j = 0; j < l.fanOut; j++) out[a * l.fanOut + j] = values[perColumn ? j : Math.floor(j / cols)];
  });
  return out;
}

/** The DAC range a stat gives; inputs that are all zero give no scale, and any range converts them exactly. */
function dacRange(l: ProgrammedLayer, s: AbsStat): number {
  return s.value(l.chip.calibration.method, l.chip.calibration.percentile) || 1;
}

/** Stats of all of `values` at once: the max, then (percentile) the histogram. */
function statOf(values: () => Float32Array, max: number, percentile: boolean, bins: number): AbsStat {
  const s = new AbsStat(bins);
  s.max = max;
  if (percentile) {
    s.beginHistogram();
    s.addHistogram(values());
  }
  return s;
}

/**
 * What the chip outputs from a layer's column currents (engine units): each row
 * block's ADC, their digital sum, the input and weight rescale. Frees `currents`.
 */
function convertCurrents(l: ProgrammedLayer, currents: tf.Tensor2D[], rowScale: tf.Tensor2D): tf.Tensor2D {
  const levels = l.chip.adc.bits === null ? 0 : signedLevels(l.chip.adc.bits);
  let acc: tf.Tensor2D | null = null;
  currents.forEach((cur, a) => {
    const rb = l.rowBlocks[a];
    const prev: tf.Tensor2D | null = acc;
    acc = tf.tidy(() => {
      const c = levels ? applyAdc(cur, tf.tensor2d(rb.adcCodesPerUnit, [1, l.fanOut]), tf.tensor2d(rb.adcUnitsPerCode, [1, l.fanOut]), levels).converted : cur;
      return prev === null ? tf.clone(c) : (tf.add(prev, c) as tf.Tensor2D);
    });
    cur.dispose();
    prev?.dispose();
  });
  const out = tf.tidy(() => tf.mul(tf.mul(acc!, rowScale), tf.tensor2d(l.outputScale, [1, l.fanOut])) as tf.Tensor2D);
  (acc as tf.Tensor2D | null)?.dispose();
  rowScale.dispose();
  return out;
}

/** Noise-free MVM of a layer with its converters: what the chip computes without read and sensing noise. */
function convertedMvm(l: ProgrammedLayer, x: tf.Tensor2D, matrices: BlockMatrices): tf.Tensor2D {
  return mapRowChunks(x, (rows) => {
    const { currents, rowScale } = blockCurrents(l, rows, l.dac, matrices);
    return convertCurrents(l, currents, rowScale);
  });
}

/**
 * Calibrate the converter ranges of `layers` (a programmed chip's, the chip the
 * ranges are for) on `inputs`, by each layer's own `chip.calibration`. Returns new
 * layers with the ranges set, and what was set; the old layers stay usable (the
 * caller disposes them). Layers whose chip needs no data come back unchanged.
 *
 * Layers are calibrated in the order the data reaches them, each on the inputs the
 * already-calibrated chip upstream gives it (noise-free, converters included), the
 * way a chip is brought up: so at `max` the calibration batch itself never clips when
 * run noise-free. Recurrent layers (LSTM, GRU) see their inputs one step at a time;
 * their ranges are set first, over every step, from a noise-free run with ideal
 * converters (as every layer's are when `options.wholeBatch` is false).
 */
export function calibrateRanges(
  executor: GraphExecutor,
  layers: Layers,
  inputs: ExecutorInputs,
  options: CalibrationRunOptions = {},
): { layers: Map<string, ProgrammedLayer[]>; calibration: LayerCalibration[] } {
  const samples = firstDim(inputs);
  if (samples === 0) throw new DataError('calibration', 'the calibration batch is empty: give at least one input');
  const todo = new Set<string>();
  for (const [node, ls] of layers) ls.forEach((l, group) => needsCalibrationData(l.chip) && todo.add(keyOf(node, group)));
  const out = new Map<string, ProgrammedLayer[]>();
  for (const [node, ls] of layers) out.set(node, [...ls]);
  if (todo.size === 0) return { layers: out, calibration: [] };
  const layerAt = (key: string) => {
    const [node, group] = key.split('\u0000');
    return { node, group: Number(group), layer: layers.get(node)![Number(group)] };
  };
  const ranges = new Map<string, CalibratedRanges>();
  const matrices = new BlockMatrices();
  try {
    // A batch whose patch matrices do not fit at once is calibrated in chunks, every layer from ideal-converter runs.
    const wholeBatch = options.wholeBatch ?? true;
    const prior = idealRanges(executor, layers, inputs, todo, samples, matrices, wholeBatch ? isRecurrent : () => true);
    const mvm: MvmHook = (node, x, site) => {
      const key = keyOf(node.name, site.group);
      const base = layers.get(node.name)![site.group];
      if (todo.has(key) && !ranges.has(key)) {
        const fresh = prior.has(key) ? null : calibratedOutput(base, x, samples, matrices);
        if (fresh) {
          ranges.set(key, fresh.ranges);
          out.get(node.name)![site.group] = fresh.layer;
          return fresh.output;
        }
        ranges.set(key, prior.get(key) ?? rangesOn(base, x, samples, matrices));
        out.get(node.name)![site.group] = withRanges(base, ranges.get(key)!);
      }
      return noiseFreeMvm(out.get(node.name)![site.group], x, matrices);
    };
    // The whole batch in one MVM per layer: its ranges must be known before its first output is converted.
    tf.dispose(executor.runAll(inputs, { mvm, noise: NOISE_OFF, ...(wholeBatch ? { im2colBudget: Number.POSITIVE_INFINITY } : {}) }));
  } finally {
    matrices.dispose();
  }
  const calibration: LayerCalibration[] = [];
  for (const key of todo) {
    const { node, group, layer } = layerAt(key);
    const r = ranges.get(key);
    if (!r) continue;
    const adc = r.adcFullScaleMicroAmps;
    const positive = adc ? Array.from(adc).filter((f) => f > 0) : [];
    calibration.push({
      node,
      group,
      method: layer.chip.calibration.method,
      dacMaxAbs: r.dacMaxAbs,
      adcFullScaleMicroAmps: adc ? [positive.length ? Math.min(...positive) : 0, positive.length ? Math.max(...positive) : 0] : null,
    });
  }
  return { layers: out, calibration };
}

/**
 * A single programmed layer's converter ranges calibrated on its inputs `x`
 * [rows × fanIn] (the layer-level API: `programLayer` then this, before `analogMvm`).
 * Returns the layer with ranges set (the given one, if its chip needs no data).
 */
export function calibrateLayer(layer: ProgrammedLayer, x: tf.Tensor2D): ProgrammedLayer {
  if (!needsCalibrationData(layer.chip)) return layer;
  if (x.shape[0] === 0) throw new DataError('calibration', 'the calibration batch is empty: give at least one input');
  const matrices = new BlockMatrices();
  try {
    return withRanges(layer, rangesOn(layer, x, x.shape[0], matrices));
  } finally {
    matrices.dispose();
  }
}

/** Whether the fast calibration path (one amplitude-coded MVM of one cell array) runs this layer exactly. */
const isPlain = (l: ProgrammedLayer) => !l.slices && inputEncodingOf(l.chip).kind === 'amplitude';

/**
 * Add a layer's ADC currents for inputs `x` through `dac` to its stats: the
 * amplitude-coded currents, or for a bit-serial input every binary plane's (what
 * the ADC converts each cycle).
 */
function observeAdc(l: ProgrammedLayer, x: tf.Tensor2D, dac: DacSpec, stats: AdcStats, histogram: boolean, matrices: BlockMatrices): void {
  forRowChunks(x, (rows) => observeAdcRows(l, rows, dac, stats, histogram, matrices));
}

/** {@link observeAdc} on one slice of rows. */
function observeAdcRows(l: ProgrammedLayer, x: tf.Tensor2D, dac: DacSpec, stats: AdcStats, histogram: boolean, matrices: BlockMatrices): void {
  const encoding = inputEncodingOf(l.chip);
  if (encoding.kind === 'amplitude') {
    const { currents, rowScale } = blockCurrents(l, x, dac, matrices);
    currents.forEach((cur, a) => {
      observeCurrents(l, stats[a], cur, histogram);
      cur.dispose();
    });
    rowScale.dispose();
    return;
  }
  const v = tf.tidy(() => applyDac(x, { ...dac, bits: null }).normalized);
  forEachBitPlane(v, encoding.bits, (plane) => {
    const { currents, rowScale } = blockCurrents(l, plane, { bits: null, range: { kind: 'fixed', maxAbs: 1 } }, matrices);
    currents.forEach((cur, a) => {
      observeCurrents(l, stats[a], cur, histogram);
      cur.dispose();
    });
    rowScale.dispose();
  });
  v.dispose();
}

/** Ranges of one (non-recurrent) layer from its whole calibration input `x` [rows × fanIn]. */
function rangesOn(l: ProgrammedLayer, x: tf.Tensor2D, samples: number, matrices: BlockMatrices): CalibratedRanges {
  if (l.slices) {
    // Each slice's ADCs are calibrated on its own currents; the DAC range (the shared input's) is the same for all.
    const per = l.slices.map((sl) => rangesOn(sl, x, samples, matrices));
    return { ...per[0], slices: per };
  }
  const percentile = l.chip.calibration.method === 'percentile';
  const dacMaxAbs = needsDac(l)
    ? dacRange(l, statOf(() => x.dataSync() as Float32Array, maxAbsOf(x), percentile, 4096))
    : null;
  let adcFullScaleMicroAmps: Float32Array | null = null;
  if (needsAdc(l)) {
    const stats = newAdcStats(l);
    const dac = dacWith(l, dacMaxAbs);
    observeAdc(l, x, dac, stats, false, matrices);
    if (percentile) {
      stats.flat().forEach((g) => g.beginHistogram());
      observeAdc(l, x, dac, stats, true, matrices);
    }
    adcFullScaleMicroAmps = adcRanges(l, stats);
  }
  return { dacMaxAbs, adcFullScaleMicroAmps, samples };
}

/**
 * Ranges by `max` of a plain layer ({@link isPlain}) and its noise-free converted
 * output on `x`, from one product: the column currents the ADC ranges are read from
 * are the ones the calibrated layer converts (the DAC range, set first, is the same
 * for both), so they are kept and converted rather than computed a second time.
 * The output is bit for bit {@link noiseFreeMvm}'s on the calibrated layer. Null
 * for any other layer or method (they take {@link rangesOn}, then the MVM).
 */
function calibratedOutput(
  base: ProgrammedLayer,
  x: tf.Tensor2D,
  samples: number,
  matrices: BlockMatrices,
): { ranges: CalibratedRanges; layer: ProgrammedLayer; output: tf.Tensor2D } | null {
  if (!isPlain(base) || base.chip.calibration.method !== 'max') return null;
  const dacMaxAbs = needsDac(base) ? dacRange(base, statOf(() => new Float32Array(0), maxAbsOf(x), false, 4096)) : null;
  // A tall patch matrix is read out of the heap once, for its row slices.
  const data = x.shape[0] > CALIBRATION_ROWS ? (x.dataSync() as Float32Array) : undefined;
  const dac = dacWith(base, dacMaxAbs);
  const stats = needsAdc(base) ? newAdcStats(base) : null;
  const kept: { currents: tf.Tensor2D[]; rowScale: tf.Tensor2D }[] = [];
  try {
    forRowChunks(x, (rows) => {
      const r = blockCurrents(base, rows, dac, matrices);
      kept.push(r);
      if (stats) r.currents.forEach((cur, a) => observeCurrents(base, stats[a], cur, false));
    }, data);
    const ranges: CalibratedRanges = { dacMaxAbs, adcFullScaleMicroAmps: stats ? adcRanges(base, stats) : null, samples };
    const layer = withRanges(base, ranges);
    const parts = kept.splice(0).map((k) => convertCurrents(layer, k.currents, k.rowScale));
    const output = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
    if (parts.length > 1) tf.dispose(parts);
    return { ranges, layer, output };
  } finally {
    for (const k of kept) tf.dispose([...k.currents, k.rowScale]);
  }
}

/**
 * The layer without read and sensing noise (same conductances and ranges): what the
 * calibration reads run on. Its own object, to dispose after use.
 */
function noiseFreeView(l: ProgrammedLayer): ProgrammedLayer {
  if (l.slices) return combineSlices(l.slices.map(noiseFreeView));
  const { readVarianceMicroSiemens2: _variance, ...stored } = { ...conductancesOf(l) } as ProgrammedConductances;
  const device = { ...l.chip.device, readNoiseRelStd: 0, senseNoiseRelStd: 0 };
  return layerFromConductances({ ...stored, chip: { ...l.chip, device }, ...(l.ranges ? { ranges: l.ranges } : {}) });
}

/** Noise-free converted MVM of any layer, sliced or bit-serial too (through the engine's own MVM). */
function noiseFreeMvm(l: ProgrammedLayer, x: tf.Tensor2D, matrices: BlockMatrices): tf.Tensor2D {
  if (isPlain(l)) return convertedMvm(l, x, matrices);
  const view = noiseFreeView(l);
  try {
    return analogMvm(view, x, Rng.fromSeed(0));
  } finally {
    view.dispose();
  }
}

/** How {@link calibrateRanges} runs its batch. */
export interface CalibrationRunOptions {
  /**
   * Each non-recurrent layer sees the whole batch in one MVM, so it is calibrated on
   * what the calibrated layers upstream give it (default). False, for a batch whose
   * patch matrices would not fit in memory at once: every layer's ranges come from
   * chunked noise-free runs with ideal converters upstream (as recurrent layers'
   * always do), and the batch may then clip a little on the converted chip.
   */
  readonly wholeBatch?: boolean;
}

/**
 * Ranges of the layers in `todo` whose node `which` selects, over all their MVMs,
 * from noise-free runs with ideal converters: for recurrent layers (each step's
 * inputs arrive in a separate MVM, so a layer's range cannot be known before its
 * first step has to be converted), and for every layer of a batch too big to take whole.
 */
function idealRanges(
  executor: GraphExecutor,
  layers: Layers,
  inputs: ExecutorInputs,
  todo: ReadonlySet<string>,
  samples: number,
  matrices: BlockMatrices,
  which: (node: AnalogNode) => boolean,
): Map<string, CalibratedRanges> {
  const found = new Map<string, CalibratedRanges>();
  const keys = new Set<string>();
  for (const n of executor.graph.nodes) {
    if (!isAnalogNode(n) || !which(n)) continue;
    layers.get(n.name)?.forEach((_, g) => todo.has(keyOf(n.name, g)) && keys.add(keyOf(n.name, g)));
  }
  if (keys.size === 0) return found;
  const weights = new Map<string, tf.Tensor2D>();
  const dac = new Map<string, AbsStat>();
  /** Per key, per physical layer (a bit-sliced layer's slices). */
  const adc = new Map<string, AdcStats[]>();
  const layerOf = (key: string) => {
    const [node, group] = key.split('\u0000');
    return layers.get(node)![Number(group)];
  };
  try {
    for (const [node, ls] of layers) {
      ls.forEach((l, group) => weights.set(keyOf(node, group), tf.keep(tf.tensor2d(programmedWeights(l), [l.fanIn, l.fanOut]))));
    }
    const run = (observe: (l: ProgrammedLayer, x: tf.Tensor2D, key: string) => void) => {
      const mvm: MvmHook = (node, x, site) => {
        const key = keyOf(node.name, site.group);
        if (keys.has(key)) observe(layerOf(key), x, key);
        return tf.matMul(x, weights.get(key)!);
      };
      tf.dispose(executor.runAll(inputs, { mvm, noise: NOISE_OFF }));
    };
    for (const key of keys) {
      dac.set(key, new AbsStat(4096));
      adc.set(key, physicalLayers(layerOf(key)).map(newAdcStats));
    }
    const percentile = [...keys].some((k) => layerOf(k).chip.calibration.method === 'percentile');
    run((l, x, key) => {
      if (needsDac(l)) dac.get(key)!.max = Math.max(dac.get(key)!.max, tf.tidy(() => tf.max(tf.abs(x))).dataSync()[0]);
    });
    if (percentile) {
      for (const key of keys) if (layerOf(key).chip.calibration.method === 'percentile') dac.get(key)!.beginHistogram();
      run((l, x, key) => dac.get(key)!.hist && dac.get(key)!.addHistogram(x.dataSync() as Float32Array));
    }
    const dacMax = new Map([...keys].map((k) => [k, needsDac(layerOf(k)) ? dacRange(layerOf(k), dac.get(k)!) : null]));
    const observeAll = (histogram: boolean) =>
      run((l, x, key) => {
        if (!needsAdc(l)) return;
        physicalLayers(l).forEach((p, s) => observeAdc(p, x, dacWith(p, dacMax.get(key)!), adc.get(key)![s], histogram, matrices));
      });
    observeAll(false);
    if (percentile) {
      for (const key of keys) if (layerOf(key).chip.calibration.method === 'percentile') adc.get(key)!.flat(2).forEach((g) => g.beginHistogram());
      observeAll(true);
    }
    for (const key of keys) {
      const l = layerOf(key);
      const per = physicalLayers(l).map((p, s) => ({ dacMaxAbs: dacMax.get(key)!, adcFullScaleMicroAmps: needsAdc(p) ? adcRanges(p, adc.get(key)![s]) : null, samples }));
      found.set(key, l.slices ? { ...per[0], slices: per } : per[0]);
    }
    return found;
  } finally {
    tf.dispose([...weights.values()]);
  }
}

/** Ranges of `from` (calibrated layers) set on the matching layers of `to` (the same chip read later). */
export function transplantRanges(from: Layers, to: Layers): Map<string, ProgrammedLayer[]> {
  const out = new Map<string, ProgrammedLayer[]>();
  for (const [node, ls] of to) {
    out.set(node, ls.map((l, group) => {
      const r = from.get(node)?.[group]?.ranges;
      return r ? withRanges(l, r) : l;
    }));
  }
  return out;
}

/** (G⁺ − G⁻)·scale·driftGain: what the layer computes with no read noise and ideal converters. */
function programmedWeights(l: ProgrammedLayer): Float32Array {
  if (l.effectiveWeights) return l.effectiveWeights;
  if (l.slices) {
    // A bit-sliced layer computes the sum of its slices.
    const w = new Float32Array(l.fanIn * l.fanOut);
    for (const sl of l.slices) programmedWeights(sl).forEach((v, k) => (w[k] += v));
    return w;
  }
  const w = new Float32Array(l.fanIn * l.fanOut);
  for (let i = 0; i < l.fanIn; i++) {
    for (let j = 0; j < l.fanOut; j++) {
      const k = i * l.fanOut + j;
      w[k] = (l.gPlus[k] - l.gMinus[k]) * l.weightPerMicroSiemens[j] * l.driftGain;
    }
  }
  return w;
}

function firstDim(inputs: ExecutorInputs): number {
  if (inputs instanceof tf.Tensor) return inputs.shape[0] ?? 0;
  const list = Array.isArray(inputs) ? inputs : Object.values(inputs as Record<string, tf.Tensor>);
  return list.length ? (list[0].shape[0] ?? 0) : 0;
}
