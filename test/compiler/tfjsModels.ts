/**
 * Small tfjs models with seeded initialisers, shared by the frontend tests and the
 * fixture script. Biases and BN statistics use seeded uniforms so they are not the
 * trivial zeros/ones a test could pass by accident.
 */
import * as tf from '@tensorflow/tfjs';
import { glorot, uniform } from './helpers';

export function mlp(seed: number): tf.LayersModel {
  const s = (k: number) => seed * 100 + k;
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [20], units: 32, activation: 'relu', kernelInitializer: glorot(s(1)), biasInitializer: uniform(s(2), -0.3, 0.3), name: 'fc1' }),
      tf.layers.dropout({ rate: 0.5, name: 'drop' }),
      tf.layers.dense({ units: 16, activation: 'tanh', kernelInitializer: glorot(s(3)), biasInitializer: uniform(s(4), -0.3, 0.3), name: 'fc2' }),
      tf.layers.dense({ units: 12, activation: 'sigmoid', kernelInitializer: glorot(s(5)), name: 'fc3' }),
      tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: glorot(s(6)), useBias: false, name: 'out' }),
    ],
  });
}

function bn(seed: number, name: string): tf.layers.Layer {
  return tf.layers.batchNormalization({
    name,
    epsilon: 1e-3,
    gammaInitializer: uniform(seed + 1, 0.5, 1.5),
    betaInitializer: uniform(seed + 2, -0.5, 0.5),
    movingMeanInitializer: uniform(seed + 3, -0.5, 0.5),
    movingVarianceInitializer: uniform(seed + 4, 0.5, 2),
  });
}

/** conv / BN / max pool / avg pool ('same', which excludes padding) / flatten / dense. */
export function cnn(seed: number): tf.LayersModel {
  const s = (k: number) => seed * 100 + k * 10;
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(s(1)), biasInitializer: uniform(s(1) + 1, -0.2, 0.2), name: 'conv1' }),
      bn(s(2), 'bn1'),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(s(3)), biasInitializer: uniform(s(3) + 1, -0.2, 0.2), name: 'conv2' }),
      bn(s(4), 'bn2'),
      tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool2' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: glorot(s(5)), name: 'logits' }),
    ],
  });
}

/** 1×1 conv, depthwise conv, strided 'same' conv (asymmetric padding), dilated conv, max pool 'same'. */
export function convVariants(seed: number): tf.LayersModel {
  const s = (k: number) => seed * 100 + k * 10;
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [10, 10, 4], filters: 5, kernelSize: 1, kernelInitializer: glorot(s(1)), biasInitializer: uniform(s(1) + 1, -0.2, 0.2), name: 'pointwise' }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu', depthwiseInitializer: glorot(s(2)), biasInitializer: uniform(s(2) + 1, -0.2, 0.2), name: 'depthwise' }),
      tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: glorot(s(3)), biasInitializer: uniform(s(3) + 1, -0.2, 0.2), name: 'strided' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'poolSame' }),
      tf.layers.conv2d({ filters: 7, kernelSize: [3, 2], dilationRate: 2, activation: 'tanh', kernelInitializer: glorot(s(4)), name: 'dilated' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 4, kernelInitializer: glorot(s(5)), name: 'out' }),
    ],
  });
}

/** A DenseNet-style block (concat of each conv's output onto its input), BN, global pool, an Add. */
export function denseBlock(seed: number): tf.LayersModel {
  const s = (k: number) => seed * 100 + k * 10;
  const input = tf.input({ shape: [8, 8, 4], name: 'image' });
  let x: tf.SymbolicTensor = input;
  for (let i = 0; i < 2; i++) {
    let y = bn(s(2 * i + 1), `block_bn${i}`).apply(x) as tf.SymbolicTensor;
    y = tf.layers.activation({ activation: 'relu', name: `block_relu${i}` }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: glorot(s(2 * i + 2)), name: `block_conv${i}` }).apply(y) as tf.SymbolicTensor;
    x = tf.layers.concatenate({ axis: -1, name: `block_concat${i}` }).apply([x, y]) as tf.SymbolicTensor;
  }
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const a = tf.layers.dense({ units: 6, kernelInitializer: glorot(s(7)), biasInitializer: uniform(s(7) + 1, -0.2, 0.2), name: 'branchA' }).apply(pooled) as tf.SymbolicTensor;
  const b = tf.layers.dense({ units: 6, activation: 'relu', kernelInitializer: glorot(s(8)), name: 'branchB' }).apply(pooled) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'residual' }).apply([a, b]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: glorot(s(9)), name: 'classes' }).apply(sum) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function lstmLayer(seed: number, units: number, returnSequences: boolean, name: string, inputShape?: number[]): tf.layers.Layer {
  return tf.layers.lstm({
    ...(inputShape ? { inputShape } : {}),
    units,
    returnSequences,
    activation: 'tanh',
    recurrentActivation: 'sigmoid',
    kernelInitializer: glorot(seed + 1),
    recurrentInitializer: glorot(seed + 2),
    biasInitializer: uniform(seed + 3, -0.5, 0.5),
    name,
  });
}

/** LSTM classifier on [time=7, features=5]; with `stacked`, a sequence-returning LSTM feeds a second one. */
export function lstmClassifier(seed: number, stacked: boolean): tf.LayersModel {
  const s = (k: number) => seed * 100 + k * 10;
  const layers = stacked
    ? [lstmLayer(s(1), 8, true, 'lstm_seq', [7, 5]), lstmLayer(s(2), 6, false, 'lstm_last')]
    : [lstmLayer(s(1), 8, false, 'lstm_last', [7, 5])];
  layers.push(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: glorot(s(3)), name: 'classes' }));
  return tf.sequential({ layers });
}

/** An LSTM whose output is the whole hidden sequence [batch, time, units]. */
export function lstmSequence(seed: number): tf.LayersModel {
  return tf.sequential({ layers: [lstmLayer(seed * 100, 6, true, 'lstm_seq', [4, 3])] });
}

/** The small model committed as a tfjs-saved fixture. */
export function fixtureCnn(seed: number): tf.LayersModel {
  const s = (k: number) => seed * 100 + k * 10;
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(s(1)), biasInitializer: uniform(s(1) + 1, -0.2, 0.2), name: 'conv' }),
      bn(s(2), 'bn'),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: glorot(s(3)), name: 'out' }),
    ],
  });
}
