/**
 * Output converter: a column current is clipped to [−I_fs, I_fs] and quantised to a
 * signed, symmetric `bits`-bit code. I_fs is per tile (each tile has its own ADCs).
 */
import { signedLevels } from './dac';

/**
 * Quantise one current. Returns the converted value; `fullScale` must be > 0.
 * Error is at most half an LSB = I_fs / (2·(2^(bits−1) − 1)) inside the range.
 */
export function adcConvert(current: number, fullScale: number, levels: number): number {
  let v = current / fullScale;
  if (v > 1) v = 1;
  else if (v < -1) v = -1;
  return (Math.round(v * levels) / levels) * fullScale;
}

/** Half an LSB of a `bits`-bit ADC with the given full scale. */
export function adcHalfLsb(fullScale: number, bits: number): number {
  return fullScale / (2 * signedLevels(bits));
}

export { signedLevels };
