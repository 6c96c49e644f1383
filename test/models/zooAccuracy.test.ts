/**
 * The committed zoo's CNN-6 (σ_train = 0) on the first 1,000 embedded test digits,
 * loaded the way users load it (`loadZooModel`, sha256-checked) and also compiled
 * onto the ideal chip: both must score ≥ 99.0 %.
 */
import * as fs from 'fs';
import { initBackend, tf } from '../../src/backend';
import { loadZooModel, readZooManifest } from '../../src/models/zoo';
import { loadMnist, embeddedMnistDir, defaultDataDir } from '../../src/data';
import { sharedDatasetPaths } from '../../src/data/paths';
import { LSTM_TIME_STEPS } from '../../src/models/paper/lstm';
import { CIFAR_HELD_OUT, loadLstmStrokes, loadTrainingData } from '../../src/models/training/trainingData';
import { compile, IDEAL_CHIP } from '../../src/compiler';

const NAME = 'cnn6-mnist-mult-0';
const present = readZooManifest().models.some((m) => m.name === NAME);

beforeAll(async () => {
  await initBackend();
});

(present ? describe : describe.skip)(`zoo ${NAME}${present ? '' : ' (not in zoo/manifest.json yet: skipped)'}`, () => {
  it('scores ≥ 99.0 % on the first 1,000 embedded MNIST test digits, directly and compiled on the ideal chip', async () => {
    const model = await loadZooModel(NAME);
    const data = loadMnist(embeddedMnistDir(), 'test', { limit: 1000 });
    const x = tf.tensor4d(data.images, [1000, 28, 28, 1]);
    const accuracy = (logits: tf.Tensor) => {
      const pred = tf.argMax(logits, 1).dataSync();
      return Array.from(pred).filter((p, i) => p === data.labels[i]).length / 1000;
    };
    expect(accuracy(model.predict(x) as tf.Tensor)).toBeGreaterThanOrEqual(0.99);
    const compiled = compile(model, { chip: IDEAL_CHIP });
    const chip = compiled.program(0);
    expect(accuracy(chip.run(x, { seed: 0 }))).toBeGreaterThanOrEqual(0.99);
    chip.dispose();
    compiled.dispose();
  });
});

/** `n` examples spread evenly over a test set (every k-th, k = count / n), values and labels. */
function everyKth(values: Float32Array, allLabels: Uint8Array, n: number): { values: Float32Array; labels: Uint8Array } {
  const stride = allLabels.length / n;
  const per = values.length / allLabels.length;
  const out = new Float32Array(n * per);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out.set(values.subarray(i * stride * per, (i * stride + 1) * per), i * per);
    labels[i] = allLabels[i * stride];
  }
  return { values: out, labels };
}

/** Noiseless accuracy of zoo model `name` on `x` (labels `labels`), predicted `batch` examples at a time. */
async function zooAccuracy(name: string, x: tf.Tensor, labels: ArrayLike<number>, batch = x.shape[0]): Promise<number> {
  const model = await loadZooModel(name);
  const n = x.shape[0];
  let correct = 0;
  for (let s = 0; s < n; s += batch) {
    const pred = tf.tidy(() => tf.argMax(model.predict(tf.slice(x, s, Math.min(batch, n - s))) as tf.Tensor, 1).dataSync());
    pred.forEach((p, i) => {
      if (p === labels[s + i]) correct++;
    });
  }
  model.dispose();
  return correct / n;
}

/** The manifest's full-test-set accuracy must hold on an n-example subset within 4 binomial SE + 0.5 %. */
function expectNearManifest(accuracy: number, manifestAccuracy: number, n: number): void {
  const se = Math.sqrt((manifestAccuracy * (1 - manifestAccuracy)) / n);
  expect(Math.abs(accuracy - manifestAccuracy)).toBeLessThanOrEqual(4 * se + 0.005);
}

/**
 * Every CNN-6 in the zoo, loaded as users load it, against its own manifest: the
 * noiseless accuracy on every 5th embedded test digit (2,000 spread over the whole
 * set: its first and second halves differ in difficulty, by 5 points for the
 * weakest models) must agree with the manifest's full-test-set figure within 4
 * binomial standard errors plus 0.5 %. A zoo entry whose weights or BN statistics
 * were saved wrongly fails.
 */
describe('every CNN-6 zoo model reproduces its manifest accuracy', () => {
  const cnn6 = readZooManifest().models.filter((m) => m.model === 'cnn6');
  const n = 2000;
  let x: tf.Tensor4D;
  let labels: Uint8Array;
  beforeAll(() => {
    const data = loadMnist(embeddedMnistDir(), 'test');
    const subset = everyKth(data.images, data.labels, n);
    x = tf.tensor4d(subset.values, [n, 28, 28, 1]);
    labels = subset.labels;
  });
  afterAll(() => x.dispose());

  it('covers the sweeps of the issue: multiplicative σ_train 0…1.0 by 0.1, additive 0…1.0 by 0.2', () => {
    // The adversarially trained CNN-6 (`adversarial` in its entry; src/models/attacks) is not part of the noise sweeps.
    const sigmas = (noise: string) => cnn6.filter((m) => m.noise === noise && !('adversarial' in m)).map((m) => m.sigmaTrain).sort((a, b) => a - b);
    expect(sigmas('multiplicative')).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(sigmas('additive')).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it.each(cnn6.map((m) => [m.name, m.testAccuracy] as const))('%s (manifest %f)', async (name, manifestAccuracy) => {
    expectNearManifest(await zooAccuracy(name, x, labels), manifestAccuracy, n);
  });
});

/**
 * The zoo's LSTMs against their manifest on every 5th stroke test sequence
 * (needs ../shared; the embedded data holds no strokes), with the same
 * tolerance as the CNN-6 check; the σ_train = 0 model must also reach the
 * issue's 94 % target in its manifest.
 */
describe('every LSTM zoo model reproduces its manifest accuracy', () => {
  const lstms = readZooManifest().models.filter((m) => m.model === 'lstm');
  const tar = sharedDatasetPaths(defaultDataDir()).strokesTarGz;
  const ready = lstms.length > 0 && fs.existsSync(tar);
  const n = 2000;
  let x: tf.Tensor3D | undefined;
  let labels: Uint8Array;
  beforeAll(async () => {
    if (!ready) return;
    const test = await loadLstmStrokes(tar, 'test');
    const subset = everyKth(test.sequences, test.labels, n);
    x = tf.tensor3d(subset.values, [n, LSTM_TIME_STEPS, 2]);
    labels = subset.labels;
  });
  afterAll(() => x?.dispose());

  (ready ? it : it.skip)('σ_train = 0 reaches 94 % on the full stroke test set (manifest)', () => {
    const base = lstms.find((m) => m.sigmaTrain === 0);
    expect(base?.testAccuracy).toBeGreaterThanOrEqual(0.94);
  });

  const table = lstms.length > 0 ? lstms.map((m) => [m.name, m.testAccuracy] as const) : ([['(no LSTM in the zoo)', 0]] as const);
  (ready ? it.each : it.skip.each)(table)('%s (manifest %f)', async (name, manifestAccuracy) => {
    expectNearManifest(await zooAccuracy(name, x!, labels), manifestAccuracy, n);
  });
});

/**
 * The zoo's DenseNet-40 against its manifest on the 500 CIFAR-10 images the
 * trainer held out (no CIFAR test set exists here; needs ../shared). The whole
 * held-out set is scored, so the figure must be the manifest's up to a couple of
 * images whose logits tie within float32 summation order.
 */
describe('the DenseNet-40 zoo model reproduces its manifest accuracy', () => {
  const densenets = readZooManifest().models.filter((m) => m.model === 'densenet40');
  const dataDir = defaultDataDir();
  const ready = densenets.length > 0 && fs.existsSync(sharedDatasetPaths(dataDir).cifar10Sample);
  const table = ready ? densenets.map((m) => [m.name, m.testAccuracy] as const) : ([['(no DenseNet-40 in the zoo, or no CIFAR sample)', 0]] as const);
  (ready ? it.each : it.skip.each)(table)('%s (manifest %f) on the 500 held-out CIFAR-10 images', async (name, manifestAccuracy) => {
    const { test } = await loadTrainingData('densenet40', dataDir);
    expect(test.count).toBe(CIFAR_HELD_OUT);
    const x = tf.tensor(test.x, [test.count, ...test.shape.slice(1)]);
    const accuracy = await zooAccuracy(name, x, test.y, 50);
    x.dispose();
    expect(Math.abs(accuracy - manifestAccuracy)).toBeLessThanOrEqual(2 / test.count);
    // Well above chance (10 %): the weights and BN statistics were stored and loaded correctly.
    expect(manifestAccuracy).toBeGreaterThan(0.3);
  });
});
