/**
 * The crossbar core end to end on real digits, without a trained model zoo: a
 * 784–128–10 MLP is trained (seeded) on the first half of the embedded MNIST test
 * digits, then its two dense layers are programmed onto ReRAM, PCM and NAND chips and
 * evaluated on the other half, next to the paper's signal-level noise. It is what
 * `npm start` shows until the zoo and the study runner replace it.
 */
import { calibrateLayer } from '../compiler/calibrateRanges';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { backendName } from '../backend';
import { loadMnist } from '../data';
import {
  deviceFromConfig, validateChipSpec, programLayer, analogMvm, signalMvm, layerCost, emptyMvmStats,
  multiplicativeSnrDb, type ChipSpec, type ProgrammedLayer, type SignalNoise,
} from '../crossbar';

export interface CrossbarDemoOptions {
  readonly mnistDir: string;
  readonly seed: number;
  readonly trainCount: number;
  readonly testCount: number;
  readonly devices: readonly string[];
  readonly sigmas: readonly number[];
  readonly epochs: number;
}

export interface DemoRow {
  readonly setting: string;
  readonly accuracy: number;
  readonly effectiveSigma: number | null;
  readonly latencyNs: number | null;
  readonly energyPicojoules: number | null;
  readonly tiles: number | null;
}

export interface CrossbarDemoResult {
  readonly backend: string;
  readonly digitalAccuracy: number;
  readonly rows: readonly DemoRow[];
  readonly trainCount: number;
  readonly testCount: number;
}

interface Mlp {
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

const HIDDEN = 128;

function trainMlp(x: tf.Tensor2D, y: tf.Tensor2D, epochs: number, seed: number): Promise<Mlp> {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: HIDDEN, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: tf.losses.softmaxCrossEntropy });
  // shuffle: false keeps the run deterministic without tfjs's unseeded shuffling.
  return model.fit(x, y, { epochs, batchSize: 32, shuffle: false, verbose: 0 }).then(() => {
    const [k1, b1, k2, b2] = model.getWeights().map((t) => t.dataSync() as Float32Array);
    const mlp = { w1: k1.slice(), b1: b1.slice(), w2: k2.slice(), b2: b2.slice() };
    model.dispose();
    return mlp;
  });
}

type Mvm = (layer: 0 | 1, x: tf.Tensor2D, rng: Rng) => tf.Tensor2D;

function accuracyWith(mlp: Mlp, x: tf.Tensor2D, labels: Uint8Array, mvm: Mvm, rng: Rng): number {
  const h = mvm(0, x, rng.fold('layer1'));
  const a = tf.tidy(() => tf.relu(tf.add(h, tf.tensor1d(mlp.b1)))) as tf.Tensor2D;
  const o = mvm(1, a, rng.fold('layer2'));
  const pred = tf.tidy(() => tf.argMax(tf.add(o, tf.tensor1d(mlp.b2)), 1).dataSync());
  tf.dispose([h, a, o]);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) correct++;
  return correct / labels.length;
}

function relativeNoise(clean: Float32Array, noisy: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < clean.length; i++) {
    s += clean[i] * clean[i];
    n += (noisy[i] - clean[i]) ** 2;
  }
  return Math.sqrt(n / s);
}

/** Run the demo; pure apart from reading the MNIST files. */
export async function runCrossbarDemo(options: CrossbarDemoOptions): Promise<CrossbarDemoResult> {
  const total = options.trainCount + options.testCount;
  const data = loadMnist(options.mnistDir, 'test', { limit: total });
  const all = tf.tensor2d(data.images, [total, 784]);
  const xTrain = tf.slice(all, [0, 0], [options.trainCount, 784]) as tf.Tensor2D;
  const xTest = tf.slice(all, [options.trainCount, 0], [options.testCount, 784]) as tf.Tensor2D;
  const yTrain = tf.oneHot(tf.tensor1d(data.labels.subarray(0, options.trainCount), 'int32'), 10).toFloat() as tf.Tensor2D;
  const testLabels = data.labels.subarray(options.trainCount, total);
  const mlp = await trainMlp(xTrain, yTrain, options.epochs, options.seed);
  const w1 = tf.tensor2d(mlp.w1, [784, HIDDEN]);
  const w2 = tf.tensor2d(mlp.w2, [HIDDEN, 10]);
  const digital: Mvm = (layer, x) => tf.matMul(x, layer === 0 ? w1 : w2) as tf.Tensor2D;
  const root = Rng.fromSeed(options.seed);
  const digitalAccuracy = accuracyWith(mlp, xTest, testLabels, digital, root);
  const clean1 = tf.tidy(() => tf.matMul(xTest, w1).dataSync() as Float32Array);
  const rows: DemoRow[] = [];

  for (const name of options.devices) {
    const chip: ChipSpec = validateChipSpec({ device: deviceFromConfig(name) });
    const programRng = root.fold('program').fold(name);
    // Converter ranges calibrated on the training digits (and the hidden layer's training activations).
    const first = programLayer({ data: mlp.w1, fanIn: 784, fanOut: HIDDEN }, chip, programRng.fold(0));
    const second = programLayer({ data: mlp.w2, fanIn: HIDDEN, fanOut: 10 }, chip, programRng.fold(1));
    const hiddenTrain = tf.tidy(() => tf.relu(tf.add(tf.matMul(xTrain, w1), tf.tensor1d(mlp.b1))) as tf.Tensor2D);
    const layers: ProgrammedLayer[] = [calibrateLayer(first, xTrain), calibrateLayer(second, hiddenTrain)];
    hiddenTrain.dispose();
    const analog: Mvm = (layer, x, rng) => analogMvm(layers[layer], x, rng);
    const accuracy = accuracyWith(mlp, xTest, testLabels, analog, root.fold('run').fold(name));
    const y1 = analogMvm(layers[0], xTest, root.fold('sigma').fold(name), emptyMvmStats());
    const effectiveSigma = relativeNoise(clean1, y1.dataSync() as Float32Array);
    y1.dispose();
    const costs = [layerCost(784, HIDDEN, chip), layerCost(HIDDEN, 10, chip)];
    rows.push({
      setting: `${name} (${chip.device.bitsPerCell === null ? 'analog' : `${chip.device.bitsPerCell} bit/cell`}, 8-bit DAC/ADC)`,
      accuracy,
      effectiveSigma,
      latencyNs: costs.reduce((s, c) => s + c.stageTimeNs, 0),
      energyPicojoules: costs.reduce((s, c) => s + c.energyPerMvmPicojoules, 0),
      tiles: costs.reduce((s, c) => s + c.tiles, 0),
    });
    layers.forEach((l) => l.dispose());
  }
  for (const sigma of options.sigmas) {
    const noise: SignalNoise = { kind: 'multiplicative', sigma };
    const signal: Mvm = (layer, x, rng) => signalMvm(x, layer === 0 ? w1 : w2, noise, rng);
    rows.push({
      setting: `signal-level mult σ=${sigma} (SNR ${sigma === 0 ? '∞' : multiplicativeSnrDb(sigma).toFixed(2)} dB)`,
      accuracy: accuracyWith(mlp, xTest, testLabels, signal, root.fold('signal').fold(String(sigma))),
      effectiveSigma: sigma,
      latencyNs: null,
      energyPicojoules: null,
      tiles: null,
    });
  }
  tf.dispose([all, xTrain, xTest, yTrain, w1, w2]);
  return { backend: backendName(), digitalAccuracy, rows, trainCount: options.trainCount, testCount: options.testCount };
}
