/**
 * The paper's 6-layer CNN for MNIST (Table 1):
 *
 * ```
 * conv-BN-noise-ReLU ×2, maxpool, conv-BN-noise-ReLU ×2, maxpool, FC-BN-noise-ReLU, FC-noise
 * ```
 *
 * Table 1's output shapes did not survive in our copy of the paper, so widths and
 * kernels are chosen here: 3×3 'valid' convolutions with 32, 32, 64, 64 filters,
 * 2×2 max pooling, a 200-unit hidden FC layer and the 10-way output. This is the
 * well-known MNIST CNN of Carlini & Wagner (2017) / Papernot et al. (2016) with its
 * second FC layer dropped so that it has exactly the table's six MVM layers and
 * reaches > 99.3 % on MNIST. Shapes: 28²×1 → 26²×32 → 24²×32 → 12²×32 → 10²×64 →
 * 8²×64 → 4²×64 = 1024 → 200 → 10. The convolutions and the hidden FC layer have no
 * bias because the batch norm right after them would cancel it.
 *
 * Parameters (`model.countParams()`), see `CNN6_PARAMETERS`:
 * - weights: 288 + 9,216 + 18,432 + 36,864 + 204,800 + 2,010 (with bias) = 271,610;
 * - batch norm over 32+32+64+64+200 = 392 channels: γ, β trainable (784) for
 *   multiplicative noise, frozen at γ = 1, β = 0 for additive noise (fixed BN);
 *   moving mean and variance (784) are non-trainable in both.
 *
 * Multiplicative: 272,394 trainable, 273,178 in all. Additive: 271,610 trainable, 273,178 in all.
 */
import * as tf from '@tensorflow/tfjs';
import { LayerKit, PaperModelOptions, validatePaperModelOptions } from './modelOptions';

/** Trainable and total parameter counts of CNN-6, per noise kind. */
export const CNN6_PARAMETERS = {
  multiplicative: { trainable: 272_394, total: 273_178 },
  additive: { trainable: 271_610, total: 273_178 },
} as const;

/** Input shape of one MNIST image, NHWC without the batch. */
export const CNN6_INPUT_SHAPE = [28, 28, 1] as const;

/** Builds CNN-6 (untrained, seeded initialisation). Outputs logits (no softmax). */
export function buildCnn6(raw: Partial<PaperModelOptions> = {}): tf.LayersModel {
  const kit = new LayerKit(validatePaperModelOptions(raw));
  const input = tf.input({ shape: [...CNN6_INPUT_SHAPE], name: 'image' });
  let y: tf.SymbolicTensor = input;
  const conv = (label: string, filters: number): void => {
    y = tf.layers
      .conv2d({ name: label, filters, kernelSize: 3, padding: 'valid', useBias: false, kernelInitializer: kit.heNormal(label) })
      .apply(y) as tf.SymbolicTensor;
    y = kit.batchNorm(label).apply(y) as tf.SymbolicTensor;
    y = kit.noise(label).apply(y) as tf.SymbolicTensor;
    y = tf.layers.reLU({ name: `${label}_relu` }).apply(y) as tf.SymbolicTensor;
  };
  conv('conv1', 32);
  conv('conv2', 32);
  y = tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }).apply(y) as tf.SymbolicTensor;
  conv('conv3', 64);
  conv('conv4', 64);
  y = tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten({ name: 'flatten' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ name: 'fc1', units: 200, useBias: false, kernelInitializer: kit.heNormal('fc1') }).apply(y) as tf.SymbolicTensor;
  y = kit.batchNorm('fc1').apply(y) as tf.SymbolicTensor;
  y = kit.noise('fc1').apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ name: 'fc1_relu' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ name: 'fc2', units: 10, kernelInitializer: kit.glorot('fc2') }).apply(y) as tf.SymbolicTensor;
  y = kit.noise('fc2').apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y, name: 'cnn6' });
}
