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
import type { Rng } from '../rng';
import type { ChipSpec } from './chipSpec';
import { checkWeightMatrix, type WeightMatrix } from './mapping';
import { drawProgrammedConductances } from './noise/staticDraw';
import { isSliced } from './slicing';
import { programSlicedLayer } from './slicedLayer';
import { layerFromConductances, type CalibratedRanges, type ProgrammedLayer } from './layerState';

export { layerFromConductances, hasDynamicNoise, assertCalibrated } from './layerState';
export type { ProgrammedLayer, RowBlock, CalibratedRanges } from './layerState';
export { analogMvm, emptyMvmStats, addMvmStats, ONE_ROW_PER_SAMPLE } from './analogMvm';
export type { MvmStats, SampleLayout } from './analogMvm';

/** What a programming draw did, for reports. */
export interface ProgrammingStats {
  readonly cells: number;
  readonly clippedCells: number;
  readonly stuckCells: number;
}

/**
 * Program `weights` onto the chip's tiles, drawing the static noise from `rng`
 * (stuck cells, programming noise kept in the window without biasing any target's
 * mean, drift to `chip.readTimeSeconds`, the frozen part of 1/f read noise, and the
 * drift-compensation gain from calibration reads; see noise/staticDraw.ts).
 * Streams are derived by label, so the draw of one layer does not depend on others.
 */
export function programLayer(weights: WeightMatrix, chip: ChipSpec, rng: Rng): ProgrammedLayer {
  checkWeightMatrix(weights);
  // Bit-sliced weights: k programmed layers of digits, drawn from rng.fold('slice').fold(s).
  if (isSliced(chip)) return programSlicedLayer(weights, chip, rng);
  return layerFromConductances(drawProgrammedConductances(weights, chip, rng));
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
  /**
   * Per weight position (fanIn × fanOut, row-major like gPlus), the per-MVM read-noise
   * variance of the cell pair per V² of read voltage, σ_read²(G⁺) + σ_read²(G⁻), µS²:
   * the column current's read-noise variance is Σ_i V_i²·this. Present when the
   * device's read noise is not simply readNoiseRelStd·G (a device noise model, or a
   * state-independent readNoiseAddMicroSiemens); absent, it is readNoiseRelStd²·(G⁺² + G⁻²).
   * Static parts of the read noise (the frozen 1/f part) are already in gPlus/gMinus.
   */
  readonly readVarianceMicroSiemens2?: Float32Array;
  /** Converter ranges set from calibration data (absent: worst-case, or not calibrated yet). */
  readonly ranges?: CalibratedRanges;
}
