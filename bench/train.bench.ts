/**
 * Training throughput, measured side by side in one run:
 *
 * 1. One process: CNN-6 on MNIST (Adam, batch 32, multiplicative σ_train = 0.4)
 *    training and inference images/s, and the LSTM on stroke-shaped input
 *    (T = 100) with and without the wasm `BatchMatMul` transpose fix, whose
 *    ratio is the point of that fix.
 * 2. Two workers: tfjs-wasm runs one thread per process in Node (no
 *    multithreaded wasm there), so the trainer uses a second core by running a
 *    second training job, one per σ_train of a sweep. The table gives the
 *    total images/s of one and of two `ohmic train` processes started together.
 *    Data-parallel workers inside one run are not implemented: averaging
 *    half-batch gradients changes batch-norm statistics, so a model would
 *    depend on the worker count.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../src/backend';
import { buildModel } from '../src/models/paper/buildModel';
import { LSTM_TIME_STEPS } from '../src/models/paper/lstm';
import { registerTrainingKernels } from '../src/models/training/registerTrainingKernels';
import { trainModel } from '../src/models/training/train';
import { loadMnist, embeddedMnistDir, defaultDataDir } from '../src/data';
import { sharedDatasetPaths } from '../src/data/paths';
import { Rng } from '../src/rng';
import { printTable } from './timing';

const REPO = path.resolve(__dirname, '..');

/** Images/s of `steps` Adam steps of the LSTM on random stroke-shaped batches of 32. */
function lstmTrainingRate(steps: number): number {
  const batch = 32;
  const model = buildModel('lstm', { noise: 'multiplicative', sigma: 0.4, seed: 1 });
  const x = new Float32Array(batch * LSTM_TIME_STEPS * 2);
  Rng.fromSeed(5).fillNormal(x, 0, 0.1);
  const xs = tf.tensor3d(x, [batch, LSTM_TIME_STEPS, 2]);
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10);
  const optimizer = tf.train.adam(1e-3);
  const step = (): void => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true);
    loss!.dataSync();
    loss!.dispose();
  };
  step(); // warm-up
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) step();
  const rate = (steps * batch) / ((performance.now() - t0) / 1000);
  tf.dispose([xs, ys]);
  optimizer.dispose();
  model.dispose();
  return rate;
}

/** Runs `ohmic train` (CNN-6, the first `limit` MNIST training digits) and returns its logged images/s. */
function cliTrainingRate(mnistDir: string, limit: number, tag: string): Promise<number> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `ohmic-bench-train-${tag}-`));
  const args = [
    'tsx', path.join(REPO, 'src/cli/main.ts'), 'train', '--model', 'cnn6', '--noise', 'mult', '--sigma-train', '0.4',
    '--epochs', '1', '--limit', String(limit), '--seed', tag, '--data', mnistDir,
    '--out', path.join(out, 'zoo', 'bench'), '--checkpoint-dir', path.join(out, 'ck'), '--checkpoint-every', '100000',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('npx', args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.on('close', (code) => {
      fs.rmSync(out, { recursive: true, force: true });
      const m = /epoch 1: .*\(\d+ s, (\d+) img\/s\)/.exec(log);
      if (code !== 0 || !m) reject(new Error(`ohmic train exited with ${code}:\n${log.slice(-2000)}`));
      else resolve(Number(m[1]));
    });
  });
}

export async function run(): Promise<void> {
  const backend = await initBackend();
  // Before anything registers the training kernels: the stock wasm BatchMatMul.
  const lstmStock = lstmTrainingRate(6);
  registerTrainingKernels();
  const lstmFixed = lstmTrainingRate(6);

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
  tf.dispose(x);
  model.dispose();

  process.stdout.write(`\nOne process, backend ${backend} (${n} embedded MNIST digits; LSTM on random T = ${LSTM_TIME_STEPS} sequences)\n`);
  printTable(
    ['model', 'training images/s (batch 32)', 'inference images/s (batch 256)'],
    [
      ['CNN-6 σ_train 0.4', trainRate.toFixed(0), inferRate.toFixed(0)],
      ['LSTM σ_train 0.4, stock wasm BatchMatMul', lstmStock.toFixed(0), ''],
      ['LSTM σ_train 0.4, transposes made explicit', lstmFixed.toFixed(0), `${(lstmFixed / lstmStock).toFixed(2)}× the stock rate`],
    ],
  );

  const mnistDir = sharedDatasetPaths(defaultDataDir()).mnistDir;
  if (!fs.existsSync(path.join(mnistDir, 'train-images-idx3-ubyte.gz'))) {
    process.stdout.write(`\nTwo workers: skipped, ${mnistDir} has no MNIST training set\n`);
    return;
  }
  const limit = 4096;
  const one = await cliTrainingRate(mnistDir, limit, '1');
  const two = await Promise.all([cliTrainingRate(mnistDir, limit, '2'), cliTrainingRate(mnistDir, limit, '3')]);
  const total = two[0] + two[1];
  process.stdout.write(`\nCNN-6 training jobs (ohmic train, ${limit} MNIST training digits each), ${os.cpus().length} cores\n`);
  printTable(
    ['workers', 'images/s per job', 'total images/s', 'vs 1 worker'],
    [
      ['1', one.toFixed(0), one.toFixed(0), '1.00×'],
      ['2 (two jobs at once)', `${two[0].toFixed(0)} / ${two[1].toFixed(0)}`, total.toFixed(0), `${(total / one).toFixed(2)}×`],
    ],
  );
}
