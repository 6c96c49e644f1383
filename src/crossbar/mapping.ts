/**
 * Weights ↔ conductances on a differential pair: W ∝ G⁺ − G⁻ with both cells in
 * [gMin, gMax]. The scale is returned, never hidden on a tile, and the inverse
 * mapping recovers W (exactly for analog cells, within half a level otherwise).
 */
import { ShapeError } from '../errors';
import type { DeviceSpec } from './deviceSpec';
import { conductanceLevels } from './deviceSpec';

/** `Math` as a module-local: global lookups in per-cell loops are slow under jest's vm context (see rng.ts). */
const math = Math;

/** A weight matrix [fanIn × fanOut], row-major: row i feeds word line i. */
export interface WeightMatrix {
  readonly data: Float32Array;
  readonly fanIn: number;
  readonly fanOut: number;
}

export interface ConductancePair {
  /** G⁺ in µS, same layout as the weights. */
  readonly gPlus: Float32Array;
  /** G⁻ in µS. */
  readonly gMinus: Float32Array;
  /**
   * Weight per µS of differential conductance, per output column (length fanOut;
   * all equal under a per-layer scale): W = (G⁺ − G⁻)·weightPerMicroSiemens[j].
   * 0 for a column whose weights are all zero: it is left unprogrammed (both cells
   * at gMin, no programming noise or drift) and its output is exactly zero, instead
   * of read and sensing noise amplified by an arbitrary scale.
   */
  readonly weightPerMicroSiemens: Float64Array;
}

export function checkWeightMatrix(w: WeightMatrix, name = 'weights'): void {
  if (!Number.isInteger(w.fanIn) || !Number.isInteger(w.fanOut) || w.fanIn < 1 || w.fanOut < 1) {
    throw new ShapeError(`${name}: shape [${w.fanIn}, ${w.fanOut}] must be positive integers`);
  }
  if (w.data.length !== w.fanIn * w.fanOut) {
    throw new ShapeError(`${name}: ${w.data.length} values do not fill shape [${w.fanIn}, ${w.fanOut}]`);
  }
  for (let i = 0; i < w.data.length; i++) {
    if (!Number.isFinite(w.data[i])) {
      throw new ShapeError(`${name}: non-finite weight ${w.data[i]} at [${math.floor(i / w.fanOut)}, ${i % w.fanOut}]`);
    }
  }
}

/** Per-column (or per-layer, broadcast) max |W|; 0 where the column's weights are all zero. */
/**
 * The weight scale per column: max |W| of the column, or of the layer for every used
 * column (an all-zero column keeps 0). What a cell pair's (or a slice's) gMax stands for.
 */
export function columnAbsMax(w: WeightMatrix, perColumn: boolean): Float64Array {
  const m = new Float64Array(w.fanOut);
  const d = w.data;
  for (let i = 0; i < w.fanIn; i++) {
    const row = i * w.fanOut;
    for (let j = 0; j < w.fanOut; j++) {
      const a = math.abs(d[row + j]);
      if (a > m[j]) m[j] = a;
    }
  }
  if (!perColumn) {
    let all = 0;
    for (let j = 0; j < m.length; j++) all = math.max(all, m[j]);
    // A layer scale for the programmed columns; an all-zero column keeps 0.
    for (let j = 0; j < m.length; j++) if (m[j] > 0) m[j] = all;
  }
  return m;
}

/** Round a conductance to the nearest of `levels` evenly spaced values in [gMin, gMax]. */
export function quantizeConductance(g: number, gMin: number, gMax: number, levels: number): number {
  const step = (gMax - gMin) / (levels - 1);
  return gMin + math.round((g - gMin) / step) * step;
}

/**
 * Map weights to target conductances. Positive weights go on G⁺ (G⁻ at gMin) and
 * negative on G⁻, so max |W| maps to the full window gMax − gMin. An all-zero
 * column maps to gMin on both cells with weight scale 0 (see ConductancePair).
 * `columnScale`, when given (length fanOut), replaces the per-column max |W|: |W|
 * equal to it maps to the full window (values beyond it are the caller's error).
 */
export function weightsToConductances(
  w: WeightMatrix,
  device: DeviceSpec,
  weightScale: 'layer' | 'column',
  columnScale?: Float64Array,
): ConductancePair {
  const { gMinMicroSiemens: gMin, gMaxMicroSiemens: gMax } = device;
  const window = gMax - gMin;
  // `columnScale`: the |W| that maps to the full window, per column, when the caller
  // fixes it (a bit slice's digits: 2^b − 1 maps to the window whatever digits occur).
  const absMax = columnScale ?? columnAbsMax(w, weightScale === 'column');
  const levels = conductanceLevels(device);
  const n = w.data.length;
  const gPlus = new Float32Array(n);
  const gMinus = new Float32Array(n);
  for (let i = 0; i < w.fanIn; i++) {
    const row = i * w.fanOut;
    for (let j = 0; j < w.fanOut; j++) {
      const v = absMax[j] > 0 ? w.data[row + j] / absMax[j] : 0;
      let gp = gMin + window * math.max(v, 0);
      let gm = gMin + window * math.max(-v, 0);
      if (levels !== null) {
        gp = quantizeConductance(gp, gMin, gMax, levels);
        gm = quantizeConductance(gm, gMin, gMax, levels);
      }
      gPlus[row + j] = gp;
      gMinus[row + j] = gm;
    }
  }
  const weightPerMicroSiemens = new Float64Array(w.fanOut);
  for (let j = 0; j < w.fanOut; j++) weightPerMicroSiemens[j] = absMax[j] / window;
  return { gPlus, gMinus, weightPerMicroSiemens };
}

/** The weights a conductance pair represents (the inverse of weightsToConductances). */
export function conductancesToWeights(pair: ConductancePair, fanIn: number, fanOut: number): WeightMatrix {
  const data = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < fanIn; i++) {
    const row = i * fanOut;
    for (let j = 0; j < fanOut; j++) {
      data[row + j] = (pair.gPlus[row + j] - pair.gMinus[row + j]) * pair.weightPerMicroSiemens[j];
    }
  }
  return { data, fanIn, fanOut };
}

/**
 * Worst-case weight error of the mapping for column j: half a conductance level
 * times the column's weight scale (0 for analog cells).
 */
export function quantizationBound(device: DeviceSpec, weightPerMicroSiemens: number): number {
  const levels = conductanceLevels(device);
  if (levels === null) return 0;
  const step = (device.gMaxMicroSiemens - device.gMinMicroSiemens) / (levels - 1);
  return (step / 2) * weightPerMicroSiemens;
}
