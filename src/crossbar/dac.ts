/**
 * Input converter. Inputs are normalised to [−1, 1] (by their own max |x| or by a
 * fixed calibrated range), quantised to a signed, symmetric `bits`-bit code, and
 * applied as read voltages of either polarity.
 */
import type { DacSpec } from './chipSpec';

/** Codes on each side of zero for a signed symmetric converter. */
export function signedLevels(bits: number): number {
  return 2 ** (bits - 1) - 1;
}

/** Round `v` (in [−1, 1] after clipping) to a signed `bits`-bit grid; returns the value. */
export function quantizeSigned(v: number, levels: number): number {
  return Math.round(v * levels) / levels;
}

export interface DacResult {
  /** Normalised inputs in [−1, 1], row-major [batch × fanIn]; voltage = value · V_read. */
  readonly normalized: Float32Array;
  /** Per input vector: the factor that turns a normalised output back into input units. */
  readonly rowScale: Float32Array;
  /** Inputs that fell outside a fixed range and were clipped to it. */
  readonly clipped: number;
}

/** Convert a batch of inputs [batch × fanIn] into normalised DAC outputs. */
export function applyDac(x: Float32Array, batch: number, fanIn: number, dac: DacSpec): DacResult {
  const normalized = new Float32Array(x.length);
  const rowScale = new Float32Array(batch);
  const levels = dac.bits === null ? 0 : signedLevels(dac.bits);
  let clipped = 0;
  for (let b = 0; b < batch; b++) {
    const off = b * fanIn;
    let scale: number;
    if (dac.range.kind === 'perInputAbsMax') {
      scale = 0;
      for (let i = 0; i < fanIn; i++) scale = Math.max(scale, Math.abs(x[off + i]));
      if (scale === 0) scale = 1;
    } else {
      scale = dac.range.maxAbs;
    }
    rowScale[b] = scale;
    const inv = 1 / scale;
    for (let i = 0; i < fanIn; i++) {
      let v = x[off + i] * inv;
      if (v > 1) { v = 1; clipped++; } else if (v < -1) { v = -1; clipped++; }
      normalized[off + i] = levels ? quantizeSigned(v, levels) : v;
    }
  }
  return { normalized, rowScale, clipped };
}
