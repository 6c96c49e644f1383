/**
 * DenseNet for CIFAR-10 (Huang et al., CVPR 2017), as the paper uses it: depth 40
 * (and depth 100 for §4), growth rate k = 12, the basic variant (BC off: no 1×1
 * bottleneck, no transition compression), three dense blocks of (depth − 4)/3
 * layers on 32×32, 16×16 and 8×8 maps, no dropout (the paper trains without
 * augmentation but does not mention dropout).
 *
 * - stem: 3×3 conv to 16 channels;
 * - dense layer: BN – ReLU – 3×3 conv (k filters) – noise, concatenated to its input;
 * - transition: BN – ReLU – 1×1 conv (channels kept) – noise – 2×2 average pooling;
 * - head: BN – ReLU – global average pooling – FC 10 – noise.
 *
 * A noise layer follows every MVM (each conv and the FC layer), paper §3.1. The
 * convolutions have no bias (the next BN absorbs it). Channels: 16 + 12·12 = 160
 * after block 1 (depth 40), 304 after block 2, 448 at the head.
 *
 * Parameters (`DENSENET_PARAMETERS`), multiplicative noise: depth 40 has 1,019,722
 * trainable (the "about 1.0 M" of the paper and of Huang et al.) and 1,037,818 in
 * all with the BN moving statistics of its 9,048 BN channels; depth 100 has
 * 6,979,642 trainable (Huang et al.: 7.0 M), 7,096,858 in all. For additive noise
 * BN is fixed (γ = 1, β = 0 frozen), as for CNN-6: 1,001,626 / 6,862,426 trainable,
 * the same totals.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { LayerKit, PaperModelOptions, validatePaperModelOptions } from './modelOptions';

export type DenseNetDepth = 40 | 100;

export const DENSENET_GROWTH_RATE = 12;

/** Parameter counts per depth and noise kind (checked by the tests). */
export const DENSENET_PARAMETERS = {
  40: {
    multiplicative: { trainable: 1_019_722, total: 1_037_818 },
    additive: { trainable: 1_001_626, total: 1_037_818 },
  },
  100: {
    multiplicative: { trainable: 6_979_642, total: 7_096_858 },
    additive: { trainable: 6_862_426, total: 7_096_858 },
  },
} as const;

/** Builds DenseNet-`depth` (k = 12, BC off) for 32×32×3 inputs; logits out. */
export function buildDenseNet(depth: DenseNetDepth, raw: Partial<PaperModelOptions> = {}): tf.LayersModel {
  if (depth !== 40 && depth !== 100) throw new ConfigError('depth', depth, '40 or 100');
  const kit = new LayerKit(validatePaperModelOptions(raw));
  const layersPerBlock = (depth - 4) / 3;
  const k = DENSENET_GROWTH_RATE;
  const input = tf.input({ shape: [32, 32, 3], name: 'image' });
  const conv = (x: tf.SymbolicTensor, label: string, filters: number, size: number): tf.SymbolicTensor => {
    const y = tf.layers
      .conv2d({ name: label, filters, kernelSize: size, padding: 'same', useBias: false, kernelInitializer: kit.heNormal(label) })
      .apply(x) as tf.SymbolicTensor;
    return kit.noise(label).apply(y) as tf.SymbolicTensor;
  };
  const bnRelu = (x: tf.SymbolicTensor, label: string): tf.SymbolicTensor =>
    tf.layers.reLU({ name: `${label}_relu` }).apply(kit.batchNorm(label).apply(x)) as tf.SymbolicTensor;

  let x = conv(input, 'stem', 16, 3);
  let channels = 16;
  for (let b = 1; b <= 3; b++) {
    for (let l = 1; l <= layersPerBlock; l++) {
      const label = `block${b}_layer${l}`;
      const y = conv(bnRelu(x, label), `${label}_conv`, k, 3);
      x = tf.layers.concatenate({ name: `${label}_concat`, axis: -1 }).apply([x, y]) as tf.SymbolicTensor;
      channels += k;
    }
    if (b < 3) {
      const label = `transition${b}`;
      x = conv(bnRelu(x, label), `${label}_conv`, channels, 1);
      x = tf.layers.averagePooling2d({ name: `${label}_pool`, poolSize: 2 }).apply(x) as tf.SymbolicTensor;
    }
  }
  x = bnRelu(x, 'head');
  x = tf.layers.globalAveragePooling2d({ name: 'head_gap' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ name: 'fc', units: 10, kernelInitializer: kit.glorot('fc') }).apply(x) as tf.SymbolicTensor;
  x = kit.noise('fc').apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: `densenet${depth}` });
}
