/**
 * One weight matrix programmed onto crossbar tiles, and its analog MVM.
 *
 * Program time (static, drawn once per `programLayer(…, rng)`): weights → target
 * differential conductances → stuck-at faults → programming noise → drift to the
 * read time. Run time (dynamic, per MVM): DAC → per-tile column currents with read
 * noise and sensing noise → per-tile ADC → digital sum of the row blocks' partial
 * sums → back to weight units.
 *
 * Read noise is evaluated exactly without per-cell draws: with independent
 * Gaussian cell fluctuations G(1 + σ_r·ε), a column current is Gaussian with mean
 * Σ V·G and variance σ_r²·Σ V²·(G⁺² + G⁻²). That costs a second GEMM on squared
 * operands instead of rows × cols × batch random numbers. Sensing noise adds an
 * independent σ_s·I_fs per column, so one normal draw per tile output suffices.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import type { ChipSpec } from './chipSpec';
import { applyAdc, signedLevels } from './adc';
import { applyDac } from './dac';
import { checkWeightMatrix, weightsToConductances, type WeightMatrix } from './mapping';
import { applyProgrammingNoise } from './noise/programmingNoise';
import { applyStuckAt } from './noise/stuckAt';
import { applyDrift } from './noise/drift';
import { tileGrid, type TileGrid } from './tiling';
import { ShapeError } from '../errors';

/** One horizontal band of tiles: the rows [row0, row0 + rows) of every column block. */
interface RowBlock {
  readonly row0: number;
  readonly rows: number;
  /** (G⁺ − G⁻) for these rows, [rows × fanOut], µS. */
  readonly gDiff: tf.Tensor2D;
  /** σ_read²·(G⁺² + G⁻²) for these rows, µS²: the read-noise variance per V²; only when read noise is on. */
  readonly gSq: tf.Tensor2D | null;
  /** Per output column, the full scale of the ADC of the tile holding it, µA. */
  readonly fullScaleMicroAmps: Float32Array;
  /**
   * [1 × fanOut], in µA / V_read units: ADC codes per unit current (levels / I_fs),
   * current per code (I_fs / levels), and the sensing-noise variance.
   */
  readonly adcCodesPerUnit: tf.Tensor2D;
  readonly adcUnitsPerCode: tf.Tensor2D;
  readonly senseVarianceN: tf.Tensor2D;
}

/** What a programming draw did, for reports. */
export interface ProgrammingStats {
  readonly cells: number;
  readonly clippedCells: number;
  readonly stuckCells: number;
}

/** Counters a caller may pass to `analogMvm` to accumulate run statistics. */
export interface MvmStats {
  mvms: number;
  dacClipped: number;
  adcClipped: number;
  adcConversions: number;
  /** Σ V²·G·t over every cell read, pJ. */
  cellEnergyPicojoules: number;
}

export function emptyMvmStats(): MvmStats {
  return { mvms: 0, dacClipped: 0, adcClipped: 0, adcConversions: 0, cellEnergyPicojoules: 0 };
}

/**
 * A programmed layer: its stored conductances (see {@link ProgrammedConductances}:
 * programmed G⁺/G⁻ after faults, noise and drift, the noise-free targets, the weight
 * scale with W = (G⁺ − G⁻)·weightPerMicroSiemens[j], and the drift-compensation gain)
 * plus what running it needs.
 */
export interface ProgrammedLayer extends ProgrammedConductances {
  readonly grid: TileGrid;
  /** Per word line, Σ_j (G⁺ + G⁻), µS: the read energy is t·V²·this. */
  readonly rowConductanceMicroSiemens: Float32Array;
  readonly rowBlocks: readonly RowBlock[];
  /**
   * The programmed weights (G⁺ − G⁻)·scale·driftGain as one [fanIn × fanOut] tensor,
   * present when the run is linear and noise-free (ideal converters, no read or
   * sensing noise): the MVM is then exactly one matMul.
   */
  readonly effectiveWeights: tf.Tensor2D | null;
  /** [1 × fanOut]: weightPerMicroSiemens · driftGain, the digital gain after the ADCs. */
  readonly outputScale: tf.Tensor2D;
  /** [fanIn × 1]: rowConductanceMicroSiemens as a tensor (read energy). */
  readonly rowConductanceT: tf.Tensor2D;
  /** Frees the tensors held for this layer. */
  dispose(): void;
}

function sumAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s;
}

/**
 * Program `weights` onto the chip's tiles, drawing the static noise from `rng`.
 * Streams are derived by label, so the draw of one layer does not depend on others.
 */
export function programLayer(weights: WeightMatrix, chip: ChipSpec, rng: Rng): ProgrammedLayer {
  checkWeightMatrix(weights);
  const { fanIn, fanOut } = weights;
  const d = chip.device;
  const target = weightsToConductances(weights, d, chip.mapping.weightScale);
  const gPlus = target.gPlus.slice();
  const gMinus = target.gMinus.slice();
  const halves: Array<[Float32Array, string]> = [[gPlus, 'plus'], [gMinus, 'minus']];
  let stuckCells = 0;
  let clippedCells = 0;
  for (const [g, label] of halves) {
    const r = rng.fold(label);
    stuckCells += applyStuckAt(g, {
      gMinFraction: d.stuckAtGMinFraction,
      gMaxFraction: d.stuckAtGMaxFraction,
      gMinMicroSiemens: d.gMinMicroSiemens,
      gMaxMicroSiemens: d.gMaxMicroSiemens,
    }, r.fold('stuckAt'));
    clippedCells += applyProgrammingNoise(g, {
      relStd: d.programmingNoiseRelStd,
      addMicroSiemens: d.programmingNoiseAddMicroSiemens,
      gMaxMicroSiemens: d.gMaxMicroSiemens,
    }, r.fold('programming'));
  }
  // Calibration read right after programming, to compensate drift globally later.
  const beforeDrift = sumAbsDiff(gPlus, gMinus);
  for (const [g, label] of halves) {
    applyDrift(g, {
      nuMean: d.driftNuMean,
      nuStd: d.driftNuStd,
      t0Seconds: d.driftT0Seconds,
      tSeconds: chip.readTimeSeconds,
    }, rng.fold(label).fold('drift'));
  }
  const afterDrift = sumAbsDiff(gPlus, gMinus);
  const driftGain = chip.driftCompensation && afterDrift > 0 ? beforeDrift / afterDrift : 1;
  return layerFromConductances({
    fanIn,
    fanOut,
    chip,
    gPlus,
    gMinus,
    targetPlus: target.gPlus,
    targetMinus: target.gMinus,
    weightPerMicroSiemens: target.weightPerMicroSiemens,
    driftGain,
    programming: { cells: 2 * fanIn * fanOut, clippedCells, stuckCells },
  });
}

/** The stored state of a programmed layer: everything a draw decided. */
export interface ProgrammedConductances {
  readonly fanIn: number;
  readonly fanOut: number;
  readonly chip: ChipSpec;
  readonly gPlus: Float32Array;
  readonly gMinus: Float32Array;
  readonly targetPlus: Float32Array;
  readonly targetMinus: Float32Array;
  readonly weightPerMicroSiemens: Float64Array;
  readonly driftGain: number;
  readonly programming: ProgrammingStats;
}

/**
 * Build the runnable layer (tiles, ADC ranges, tensors) from programmed
 * conductances: used after a programming draw and when loading a saved chip.
 */
export function layerFromConductances(c: ProgrammedConductances): ProgrammedLayer {
  const { fanIn, fanOut, chip, gPlus, gMinus, driftGain } = c;
  const d = chip.device;
  if (gPlus.length !== fanIn * fanOut || gMinus.length !== fanIn * fanOut || c.weightPerMicroSiemens.length !== fanOut) {
    throw new ShapeError(`programmed layer: conductance arrays do not match shape [${fanIn}, ${fanOut}]`);
  }
  const grid = tileGrid(fanIn, fanOut, chip.tile);
  const rowConductance = new Float32Array(fanIn);
  for (let i = 0; i < fanIn; i++) {
    let s = 0;
    for (let j = 0; j < fanOut; j++) s += gPlus[i * fanOut + j] + gMinus[i * fanOut + j];
    rowConductance[i] = s;
  }
  const needSq = d.readNoiseRelStd > 0;
  const vRead = d.readVoltageVolts;
  const rowBlocks: RowBlock[] = [];
  // 1 for an ideal ADC, so the code tensors stay finite (they are unused then).
  const adcLevels = chip.adc.bits === null ? 1 : signedLevels(chip.adc.bits);
  for (let a = 0; a < grid.rowBlocks; a++) {
    const row0 = a * chip.tile.rows;
    const rows = Math.min(chip.tile.rows, fanIn - row0);
    const diff = new Float32Array(rows * fanOut);
    const sq = needSq ? new Float32Array(rows * fanOut) : null;
    const colAbs = new Float64Array(fanOut);
    for (let i = 0; i < rows; i++) {
      const src = (row0 + i) * fanOut;
      for (let j = 0; j < fanOut; j++) {
        const p = gPlus[src + j];
        const m = gMinus[src + j];
        diff[i * fanOut + j] = p - m;
        colAbs[j] += Math.abs(p - m);
        if (sq) sq[i * fanOut + j] = d.readNoiseRelStd * d.readNoiseRelStd * (p * p + m * m);
      }
    }
    // ADC full scale per tile: its worst column with every input at ±V_read.
    const fullScale = new Float32Array(fanOut);
    for (let b = 0; b < grid.colBlocks; b++) {
      const c0 = b * chip.tile.cols;
      const c1 = Math.min(fanOut, c0 + chip.tile.cols);
      let worst = 0;
      for (let j = c0; j < c1; j++) worst = Math.max(worst, colAbs[j]);
      const fs = worst > 0 ? worst * vRead * chip.adc.rangeFraction : 1e-12;
      fullScale.fill(fs, c0, c1);
    }
    const fsN = fullScale.map((f) => f / vRead);
    rowBlocks.push({
      row0,
      rows,
      gDiff: tf.tensor2d(diff, [rows, fanOut]),
      gSq: sq ? tf.tensor2d(sq, [rows, fanOut]) : null,
      fullScaleMicroAmps: fullScale,
      adcCodesPerUnit: tf.tensor2d(fsN.map((f) => adcLevels / f), [1, fanOut]),
      adcUnitsPerCode: tf.tensor2d(fsN.map((f) => f / adcLevels), [1, fanOut]),
      senseVarianceN: tf.tensor2d(fsN.map((f) => (d.senseNoiseRelStd * f) ** 2), [1, fanOut]),
    });
  }
  const linear =
    chip.dac.bits === null && chip.dac.range.kind === 'perInputAbsMax' && chip.adc.bits === null &&
    d.readNoiseRelStd === 0 && d.senseNoiseRelStd === 0;
  const outputScale = tf.tensor2d(Float32Array.from(c.weightPerMicroSiemens, (w) => w * driftGain), [1, fanOut]);
  const rowConductanceT = tf.tensor2d(rowConductance, [fanIn, 1]);
  let effectiveWeights: tf.Tensor2D | null = null;
  if (linear) {
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < fanIn; i++) {
      for (let j = 0; j < fanOut; j++) {
        const k = i * fanOut + j;
        w[k] = (gPlus[k] - gMinus[k]) * c.weightPerMicroSiemens[j] * driftGain;
      }
    }
    effectiveWeights = tf.tensor2d(w, [fanIn, fanOut]);
  }
  return {
    fanIn,
    fanOut,
    chip,
    grid,
    effectiveWeights,
    gPlus,
    gMinus,
    targetPlus: c.targetPlus,
    targetMinus: c.targetMinus,
    weightPerMicroSiemens: c.weightPerMicroSiemens,
    driftGain,
    programming: c.programming,
    rowConductanceMicroSiemens: rowConductance,
    rowBlocks,
    outputScale,
    rowConductanceT,
    dispose() {
      effectiveWeights?.dispose();
      outputScale.dispose();
      rowConductanceT.dispose();
      for (const rb of rowBlocks) {
        tf.dispose([rb.gDiff, rb.adcCodesPerUnit, rb.adcUnitsPerCode, rb.senseVarianceN]);
        rb.gSq?.dispose();
      }
    },
  };
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

/**
 * One analog MVM of a batch: x [batch × fanIn] → y [batch × fanOut] in weight·input
 * units (bias, if any, is added digitally by the caller). Fresh read and sensing
 * noise come from `rng`; `stats`, when given, accumulates converter and energy counts.
 *
 * Everything stays in tfjs ops (wasm) except the normal draws: per row block, the
 * column currents (one GEMM), their read-noise variance (a second GEMM on squared
 * operands), one N(0,1) per tile output scaled by the total std, the tile's ADC,
 * and the digital sum of the row blocks.
 */
export function analogMvm(layer: ProgrammedLayer, x: tf.Tensor2D, rng: Rng, stats?: MvmStats): tf.Tensor2D {
  const [batch, fanIn] = x.shape;
  if (fanIn !== layer.fanIn) {
    throw new ShapeError(`analog MVM: input has ${fanIn} features, the layer's fan-in is ${layer.fanIn}`);
  }
  if (layer.effectiveWeights && !stats) return tf.matMul(x, layer.effectiveWeights);
  const { chip, fanOut } = layer;
  const d = chip.device;
  const sigmaRead = d.readNoiseRelStd;
  const noisy = sigmaRead > 0 || d.senseNoiseRelStd > 0;
  const adcLevels = chip.adc.bits === null ? 0 : signedLevels(chip.adc.bits);
  const eps = noisy ? new Float32Array(batch * fanOut) : null;
  const counters: tf.Scalar[] = [];
  const out = tf.tidy(() => {
    const dac = applyDac(x, chip.dac, stats !== undefined);
    if (dac.clipped) counters.push(tf.keep(dac.clipped));
    const scale = dac.rowScale;
    const v = dac.normalized;
    const parts = splitRowBlocks(v, layer);
    let acc: tf.Tensor2D | null = null;
    let energy: tf.Tensor | null = null;
    layer.rowBlocks.forEach((rb, a) => {
      const part = parts[a];
      const partSq = sigmaRead > 0 || stats ? tf.square(part) : null;
      let current: tf.Tensor2D = tf.matMul(part, rb.gDiff);
      if (eps) {
        rng.fold(a).fillNormal(eps);
        let variance: tf.Tensor = rb.senseVarianceN;
        if (sigmaRead > 0) variance = tf.add(tf.matMul(partSq!, rb.gSq!), rb.senseVarianceN);
        current = tf.add(current, tf.mul(tf.sqrt(variance), tf.tensor2d(eps, [batch, fanOut]))) as tf.Tensor2D;
      }
      if (adcLevels) {
        const adc = applyAdc(current, rb.adcCodesPerUnit, rb.adcUnitsPerCode, adcLevels, stats !== undefined);
        if (adc.clipped) counters.push(tf.keep(adc.clipped));
        current = adc.converted;
      }
      acc = (acc === null ? current : tf.add(acc, current)) as tf.Tensor2D;
      if (stats) {
        // Σ V²·G·t over every cell read: (V/V_read)² · ΣG per word line, summed.
        const rowG = layer.rowBlocks.length === 1 ? layer.rowConductanceT : tf.slice(layer.rowConductanceT, [rb.row0, 0], [rb.rows, 1]);
        const e = tf.sum(tf.matMul(partSq!, rowG));
        energy = energy === null ? e : tf.add(energy, e);
      }
    });
    if (stats) counters.push(tf.keep(energy!) as tf.Scalar);
    // Back to weight units: undo the input normalisation, apply the column's weight scale.
    return tf.mul(tf.mul(acc!, scale), layer.outputScale) as tf.Tensor2D;
  });
  if (stats) {
    const values = counters.map((c) => c.dataSync()[0]);
    tf.dispose(counters);
    const energy = values.pop()!;
    let k = 0;
    if (chip.dac.range.kind === 'fixed') stats.dacClipped += values[k++];
    if (adcLevels) for (; k < values.length; k++) stats.adcClipped += values[k];
    stats.mvms += batch;
    stats.adcConversions += batch * fanOut * layer.rowBlocks.length;
    // µS · V² · ns = 1e-15 J = 1e-3 pJ.
    stats.cellEnergyPicojoules += energy * d.readVoltageVolts ** 2 * d.readPulseNs * 1e-3;
  }
  return out;
}
