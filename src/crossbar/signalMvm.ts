/** The paper's signal-level model as an MVM: the exact product, then Eq. 2 / Eq. 3 noise. */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import { applySignalNoise, type SignalNoise } from './noise/signalNoise';

/** y = x·W followed by fresh signal-level noise from `rng` (one draw per output element). */
export function signalMvm(x: tf.Tensor2D, weights: tf.Tensor2D, noise: SignalNoise, rng: Rng): tf.Tensor2D {
  const y = tf.matMul(x, weights) as tf.Tensor2D;
  if (noise.sigma === 0) return y;
  const data = y.dataSync().slice() as Float32Array;
  const shape = y.shape;
  y.dispose();
  applySignalNoise(data, noise, rng);
  return tf.tensor2d(data, shape);
}
