/**
 * PGD / FGSM (src/models/attacks/pgd.ts), adversarial training and the transfer
 * evaluation, on the zoo's CNN-6 and the embedded MNIST test digits (small
 * counts and iteration numbers: these are behaviour checks, not the Table 11 run).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { embeddedMnistDir, loadMnist } from '../../src/data';
import { ConfigError, ShapeError } from '../../src/errors';
import { noiseSources } from '../../src/models/noiseLayers';
import { loadZooModel } from '../../src/models/zoo';
import { Rng } from '../../src/rng';
import { fgsmAttack, pgdAttack, uniformNoise, type AttackInputs } from '../../src/models/attacks/pgd';
import { ATTACK_PRESETS, attackPreset } from '../../src/models/attacks/presets';
import { adversarialBatchTransform, adversarialTrainModel } from '../../src/models/attacks/adversarialTraining';
import { evaluateTransfer, layersAccuracy, modeAccuracy } from '../../src/models/attacks/transfer';
import { whiteBoxThroughNoise } from '../../src/models/attacks/whiteBox';
import type { Dataset } from '../../src/models/training/train';
import { tinyConvNet } from '../helpers/tinyConvNet';

let cnn6: tf.LayersModel;
let digits: { x: Float32Array; labels: Uint8Array };

beforeAll(async () => {
  await initBackend();
  cnn6 = await loadZooModel('cnn6-mnist-mult-0');
  const d = loadMnist(embeddedMnistDir(), 'test', { limit: 200 });
  digits = { x: d.images, labels: d.labels };
});
afterAll(() => cnn6.dispose());

function first(n: number): AttackInputs {
  return { x: digits.x.subarray(0, n * 784), labels: digits.labels.subarray(0, n), shape: [n, 28, 28, 1] };
}

function accuracyOn(model: tf.LayersModel, x: Float32Array, labels: Uint8Array): number {
  return layersAccuracy(model, { x, labels }, [labels.length, 28, 28, 1]);
}

/** Largest |adv − x| (float64) and the range of adv. */
function linf(adv: Float32Array, x: Float32Array): { max: number; lo: number; hi: number } {
  let max = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    max = Math.max(max, Math.abs(adv[i] - x[i]));
    lo = Math.min(lo, adv[i]);
    hi = Math.max(hi, adv[i]);
  }
  return { max, lo, hi };
}

describe('PGD', () => {
  it('keeps every example inside the ε-ball and [0, 1], exactly in float32', () => {
    for (const eps of [0.3, 0.1, 8 / 255]) {
      const inputs = first(40);
      const r = pgdAttack(cnn6, inputs, { eps, stepSize: eps / 3, iterations: 4, restarts: 2, seed: 3 });
      const d = linf(r.x, inputs.x);
      expect(d.max).toBeLessThanOrEqual(eps);
      expect(d.max).toBeGreaterThan(0.9 * eps); // the attack does use its budget
      expect(d.lo).toBeGreaterThanOrEqual(0);
      expect(d.hi).toBeLessThanOrEqual(1);
    }
  });

  it('lowers the zoo CNN-6 accuracy on 200 test digits far more than uniform noise of the same ε', () => {
    const inputs = first(200);
    const eps = 0.3;
    const clean = accuracyOn(cnn6, inputs.x, digits.labels);
    const noisy = accuracyOn(cnn6, uniformNoise(inputs, eps, 1), digits.labels);
    const r = pgdAttack(cnn6, inputs, { eps, stepSize: 0.05, iterations: 10, restarts: 1, seed: 1 });
    const attacked = accuracyOn(cnn6, r.x, digits.labels);
    expect(clean).toBeGreaterThanOrEqual(0.97);
    // Uniform noise of ε = 0.3 costs this model some 10 points; PGD of the same ε takes nearly all.
    expect(noisy).toBeGreaterThanOrEqual(0.8);
    expect(attacked).toBeLessThanOrEqual(0.1);
    expect(noisy - attacked).toBeGreaterThan(0.7);
    // `fooled` is what the model says about the kept examples.
    expect(1 - r.fooled.reduce((a, b) => a + b, 0) / 200).toBeCloseTo(attacked, 10);
    expect(linf(uniformNoise(inputs, eps, 1), inputs.x).max).toBeLessThanOrEqual(eps);
  });

  it('never lowers attack success with more restarts (same seed), per example', () => {
    // A weak attack (small ε, 2 steps) so that some examples resist and restarts matter.
    const inputs = first(100);
    const opts = { eps: 0.12, stepSize: 0.05, iterations: 2, seed: 11, batchSize: 50 };
    const runs = [1, 2, 4].map((restarts) => pgdAttack(cnn6, inputs, { ...opts, restarts }));
    const successes = runs.map((r) => r.fooled.reduce((a, b) => a + b, 0));
    for (let k = 1; k < runs.length; k++) {
      expect(successes[k]).toBeGreaterThanOrEqual(successes[k - 1]);
      for (let i = 0; i < 100; i++) {
        expect(runs[k].fooled[i]).toBeGreaterThanOrEqual(runs[k - 1].fooled[i]);
        if (runs[k].fooled[i] === runs[k - 1].fooled[i]) expect(runs[k].loss[i]).toBeGreaterThanOrEqual(runs[k - 1].loss[i]);
      }
    }
    // Restarts do something here: some example is won by a later restart.
    expect(runs[2].restart.some((r) => r > 0)).toBe(true);
    expect(successes[0]).toBeGreaterThan(0);
    expect(successes[0]).toBeLessThan(100);
  });

  it('gives the same examples for the same seed, at any batch size, and other examples for another seed', () => {
    const inputs = first(30);
    const opts = { eps: 0.3, stepSize: 0.05, iterations: 3, restarts: 2 };
    const a = pgdAttack(cnn6, inputs, { ...opts, seed: 5, batchSize: 30 });
    const b = pgdAttack(cnn6, inputs, { ...opts, seed: 5, batchSize: 30 });
    const c = pgdAttack(cnn6, inputs, { ...opts, seed: 6, batchSize: 30 });
    expect(Buffer.from(a.x.buffer).equals(Buffer.from(b.x.buffer))).toBe(true);
    expect(Buffer.from(a.x.buffer).equals(Buffer.from(c.x.buffer))).toBe(false);
    // Starts are keyed by example index: an Rng seed equals its number, and a batch split changes only float rounding.
    const d = pgdAttack(cnn6, inputs, { ...opts, seed: Rng.fromSeed(5), batchSize: 7 });
    let differing = 0;
    for (let i = 0; i < a.x.length; i++) if (Math.abs(a.x[i] - d.x[i]) > 1e-6) differing++;
    expect(differing / a.x.length).toBeLessThan(0.01);
    // exampleOffset: attacking examples 10..29 alone draws the starts they had in the whole set.
    const rest = { x: inputs.x.subarray(10 * 784), labels: digits.labels.subarray(10, 30), shape: [20, 28, 28, 1] };
    const e = pgdAttack(cnn6, rest, { ...opts, iterations: 0, seed: 5, exampleOffset: 10 });
    const whole = pgdAttack(cnn6, inputs, { ...opts, iterations: 0, seed: 5 });
    expect(Array.from(e.x.subarray(0, 784 * 5))).toEqual(Array.from(whole.x.subarray(10 * 784, 15 * 784)));
  });

  it('FGSM moves every pixel by ε (or to the pixel range, or not where the gradient is 0)', () => {
    const inputs = first(20);
    const r = fgsmAttack(cnn6, inputs, { eps: 0.1 });
    let moved = 0;
    for (let i = 0; i < inputs.x.length; i++) {
      const d = Math.abs(r.x[i] - inputs.x[i]);
      const clipped = r.x[i] === 0 || r.x[i] === 1;
      if (!clipped && d !== 0) expect(Math.abs(d - 0.1)).toBeLessThan(1e-6);
      if (d > 0) moved++;
    }
    // Most MNIST pixels are 0: those pushed down stay at 0, so about a fifth of all pixels move.
    expect(moved / inputs.x.length).toBeGreaterThan(0.1);
    expect(linf(r.x, inputs.x).max).toBeLessThanOrEqual(0.1);
    expect(accuracyOn(cnn6, r.x, inputs.labels as Uint8Array)).toBeLessThan(accuracyOn(cnn6, inputs.x, inputs.labels as Uint8Array));
  });

  it('has the paper\'s Table 10 presets', () => {
    expect(ATTACK_PRESETS.mnist).toEqual({ eps: 0.3, stepSize: 0.05, iterations: 20, restarts: 20 });
    expect(ATTACK_PRESETS.cifar10).toEqual({ eps: 8 / 255, stepSize: 2 / 255, iterations: 7, restarts: 10 });
    expect(() => attackPreset('imagenet', '--preset')).toThrow(ConfigError);
    expect(() => attackPreset('imagenet', '--preset')).toThrow(/--preset = "imagenet": expected one of mnist, cifar10/);
  });

  it('refuses bad options and inputs with typed errors naming the field', () => {
    const inputs = first(2);
    const ok = { eps: 0.3, stepSize: 0.05, iterations: 1, seed: 0 };
    expect(() => pgdAttack(cnn6, inputs, { ...ok, eps: -1 })).toThrow(/eps = -1: expected a finite number >= 0/);
    expect(() => pgdAttack(cnn6, inputs, { ...ok, restarts: 0 })).toThrow(/restarts = 0: expected an integer >= 1/);
    expect(() => pgdAttack(cnn6, inputs, { ...ok, iterations: 1.5 })).toThrow(ConfigError);
    expect(() => pgdAttack(cnn6, inputs, { ...ok, seed: -2 })).toThrow(/seed = -2/);
    expect(() => pgdAttack(cnn6, inputs, { ...ok, clipMin: 1, clipMax: 0 })).toThrow(ConfigError);
    expect(() => pgdAttack(cnn6, { ...inputs, labels: [1, 10] }, ok)).toThrow(/labels\[1\] = 10: expected an integer in 0..9/);
    expect(() => pgdAttack(cnn6, { ...inputs, shape: [2, 14, 56, 1] }, ok)).toThrow(ShapeError);
    expect(() => pgdAttack(cnn6, { ...inputs, labels: [1] }, ok)).toThrow(ShapeError);
  });
});

/** The tiny BN + noise conv net of the trainer's tests, noiseless (σ = 0), on separable synthetic 8×8 images. */
function tinyModel(seed: number): tf.LayersModel {
  return tinyConvNet(seed, 0);
}

function syntheticData(count: number): Dataset {
  const x = new Float32Array(count * 64);
  const y = new Uint8Array(count);
  const rng = Rng.fromSeed(99);
  for (let i = 0; i < count; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 64; j++) x[i * 64 + j] = Math.min(1, Math.max(0, 0.2 + 0.3 * (Math.floor(j / 22) === y[i] ? 1 : 0) + 0.1 * rng.normal()));
  }
  return { x, y, count, shape: [count, 8, 8, 1] };
}

describe('adversarial training', () => {
  const attack = { eps: 0.2, stepSize: 0.1, iterations: 2 };

  it('replaces the second half of each batch by PGD examples inside the ε-ball', () => {
    const model = tinyModel(1);
    const data = syntheticData(8);
    const transform = adversarialBatchTransform(model, attack, 0);
    const x = tf.tensor(data.x, [8, 8, 8, 1]);
    const y = tf.tensor1d(Int32Array.from(data.y), 'int32');
    const out = transform.apply(x, y, { epoch: 0, batch: 0, step: 0 });
    const a = out.dataSync() as Float32Array;
    expect(Array.from(a.subarray(0, 4 * 64))).toEqual(Array.from(data.x.subarray(0, 4 * 64)));
    const d = linf(a.subarray(4 * 64), data.x.subarray(4 * 64));
    expect(d.max).toBeGreaterThan(0.1);
    expect(d.max).toBeLessThanOrEqual(0.2);
    // Pure in (weights, batch, step): the same step gives the same batch, another step another start.
    expect(Array.from(transform.apply(x, y, { epoch: 0, batch: 0, step: 0 }).dataSync())).toEqual(Array.from(a));
    expect(Array.from(transform.apply(x, y, { epoch: 0, batch: 0, step: 1 }).dataSync())).not.toEqual(Array.from(a));
    tf.dispose([x, y, out]);
  });

  it('resumes from a checkpoint bit-identically and refuses a checkpoint of another attack', async () => {
    const data = syntheticData(96);
    const opts = { optimizer: 'adam' as const, epochs: 2, seed: 4, batchSize: 32, numClasses: 3, adversarial: attack };
    const whole = tinyModel(2);
    await adversarialTrainModel(whole, data, opts);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-adv-'));
    const interrupted = tinyModel(2);
    let step = 0;
    const first = await adversarialTrainModel(interrupted, data, { ...opts, checkpointDir: dir, onProgress: (p) => (step = p.step), shouldStop: () => step === 4 });
    expect(first.completed).toBe(false);
    const resumed = tinyModel(2);
    const second = await adversarialTrainModel(resumed, data, { ...opts, checkpointDir: dir });
    expect(second.completed).toBe(true);
    expect(second.resumedFromStep).toBe(4);
    const w1 = whole.getWeights().map((w) => Array.from(w.dataSync()));
    const w2 = resumed.getWeights().map((w) => Array.from(w.dataSync()));
    expect(w2).toEqual(w1);
    // Another ε is another run: its checkpoints are refused.
    await expect(adversarialTrainModel(tinyModel(2), data, { ...opts, adversarial: { ...attack, eps: 0.1 }, checkpointDir: dir })).rejects.toThrow(
      /checkpointDir = .*: expected checkpoints of this run/,
    );
    // And a natural-training run differs from the adversarial one.
    fs.rmSync(dir, { recursive: true, force: true });
    expect(() => adversarialBatchTransform(whole, { ...attack, fraction: 0 }, 0)).toThrow(/adversarial.fraction = 0/);
    expect(() => adversarialBatchTransform(whole, { ...attack, iterations: 0 }, 0)).toThrow(/adversarial.iterations = 0/);
  });
});

describe('transfer evaluation and the white-box check', () => {
  it('averages noisy runs, votes, runs σ = 0 once, and repeats itself for the same seed', async () => {
    const inputs = first(60);
    const adv = pgdAttack(cnn6, inputs, { eps: 0.2, stepSize: 0.05, iterations: 3, seed: 2 });
    const target = await loadZooModel('cnn6-mnist-mult-0.2');
    // The chips calibrate their converter ranges on digits that are not attacked.
    const options = { sigmas: [0, 0.3], devices: ['pcm'], runs: 3, seed: 7, calibration: first(120).x.slice(60 * 784) };
    const rows = await evaluateTransfer(target, { x: adv.x, labels: inputs.labels }, options, { x: inputs.x, labels: inputs.labels });
    expect(rows.map((r) => [r.label, r.runs])).toEqual([
      ['signal σ=0', 1],
      ['signal σ=0.3', 3],
      ['device pcm', 3],
    ]);
    // σ = 0 is the noiseless model.
    expect(rows[0].adversarial.meanAccuracy).toBeCloseTo(accuracyOn(target, adv.x, inputs.labels as Uint8Array), 10);
    expect(rows[0].natural!.meanAccuracy).toBeGreaterThan(0.95);
    for (const r of rows) {
      for (const a of [r.adversarial, r.natural!]) {
        expect(a.minAccuracy).toBeLessThanOrEqual(a.meanAccuracy);
        expect(a.maxAccuracy).toBeGreaterThanOrEqual(a.meanAccuracy);
        expect(a.votedAccuracy).toBeGreaterThanOrEqual(0);
      }
    }
    const again = await evaluateTransfer(target, { x: adv.x, labels: inputs.labels }, options, { x: inputs.x, labels: inputs.labels });
    expect(again).toEqual(rows);
    await expect(evaluateTransfer(target, { x: adv.x, labels: inputs.labels }, { ...options, devices: ['flash'] })).rejects.toThrow(/devices\[0\] = "flash"/);
    await expect(evaluateTransfer(target, { x: adv.x, labels: inputs.labels }, { ...options, runs: 0 })).rejects.toThrow(/runs = 0/);
    await expect(evaluateTransfer(target, { x: adv.x, labels: inputs.labels }, { ...options, calibration: undefined })).rejects.toThrow(/^calibration = undefined: expected natural inputs/);
    target.dispose();
  });

  it('modeAccuracy: mean, spread and vote of given runs', () => {
    // Two samples, two classes; run 1 right on both, run 2 right on the first, run 3 wrong on both.
    const runs = [Float32Array.of(1, 0, 0, 1), Float32Array.of(1, 0, 1, 0), Float32Array.of(0, 1, 1, 0)];
    const a = modeAccuracy(runs, [0, 1], 2);
    expect(a.meanAccuracy).toBeCloseTo(0.5, 12);
    expect(a.minAccuracy).toBe(0);
    expect(a.maxAccuracy).toBe(1);
    expect(a.votedAccuracy).toBe(0.5);
  });

  it('runs PGD through the noisy forward pass, with EOT, and restores the noise layers', async () => {
    const target = await loadZooModel('cnn6-mnist-mult-0.2');
    const before = noiseSources(target).map((s) => [s.sigma, s.activeInInference, s.drawIndex]);
    const inputs = first(30);
    const results = await whiteBoxThroughNoise(target, inputs, { sigma: 0.3, eps: 0.3, stepSize: 0.1, iterations: 3, restarts: 1, seed: 0, eotSamples: 2, runs: 2 });
    expect(results.map((r) => [r.attack, r.gradientSamples, r.rows.map((x) => x.label)])).toEqual([
      ['noiseless-gradient', 1, ['signal σ=0', 'signal σ=0.3']],
      ['noisy-gradient', 1, ['signal σ=0', 'signal σ=0.3']],
      ['eot', 2, ['signal σ=0', 'signal σ=0.3']],
    ]);
    // Every attack is strong against the noiseless target at this budget.
    for (const r of results) expect(r.rows[0].adversarial.meanAccuracy).toBeLessThan(0.5);
    expect(noiseSources(target).map((s) => [s.sigma, s.activeInInference, s.drawIndex])).toEqual(before);
    await expect(whiteBoxThroughNoise(target, inputs, { sigma: 0, eps: 0.3, stepSize: 0.1, iterations: 1, restarts: 1, seed: 0 })).rejects.toThrow(ConfigError);
    target.dispose();
  });
});
