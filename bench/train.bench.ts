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
 * 3. DenseNet-40 (batch 16, CIFAR-shaped input): the training kernels that
 *    decide its step time, each against what it replaced (the filter gradient's
 *    im2col route, the stock wasm `Sum`/`SplitV`), and whole training steps
 *    with the session-2 kernels against the current ones.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../src/backend';
import { buildModel } from '../src/models/paper/buildModel';
import { LSTM_TIME_STEPS } from '../src/models/paper/lstm';
import { registerTrainingKernels } from '../src/models/training/registerTrainingKernels';
import { conv2dBackpropFilterIm2col, conv2dBackpropFilterWasm } from '../src/models/training/conv2dBackpropFilterWasm';
import { trainModel } from '../src/models/training/train';
import { loadMnist, embeddedMnistDir, defaultDataDir } from '../src/data';
import { sharedDatasetPaths } from '../src/data/paths';
import { Rng } from '../src/rng';
import { medianMs, printTable } from './timing';

type KernelFn = (args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }) => tf.TensorInfo | tf.TensorInfo[];

/** The wasm kernel registered now for `name` (call before and after registering ours to get both). */
function wasmKernelFn(name: string): KernelFn {
  return tf.getKernel(name, 'wasm')!.kernelFunc as unknown as KernelFn;
}

/** Median ms of one direct call of `fn` (outputs freed), reading the result back as the engine would. */
async function kernelMs(fn: KernelFn, inputs: Record<string, tf.Tensor>, attrs: object): Promise<number> {
  const backend = tf.backend();
  return medianMs(() => {
    const out = fn({ inputs: inputs as unknown as tf.NamedTensorInfoMap, backend, attrs: attrs as tf.NamedAttrMap });
    for (const info of Array.isArray(out) ? out : [out]) backend.disposeData(info.dataId);
  });
}

/** Images/s of `steps` training steps of `model` on one fixed batch `xs` (labels 0…9 cycling); disposes all three. */
function trainingStepRate(model: tf.LayersModel, xs: tf.Tensor, optimizer: tf.Optimizer, steps: number): number {
  const batch = xs.shape[0];
  const ys = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10);
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

/** Images/s of DenseNet-40 training steps (momentum, batch 16) on random CIFAR-shaped input. */
function denseNetTrainingRate(steps: number): number {
  const x = new Float32Array(16 * 32 * 32 * 3);
  Rng.fromSeed(6).fillUniform(x);
  const model = buildModel('densenet40', { noise: 'multiplicative', sigma: 0, seed: 1 });
  return trainingStepRate(model, tf.tensor4d(x, [16, 32, 32, 3]), tf.train.momentum(0.05, 0.9), steps);
}

/** Registers `fn` as the wasm kernel `name` (replacing whatever is there); returns the previous config. */
function swapWasmKernel(name: string, fn: KernelFn): tf.KernelConfig {
  const previous = tf.getKernel(name, 'wasm')!;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...previous, kernelFunc: fn as unknown as tf.KernelFunc });
  return previous;
}

function restoreWasmKernel(config: tf.KernelConfig): void {
  tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
}

/** Section 3: DenseNet-40 kernels and steps, the replaced kernels against ours. */
async function denseNetKernels(stock: { sum: KernelFn; splitV: KernelFn }): Promise<void> {
  const rows: Array<Array<string | number>> = [];
  const filterCases: Array<[string, number[], number[]]> = [
    ['DenseNet-40 block 1, 3×3 148→12, 32×32', [16, 32, 32, 148], [3, 3, 148, 12]],
    ['DenseNet-40 block 2, 3×3 292→12, 16×16', [16, 16, 16, 292], [3, 3, 292, 12]],
    ['DenseNet-40 block 3, 3×3 436→12, 8×8', [16, 8, 8, 436], [3, 3, 436, 12]],
    ['DenseNet-40 transition, 1×1 160→160, 32×32', [16, 32, 32, 160], [1, 1, 160, 160]],
    ['CNN-6 conv 2, 3×3 32→32, 28×28, batch 32', [32, 28, 28, 32], [3, 3, 32, 32]],
  ];
  for (const [label, xShape, filterShape] of filterCases) {
    const x = tf.randomNormal(xShape);
    const dy = tf.randomNormal([...xShape.slice(0, 3), filterShape[3]]);
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape };
    const before = await kernelMs(conv2dBackpropFilterIm2col as KernelFn, { x, dy }, attrs);
    const after = await kernelMs(conv2dBackpropFilterWasm as KernelFn, { x, dy }, attrs);
    rows.push([`Conv2DBackpropFilter: ${label}`, before.toFixed(1), after.toFixed(1), `${(before / after).toFixed(2)}×`]);
    tf.dispose([x, dy]);
  }
  const act = tf.randomNormal([16, 32, 32, 148]);
  const sumBefore = await kernelMs(stock.sum, { x: act }, { axis: [0, 1, 2], keepDims: false });
  const sumAfter = await kernelMs(wasmKernelFn('Sum'), { x: act }, { axis: [0, 1, 2], keepDims: false });
  rows.push(['Sum over N,H,W of [16,32,32,148] (BN statistics)', sumBefore.toFixed(2), sumAfter.toFixed(2), `${(sumBefore / sumAfter).toFixed(2)}×`]);
  const splitBefore = await kernelMs(stock.splitV, { x: act }, { numOrSizeSplits: [136, 12], axis: 3 });
  const splitAfter = await kernelMs(wasmKernelFn('SplitV'), { x: act }, { numOrSizeSplits: [136, 12], axis: 3 });
  rows.push(['SplitV [16,32,32,148] → 136 + 12 (concat gradient)', splitBefore.toFixed(2), splitAfter.toFixed(2), `${(splitBefore / splitAfter).toFixed(2)}×`]);
  tf.dispose(act);
  process.stdout.write('\nDenseNet-40 training kernels (ms per call, median of 7; before = what each replaced)\n');
  printTable(['kernel', 'before ms', 'now ms', 'speed-up'], rows);

  const saved = [
    swapWasmKernel('Conv2DBackpropFilter', conv2dBackpropFilterIm2col as KernelFn),
    swapWasmKernel('Sum', stock.sum),
    swapWasmKernel('SplitV', stock.splitV),
  ];
  const beforeRate = denseNetTrainingRate(3);
  saved.forEach(restoreWasmKernel);
  const afterRate = denseNetTrainingRate(3);
  process.stdout.write('\nDenseNet-40 training steps (momentum, batch 16, random 32×32 input, 3 steps)\n');
  printTable(
    ['kernels', 'training images/s'],
    [
      ['im2col filter gradients, stock Sum and SplitV', beforeRate.toFixed(2)],
      ['current (forward-conv filter gradients, channel Sum/Mean/SplitV)', `${afterRate.toFixed(2)} (${(afterRate / beforeRate).toFixed(2)}×)`],
    ],
  );
}

const REPO = path.resolve(__dirname, '..');

/** Images/s of `steps` Adam steps of the LSTM on random stroke-shaped batches of 32. */
function lstmTrainingRate(steps: number): number {
  const x = new Float32Array(32 * LSTM_TIME_STEPS * 2);
  Rng.fromSeed(5).fillNormal(x, 0, 0.1);
  const model = buildModel('lstm', { noise: 'multiplicative', sigma: 0.4, seed: 1 });
  return trainingStepRate(model, tf.tensor3d(x, [32, LSTM_TIME_STEPS, 2]), tf.train.adam(1e-3), steps);
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
  const stock = { sum: wasmKernelFn('Sum'), splitV: wasmKernelFn('SplitV') };
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

  await denseNetKernels(stock);

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
