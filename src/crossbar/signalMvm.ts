/** The paper's signal-level model as an MVM: the exact product, then Eq. 2 / Eq. 3 noise. */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import { applySignalNoise, type SignalNoise } from './noise/signalNoise';

/** y = x·W followed by fresh signal-level noise from `rng` (one draw per output element). */
export function signalMvm(x: tf.Tensor2D, weights: tf.Tensor2D, noise: SignalNoise, rng: Rng): tf.Tensor2D {
  return tf.tidy(() => applySignalNoise(tf.matMul(x, weights) as tf.Tensor2D, noise, rng));
}
