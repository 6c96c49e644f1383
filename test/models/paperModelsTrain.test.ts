/**
 * A few training steps lower the loss of every paper model on real data: the
 * Madry CNN-4 on embedded MNIST digits, the LSTM on stroke sequences and
 * DenseNet-40 on the CIFAR-10 sample (both from ../shared). CNN-6 has its own
 * tests in train.test.ts. The loss is measured in training mode (batch
 * statistics) on the examples trained on, before and after, so that a few steps
 * are enough to show learning; noise is off (σ = 0).
 */
import { initBackend, tf } from '../../src/backend';
import { loadMnist, embeddedMnistDir } from '../../src/data';
import { buildModel, type PaperModelName } from '../../src/models/paper/buildModel';
import { loadTrainingData } from '../../src/models/training/trainingData';
import { Dataset, trainModel } from '../../src/models/training/train';
import { describeWithShared, SHARED_DATASETS } from '../data/sharedData';

beforeAll(async () => {
  await initBackend();
});

function trainingModeLoss(model: tf.LayersModel, data: Dataset): number {
  return tf.tidy(() => {
    const x = tf.tensor(data.x, [...data.shape]);
    const logits = model.apply(x, { training: true }) as tf.Tensor;
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(Array.from(data.y), 'int32'), 10), logits).dataSync()[0];
  });
}

async function lossBeforeAfter(name: PaperModelName, data: Dataset, opts: { epochs: number; batchSize: number; optimizer: 'adam' | 'momentum'; learningRate?: number }) {
  const model = buildModel(name, { seed: 3 });
  const before = trainingModeLoss(model, data);
  await trainModel(model, data, { ...opts, seed: 3 });
  const after = trainingModeLoss(model, data);
  model.dispose();
  return { before, after };
}

describe('Madry CNN-4', () => {
  it('lowers its loss on 64 real MNIST digits in 4 epochs of Adam', async () => {
    const m = loadMnist(embeddedMnistDir(), 'test', { limit: 64 });
    const { before, after } = await lossBeforeAfter('madryCnn4', { x: m.images, y: m.labels, count: m.count, shape: m.shape }, { epochs: 4, batchSize: 16, optimizer: 'adam' });
    expect(before).toBeGreaterThan(2.0); // ≈ ln 10 at initialisation
    expect(after).toBeLessThan(0.6 * before);
  });
});

describeWithShared('paper models on ../shared data', () => {
  it('LSTM lowers its loss on 128 real stroke sequences in 6 epochs of Adam', async () => {
    const d = await loadTrainingData('lstm', SHARED_DATASETS, 128);
    const { before, after } = await lossBeforeAfter('lstm', d.train, { epochs: 6, batchSize: 16, optimizer: 'adam' });
    expect(before).toBeGreaterThan(2.0);
    // The LSTM starts on a plateau (pen offsets are small inputs); 48 steps move it
    // by about 0.2 nats, the zoo run left it after a few hundred.
    expect(after).toBeLessThan(before - 0.15);
  });

  it('DenseNet-40 lowers its loss on 16 real CIFAR-10 images in 3 epochs of momentum SGD', async () => {
    const d = await loadTrainingData('densenet40', SHARED_DATASETS, 16);
    const { before, after } = await lossBeforeAfter('densenet40', d.train, { epochs: 3, batchSize: 8, optimizer: 'momentum' });
    expect(before).toBeGreaterThan(1.5);
    expect(after).toBeLessThan(0.8 * before);
  });
});
