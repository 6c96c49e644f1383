/**
 * Input converter. Inputs are normalised to [−1, 1] (by their own max |x| or by a
 * fixed calibrated range), quantised to a signed, symmetric `bits`-bit code, and
 * applied as read voltages of either polarity. Tensor ops, so the analog MVM keeps
 * its data in the backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { DacSpec } from './chipSpec';
import { ConfigError } from '../errors';

/** Codes on each side of zero for a signed symmetric converter. */
export function signedLevels(bits: number): number {
  return 2 ** (bits - 1) - 1;
}

export interface DacResult {
  /** Normalised inputs in [−1, 1], [batch × fanIn]; voltage = value · V_read. */
  readonly normalized: tf.Tensor2D;
  /** [batch × 1]: the factor that turns a normalised output back into input units. */
  readonly rowScale: tf.Tensor2D;
  /** Inputs outside a fixed range, clipped to it (a scalar; null unless counted). */
  readonly clipped: tf.Scalar | null;
}

/**
 * Convert a batch of inputs [batch × fanIn] into normalised DAC outputs. The
 * tensors belong to the caller (call inside `tf.tidy`, keep what must outlive it).
 */
export function applyDac(x: tf.Tensor2D, dac: DacSpec, countClipped = false): DacResult {
  let rowScale: tf.Tensor2D;
  let v: tf.Tensor2D;
  let clipped: tf.Scalar | null = null;
  if (dac.range.kind === 'perInputAbsMax') {
    const m = tf.max(tf.abs(x), 1, true) as tf.Tensor2D;
    rowScale = tf.where(tf.equal(m, 0), tf.onesLike(m), m) as tf.Tensor2D;
    v = tf.div(x, rowScale);
  } else {
    if (dac.range.kind !== 'fixed') throw new ConfigError('dac.range', dac.range.kind, 'a calibrated DAC range: the layer was not calibrated');
    rowScale = tf.fill([x.shape[0], 1], dac.range.maxAbs) as tf.Tensor2D;
    const u = tf.div(x, dac.range.maxAbs) as tf.Tensor2D;
    if (countClipped) clipped = tf.sum(tf.cast(tf.greater(tf.abs(u), 1), 'float32')) as tf.Scalar;
    v = tf.clipByValue(u, -1, 1);
  }
  if (dac.bits !== null) {
    const levels = signedLevels(dac.bits);
    v = tf.div(tf.round(tf.mul(v, levels)), levels);
  }
  return { normalized: v, rowScale, clipped };
}
