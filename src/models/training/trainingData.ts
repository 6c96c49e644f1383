/**
 * The training and test sets of each paper model, read from the shared datasets
 * folder (or the model's own data folder or file). What a split holds is said in
 * `description`, which the zoo manifest records.
 *
 * - cnn6, madryCnn4: MNIST train (60,000) / t10k (10,000).
 * - lstm: MNIST stroke sequences, train / test, pen offsets cut to T steps
 *   (the count of cut sequences is part of the description, never hidden).
 * - densenet40/100: only the first 4,000 CIFAR-10 training images exist here (no
 *   test set); the first 3,500 train and the last 500 are held out for
 *   validation, so CIFAR accuracies are not comparable with the paper's.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, DataError } from '../../errors';
import { loadMnist, loadStrokes, readCifarBinary } from '../../data';
import type { PaperModelName } from '../paper/buildModel';
import { LSTM_PAD_AT, LSTM_TIME_STEPS } from '../paper/lstm';
import type { Dataset } from './train';

export interface TrainingData {
  readonly train: Dataset;
  readonly test: Dataset;
  readonly trainDescription: string;
  readonly testDescription: string;
}

/** CIFAR-10 images held out for validation from the 4,000 available. */
export const CIFAR_HELD_OUT = 500;

/** The first of `candidates` that exists, or a DataError naming them all. */
function firstExisting(what: string, candidates: string[]): string {
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new DataError(candidates[0], `no ${what} here (looked for ${candidates.join(', ')})`);
  return found;
}

function slice(d: Dataset, start: number, count: number): Dataset {
  const per = d.x.length / d.count;
  return { x: d.x.subarray(start * per, (start + count) * per), y: d.y.subarray(start, start + count), count, shape: [count, ...d.shape.slice(1)] };
}

/** The MNIST stroke archive: `dataDir` itself, or `sequences.tar.gz` in it or in its `mnist-stroke/` folder. */
export function strokesArchiveIn(dataDir: string): string {
  return firstExisting(
    'MNIST stroke archive',
    [dataDir, path.join(dataDir, 'sequences.tar.gz'), path.join(dataDir, 'mnist-stroke', 'sequences.tar.gz')].filter((p) => p.endsWith('.tar.gz')),
  );
}

/** The CIFAR-10 sample: `dataDir` itself (a `.bin` or `.bin.gz`), or `data_batch_1.first4000.bin.gz` in it or in its `cifar10/` folder. */
export function cifarSampleIn(dataDir: string): string {
  return firstExisting(
    'CIFAR-10 sample',
    [dataDir, path.join(dataDir, 'data_batch_1.first4000.bin.gz'), path.join(dataDir, 'cifar10', 'data_batch_1.first4000.bin.gz')].filter((p) =>
      /\.bin(\.gz)?$/.test(p),
    ),
  );
}

/** Stroke sequences as the zoo LSTM reads them: T steps, longer ones cut, zero padding first. */
export function loadLstmStrokes(tar: string, split: 'train' | 'test', limit?: number): ReturnType<typeof loadStrokes> {
  return loadStrokes(tar, split, { maxLength: LSTM_TIME_STEPS, truncate: true, padAt: LSTM_PAD_AT, ...(limit === undefined ? {} : { limit }) });
}

/** The folder with the MNIST training images: `dataDir` itself or its `mnist/` folder (undefined: neither). */
export function mnistTrainDirIn(dataDir: string): string | undefined {
  const hasMnist = (d: string) => ['train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte'].some((f) => fs.existsSync(path.join(d, f)));
  return [dataDir, path.join(dataDir, 'mnist')].find(hasMnist);
}

/** Load the data `model` trains on from `dataDir` (the datasets folder, or the model's own folder/file). */
export async function loadTrainingData(model: PaperModelName, dataDir: string, limit?: number): Promise<TrainingData> {
  const opts = limit === undefined ? {} : { limit };
  switch (model) {
    case 'cnn6':
    case 'madryCnn4': {
      const dir = mnistTrainDirIn(dataDir);
      if (!dir) throw new DataError(dataDir, 'no MNIST training images here or in its mnist/ folder (train-images-idx3-ubyte.gz)');
      const train = loadMnist(dir, 'train', opts);
      const test = loadMnist(dir, 'test');
      return {
        train: { x: train.images, y: train.labels, count: train.count, shape: train.shape },
        test: { x: test.images, y: test.labels, count: test.count, shape: test.shape },
        trainDescription: `mnist train (${train.count} images) from ${dir}`,
        testDescription: `mnist t10k (${test.count} images)`,
      };
    }
    case 'lstm': {
      const tar = strokesArchiveIn(dataDir);
      const read = (split: 'train' | 'test', o: { limit?: number }) => loadLstmStrokes(tar, split, o.limit);
      const train = await read('train', opts);
      const test = await read('test', {});
      const asSet = (s: typeof train): Dataset => ({ x: s.sequences, y: s.labels, count: s.count, shape: [s.count, s.maxLength, 2] });
      return {
        train: asSet(train),
        test: asSet(test),
        trainDescription: `mnist-stroke train (${train.count} sequences, ${train.truncated} cut to ${LSTM_TIME_STEPS} steps) from ${tar}`,
        testDescription: `mnist-stroke test (${test.count} sequences, ${test.truncated} cut to ${LSTM_TIME_STEPS} steps)`,
      };
    }
    case 'densenet40':
    case 'densenet100': {
      const file = cifarSampleIn(dataDir);
      const all = readCifarBinary(file);
      const whole: Dataset = { x: all.images, y: all.labels, count: all.count, shape: all.shape };
      const available = all.count - CIFAR_HELD_OUT;
      if (available < 1 || (limit !== undefined && limit > available)) {
        throw new ConfigError('--limit', limit ?? all.count, `at most ${available} (the images before the ${CIFAR_HELD_OUT} held out)`);
      }
      const trainCount = limit ?? available;
      return {
        train: slice(whole, 0, trainCount),
        test: slice(whole, all.count - CIFAR_HELD_OUT, CIFAR_HELD_OUT),
        trainDescription: `cifar10 data_batch_1 images 0..${trainCount - 1} (of the ${all.count} available) from ${file}`,
        testDescription: `cifar10 data_batch_1 images ${all.count - CIFAR_HELD_OUT}..${all.count - 1} held out (no CIFAR test set here)`,
      };
    }
  }
}
