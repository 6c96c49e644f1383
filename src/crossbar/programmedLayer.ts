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
import { applyDac } from './dac';
import { signedLevels } from './adc';
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
  /** G⁺² + G⁻² for these rows, µS²; only when read noise is on. */
  readonly gSq: tf.Tensor2D | null;
  /** Per output column, the full scale of the ADC of the tile holding it, µA. */
  readonly fullScaleMicroAmps: Float32Array;
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

export interface ProgrammedLayer {
  readonly fanIn: number;
  readonly fanOut: number;
  readonly chip: ChipSpec;
  readonly grid: TileGrid;
  /** Programmed G⁺ (after faults, noise and drift), [fanIn × fanOut] µS. */
  readonly gPlus: Float32Array;
  readonly gMinus: Float32Array;
  /** Target G⁺/G⁻ before any noise. */
  readonly targetPlus: Float32Array;
  readonly targetMinus: Float32Array;
  /** W = (G⁺ − G⁻)·weightPerMicroSiemens[j]. */
  readonly weightPerMicroSiemens: Float64Array;
  /** Digital gain applied to outputs by global drift compensation (1 when off). */
  readonly driftGain: number;
  readonly programming: ProgrammingStats;
  /** Per word line, Σ_j (G⁺ + G⁻), µS: the read energy is t·V²·this. */
  readonly rowConductanceMicroSiemens: Float32Array;
  readonly rowBlocks: readonly RowBlock[];
  /**
   * The programmed weights (G⁺ − G⁻)·scale·driftGain as one [fanIn × fanOut] tensor,
   * present when the run is linear and noise-free (ideal converters, no read or
   * sensing noise): the MVM is then exactly one matMul.
   */
  readonly effectiveWeights: tf.Tensor2D | null;
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
        if (sq) sq[i * fanOut + j] = p * p + m * m;
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
    rowBlocks.push({
      row0,
      rows,
      gDiff: tf.tensor2d(diff, [rows, fanOut]),
      gSq: sq ? tf.tensor2d(sq, [rows, fanOut]) : null,
      fullScaleMicroAmps: fullScale,
    });
  }
  const linear =
    chip.dac.bits === null && chip.dac.range.kind === 'perInputAbsMax' && chip.adc.bits === null &&
    d.readNoiseRelStd === 0 && d.senseNoiseRelStd === 0;
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
    dispose() {
      effectiveWeights?.dispose();
      for (const rb of rowBlocks) {
        rb.gDiff.dispose();
        rb.gSq?.dispose();
      }
    },
  };
}

/** Products of every row block of `v` ([batch × fanIn]) with the given per-block matrices. */
function blockProducts(v: tf.Tensor2D, layer: ProgrammedLayer, which: 'gDiff' | 'gSq', square: boolean): Float32Array[] {
  const results: Float32Array[] = [];
  // Results leave through the closure: tf.tidy walks its return value element by
  // element, which for large typed arrays costs more than the GEMMs themselves.
  tf.tidy(() => {
    const src = square ? tf.square(v) : v;
    for (const rb of layer.rowBlocks) {
      const part = layer.rowBlocks.length === 1 ? src : tf.slice(src, [0, rb.row0], [-1, rb.rows]);
      results.push(tf.matMul(part, rb[which] as tf.Tensor2D).dataSync() as Float32Array);
    }
  });
  return results;
}

/**
 * One analog MVM of a batch: x [batch × fanIn] → y [batch × fanOut] in weight·input
 * units (bias, if any, is added digitally by the caller). Fresh read and sensing
 * noise come from `rng`; `stats`, when given, accumulates converter and energy counts.
 */
export function analogMvm(layer: ProgrammedLayer, x: tf.Tensor2D, rng: Rng, stats?: MvmStats): tf.Tensor2D {
  const [batch, fanIn] = x.shape;
  if (fanIn !== layer.fanIn) {
    throw new ShapeError(`analog MVM: input has ${fanIn} features, the layer's fan-in is ${layer.fanIn}`);
  }
  const { chip, fanOut } = layer;
  const d = chip.device;
  if (layer.effectiveWeights && !stats) return tf.matMul(x, layer.effectiveWeights);
  const dac = applyDac(x.dataSync() as Float32Array, batch, fanIn, chip.dac);
  const v = tf.tensor2d(dac.normalized, [batch, fanIn]);
  const vRead = d.readVoltageVolts;
  const sigmaRead = d.readNoiseRelStd;
  const sigmaSense = d.senseNoiseRelStd;
  const adcLevels = chip.adc.bits === null ? 0 : signedLevels(chip.adc.bits);
  let means: Float32Array[];
  let variances: Float32Array[] | null;
  try {
    means = blockProducts(v, layer, 'gDiff', false);
    variances = sigmaRead > 0 ? blockProducts(v, layer, 'gSq', true) : null;
  } finally {
    v.dispose();
  }
  const noisy = sigmaRead > 0 || sigmaSense > 0;
  const eps = noisy ? new Float32Array(batch * fanOut) : null;
  const out = new Float32Array(batch * fanOut);
  let adcClipped = 0;
  // Work in currents divided by V_read (the GEMMs ran on normalised inputs), so the
  // hot loop needs no unit factors. Converter math is inlined: a call per element
  // through a module export costs more than the arithmetic.
  const readVarFactor = sigmaRead * sigmaRead;
  const fsN = new Float64Array(fanOut);
  const invFsN = new Float64Array(fanOut);
  const senseVarN = new Float64Array(fanOut);
  for (let a = 0; a < layer.rowBlocks.length; a++) {
    const mean = means[a];
    const variance = variances ? variances[a] : null;
    const fs = layer.rowBlocks[a].fullScaleMicroAmps;
    for (let j = 0; j < fanOut; j++) {
      fsN[j] = fs[j] / vRead;
      invFsN[j] = 1 / fsN[j];
      senseVarN[j] = (sigmaSense * fsN[j]) ** 2;
    }
    if (eps) rng.fold(a).fillNormal(eps);
    for (let b = 0; b < batch; b++) {
      const off = b * fanOut;
      for (let j = 0; j < fanOut; j++) {
        let current = mean[off + j];
        if (eps !== null) {
          const v = variance !== null ? readVarFactor * variance[off + j] + senseVarN[j] : senseVarN[j];
          current += Math.sqrt(v) * eps[off + j];
        }
        if (adcLevels !== 0) {
          let u = current * invFsN[j];
          if (u > 1) { u = 1; adcClipped++; } else if (u < -1) { u = -1; adcClipped++; }
          current = (Math.round(u * adcLevels) / adcLevels) * fsN[j];
        }
        out[off + j] += current;
      }
    }
  }
  // Back to weight units: multiply by the column's weight scale, undo the DAC's
  // input normalisation, and apply drift compensation.
  for (let b = 0; b < batch; b++) {
    const k = dac.rowScale[b] * layer.driftGain;
    const off = b * fanOut;
    for (let j = 0; j < fanOut; j++) out[off + j] *= k * layer.weightPerMicroSiemens[j];
  }
  const v2 = vRead * vRead;
  if (stats) {
    stats.mvms += batch;
    stats.dacClipped += dac.clipped;
    stats.adcClipped += adcClipped;
    stats.adcConversions += batch * fanOut * layer.rowBlocks.length;
    let e = 0;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < fanIn; i++) {
        const vn = dac.normalized[b * fanIn + i];
        e += vn * vn * layer.rowConductanceMicroSiemens[i];
      }
    }
    // µS · V² · ns = 1e-15 J = 1e-3 pJ.
    stats.cellEnergyPicojoules += e * v2 * d.readPulseNs * 1e-3;
  }
  return tf.tensor2d(out, [batch, fanOut]);
}
