/**
 * CNN-6 on MNIST: training images/s (Adam, batch 32, noise-injected σ_train = 0.4)
 * and inference images/s, side by side, in one process. Two data-parallel workers
 * are not implemented: averaging gradients over half-batches changes batch-norm
 * statistics, so results would depend on the worker count (see the trainer's notes);
 * the table says so rather than printing a number for them.
 */
import { initBackend, tf } from '../src/backend';
import { buildModel } from '../src/models/paper/buildModel';
import { trainModel } from '../src/models/training/train';
import { loadMnist, embeddedMnistDir } from '../src/data';
import { printTable } from './timing';

export async function run(): Promise<void> {
  const backend = await initBackend();
  const n = 2048;
  const data = loadMnist(embeddedMnistDir(), 'test', { limit: n });
  const dataset = { x: data.images, y: data.labels, count: n, shape: [n, 28, 28, 1] };
  const model = buildModel('cnn6', { noise: 'multiplicative', sigma: 0.4, seed: 1 });
  let trainRate = 0;
  await trainModel(model, dataset, {
    optimizer: 'adam',
    epochs: 1,
    seed: 1,
    onEpoch: (r) => {
      trainRate = r.examplesPerSecond;
    },
  });
  const x = tf.tensor4d(data.images, [n, 28, 28, 1]);
  tf.tidy(() => (model.predict(tf.slice(x, 0, 256)) as tf.Tensor).dataSync()); // warm-up
  const t0 = performance.now();
  for (let s = 0; s < n; s += 256) tf.tidy(() => (model.predict(tf.slice(x, s, 256)) as tf.Tensor).dataSync());
  const inferRate = n / ((performance.now() - t0) / 1000);
  process.stdout.write(`\nCNN-6 (σ_train 0.4, multiplicative), ${n} MNIST digits, backend ${backend}\n`);
  printTable(
    ['workers', 'training images/s (batch 32)', 'inference images/s (batch 256)'],
    [
      ['1', trainRate.toFixed(0), inferRate.toFixed(0)],
      ['2', 'not implemented (see note)', 'not implemented (see note)'],
    ],
  );
  tf.dispose(x);
  model.dispose();
}
