/**
 * The tiny conv net the trainer's and the adversarial trainer's tests train: every
 * layer kind CNN-6 trains (conv, batch norm, multiplicative noise, ReLU, dense), on
 * 8×8×1 inputs and 3 classes, small enough for many runs.
 */
import { tf } from '../../src/backend';
import { MultiplicativeGaussianNoise } from '../../src/models/noiseLayers';

/** The net with initialisation seed `seed` and noise σ `sigma` on both noise layers. */
export function tinyConvNet(seed: number, sigma: number): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 1] });
  let y = tf.layers.conv2d({ filters: 4, kernelSize: 3, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
  y = new MultiplicativeGaussianNoise({ sigma, seed, streamLabel: 'c' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU().apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }).apply(y) as tf.SymbolicTensor;
  y = new MultiplicativeGaussianNoise({ sigma, seed, streamLabel: 'd' }).apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}
