import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { Rng } from '../../src/rng';
import { ConfigError } from '../../src/errors';
import { saveTfjsModelToDir } from '../../src/compiler';
import { registerTrainingKernels } from '../../src/index';
import { loadMnist, embeddedMnistDir, readCifarBinary } from '../../src/data';
import { createChipEvaluator, validateChipPoint, EVAL_BATCH } from '../../src/study/chipEvaluator';
import type { StudyPoint } from '../../src/study/grid';
import type { PointEvaluator } from '../../src/study/evaluator';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-eval-'));
let modelJson = '';
let evaluate: PointEvaluator;
let digitalAccuracy = 0;
const LIMIT = 300;

beforeAll(async () => {
  await initBackend();
  // A small seeded softmax classifier trained on embedded digits 1000..2999 (not the evaluated ones).
  const data = loadMnist(embeddedMnistDir(), 'test', { limit: 3000 });
  const x = tf.tensor4d(data.images, [3000, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(data.labels, 'int32'), 10).toFloat();
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  await model.fit(tf.slice(x, 1000, 2000), tf.slice(y, 1000, 2000), { epochs: 3, batchSize: 50, shuffle: false, verbose: 0 });
  const pred = (model.predict(tf.slice(x, 0, LIMIT)) as tf.Tensor).argMax(1).dataSync();
  digitalAccuracy = Array.from(pred).filter((p, i) => p === data.labels[i]).length / LIMIT;
  modelJson = await saveTfjsModelToDir(model, path.join(dir, 'softmax'));
  evaluate = await createChipEvaluator({});
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function point(overrides: Partial<StudyPoint>): StudyPoint {
  return {
    id: 'p', index: 0, model: modelJson, device: 'ideal', noise: 'device', sigma: 0, semantics: 'passes', votes: 1, seeds: [0],
    dataset: { name: 'mnist', limit: LIMIT }, ...overrides,
  };
}

describe('chip evaluator', () => {
  it('on the ideal chip and at signal σ = 0 scores exactly the digital model', async () => {
    expect(digitalAccuracy).toBeGreaterThan(0.8);
    const ideal = await evaluate(point({}), Rng.fromSeed(1));
    expect(ideal.accuracyPerSeed).toEqual([digitalAccuracy]);
    const signal0 = await evaluate(point({ device: 'signal', noise: 'multiplicative', semantics: 'signal', votes: 5 }), Rng.fromSeed(1));
    expect(signal0.accuracyPerSeed).toEqual([digitalAccuracy]);
    expect(ideal.metrics!.examples).toBe(LIMIT);
    expect(EVAL_BATCH).toBeLessThan(LIMIT); // the test covers more than one batch
  });

  it('is deterministic, loses accuracy under strong noise and wins some back by voting', async () => {
    const noisy = (votes: number) => point({ device: 'signal', noise: 'multiplicative', sigma: 1.5, semantics: 'signal', votes, seeds: [0, 1] });
    const a = await evaluate(noisy(1), Rng.fromSeed(4));
    const fresh = await createChipEvaluator({});
    const b = await fresh(noisy(1), Rng.fromSeed(4));
    expect(b.accuracyPerSeed).toEqual(a.accuracyPerSeed);
    const v15 = await evaluate(noisy(15), Rng.fromSeed(4));
    const mean = (r: { accuracyPerSeed: readonly number[] }) => r.accuracyPerSeed.reduce((s, v) => s + v, 0) / r.accuracyPerSeed.length;
    expect(mean(a)).toBeLessThan(digitalAccuracy - 0.05);
    expect(mean(v15)).toBeGreaterThan(mean(a) + 0.03);
    // V=1 computed after V=15 (from the cache) equals V=1 computed first
    expect((await evaluate(noisy(1), Rng.fromSeed(4))).accuracyPerSeed).toEqual(a.accuracyPerSeed);
  });

  it('reports the scheduler\'s cost of V votes for each semantics', async () => {
    const one = await evaluate(point({ device: 'reram', votes: 1 }), Rng.fromSeed(2));
    const passes = await evaluate(point({ device: 'reram', votes: 4 }), Rng.fromSeed(2));
    const replicas = await evaluate(point({ device: 'reram', votes: 4, semantics: 'replicas' }), Rng.fromSeed(2));
    const m1 = one.metrics!;
    expect(passes.metrics!.energyPicojoules).toBeCloseTo(4 * (m1.energyPicojoules as number), 6);
    expect(passes.metrics!.scheduleMode).toBe('pipelined');
    // one analog stage: pipelined latency L + (V-1) stages = 4τ; parallel replicas 1τ with 4× tiles
    expect(passes.metrics!.latencyNs).toBeCloseTo(4 * (m1.latencyNs as number), 6);
    expect(replicas.metrics!.latencyNs).toBeCloseTo(m1.latencyNs as number, 6);
    expect(replicas.metrics!.tiles).toBe(4 * (m1.tiles as number));
    expect(one.accuracyPerSeed[0]).toBeGreaterThan(digitalAccuracy - 0.05);
    // The energy is counted on the point's own chip, on its first pass over every test sample:
    // one figure for the whole vote sweep, and a fresh evaluator (another worker) counts the same.
    expect(m1.energyMeasuredSamples).toBe(LIMIT);
    expect(passes.metrics!.energyPerInferencePicojoules).toBe(m1.energyPerInferencePicojoules);
    const elsewhere = await (await createChipEvaluator({}))(point({ device: 'reram', votes: 4 }), Rng.fromSeed(2));
    expect(elsewhere.metrics!.energyPerInferencePicojoules).toBe(m1.energyPerInferencePicojoules);
    expect(elsewhere.metrics!.adcClippedFraction).toBe(m1.adcClippedFraction);
  });

  it('rejects inconsistent points before running them', () => {
    expect(() => validateChipPoint(point({ device: 'signal', noise: 'device', semantics: 'signal' }))).toThrow(/noise = "device": expected "multiplicative" or "additive"/);
    expect(() => validateChipPoint(point({ device: 'reram', noise: 'multiplicative' }))).toThrow(/noise = "multiplicative": expected "device" for device reram/);
    expect(() => validateChipPoint(point({ device: 'reram', semantics: 'signal' }))).toThrow(/semantics = "signal": expected "passes" or "replicas"/);
    expect(() => validateChipPoint(point({ device: 'flash' }))).toThrow(ConfigError);
    expect(() => validateChipPoint(point({ dataset: { name: 'cifar10', limit: null } }))).toThrow(/dataset\.name = "cifar10"/);
  });
});

const strokesPresent = fs.existsSync(path.resolve(__dirname, '../../../shared/datasets/mnist-stroke/sequences.tar.gz'));

(strokesPresent ? describe : describe.skip)('chip evaluator on stroke sequences (the zoo LSTM, needs ../shared)', () => {
  it('runs lstm-strokes-mult-0 compiled, noiseless near its manifest accuracy and worse at σ = 1', async () => {
    const lstm = (sigma: number) =>
      point({ model: 'zoo:lstm-strokes-mult-0', device: 'signal', noise: 'multiplicative', sigma, semantics: 'signal', dataset: { name: 'mnist-strokes', limit: 300 } });
    const clean = await evaluate(lstm(0), Rng.fromSeed(2));
    const noisy = await evaluate(lstm(1), Rng.fromSeed(2));
    expect(clean.metrics!.examples).toBe(300);
    // Manifest: 96.06 % on all 10,000; 300 sequences give a binomial std of ~1.1 %.
    expect(clean.accuracyPerSeed[0]).toBeGreaterThan(0.92);
    expect(noisy.accuracyPerSeed[0]).toBeLessThan(clean.accuracyPerSeed[0] - 0.1);
  });
});

const cifarSample = path.resolve(__dirname, '../../../shared/datasets/cifar10/data_batch_1.first4000.bin.gz');

(fs.existsSync(cifarSample) ? describe : describe.skip)('chip evaluator on the held-out CIFAR-10 images (needs ../shared)', () => {
  let cifarModel = '';
  let digital = 0;
  beforeAll(async () => {
    // A small seeded conv classifier trained on CIFAR images 0..1999 (never the held-out 3500..3999);
    // tfjs-wasm has no conv filter gradient of its own, so model.fit needs ohmic's training kernels.
    registerTrainingKernels();
    const all = readCifarBinary(cifarSample);
    const per = 32 * 32 * 3;
    const x = tf.tensor4d(all.images.subarray(0, 2000 * per), [2000, 32, 32, 3]);
    const y = tf.oneHot(tf.tensor1d(all.labels.subarray(0, 2000), 'int32'), 10).toFloat();
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 8, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.003), loss: 'categoricalCrossentropy' });
    await model.fit(x, y, { epochs: 3, batchSize: 50, shuffle: false, verbose: 0 });
    const held = tf.tensor4d(all.images.subarray(3500 * per, 4000 * per), [500, 32, 32, 3]);
    const pred = (model.predict(held) as tf.Tensor).argMax(1).dataSync();
    digital = Array.from(pred).filter((p, i) => p === all.labels[3500 + i]).length / 500;
    cifarModel = await saveTfjsModelToDir(model, path.join(dir, 'cifar-conv'));
    tf.dispose([x, y, held]);
  });

  it('scores the 500 held-out images exactly as the digital model does on the ideal chip', async () => {
    expect(digital).toBeGreaterThan(0.2); // well above chance: the images and labels line up
    const r = await evaluate(point({ model: cifarModel, dataset: { name: 'cifar10-heldout', limit: null } }), Rng.fromSeed(1));
    expect(r.metrics!.examples).toBe(500);
    expect(r.accuracyPerSeed).toEqual([digital]);
  });

  it('refuses a limit beyond the 500 held-out images, naming the field', async () => {
    await expect(evaluate(point({ model: cifarModel, dataset: { name: 'cifar10-heldout', limit: 600 } }), Rng.fromSeed(1))).rejects.toThrow(
      /dataset\.limit = 600: expected at most 500/,
    );
  });
});

describe('no growth across points', () => {
  it('holds the same tfjs tensors and onnxruntime sessions after every point of a long run', async () => {
    const { OrtSession } = await import('../../src/compiler/engine/ortSession');
    const points: StudyPoint[] = [];
    for (let k = 0; k < 4; k++) {
      for (const device of ['reram', 'pcm', 'nand']) points.push(point({ device, votes: 2, seeds: [k], dataset: { name: 'mnist', limit: 60 } }));
      points.push(point({ device: 'signal', noise: 'multiplicative', sigma: 0.3 + 0.1 * k, semantics: 'signal', votes: 2, seeds: [k], dataset: { name: 'mnist', limit: 60 } }));
    }
    const counts: Array<[number, number]> = [];
    for (const p of points) {
      await evaluate(p, Rng.fromSeed(3));
      counts.push([tf.memory().numTensors, OrtSession.live]);
    }
    // The first round compiles and caches per (model, device); after it nothing grows:
    // chips and their sessions are freed after each point, signal sessions are shared.
    const settled = counts.slice(4);
    for (const c of settled) expect(c).toEqual(settled[0]);
  });
});
