/**
 * Noise-injected training of a tfjs LayersModel (paper §3.2): mini-batch Adam or
 * momentum SGD on softmax cross-entropy, with the model's noise layers active
 * (`training: true`), seeded shuffling, checkpoints and exact resume.
 *
 * Determinism: the order of epoch `e` is a Fisher–Yates shuffle drawn from
 * `Rng.fromSeed(seed).fold('shuffle').fold(e)`, a pure function of (seed, e), so it
 * needs no saved RNG state; the noise layers' draw positions (`drawIndex`) are saved
 * with every checkpoint. Weights come from the model's own seeded initializers.
 * With the same seed, data and options, a run interrupted and resumed from any
 * checkpoint ends with the same bits as an uninterrupted run (tested).
 *
 * Files (only when `checkpointDir` is given): `ckpt-<step>.bin` after every epoch
 * and every `checkpointEveryBatches` batches (atomic, newest `keepCheckpoints` kept),
 * and `validation.jsonl`: one JSON line per finished epoch, rewritten atomically
 * from the checkpointed history so a resumed run never duplicates or loses a line.
 */
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';
import { ConfigError, ShapeError } from '../../errors';
import { Rng } from '../../rng';
import { noiseSources } from '../noiseLayers';
import {
  CheckpointHeader,
  CheckpointTensorSpec,
  latestCheckpoint,
  pruneCheckpoints,
  writeCheckpoint,
  writeFileAtomic,
} from './checkpoint';
import { registerTrainingKernels } from './registerTrainingKernels';

/** A labelled in-memory dataset; `shape` is `[count, ...one example's shape]`. */
export interface Dataset {
  readonly x: Float32Array;
  readonly y: Uint8Array;
  readonly count: number;
  readonly shape: readonly number[];
}

/** Progress of one finished batch. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batchesPerEpoch: number;
  step: number;
  loss: number;
  examplesPerSecond: number;
}

/** What the trainer records per finished epoch (also the JSON-lines log). */
export interface EpochRecord {
  /** 1-based number of the epoch just finished. */
  epoch: number;
  step: number;
  trainLoss: number;
  learningRate: number;
  validationAccuracy?: number;
  seconds: number;
  examplesPerSecond: number;
}

/** Options of `trainModel`. */
export interface TrainOptions {
  optimizer: 'adam' | 'momentum';
  /** Default 1e-3 (Adam) or 0.1 (momentum). */
  learningRate?: number;
  /** Multiplies the learning rate after every epoch. Default 1. */
  learningRateDecayPerEpoch?: number;
  /** Momentum of 'momentum' SGD (Nesterov off). Default 0.9. */
  momentum?: number;
  batchSize?: number;
  epochs: number;
  seed: number;
  numClasses?: number;
  checkpointDir?: string;
  /** Also checkpoint every N batches (0 or absent: only at epoch ends). */
  checkpointEveryBatches?: number;
  keepCheckpoints?: number;
  /** Resume from the latest checkpoint in `checkpointDir` if there is one. Default true. */
  resume?: boolean;
  validation?: Dataset;
  onProgress?: (p: TrainProgress) => void;
  onEpoch?: (r: EpochRecord) => void;
  /** Polled after every batch; true checkpoints (when a dir is set) and stops. */
  shouldStop?: () => boolean;
  /**
   * Replaces each gathered batch's inputs before its step (adversarial training:
   * src/models/attacks/adversarialTraining.ts). `apply` must be a pure function of
   * the weights, the batch and its position, so a resumed run stays bit-identical;
   * `key` joins the checkpoint fingerprint, so a resume with another transform is refused.
   */
  batchTransform?: BatchTransform;
}

/** See {@link TrainOptions.batchTransform}. */
export interface BatchTransform {
  readonly key: string;
  /** Returns the inputs to train on (a new tensor, or `x` itself), shaped like `x`. */
  apply(x: tf.Tensor, y: tf.Tensor, at: { epoch: number; batch: number; step: number }): tf.Tensor;
}

/** Outcome of `trainModel`. */
export interface TrainResult {
  completed: boolean;
  step: number;
  epochsCompleted: number;
  history: EpochRecord[];
  resumedFromStep?: number;
}

interface ResolvedOptions {
  optimizer: 'adam' | 'momentum';
  learningRate: number;
  learningRateDecayPerEpoch: number;
  momentum: number;
  batchSize: number;
  epochs: number;
  seed: number;
  numClasses: number;
  checkpointEveryBatches: number;
  keepCheckpoints: number;
}

function positiveInt(field: string, v: unknown): number {
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw new ConfigError(field, v, 'an integer >= 1');
  return v as number;
}

function positiveNumber(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(field, v, 'a finite number > 0');
  return v;
}

/** Fills defaults and validates every option (ConfigError naming the field). */
export function resolveTrainOptions(o: TrainOptions): ResolvedOptions {
  if (o.optimizer !== 'adam' && o.optimizer !== 'momentum') {
    throw new ConfigError('optimizer', o.optimizer, '"adam" or "momentum"');
  }
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new ConfigError('seed', o.seed, 'an integer in [0, 2^53)');
  const every = o.checkpointEveryBatches ?? 0;
  if (!Number.isSafeInteger(every) || every < 0) throw new ConfigError('checkpointEveryBatches', every, 'an integer >= 0');
  const momentum = o.momentum ?? 0.9;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) throw new ConfigError('momentum', momentum, 'a number in [0, 1)');
  return {
    optimizer: o.optimizer,
    learningRate: positiveNumber('learningRate', o.learningRate ?? (o.optimizer === 'adam' ? 1e-3 : 0.1)),
    learningRateDecayPerEpoch: positiveNumber('learningRateDecayPerEpoch', o.learningRateDecayPerEpoch ?? 1),
    momentum,
    batchSize: positiveInt('batchSize', o.batchSize ?? 32),
    epochs: positiveInt('epochs', o.epochs),
    seed: o.seed,
    numClasses: positiveInt('numClasses', o.numClasses ?? 10),
    checkpointEveryBatches: every,
    keepCheckpoints: positiveInt('keepCheckpoints', o.keepCheckpoints ?? 2),
  };
}

/** Checks that `data` is consistent and fits the model input. */
export function validateDataset(name: string, data: Dataset, model: tf.LayersModel, numClasses: number): void {
  const perExample = data.shape.slice(1).reduce((a, b) => a * b, 1);
  if (data.shape[0] !== data.count || data.x.length !== data.count * perExample || data.y.length !== data.count) {
    throw new ShapeError(
      `${name}: shape ${JSON.stringify(data.shape)}, count ${data.count}, x.length ${data.x.length}, ` +
        `y.length ${data.y.length} are inconsistent (expected x.length = count·${perExample}, y.length = count)`,
    );
  }
  const want = model.inputs[0].shape.slice(1);
  const got = data.shape.slice(1);
  if (want.length !== got.length || want.some((d, i) => d !== null && d !== got[i])) {
    throw new ShapeError(`${name}: example shape ${JSON.stringify(got)} does not fit the model input ${JSON.stringify(want)}`);
  }
  for (let i = 0; i < data.count; i++) {
    if (data.y[i] >= numClasses) throw new ConfigError(`${name}.y[${i}]`, data.y[i], `a class index < ${numClasses}`);
  }
}

/** The example order of `epoch`: a seeded Fisher–Yates permutation of 0..count-1. */
export function epochOrder(seed: number, epoch: number, count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const rng = Rng.fromSeed(seed).fold('shuffle').fold(epoch);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

function gatherBatch(data: Dataset, order: Uint32Array, start: number, end: number): { x: tf.Tensor; y: tf.Tensor } {
  const per = data.x.length / data.count;
  const n = end - start;
  const xs = new Float32Array(n * per);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = order[start + i];
    xs.set(data.x.subarray(k * per, (k + 1) * per), i * per);
    ys[i] = data.y[k];
  }
  return { x: tf.tensor(xs, [n, ...data.shape.slice(1)]), y: tf.tensor1d(ys, 'int32') };
}

/**
 * Top-1 accuracy of `model` on `data` (inference mode: noise layers draw only if
 * their `activeInInference` is set).
 */
export function evaluateAccuracy(model: tf.LayersModel, data: Dataset, batchSize = 256): number {
  let correct = 0;
  const per = data.x.length / data.count;
  for (let start = 0; start < data.count; start += batchSize) {
    const end = Math.min(data.count, start + batchSize);
    const pred = tf.tidy(() => {
      const x = tf.tensor(data.x.subarray(start * per, end * per), [end - start, ...data.shape.slice(1)]);
      return (model.predict(x) as tf.Tensor).argMax(-1).dataSync();
    });
    for (let i = 0; i < pred.length; i++) if (pred[i] === data.y[start + i]) correct++;
  }
  return correct / data.count;
}

function makeOptimizer(o: ResolvedOptions, learningRate: number): tf.Optimizer {
  return o.optimizer === 'adam' ? tf.train.adam(learningRate) : tf.train.momentum(learningRate, o.momentum);
}

function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  // Both optimizers read this field in applyGradients; tfjs exposes no setter.
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

function runKeyOf(o: ResolvedOptions, data: Dataset, model: tf.LayersModel, transformKey?: string): string {
  return JSON.stringify({
    optimizer: o.optimizer,
    learningRate: o.learningRate,
    learningRateDecayPerEpoch: o.learningRateDecayPerEpoch,
    momentum: o.momentum,
    batchSize: o.batchSize,
    seed: o.seed,
    numClasses: o.numClasses,
    count: data.count,
    shape: data.shape,
    // Shapes, not names: tfjs suffixes auto-generated names per process (conv2d_1, conv2d_2…).
    weights: model.weights.map((w) => w.shape),
    ...(transformKey === undefined ? {} : { batchTransform: transformKey }),
  });
}

/**
 * Trains `model` in place on `data`; returns the per-epoch history.
 * @throws ConfigError / ShapeError on bad options or data, DataError on a corrupt checkpoint,
 *   ConfigError('checkpointDir', …) when the checkpoint there belongs to a different run.
 */
export async function trainModel(model: tf.LayersModel, data: Dataset, options: TrainOptions): Promise<TrainResult> {
  const o = resolveTrainOptions(options);
  validateDataset('data', data, model, o.numClasses);
  if (options.validation) validateDataset('validation', options.validation, model, o.numClasses);
  registerTrainingKernels();

  const runKey = runKeyOf(o, data, model, options.batchTransform?.key);
  const batchesPerEpoch = Math.ceil(data.count / o.batchSize);
  const noise = noiseSources(model);
  const varList = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const dir = options.checkpointDir;

  let epoch = 0;
  let batch = 0;
  let step = 0;
  let epochLossSum = 0;
  let epochExamples = 0;
  let history: EpochRecord[] = [];
  let resumedFromStep: number | undefined;
  const optimizer = makeOptimizer(o, o.learningRate);

  if (dir && options.resume !== false) {
    const ckpt = latestCheckpoint(dir);
    if (ckpt) {
      if (ckpt.header.runKey !== runKey) {
        throw new ConfigError('checkpointDir', dir, `checkpoints of this run (found ${path.basename(ckpt.file)} of a run with other options, model or data)`);
      }
      const h = ckpt.header;
      const restored = ckpt.values.slice(0, h.modelTensorCount).map((v, i) => tf.tensor(v, h.tensors[i].shape));
      model.setWeights(restored);
      tf.dispose(restored);
      const optValues = ckpt.values.slice(h.modelTensorCount);
      if (optValues.length > 0) {
        const named = optValues.map((v, i) => {
          const spec = h.tensors[h.modelTensorCount + i];
          return { name: spec.name, tensor: spec.name === 'iter' ? tf.scalar(v[0], 'int32') : tf.tensor(v, spec.shape) };
        });
        await optimizer.setWeights(named);
        tf.dispose(named.map((n) => n.tensor));
      }
      noise.forEach((layer, i) => {
        layer.drawIndex = h.noiseDrawIndex[i];
      });
      ({ epoch, batch, step, epochLossSum, epochExamples } = h);
      history = h.history as EpochRecord[];
      resumedFromStep = step;
    }
  }
  const lrAt = (e: number): number => o.learningRate * o.learningRateDecayPerEpoch ** e;

  const saveCheckpoint = async (): Promise<void> => {
    if (!dir) return;
    const tensors: CheckpointTensorSpec[] = [];
    const values: Float32Array[] = [];
    for (const w of model.weights) {
      tensors.push({ name: w.originalName, shape: w.shape as number[] });
      values.push(Float32Array.from(w.read().dataSync()));
    }
    const modelTensorCount = tensors.length;
    if (step > 0) {
      for (const { name, tensor } of await optimizer.getWeights()) {
        tensors.push({ name, shape: tensor.shape });
        values.push(Float32Array.from(tensor.dataSync()));
        if (name === 'iter') tensor.dispose();
      }
    }
    const header: CheckpointHeader = {
      step,
      epoch,
      batch,
      epochLossSum,
      epochExamples,
      noiseDrawIndex: noise.map((l) => l.drawIndex),
      history,
      runKey,
      modelTensorCount,
      tensors,
    };
    writeCheckpoint(dir, header, values);
    pruneCheckpoints(dir, o.keepCheckpoints);
  };
  const writeLog = (): void => {
    if (!dir) return;
    writeFileAtomic(path.join(dir, 'validation.jsonl'), history.map((r) => JSON.stringify(r) + '\n').join(''));
  };

  let epochStart = Date.now();
  let epochStartExamples = epochExamples;
  try {
    while (epoch < o.epochs) {
      setLearningRate(optimizer, lrAt(epoch));
      const order = epochOrder(o.seed, epoch, data.count);
      while (batch < batchesPerEpoch) {
        const start = batch * o.batchSize;
        const end = Math.min(data.count, start + o.batchSize);
        const { x: natural, y } = gatherBatch(data, order, start, end);
        const x = options.batchTransform ? options.batchTransform.apply(natural, y, { epoch, batch, step }) : natural;
        if (x !== natural) natural.dispose();
        const lossTensor = optimizer.minimize(
          () =>
            tf.tidy(() => {
              const logits = model.apply(x, { training: true }) as tf.Tensor;
              return tf.losses.softmaxCrossEntropy(tf.oneHot(y, o.numClasses), logits) as tf.Scalar;
            }),
          true,
          varList,
        )!;
        const loss = lossTensor.dataSync()[0];
        tf.dispose([x, y, lossTensor]);
        if (!Number.isFinite(loss)) {
          throw new ConfigError('learningRate', lrAt(epoch), `a rate that keeps the loss finite (loss became ${loss} at step ${step})`);
        }
        epochLossSum += loss * (end - start);
        epochExamples += end - start;
        batch++;
        step++;
        const seconds = (Date.now() - epochStart) / 1000;
        options.onProgress?.({
          epoch,
          epochs: o.epochs,
          batch,
          batchesPerEpoch,
          step,
          loss,
          examplesPerSecond: seconds > 0 ? (epochExamples - epochStartExamples) / seconds : 0,
        });
        // Yield to the event loop once per batch: the loop is otherwise synchronous,
        // so a SIGINT/SIGTERM handler (the CLI's shouldStop) would never run.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const stop = options.shouldStop?.() === true;
        if (batch < batchesPerEpoch && (stop || (o.checkpointEveryBatches > 0 && step % o.checkpointEveryBatches === 0))) {
          await saveCheckpoint();
        }
        if (stop && batch < batchesPerEpoch) {
          return { completed: false, step, epochsCompleted: epoch, history, resumedFromStep };
        }
      }
      const seconds = (Date.now() - epochStart) / 1000;
      const record: EpochRecord = {
        epoch: epoch + 1,
        step,
        trainLoss: epochLossSum / epochExamples,
        learningRate: lrAt(epoch),
        seconds,
        examplesPerSecond: seconds > 0 ? (epochExamples - epochStartExamples) / seconds : 0,
      };
      if (options.validation) record.validationAccuracy = evaluateAccuracy(model, options.validation);
      history = [...history, record];
      epoch++;
      batch = 0;
      epochLossSum = 0;
      epochExamples = 0;
      epochStart = Date.now();
      epochStartExamples = 0;
      await saveCheckpoint();
      writeLog();
      options.onEpoch?.(record);
      if (options.shouldStop?.() === true && epoch < o.epochs) {
        return { completed: false, step, epochsCompleted: epoch, history, resumedFromStep };
      }
    }
  } catch (err) {
    throw translateWasmAbort(err, o.batchSize);
  } finally {
    optimizer.dispose();
  }
  return { completed: true, step, epochsCompleted: epoch, history, resumedFromStep };
}

/**
 * The wasm backend aborts (`RuntimeError: Aborted()`) when its heap, at most 4 GB,
 * cannot grow, or traps (`memory access out of bounds`) once it nears 2 GB:
 * DenseNet-40 adversarial training at batch 32 did the latter, at batch 16 it
 * trained. Say so against the option that decides it (`field`, default the
 * training batch size) rather than surface Emscripten's message.
 */
export function translateWasmAbort(err: unknown, batchSize: number, field = 'batchSize'): unknown {
  // WebAssembly.RuntimeError; matched by name because this build's TS libs have no WebAssembly types.
  if (err instanceof Error && err.name === 'RuntimeError' && /Aborted|memory access out of bounds/.test(err.message)) {
    return new ConfigError(
      field,
      batchSize,
      'a batch whose activations and gradients fit the wasm heap (about 2 GB usable); the wasm backend ran out of it: use a smaller batch',
    );
  }
  return err;
}
