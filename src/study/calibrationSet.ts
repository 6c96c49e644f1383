/**
 * The inputs a study's chips calibrate their converter ranges on: training samples
 * of the point's data set, never the test samples it scores (a chip calibrated on
 * the points it is scored on would hide clipping that real inputs cause).
 */
import { defaultDataDir, embeddedMnistDir, loadMnist, readCifarBinary } from '../data';
import { DataError } from '../errors';
import { cifarSampleIn, CIFAR_HELD_OUT, loadLstmStrokes, mnistTrainDirIn, strokesArchiveIn } from '../models/training/trainingData';
import type { StudyPoint } from './grid';

/** Samples in a calibration batch (what `ohmic run` also takes without `--calibration`). */
export const CALIBRATION_SAMPLES = 256;

export interface CalibrationSet {
  /** `count` samples, flat, in the layout the data set's test samples have. */
  readonly x: Float32Array;
  readonly count: number;
  /** Where they come from, for results and reports. */
  readonly description: string;
}

/**
 * The first `count` training samples of `dataset` (MNIST: the training digits of
 * `dataDir` or of the shared datasets folder; without any, the last `count` of the
 * embedded test digits, which a study then must not score: `scoredLimit` is checked).
 *
 * @throws DataError when no training samples exist and the scored test samples would overlap the fallback.
 */
export async function loadCalibrationSet(
  dataset: StudyPoint['dataset']['name'],
  dataDir: string | undefined,
  scoredLimit: number | null,
  count = CALIBRATION_SAMPLES,
): Promise<CalibrationSet> {
  if (dataset === 'mnist-strokes') {
    const tar = strokesArchiveIn(dataDir ?? defaultDataDir());
    const s = await loadLstmStrokes(tar, 'train', count);
    return { x: s.sequences, count: s.count, description: `the first ${s.count} mnist-stroke training sequences (${tar})` };
  }
  if (dataset === 'cifar10-heldout') {
    const file = cifarSampleIn(dataDir ?? defaultDataDir());
    const all = readCifarBinary(file);
    const n = Math.min(count, all.count - CIFAR_HELD_OUT);
    const per = all.shape.slice(1).reduce((a, b) => a * b, 1);
    return { x: all.images.slice(0, n * per), count: n, description: `the first ${n} CIFAR-10 training images (${file})` };
  }
  const trainDir = (dataDir !== undefined ? mnistTrainDirIn(dataDir) : undefined) ?? mnistTrainDirIn(defaultDataDir());
  if (trainDir) {
    const train = loadMnist(trainDir, 'train', { limit: count });
    return { x: train.images, count: train.count, description: `the first ${train.count} MNIST training digits (${trainDir})` };
  }
  const test = loadMnist(dataDir ?? embeddedMnistDir(), 'test');
  const first = test.count - count;
  if (scoredLimit === null || scoredLimit > first) {
    throw new DataError(
      dataDir ?? embeddedMnistDir(),
      `no MNIST training digits to calibrate the chip's converter ranges on, and the last ${count} test digits (the fallback) are among the ${scoredLimit ?? test.count} scored: give --data with the training files, or dataset.limit <= ${first}`,
    );
  }
  const per = test.shape.slice(1).reduce((a, b) => a * b, 1);
  return { x: test.images.slice(first * per), count, description: `test digits ${first}..${test.count - 1} (no MNIST training digits found; not scored)` };
}
