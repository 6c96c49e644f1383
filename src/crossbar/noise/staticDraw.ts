/**
 * The static draw of one programmed layer: weights → target differential
 * conductances → stuck-at faults → programming noise → drift to the read time →
 * the frozen part of the 1/f read noise; then the per-MVM read variance the engine
 * needs, and the global drift compensation from calibration reads. Everything here
 * is drawn once per `programLayer(…, rng)`, from streams derived by label (`plus` /
 * `minus` cell, then the effect), so no draw depends on another's count.
 */
import type { Rng } from '../../rng';
import type { ChipSpec } from '../chipSpec';
import type { ProgrammedConductances } from '../programmedLayer';
import { weightsToConductances, type WeightMatrix } from '../mapping';
import { applyProgrammingNoise, programmingStd } from './programmingNoise';
import { applyStuckAt } from './stuckAt';
import { applyDrift, applyDriftExponents, pcmAihwkitDriftNu } from './drift';
import { hasOwnDriftLaw } from './deviceModels';
import { needsReadVarianceArray, readVariances } from './readNoise';
import { globalDriftGain } from './driftCompensation';

/** `Math` as a module-local: global lookups in per-cell loops are slow under jest's vm context (see rng.ts). */
const math = Math;

interface CellHalf {
  /** Conductances at the read time (programmed, drifted, frozen 1/f noise added), µS. */
  readonly g: Float32Array;
  /** Conductances right after programming (before drift), µS. */
  readonly gProg: Float32Array;
  /** Per-MVM read variance of each cell at the read time, µS². */
  readonly fresh: Float32Array;
}

function pairSum(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k] + b[k];
  return out;
}

/**
 * Draw the programmed state of `weights` on `chip` (the weights are assumed checked);
 * `columnScale` fixes the |W| that takes the full window per column (bit slices).
 */
export function drawProgrammedConductances(weights: WeightMatrix, chip: ChipSpec, rng: Rng, columnScale?: Float64Array): ProgrammedConductances {
  const { fanIn, fanOut } = weights;
  const n = fanIn * fanOut;
  const d = chip.device;
  const t = chip.readTimeSeconds;
  const target = weightsToConductances(weights, d, chip.mapping.weightScale, columnScale);
  const columnUsed = Array.from(target.weightPerMicroSiemens, (s) => s > 0);
  const window = { gMinMicroSiemens: d.gMinMicroSiemens, gMaxMicroSiemens: d.gMaxMicroSiemens, clip: d.programmingClip };
  const stdOf = (g: number) => programmingStd(d, g);
  let stuckCells = 0;
  let clippedCells = 0;
  const draw = (targetG: Float32Array, label: string): CellHalf => {
    const r = rng.fold(label);
    const g = targetG.slice();
    // Cells left as they are: stuck at a rail, or in a column the mapping leaves unprogrammed.
    const fixed = new Uint8Array(n);
    stuckCells += applyStuckAt(g, {
      gMinFraction: d.stuckAtGMinFraction,
      gMaxFraction: d.stuckAtGMaxFraction,
      gMinMicroSiemens: d.gMinMicroSiemens,
      gMaxMicroSiemens: d.gMaxMicroSiemens,
    }, r.fold('stuckAt'), fixed);
    for (let k = 0; k < n; k++) if (!columnUsed[k % fanOut]) fixed[k] = 1;
    clippedCells += applyProgrammingNoise(g, stdOf, window, r.fold('programming'), fixed);
    const gProg = g.slice();
    if (hasOwnDriftLaw(d.noiseModel)) {
      // ν from the target, as aihwkit's generate_drift_coefficients(g_target).
      applyDriftExponents(g, pcmAihwkitDriftNu(targetG, d.gMaxMicroSiemens, r.fold('drift')), d.driftT0Seconds, t, fixed);
    } else {
      applyDrift(g, { nuMean: d.driftNuMean, nuStd: d.driftNuStd, t0Seconds: d.driftT0Seconds, tSeconds: t }, r.fold('drift'), fixed);
    }
    const { fresh, frozen } = readVariances(d, gProg, g, t);
    if (frozen) {
      // The slow 1/f fluctuation every MVM shares, clamped at 0 as aihwkit's g_final.
      const eps = new Float32Array(n);
      r.fold('frozenReadNoise').fillNormal(eps);
      for (let k = 0; k < n; k++) g[k] = math.max(0, g[k] + math.sqrt(frozen[k]) * eps[k]);
    }
    return { g, gProg, fresh };
  };
  const plus = draw(target.gPlus, 'plus');
  const minus = draw(target.gMinus, 'minus');
  const freshPair = pairSum(plus.fresh, minus.fresh);
  let driftGain = 1;
  if (chip.driftCompensation) {
    // The baseline read right after programming sees all of the 1/f noise at t0 as one draw.
    const atT0 = (h: CellHalf) => {
      const v = readVariances(d, h.gProg, h.gProg, d.driftT0Seconds);
      return v.frozen ? pairSum(v.fresh, v.frozen) : v.fresh;
    };
    const pairT0 = pairSum(atT0(plus), atT0(minus));
    driftGain = globalDriftGain(
      { gPlus: plus.gProg, gMinus: minus.gProg, pairVariance: pairT0 },
      { gPlus: plus.g, gMinus: minus.g, pairVariance: freshPair },
      fanOut,
      columnUsed,
      rng.fold('driftCompensation'),
    );
  }
  return {
    fanIn,
    fanOut,
    chip,
    gPlus: plus.g,
    gMinus: minus.g,
    targetPlus: target.gPlus,
    targetMinus: target.gMinus,
    weightPerMicroSiemens: target.weightPerMicroSiemens,
    driftGain,
    programming: { cells: 2 * n, clippedCells, stuckCells },
    ...(needsReadVarianceArray(d) ? { readVarianceMicroSiemens2: freshPair } : {}),
  };
}
