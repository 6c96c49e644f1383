/**
 * The analog MVM of a programmed layer on TensorFlow.js tensors (the reference
 * engine; the onnxruntime engine lowers the same steps to an ONNX graph):
 * DAC → per row block of tiles, column currents (one GEMM) with read noise (a second
 * GEMM on squared operands: for independent Gaussian cell fluctuations the column
 * current is Gaussian with variance Σ V²·σ²(G)) and sensing noise → per-tile ADC →
 * digital sum of the row blocks → back to weight units.
 *
 * Noise is keyed by sample (`rng.fold(block).fold(sample)`, see
 * `fillSampleKeyedNormals`), so a sample's draw does not depend on its batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import { applyAdc, signedLevels } from './adc';
import { applyDac } from './dac';
import { ShapeError } from '../errors';
import { assertCalibrated, onLayerDispose, type ProgrammedLayer } from './layerState';
import { channelsLastFromFirst, fillSampleKeyedNormals } from './noise/sampleKeyedNoise';
import { bitSerialLevels, inputCyclesOf, inputEncodingOf } from './slicing';

/**
 * Counters a caller may pass to `analogMvm` to accumulate run statistics: what the
 * peripheral energy model (`peripherals.ts`) turns into measured energy.
 */
export interface MvmStats {
  /** Input vectors multiplied (rows of the MVM input: samples × positions or steps). */
  mvms: number;
  dacClipped: number;
  adcClipped: number;
  /** One per output column of every row block of tiles per MVM (each also takes one sense-amplifier sample). */
  adcConversions: number;
  /** Σ V²·G·t over every cell read, pJ. */
  cellEnergyPicojoules: number;
  /**
   * Word-line drives: the DAC codes that are not zero, once per column block of tiles
   * (a zero input leaves its word line at the reference and costs no drive).
   */
  dacDrives: number;
  /** Digital additions of row blocks' partial sums after their ADCs: (row blocks − 1) per output column per MVM. */
  digitalAdds: number;
  /** Digital multiplications by the output gain (weight scale, drift gain, DAC range): one per output column per MVM. */
  digitalMultiplies: number;
  /**
   * Shift-and-adds of converted outputs: (cycles − 1) per output column per row block
   * of a bit-serial input, and (k − 1) per output column to combine k weight slices.
   */
  shiftAdds: number;
  /** Read cycles: one per MVM for amplitude-coded inputs, n − 1 for n-bit bit-serial ones (slices read in parallel). */
  inputCycles: number;
}

export function emptyMvmStats(): MvmStats {
  return {
    mvms: 0, dacClipped: 0, adcClipped: 0, adcConversions: 0, cellEnergyPicojoules: 0,
    dacDrives: 0, digitalAdds: 0, digitalMultiplies: 0, shiftAdds: 0, inputCycles: 0,
  };
}

/** Adds `b`'s counts into `a` (returns `a`). */
export function addMvmStats(a: MvmStats, b: MvmStats): MvmStats {
  a.mvms += b.mvms;
  a.dacClipped += b.dacClipped;
  a.adcClipped += b.adcClipped;
  a.adcConversions += b.adcConversions;
  a.cellEnergyPicojoules += b.cellEnergyPicojoules;
  a.dacDrives += b.dacDrives;
  a.digitalAdds += b.digitalAdds;
  a.digitalMultiplies += b.digitalMultiplies;
  a.shiftAdds += b.shiftAdds;
  a.inputCycles += b.inputCycles;
  return a;
}

/**
 * How the rows of an MVM's input map to samples: `positions` consecutive rows per
 * sample (a convolution's output positions; 1 for a dense layer), the first row
 * belonging to sample `sampleStart`; `channelsFirst` when the sample's canonical
 * noise order is `[fanOut, positions]` (images) rather than `[positions, fanOut]`.
 */
export interface SampleLayout {
  readonly sampleStart: number;
  readonly positions: number;
  readonly channelsFirst: boolean;
}

export const ONE_ROW_PER_SAMPLE: SampleLayout = Object.freeze({ sampleStart: 0, positions: 1, channelsFirst: false });

interface LayerTensors {
  readonly gDiff: tf.Tensor2D[];
  readonly gSq: (tf.Tensor2D | null)[];
  readonly codesPerUnit: tf.Tensor2D[];
  readonly unitsPerCode: tf.Tensor2D[];
  readonly senseVariance: tf.Tensor2D[];
  readonly effectiveWeights: tf.Tensor2D | null;
  readonly outputScale: tf.Tensor2D;
  readonly rowConductance: tf.Tensor2D;
}

const tensorCache = new WeakMap<ProgrammedLayer, LayerTensors>();

/** The layer's tfjs tensors, created on first use and freed by `layer.dispose()`. */
function tensorsOf(layer: ProgrammedLayer): LayerTensors {
  let t = tensorCache.get(layer);
  if (t) return t;
  const { fanIn, fanOut } = layer;
  // Kept: the first MVM may run inside a caller's tf.tidy, which must not free the cache.
  const mat = (a: Float32Array, rows: number, cols: number) => tf.keep(tf.tensor2d(a, [rows, cols]));
  const row = (a: Float32Array) => mat(a, 1, fanOut);
  t = {
    gDiff: layer.rowBlocks.map((rb) => mat(rb.gDiff, rb.rows, fanOut)),
    // A row-uniform read variance is one column: every column's variance is the same product.
    gSq: layer.rowBlocks.map((rb) => (rb.gSqRow ? mat(rb.gSqRow, rb.rows, 1) : rb.gSq ? mat(rb.gSq, rb.rows, fanOut) : null)),
    codesPerUnit: layer.rowBlocks.map((rb) => row(rb.adcCodesPerUnit)),
    unitsPerCode: layer.rowBlocks.map((rb) => row(rb.adcUnitsPerCode)),
    senseVariance: layer.rowBlocks.map((rb) => row(rb.senseVarianceN)),
    effectiveWeights: layer.effectiveWeights ? mat(layer.effectiveWeights, fanIn, fanOut) : null,
    outputScale: row(layer.outputScale),
    rowConductance: mat(layer.rowConductanceMicroSiemens, fanIn, 1),
  };
  const held = t;
  tensorCache.set(layer, held);
  onLayerDispose(layer, () => {
    tensorCache.delete(layer);
    tf.dispose([...held.gDiff, ...held.codesPerUnit, ...held.unitsPerCode, ...held.senseVariance, held.outputScale, held.rowConductance]);
    held.gSq.forEach((g) => g?.dispose());
    held.effectiveWeights?.dispose();
  });
  return held;
}

/**
 * The row blocks of `v` ([batch × fanIn]) as contiguous [batch × rows] tensors.
 * Column ranges are split with TypedArray copies: tfjs-wasm's Slice on column
 * ranges of a large matrix was the slowest step of a noisy convolution.
 */
function splitRowBlocks(v: tf.Tensor2D, layer: ProgrammedLayer): tf.Tensor2D[] {
  if (layer.rowBlocks.length === 1) return [v];
  const [batch, fanIn] = v.shape;
  const data = v.dataSync() as Float32Array;
  return layer.rowBlocks.map((rb) => {
    const out = new Float32Array(batch * rb.rows);
    for (let b = 0; b < batch; b++) out.set(data.subarray(b * fanIn + rb.row0, b * fanIn + rb.row0 + rb.rows), b * rb.rows);
    return tf.tensor2d(out, [batch, rb.rows]);
  });
}

/** Standard normals for one row block, `[rows, fanOut]` in row order, keyed per sample. */
function blockNormals(site: Rng, rows: number, fanOut: number, layout: SampleLayout): Float32Array {
  const samples = rows / layout.positions;
  const per = fanOut * layout.positions;
  const eps = fillSampleKeyedNormals(new Float32Array(rows * fanOut), site, layout.sampleStart, samples, per);
  return layout.channelsFirst ? channelsLastFromFirst(eps, samples, fanOut, layout.positions) : eps;
}

/**
 * One analog MVM of a batch: x [batch × fanIn] → y [batch × fanOut] in weight·input
 * units (bias, if any, is added digitally by the caller). Fresh read and sensing
 * noise come from `rng` (keyed per sample, see {@link SampleLayout}); `stats`, when
 * given, accumulates converter and energy counts.
 */
export function analogMvm(
  layer: ProgrammedLayer,
  x: tf.Tensor2D,
  rng: Rng,
  stats?: MvmStats,
  layout: SampleLayout = ONE_ROW_PER_SAMPLE,
): tf.Tensor2D {
  const [batch, fanIn] = x.shape;
  if (fanIn !== layer.fanIn) {
    throw new ShapeError(`analog MVM: input has ${fanIn} features, the layer's fan-in is ${layer.fanIn}`);
  }
  if (batch % layout.positions !== 0) {
    throw new ShapeError(`analog MVM: ${batch} input rows are not a whole number of samples of ${layout.positions} positions`);
  }
  if (layer.slices) return slicedMvm(layer.slices, x, rng, stats, layout);
  assertCalibrated(layer);
  const t = tensorsOf(layer);
  if (t.effectiveWeights && !stats) return tf.matMul(x, t.effectiveWeights);
  const { chip, fanOut } = layer;
  const d = chip.device;
  const noisy = layer.rowBlocks.some((rb) => rb.gSq !== null) || d.senseNoiseRelStd > 0;
  const adcLevels = chip.adc.bits === null ? 0 : signedLevels(chip.adc.bits);
  const encoding = inputEncodingOf(chip);
  const cycles = inputCyclesOf(chip);
  const counters: tf.Scalar[] = [];
  const out = tf.tidy(() => {
    // A bit-serial input is only normalised by the DAC range here; its code is the planes'.
    const dac = applyDac(x, encoding.kind === 'bitSerial' ? { ...layer.dac, bits: null } : layer.dac, stats !== undefined);
    if (dac.clipped) counters.push(tf.keep(dac.clipped));
    const scale = dac.rowScale;
    const planes = encoding.kind === 'bitSerial' ? bitPlanes(dac.normalized, encoding.bits) : [dac.normalized];
    const planeWeight = encoding.kind === 'bitSerial' ? 1 / bitSerialLevels(encoding.bits) : 1;
    let drives: tf.Tensor | null = null;
    let energy: tf.Tensor | null = null;
    let total: tf.Tensor2D | null = null;
    planes.forEach((v, cycle) => {
      // Each DAC cycle reads with its own noise, keyed by (cycle, sample).
      const cycleRng = encoding.kind === 'bitSerial' ? rng.fold('cycle').fold(cycle) : rng;
      // Word lines driven: the non-zero codes (each drives one word line per column block).
      if (stats) {
        const dr = tf.sum(tf.cast(tf.notEqual(v, 0), 'float32'));
        drives = drives === null ? dr : tf.add(drives, dr);
      }
      const parts = splitRowBlocks(v, layer);
      let acc: tf.Tensor2D | null = null;
      layer.rowBlocks.forEach((rb, a) => {
        const part = parts[a];
        const gSq = t.gSq[a];
        const partSq = gSq || stats ? tf.square(part) : null;
        let current: tf.Tensor2D = tf.matMul(part, t.gDiff[a]);
        if (noisy) {
          const eps = tf.tensor2d(blockNormals(cycleRng.fold(a), batch, fanOut, layout), [batch, fanOut]);
          const variance: tf.Tensor = gSq ? tf.add(tf.matMul(partSq!, gSq), t.senseVariance[a]) : t.senseVariance[a];
          current = tf.add(current, tf.mul(tf.sqrt(variance), eps)) as tf.Tensor2D;
        }
        if (adcLevels) {
          const adc = applyAdc(current, t.codesPerUnit[a], t.unitsPerCode[a], adcLevels, stats !== undefined);
          if (adc.clipped) counters.push(tf.keep(adc.clipped));
          current = adc.converted;
        }
        acc = (acc === null ? current : tf.add(acc, current)) as tf.Tensor2D;
        if (stats) {
          // Σ V²·G·t over every cell read: (V/V_read)² · ΣG per word line, summed.
          const rowG = layer.rowBlocks.length === 1 ? t.rowConductance : tf.slice(t.rowConductance, [rb.row0, 0], [rb.rows, 1]);
          const e = tf.sum(tf.matMul(partSq!, rowG));
          energy = energy === null ? e : tf.add(energy, e);
        }
      });
      // Shift-add of the cycles' converted outputs: plane t weighs 2^t / (2^{n−1} − 1).
      const weighted = planes.length === 1 ? acc! : (tf.mul(acc!, (2 ** cycle) * planeWeight) as tf.Tensor2D);
      total = total === null ? weighted : (tf.add(total, weighted) as tf.Tensor2D);
    });
    if (stats) counters.push(tf.keep(drives!) as tf.Scalar, tf.keep(energy!) as tf.Scalar);
    // Back to weight units: undo the input normalisation, apply the column's weight scale.
    return tf.mul(tf.mul(total!, scale), t.outputScale) as tf.Tensor2D;
  });
  if (stats) {
    const values = counters.map((c) => c.dataSync()[0]);
    tf.dispose(counters);
    const energy = values.pop()!;
    const drives = values.pop()!;
    let k = 0;
    if (layer.dac.range.kind === 'fixed') stats.dacClipped += values[k++];
    if (adcLevels) for (; k < values.length; k++) stats.adcClipped += values[k];
    const blocks = layer.rowBlocks.length;
    stats.mvms += batch;
    stats.inputCycles += batch * cycles;
    stats.adcConversions += batch * fanOut * blocks * cycles;
    stats.dacDrives += drives * layer.grid.colBlocks;
    stats.digitalAdds += batch * fanOut * (blocks - 1);
    stats.shiftAdds += batch * fanOut * blocks * (cycles - 1);
    stats.digitalMultiplies += batch * fanOut;
    // µS · V² · ns = 1e-15 J = 1e-3 pJ.
    stats.cellEnergyPicojoules += energy * d.readVoltageVolts ** 2 * d.readPulseNs * 1e-3;
  }
  return out;
}

/**
 * The sign-magnitude bit planes of normalised inputs `v` ∈ [−1, 1]: the magnitude
 * coded as c = round(|v|·(2^{n−1} − 1)), plane t = sign(v)·bit_t(c) ∈ {−1, 0, 1}
 * (t = 0 the least significant), n − 1 planes. Computed in JS: exact integer bits.
 */
export function bitPlanes(v: tf.Tensor2D, bits: number): tf.Tensor2D[] {
  const planes: tf.Tensor2D[] = [];
  // Not kept: inside the caller's tf.tidy the planes are freed with it.
  forEachBitPlane(v, bits, (p) => planes.push(p), false);
  return planes;
}

/**
 * {@link bitPlanes} one plane at a time (t = 0 first): `use(plane, t)`, the plane
 * disposed afterwards unless `dispose` is false. For batches too large to hold every plane.
 */
export function forEachBitPlane(v: tf.Tensor2D, bits: number, use: (plane: tf.Tensor2D, t: number) => void, dispose = true): void {
  // The code is rounded by the backend in float32 (half to even), as the onnxruntime engine's Round.
  const codes = tf.tidy(() => tf.round(tf.mul(tf.abs(v), bitSerialLevels(bits))));
  const magnitude = codes.dataSync() as Float32Array;
  codes.dispose();
  const data = v.dataSync() as Float32Array;
  for (let t = 0; t < bits - 1; t++) {
    const plane = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) if ((magnitude[i] >> t) & 1) plane[i] = data[i] < 0 ? -1 : 1;
    const p = tf.tensor2d(plane, v.shape);
    use(p, t);
    if (dispose) p.dispose();
  }
}

/**
 * The MVM of a bit-sliced layer: the sum of its slices' MVMs (each slice's digital
 * gain carries its shift 2^{b(k−1−s)}), slice s's read and sensing noise drawn from
 * `rng.fold('slice').fold(s)`. Counts: every slice's cells, drives and conversions;
 * the input vectors, DAC clipping, cycles and the output gain once; (k − 1)
 * shift-adds per output column to combine the slices.
 */
function slicedMvm(slices: readonly ProgrammedLayer[], x: tf.Tensor2D, rng: Rng, stats: MvmStats | undefined, layout: SampleLayout): tf.Tensor2D {
  const perSlice: MvmStats[] = [];
  const ys = slices.map((slice, s) => {
    const st = stats ? emptyMvmStats() : undefined;
    if (st) perSlice.push(st);
    return analogMvm(slice, x, rng.fold('slice').fold(s), st, layout);
  });
  let out = ys[0];
  for (let s = 1; s < ys.length; s++) {
    const next = tf.add(out, ys[s]) as tf.Tensor2D;
    if (s > 1) out.dispose();
    out = next;
  }
  ys.forEach((y) => y !== out && y.dispose());
  if (stats) {
    const [first] = perSlice;
    const sum = perSlice.reduce((acc, st) => addMvmStats(acc, st), emptyMvmStats());
    const batch = x.shape[0];
    stats.mvms += first.mvms;
    stats.inputCycles += first.inputCycles;
    stats.dacClipped += first.dacClipped;
    stats.digitalMultiplies += first.digitalMultiplies;
    stats.adcClipped += sum.adcClipped;
    stats.adcConversions += sum.adcConversions;
    stats.cellEnergyPicojoules += sum.cellEnergyPicojoules;
    stats.dacDrives += sum.dacDrives;
    stats.digitalAdds += sum.digitalAdds;
    stats.shiftAdds += sum.shiftAdds + (slices.length - 1) * batch * slices[0].fanOut;
  }
  return out;
}
