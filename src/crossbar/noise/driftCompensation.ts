/**
 * Global drift compensation as a chip does it, from calibration reads, not from the
 * exact conductances: aihwkit's `GlobalDriftCompensation` (src/aihwkit/inference/
 * compensation/drift.py and base.py, v1.1.0) reads the tile with one-hot inputs
 * (`get_readout_tensor` = eye(in_size)) right after programming (`init_baseline`,
 * through the noisy forward pass) and again after drift (`drift_weights`), and scales
 * the outputs by α = mean|y(t0)| / mean|y(t)|.
 *
 * Here each one-hot read of word line i gives, per column j, the differential
 * current (G⁺ − G⁻)_ij plus the cells' read noise at that time, one fresh draw per
 * read (σ² = var⁺ + var⁻ from readNoise.ts). Sensing noise and ADC quantisation of
 * the calibration reads are not modelled here. Columns the mapping leaves
 * unprogrammed (weight scale 0) are not read.
 */
import type { Rng } from '../../rng';

/** `Math` as a module-local: global lookups in per-cell loops are slow under jest's vm context (see rng.ts). */
const math = Math;

export interface CalibrationRead {
  readonly gPlus: Float32Array;
  readonly gMinus: Float32Array;
  /** Per weight position, the read variance of the pair at this read, µS² (per V²); null: noiseless. */
  readonly pairVariance: Float32Array | null;
}

/** Σ |(G⁺ − G⁻) + noise| over the programmed columns of a [fanIn × fanOut] layer. */
export function oneHotReadout(read: CalibrationRead, fanOut: number, columnUsed: ArrayLike<boolean>, rng: Rng): number {
  const { gPlus, gMinus, pairVariance } = read;
  const eps = new Float64Array(gPlus.length);
  if (pairVariance) rng.fillNormal(eps);
  let sum = 0;
  for (let k = 0; k < gPlus.length; k++) {
    if (!columnUsed[k % fanOut]) continue;
    const noise = pairVariance ? math.sqrt(pairVariance[k]) * eps[k] : 0;
    sum += math.abs(gPlus[k] - gMinus[k] + noise);
  }
  return sum;
}

/**
 * α = readout at t0 / readout at t, as aihwkit's `BaseDriftCompensation.apply`
 * (`ref_value / current_value`); 1 when the drifted readout is 0.
 */
export function globalDriftGain(
  atT0: CalibrationRead,
  atT: CalibrationRead,
  fanOut: number,
  columnUsed: ArrayLike<boolean>,
  rng: Rng,
): number {
  const before = oneHotReadout(atT0, fanOut, columnUsed, rng.fold('t0'));
  const after = oneHotReadout(atT, fanOut, columnUsed, rng.fold('t'));
  return after > 0 ? before / after : 1;
}
