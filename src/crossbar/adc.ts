/**
 * Output converter: a column current is clipped to [−I_fs, I_fs] and quantised to a
 * signed, symmetric `bits`-bit code. I_fs is per tile (each tile has its own ADCs).
 */
import * as tf from '@tensorflow/tfjs';
import { signedLevels } from './dac';

/**
 * Convert column currents [batch × columns]: codes = round(clip(I / I_fs, ±1) · levels),
 * back to current · I_fs / levels. The per-column factors `levels / I_fs` and
 * `I_fs / levels` are precomputed at programming. Returns the converted currents and,
 * when asked, how many were clipped. Call inside `tf.tidy`.
 */
export function applyAdc(
  current: tf.Tensor2D,
  codesPerUnit: tf.Tensor,
  unitsPerCode: tf.Tensor,
  levels: number,
  countClipped = false,
): { converted: tf.Tensor2D; clipped: tf.Scalar | null } {
  const codes = tf.mul(current, codesPerUnit);
  // Clipped: the range changed the code (a value within half an LSB beyond full scale rounds to it anyway).
  const clipped = countClipped ? (tf.sum(tf.cast(tf.greater(tf.abs(codes), levels + 0.5), 'float32')) as tf.Scalar) : null;
  const converted = tf.mul(tf.round(tf.clipByValue(codes, -levels, levels)), unitsPerCode) as tf.Tensor2D;
  return { converted, clipped };
}

/**
 * The scalar reference of {@link applyAdc} (double precision, one current), used to
 * state and test the converter's contract: the error is at most half an LSB
 * I_fs / (2·(2^(bits−1) − 1)) inside the range, and the output saturates outside.
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
