/**
 * The run around the training loop that `ohmic train` and `ohmic adversarial-train`
 * share: starting from a zoo model's weights, stopping cleanly on Ctrl-C (with a
 * checkpoint), the progress and epoch lines, and what an unfinished run says.
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { loadZooModel, type ZooEntry } from '../models/zoo';
import type { EpochRecord, TrainProgress, TrainResult } from '../models/training/train';
import type { TrainingData } from '../models/training/trainingData';

/**
 * `--init-from zoo:NAME` (the `zoo:` prefix optional): copies that zoo model's
 * weights into `model`, which must have the same weight shapes. Returns the zoo
 * name (for the manifest's `fineTunedFrom`), or `undefined` without the flag.
 */
export async function initWeightsFromZoo(model: tf.LayersModel, initFromFlag: string | undefined, modelName: string, zooDir: string): Promise<string | undefined> {
  const initFrom = initFromFlag === undefined ? undefined : initFromFlag.replace(/^zoo:/, '');
  if (initFrom === undefined) return undefined;
  // Same architecture, other noise σ (or training): the weights carry over one to one.
  const source = await loadZooModel(initFrom, { zooDir });
  const from = source.getWeights();
  const to = model.getWeights();
  if (from.length !== to.length || from.some((w, i) => w.shape.join('x') !== to[i].shape.join('x'))) {
    throw new ConfigError('--init-from', initFromFlag, `a zoo model with the weights of ${modelName} (shapes differ)`);
  }
  model.setWeights(from);
  source.dispose();
  return initFrom;
}

/** A zoo entry as `saveZooModel` takes it (the weight fields are its own to fill in). */
export type TrainedZooEntry = Omit<ZooEntry, 'weightsDtype' | 'modelJson' | 'weightsFile' | 'weightsSha256' | 'weightsBytes'>;

/** What a training command records of its run in the zoo manifest. */
export interface TrainedRun {
  readonly name: string;
  readonly model: string;
  readonly noise: ZooEntry['noise'];
  readonly sigmaTrain: number;
  readonly epochs: number;
  readonly seed: number;
  readonly data: Pick<TrainingData, 'trainDescription' | 'testDescription'>;
  /** The zoo model `--init-from` started from, if any. */
  readonly initFrom?: string;
}

/**
 * The manifest entry of a trained model, with the command line that made it;
 * `testAccuracy` is 0 until measured on the stored (possibly float16) weights.
 */
export function trainedZooEntry(run: TrainedRun): TrainedZooEntry {
  return {
    name: run.name,
    model: run.model,
    noise: run.noise,
    sigmaTrain: run.sigmaTrain,
    command: `ohmic ${process.argv.slice(2).join(' ')}`,
    epochs: run.epochs,
    seed: run.seed,
    data: run.data.trainDescription,
    testAccuracy: 0,
    testData: run.data.testDescription,
    ...(run.initFrom === undefined ? {} : { fineTunedFrom: run.initFrom }),
  };
}

/** A SIGINT/SIGTERM watch: the loop polls `shouldStop` and writes a checkpoint before it returns. */
export interface InterruptWatch {
  shouldStop: () => boolean;
  /** Removes the signal handlers (once the loop has returned). */
  stopWatching: () => void;
}

/** Watches for the first SIGINT or SIGTERM, so that an interrupted run can be resumed. */
export function watchInterrupts(): InterruptWatch {
  let stop = false;
  const onSigint = (): void => {
    stop = true;
    process.stderr.write('\nohmic: interrupted, writing a checkpoint…\n');
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  return {
    shouldStop: () => stop,
    stopWatching: () => {
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGTERM', onSigint);
    },
  };
}

/** The progress bar of one epoch, starting with `\r` so that a terminal redraws it in place. */
export function trainingProgressLine(p: TrainProgress): string {
  const width = 24;
  const done = Math.round((p.batch / p.batchesPerEpoch) * width);
  return (
    `\repoch ${p.epoch + 1}/${p.epochs} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ` +
    `${p.batch}/${p.batchesPerEpoch} loss ${p.loss.toFixed(4)} ${p.examplesPerSecond.toFixed(0)} img/s `
  );
}

/** The line an epoch ends with; `extra` follows the test accuracy (e.g. `, PGD acc …`). */
export function trainingEpochLine(r: EpochRecord, extra = ''): string {
  const acc = r.validationAccuracy === undefined ? '' : ` test acc ${(100 * r.validationAccuracy).toFixed(2)}%`;
  return `epoch ${r.epoch}: loss ${r.trainLoss.toFixed(4)}${acc}${extra} (${r.seconds.toFixed(0)} s, ${r.examplesPerSecond.toFixed(0)} img/s)\n`;
}

/**
 * Says whether the run resumed from a checkpoint (stderr) and, when it stopped
 * before the last epoch, how to resume it (stdout). True when it completed and
 * the model is to be written into the zoo.
 */
export function reportTrainingEnd(result: TrainResult, checkpointDir: string): boolean {
  if (result.resumedFromStep !== undefined) process.stderr.write(`resumed from step ${result.resumedFromStep}\n`);
  if (!result.completed) {
    process.stdout.write(`stopped at step ${result.step}; run the same command again to resume from ${checkpointDir}\n`);
    return false;
  }
  return true;
}
