import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { loadMnist } from '../../src/data/idx';
import { ConfigError, DataError, ShapeError } from '../../src/errors';
import { buildModel } from '../../src/models/paper/buildModel';
import { latestCheckpoint, listCheckpoints, readCheckpoint } from '../../src/models/training/checkpoint';
import { Dataset, epochOrder, evaluateAccuracy, trainModel, translateWasmAbort } from '../../src/models/training/train';
import { Rng } from '../../src/rng';
import { tinyConvNet } from '../helpers/tinyConvNet';

const MNIST_DIR = path.resolve(__dirname, '../../../shared/datasets/mnist');
const haveMnist = fs.existsSync(path.join(MNIST_DIR, 'train-images-idx3-ubyte.gz'));

beforeAll(async () => {
  await initBackend();
});

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-train-'));
}

/** The tiny BN + noise conv net, trained with noise σ = 0.3. */
function tinyModel(seed: number): tf.LayersModel {
  return tinyConvNet(seed, 0.3);
}

function syntheticData(count: number): Dataset {
  const x = new Float32Array(count * 64);
  Rng.fromSeed(99).fillNormal(x);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 3;
    for (let k = 0; k < 8; k++) x[i * 64 + y[i] * 16 + k] += 2; // a learnable class signal
  }
  return { x, y, count, shape: [count, 8, 8, 1] };
}

function weightBits(model: tf.LayersModel): Buffer {
  return Buffer.concat(model.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).buffer)));
}

describe('epochOrder', () => {
  it('is a permutation, seeded per (seed, epoch)', () => {
    const a = epochOrder(5, 0, 1000);
    expect(Array.from(a).sort((p, q) => p - q)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(epochOrder(5, 0, 1000))).toEqual(Array.from(a));
    expect(Array.from(epochOrder(5, 1, 1000))).not.toEqual(Array.from(a));
    expect(Array.from(epochOrder(6, 0, 1000))).not.toEqual(Array.from(a));
  });
});

describe('trainModel', () => {
  it('resuming from a mid-epoch checkpoint ends with the same weights as an uninterrupted run', async () => {
    const data = syntheticData(96);
    const opts = { optimizer: 'adam' as const, epochs: 2, batchSize: 16, seed: 7, numClasses: 3 };
    const full = tinyModel(1);
    const fullResult = await trainModel(full, data, opts);
    expect(fullResult.step).toBe(12);

    const dir = tmpDir();
    const first = tinyModel(1);
    let step = 0;
    const part = await trainModel(first, data, {
      ...opts,
      checkpointDir: dir,
      onProgress: (p) => (step = p.step),
      shouldStop: () => step === 8,
    });
    expect(part).toMatchObject({ completed: false, step: 8, epochsCompleted: 1 });
    expect(latestCheckpoint(dir)!.header).toMatchObject({ step: 8, epoch: 1, batch: 2 });

    const resumedModel = tinyModel(1); // fresh process state: new weights, draw counters at 0
    const resumed = await trainModel(resumedModel, data, { ...opts, checkpointDir: dir });
    expect(resumed).toMatchObject({ completed: true, step: 12, resumedFromStep: 8 });
    expect(weightBits(resumedModel).equals(weightBits(full))).toBe(true);
    expect(resumed.history.map((r) => r.trainLoss)).toEqual(fullResult.history.map((r) => r.trainLoss));
    // One JSON line per epoch, no duplicate from the resumed epoch.
    const lines = fs.readFileSync(path.join(dir, 'validation.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).epoch)).toEqual([1, 2]);
  });

  it('lets a signal handler stop it: the loop yields to the event loop between batches', async () => {
    const data = syntheticData(96);
    let stop = false;
    // A timer stands in for process.on('SIGTERM'): both run only when the loop yields.
    setImmediate(() => (stop = true));
    const result = await trainModel(tinyModel(1), data, {
      optimizer: 'adam', epochs: 3, batchSize: 16, seed: 7, numClasses: 3, shouldStop: () => stop,
    });
    expect(result.completed).toBe(false);
    expect(result.step).toBeLessThanOrEqual(2);
  });

  it('also resumes exactly with momentum SGD, checkpointing every N batches and keeping the newest', async () => {
    const data = syntheticData(64);
    const opts = { optimizer: 'momentum' as const, learningRate: 0.05, epochs: 2, batchSize: 16, seed: 3, numClasses: 3 };
    const full = tinyModel(2);
    await trainModel(full, data, opts);
    const dir = tmpDir();
    let step = 0;
    await trainModel(tinyModel(2), data, {
      ...opts,
      checkpointDir: dir,
      checkpointEveryBatches: 1,
      keepCheckpoints: 2,
      onProgress: (p) => (step = p.step),
      shouldStop: () => step === 3,
    });
    expect(listCheckpoints(dir).map((f) => path.basename(f))).toEqual(['ckpt-0000000002.bin', 'ckpt-0000000003.bin']);
    const resumedModel = tinyModel(2);
    await trainModel(resumedModel, data, { ...opts, checkpointDir: dir });
    expect(weightBits(resumedModel).equals(weightBits(full))).toBe(true);
  });

  it('refuses to resume a checkpoint of a different run, and a torn checkpoint file', async () => {
    const data = syntheticData(32);
    const dir = tmpDir();
    await trainModel(tinyModel(1), data, { optimizer: 'adam', epochs: 1, batchSize: 16, seed: 1, numClasses: 3, checkpointDir: dir });
    await expect(
      trainModel(tinyModel(1), data, { optimizer: 'adam', epochs: 1, batchSize: 8, seed: 1, numClasses: 3, checkpointDir: dir }),
    ).rejects.toThrow(/checkpointDir = .*: expected checkpoints of this run/);
    const file = listCheckpoints(dir)[0];
    fs.truncateSync(file, fs.statSync(file).size - 10);
    expect(() => readCheckpoint(file)).toThrow(DataError);
  });

  it('validates options and data with typed errors', async () => {
    const data = syntheticData(16);
    await expect(trainModel(tinyModel(1), data, { optimizer: 'sgd' as never, epochs: 1, seed: 0 })).rejects.toThrow(ConfigError);
    await expect(trainModel(tinyModel(1), data, { optimizer: 'adam', epochs: 0, seed: 0 })).rejects.toThrow(/epochs = 0/);
    await expect(
      trainModel(tinyModel(1), { ...data, shape: [16, 4, 16, 1] }, { optimizer: 'adam', epochs: 1, seed: 0, numClasses: 3 }),
    ).rejects.toThrow(ShapeError);
    await expect(trainModel(tinyModel(1), data, { optimizer: 'adam', epochs: 1, seed: 0, numClasses: 2 })).rejects.toThrow(/data\.y\[2\] = 2/);
  });

  (haveMnist ? it : it.skip)('lowers the loss of CNN-6 on 256 real MNIST digits in 2 epochs (σ_train = 0.4)', async () => {
    const m = loadMnist(MNIST_DIR, 'train', { limit: 256 });
    const data: Dataset = { x: m.images, y: m.labels, count: m.count, shape: m.shape };
    const held = loadMnist(MNIST_DIR, 'test', { limit: 256 });
    const test: Dataset = { x: held.images, y: held.labels, count: held.count, shape: held.shape };
    const model = buildModel('cnn6', { sigma: 0.4, seed: 1 });
    const before = evaluateAccuracy(model, test);
    const result = await trainModel(model, data, { optimizer: 'adam', epochs: 2, seed: 1 });
    const losses = result.history.map((r) => r.trainLoss);
    const after = evaluateAccuracy(model, test);
    expect(losses[0]).toBeGreaterThan(losses[1] + 0.3);
    // Chance is 10 %; 16 Adam steps on 256 digits already generalise well above it.
    expect(after).toBeGreaterThan(Math.max(0.4, before + 0.25));
  });

  (haveMnist ? it : it.skip)('trains additive CNN-6 with fixed batch norm: γ = 1, β = 0 stay, moving statistics move', async () => {
    const m = loadMnist(MNIST_DIR, 'train', { limit: 256 });
    const data: Dataset = { x: m.images, y: m.labels, count: m.count, shape: m.shape };
    const model = buildModel('cnn6', { noise: 'additive', sigma: 0.4, seed: 1 });
    const bn = model.getLayer('conv1_bn');
    const [gamma, beta, movingMean] = bn.getWeights().map((w) => Array.from(w.dataSync()));
    expect(new Set(gamma)).toEqual(new Set([1]));
    expect(new Set(beta)).toEqual(new Set([0]));
    const result = await trainModel(model, data, { optimizer: 'adam', epochs: 2, seed: 1 });
    const losses = result.history.map((r) => r.trainLoss);
    expect(losses[0]).toBeGreaterThan(losses[1] + 0.3);
    const [gammaAfter, betaAfter, meanAfter] = bn.getWeights().map((w) => Array.from(w.dataSync()));
    expect(gammaAfter).toEqual(gamma);
    expect(betaAfter).toEqual(beta);
    expect(Math.max(...meanAfter.map((v, i) => Math.abs(v - movingMean[i])))).toBeGreaterThan(1e-3);
  });
});

if (!haveMnist) {
  // eslint-disable-next-line no-console
  console.warn(`train.test: ${MNIST_DIR} not found, the real-MNIST training test is skipped`);
}

describe('translateWasmAbort', () => {
  it('turns the wasm backend abort into a ConfigError on the batch size and passes other errors through', () => {
    const RuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new (m: string) => Error } }).WebAssembly.RuntimeError;
    const abort = new RuntimeError('Aborted(). Build with -sASSERTIONS for more info.');
    const translated = translateWasmAbort(abort, 32);
    expect(translated).toBeInstanceOf(ConfigError);
    expect((translated as ConfigError).message).toMatch(/batchSize = 32: expected a batch .* fit the wasm heap/);
    // The trap it gives once the heap nears 2 GB (DenseNet-40 adversarial training at batch 32), named by CLI flag.
    const trap = translateWasmAbort(new RuntimeError('memory access out of bounds'), 100, '--batch');
    expect(trap).toBeInstanceOf(ConfigError);
    expect((trap as ConfigError).message).toMatch(/--batch = 100: expected a batch .* fit the wasm heap/);
    const other = new Error('something else');
    expect(translateWasmAbort(other, 32)).toBe(other);
  });
});
