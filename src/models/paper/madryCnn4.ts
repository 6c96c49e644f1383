/**
 * The 4-layer MNIST CNN of Madry et al. (2018), the paper's attack-source network
 * for MNIST (§4): conv 32 5×5 'same' – ReLU – maxpool 2, conv 64 5×5 'same' – ReLU –
 * maxpool 2, FC 1024 – ReLU, FC 10. As everywhere in ohmic, a noise layer follows
 * each MVM (before the ReLU); at σ = 0 it is the identity. Madry's network has no
 * batch norm, so the additive variant differs only in its noise layers.
 *
 * Parameters: 832 + 51,264 + 3,212,288 + 10,250 = 3,274,634, all trainable
 * (`MADRY_CNN4_PARAMETERS`).
 */
import * as tf from '@tensorflow/tfjs';
import { LayerKit, PaperModelOptions, validatePaperModelOptions } from './modelOptions';

export const MADRY_CNN4_PARAMETERS = { trainable: 3_274_634, total: 3_274_634 } as const;

/** Builds Madry et al.'s MNIST CNN (logits out). */
export function buildMadryCnn4(raw: Partial<PaperModelOptions> = {}): tf.LayersModel {
  const kit = new LayerKit(validatePaperModelOptions(raw));
  const input = tf.input({ shape: [28, 28, 1], name: 'image' });
  let y: tf.SymbolicTensor = input;
  const mvm = (layer: tf.layers.Layer, label: string, relu: boolean): void => {
    y = layer.apply(y) as tf.SymbolicTensor;
    y = kit.noise(label).apply(y) as tf.SymbolicTensor;
    if (relu) y = tf.layers.reLU({ name: `${label}_relu` }).apply(y) as tf.SymbolicTensor;
  };
  mvm(tf.layers.conv2d({ name: 'conv1', filters: 32, kernelSize: 5, padding: 'same', kernelInitializer: kit.heNormal('conv1') }), 'conv1', true);
  y = tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }).apply(y) as tf.SymbolicTensor;
  mvm(tf.layers.conv2d({ name: 'conv2', filters: 64, kernelSize: 5, padding: 'same', kernelInitializer: kit.heNormal('conv2') }), 'conv2', true);
  y = tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.flatten({ name: 'flatten' }).apply(y) as tf.SymbolicTensor;
  mvm(tf.layers.dense({ name: 'fc1', units: 1024, kernelInitializer: kit.heNormal('fc1') }), 'fc1', true);
  mvm(tf.layers.dense({ name: 'fc2', units: 10, kernelInitializer: kit.glorot('fc2') }), 'fc2', false);
  return tf.model({ inputs: input, outputs: y, name: 'madryCnn4' });
}
