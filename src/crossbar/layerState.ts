/**
 * The runnable state of a programmed layer, as plain data: per row block of tiles,
 * the differential conductances, the read-noise variance per V², and the ADC's
 * full scale per column; the digital output gain; the per-word-line conductance
 * (read energy). Built once from the stored conductances (after a programming draw,
 * or when a saved chip is loaded). Both inference engines read it: the tfjs engine
 * (`analogMvm`) turns it into tensors on first use, the onnxruntime engine into
 * graph initializers. Nothing here holds a backend resource.
 */
import type { ProgrammedConductances, ProgrammingStats } from './programmedLayer';
import { signedLevels } from './adc';
import { tileGrid, type TileGrid } from './tiling';
import { irDropDifferential } from './irDrop/tileApplication';
import type { DacSpec } from './chipSpec';
import { needsCalibrationData } from './chipSpec';
import { ConfigError, ShapeError } from '../errors';

/** `Math` as a module-local: global lookups in per-cell loops are slow under jest's vm context (see rng.ts). */
const math = Math;

/** One horizontal band of tiles: the rows [row0, row0 + rows) of every column block. */
export interface RowBlock {
  readonly row0: number;
  readonly rows: number;
  /** (G⁺ − G⁻) for these rows, [rows × fanOut] row-major, µS. */
  readonly gDiff: Float32Array;
  /** Read-noise variance of each cell pair per V², [rows × fanOut], µS²; null without read noise. */
  readonly gSq: Float32Array | null;
  /**
   * The read-noise variance per row, [rows], µS², when every column of a row has the
   * same one (state-independent read noise, e.g. the ReRAM preset's additive term):
   * each column's variance Σ V²·σ² is then one product for all columns, not fanOut.
   * Null when it varies along a row, or without read noise.
   */
  readonly gSqRow: Float32Array | null;
  /** Per output column, the full scale of the ADC of the tile holding it, µA. */
  readonly fullScaleMicroAmps: Float32Array;
  /**
   * Per output column, in µA / V_read units: ADC codes per unit current (levels / I_fs),
   * current per code (I_fs / levels), and the sensing-noise variance.
   */
  readonly adcCodesPerUnit: Float32Array;
  readonly adcUnitsPerCode: Float32Array;
  readonly senseVarianceN: Float32Array;
}

/**
 * Converter ranges set from a calibration batch (see `calibrateRanges`), stored with
 * the chip: they stay fixed whatever the chip later reads (drift, other inputs).
 */
export interface CalibratedRanges {
  /** The layer's DAC range max |x| (input units), for a `calibrated` DAC; null otherwise. */
  readonly dacMaxAbs: number | null;
  /**
   * ADC full scale per row block of tiles and output column, [rowBlocks × fanOut]
   * row-major, µA (before the chip's `adc.rangeFraction`); null for an ideal ADC.
   */
  readonly adcFullScaleMicroAmps: Float32Array | null;
  /** Samples of the calibration batch. */
  readonly samples: number;
  /**
   * A bit-sliced layer's ranges per slice (each slice has its own ADCs; the DAC range
   * is shared), most significant first; the fields above are slice 0's.
   */
  readonly slices?: readonly CalibratedRanges[];
}

/**
 * A programmed layer: its stored conductances (see {@link ProgrammedConductances})
 * plus the derived state every MVM reads.
 */
export interface ProgrammedLayer extends ProgrammedConductances {
  readonly grid: TileGrid;
  /**
   * The DAC as the MVM runs it: the chip's DAC with a `calibrated` range resolved to
   * the calibrated fixed range (engines read this, never `chip.dac`).
   */
  readonly dac: DacSpec;
  /** Whether the converter ranges this chip needs from data are set (see `assertCalibrated`). */
  readonly calibrated: boolean;
  /** Per word line, Σ_j (G⁺ + G⁻), µS: the read energy is t·V²·this. */
  readonly rowConductanceMicroSiemens: Float32Array;
  readonly rowBlocks: readonly RowBlock[];
  /**
   * The programmed weights (G⁺ − G⁻)·scale·driftGain, [fanIn × fanOut], present when
   * the run is linear and noise-free (ideal converters, no read or sensing noise):
   * the MVM is then exactly one matrix product.
   */
  readonly effectiveWeights: Float32Array | null;
  /** Per output column: weightPerMicroSiemens · driftGain, the digital gain after the ADCs. */
  readonly outputScale: Float32Array;
  /**
   * A bit-sliced layer's slices (see `slicedLayer.ts`), most significant first: each
   * a programmed layer of its digits whose `outputScale` carries its shift, so the
   * layer's output is the sum of theirs. The sliced layer's own conductance and
   * row-block fields are those of `slices[0]`; engines run the slices, never them.
   * Absent on an unsliced layer.
   */
  readonly slices?: readonly ProgrammedLayer[];
  /** Frees backend tensors an engine cached for this layer (the data stays usable). */
  dispose(): void;
}

/** Per-layer backend caches, freed by `ProgrammedLayer.dispose`. */
const disposers = new WeakMap<ProgrammedLayer, Array<() => void>>();

/** Register `free` to run when `layer.dispose()` is called (an engine's cached tensors). */
export function onLayerDispose(layer: ProgrammedLayer, free: () => void): void {
  const list = disposers.get(layer);
  if (list) list.push(free);
  else disposers.set(layer, [free]);
}

/** The per-cell read variance the device model gives, if it is not the generic σ_read·G law. */
function readVarianceOf(c: ProgrammedConductances): Float32Array | undefined {
  return (c as { readVarianceMicroSiemens2?: Float32Array }).readVarianceMicroSiemens2;
}

/** Each row's value of `a` [rows × cols] when it is the same in every column of that row, else null. */
function rowUniform(a: Float32Array, rows: number, cols: number): Float32Array | null {
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = a[i * cols];
    for (let j = 1; j < cols; j++) if (a[i * cols + j] !== v) return null;
    out[i] = v;
  }
  return out;
}

/**
 * Build the runnable layer from programmed conductances: used after a programming
 * draw and when loading a saved chip.
 */
export function layerFromConductances(c: ProgrammedConductances): ProgrammedLayer {
  const { fanIn, fanOut, chip, gPlus, gMinus, driftGain } = c;
  const d = chip.device;
  if (gPlus.length !== fanIn * fanOut || gMinus.length !== fanIn * fanOut || c.weightPerMicroSiemens.length !== fanOut) {
    throw new ShapeError(`programmed layer: conductance arrays do not match shape [${fanIn}, ${fanOut}]`);
  }
  const readVariance = readVarianceOf(c);
  const ranges = c.ranges;
  if (ranges?.adcFullScaleMicroAmps && ranges.adcFullScaleMicroAmps.length !== tileGrid(fanIn, fanOut, chip.tile).rowBlocks * fanOut) {
    throw new ShapeError(`programmed layer: calibrated ADC ranges have ${ranges.adcFullScaleMicroAmps.length} values, expected row blocks × ${fanOut}`);
  }
  const dac: DacSpec =
    chip.dac.range.kind === 'calibrated' && ranges?.dacMaxAbs != null
      ? { bits: chip.dac.bits, range: { kind: 'fixed', maxAbs: ranges.dacMaxAbs } }
      : chip.dac;
  const calibrated = !needsCalibrationData(chip) || ranges !== undefined;
  if (readVariance && readVariance.length !== fanIn * fanOut) {
    throw new ShapeError(`programmed layer: read-variance array has ${readVariance.length} values, expected ${fanIn * fanOut}`);
  }
  const grid = tileGrid(fanIn, fanOut, chip.tile);
  // IR drop (chip.wireResistanceOhmPerCell > 0): the static effective G⁺ − G⁻ per tile,
  // which every MVM below and both engines then read. The ADC's worst-case range, the
  // read-noise variances and the read energy stay those of the cells themselves.
  const irDiff = irDropDifferential(c);
  const rowConductance = new Float32Array(fanIn);
  for (let i = 0; i < fanIn; i++) {
    let s = 0;
    for (let j = 0; j < fanOut; j++) s += gPlus[i * fanOut + j] + gMinus[i * fanOut + j];
    rowConductance[i] = s;
  }
  const sigmaRead2 = d.readNoiseRelStd * d.readNoiseRelStd;
  const needSq = readVariance !== undefined || sigmaRead2 > 0;
  const vRead = d.readVoltageVolts;
  const rowBlocks: RowBlock[] = [];
  // 1 for an ideal ADC, so the code factors stay finite (they are unused then).
  const adcLevels = chip.adc.bits === null ? 1 : signedLevels(chip.adc.bits);
  for (let a = 0; a < grid.rowBlocks; a++) {
    const row0 = a * chip.tile.rows;
    const rows = math.min(chip.tile.rows, fanIn - row0);
    const diff = new Float32Array(rows * fanOut);
    const sq = needSq ? new Float32Array(rows * fanOut) : null;
    const colAbs = new Float64Array(fanOut);
    for (let i = 0; i < rows; i++) {
      const src = (row0 + i) * fanOut;
      for (let j = 0; j < fanOut; j++) {
        const p = gPlus[src + j];
        const m = gMinus[src + j];
        diff[i * fanOut + j] = irDiff ? irDiff[src + j] : p - m;
        colAbs[j] += math.abs(p - m);
        if (sq) sq[i * fanOut + j] = readVariance ? readVariance[src + j] : sigmaRead2 * (p * p + m * m);
      }
    }
    const sqRow = sq ? rowUniform(sq, rows, fanOut) : null;
    // ADC full scale per tile: calibrated on data, else its worst column with every input at ±V_read.
    const fullScale = new Float32Array(fanOut);
    const measured = c.ranges?.adcFullScaleMicroAmps;
    if (measured) {
      for (let j = 0; j < fanOut; j++) {
        const f = measured[a * fanOut + j];
        // A column no calibration input reached keeps the worst-case bound, so it converts rather than divides by 0.
        fullScale[j] = f > 0 ? f * chip.adc.rangeFraction : colAbs[j] > 0 ? colAbs[j] * vRead * chip.adc.rangeFraction : 1e-12;
      }
    }
    for (let b = 0; b < grid.colBlocks && !measured; b++) {
      const c0 = b * chip.tile.cols;
      const c1 = math.min(fanOut, c0 + chip.tile.cols);
      let worst = 0;
      for (let j = c0; j < c1; j++) worst = math.max(worst, colAbs[j]);
      const fs = worst > 0 ? worst * vRead * chip.adc.rangeFraction : 1e-12;
      fullScale.fill(fs, c0, c1);
    }
    const fsN = fullScale.map((f) => f / vRead);
    rowBlocks.push({
      row0,
      rows,
      gDiff: diff,
      gSq: sq,
      gSqRow: sqRow,
      fullScaleMicroAmps: fullScale,
      adcCodesPerUnit: fsN.map((f) => adcLevels / f),
      adcUnitsPerCode: fsN.map((f) => f / adcLevels),
      senseVarianceN: fsN.map((f) => (d.senseNoiseRelStd * f) ** 2),
    });
  }
  const linear =
    dac.bits === null && dac.range.kind === 'perInputAbsMax' && chip.adc.bits === null && chip.inputEncoding === undefined &&
    !needSq && d.senseNoiseRelStd === 0;
  const outputScale = Float32Array.from(c.weightPerMicroSiemens, (w) => w * driftGain);
  let effectiveWeights: Float32Array | null = null;
  if (linear) {
    effectiveWeights = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < fanIn; i++) {
      for (let j = 0; j < fanOut; j++) {
        const k = i * fanOut + j;
        effectiveWeights[k] = (irDiff ? irDiff[k] : gPlus[k] - gMinus[k]) * c.weightPerMicroSiemens[j] * driftGain;
      }
    }
  }
  const layer: ProgrammedLayer = {
    ...c,
    grid,
    dac,
    calibrated,
    effectiveWeights,
    rowConductanceMicroSiemens: rowConductance,
    rowBlocks,
    outputScale,
    dispose() {
      const list = disposers.get(layer);
      disposers.delete(layer);
      list?.forEach((free) => free());
    },
  };
  return layer;
}

/**
 * Throws unless the layer's converter ranges are set: a chip whose ranges come from
 * data must be programmed with calibration inputs before it runs.
 */
export function assertCalibrated(layer: ProgrammedLayer, name = 'layer'): void {
  if (!layer.calibrated) {
    throw new ConfigError(
      'calibration',
      `${name}: not calibrated`,
      `calibration inputs when programming (model.program(seed, { calibration: inputs }), ohmic run --calibration FILE), or chip.calibration.method "worstCase" with a DAC range of "perInputAbsMax" or a number`,
    );
  }
}

/** Whether the layer's MVM draws dynamic noise (read or sensing). */
export function hasDynamicNoise(layer: ProgrammedLayer): boolean {
  if (layer.slices) return layer.slices.some(hasDynamicNoise);
  return layer.rowBlocks.some((rb) => rb.gSq !== null) || layer.chip.device.senseNoiseRelStd > 0;
}

export type { ProgrammingStats };
