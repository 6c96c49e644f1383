import * as path from 'path';
import { loadTrainingData, CIFAR_HELD_OUT } from '../../src/models/training/trainingData';
import { LSTM_TIME_STEPS } from '../../src/models/paper/lstm';
import { DataError, ConfigError } from '../../src/errors';
import { describeWithShared, SHARED_DATASETS } from '../data/sharedData';

describeWithShared('training data per paper model', () => {
  it('MNIST from the datasets folder or the mnist folder itself', async () => {
    for (const dir of [SHARED_DATASETS, path.join(SHARED_DATASETS, 'mnist')]) {
      const d = await loadTrainingData('cnn6', dir, 100);
      expect(d.train.shape).toEqual([100, 28, 28, 1]);
      expect(d.test.count).toBe(10000);
      expect(d.trainDescription).toMatch(/^mnist train \(100 images\)/);
    }
  });

  it('stroke sequences cut to the LSTM length, counting the cut ones', async () => {
    const d = await loadTrainingData('lstm', SHARED_DATASETS, 500);
    expect(d.train.shape).toEqual([500, LSTM_TIME_STEPS, 2]);
    expect(d.train.x.length).toBe(500 * LSTM_TIME_STEPS * 2);
    expect(d.test.count).toBe(10000);
    expect(d.trainDescription).toMatch(/^mnist-stroke train \(500 sequences, \d+ cut to 100 steps\)/);
    // Padding goes first: the first non-zero step is the absolute first pen point,
    // both coordinates in (0, 1] after division by 28, and no short sequence starts at step 0.
    const T = LSTM_TIME_STEPS;
    let padded = 0;
    for (let i = 0; i < 500; i++) {
      const seq = d.train.x.subarray(i * T * 2, (i + 1) * T * 2);
      let k = 0;
      while (k < T && seq[2 * k] === 0 && seq[2 * k + 1] === 0) k++;
      expect(k).toBeLessThan(T);
      expect(seq[2 * k]).toBeGreaterThan(0);
      expect(seq[2 * k]).toBeLessThanOrEqual(1);
      expect(seq[2 * k + 1]).toBeGreaterThan(0);
      if (k > 0) padded++;
    }
    expect(padded).toBeGreaterThan(400); // most digits are far shorter than 100 lines
  });

  it('the CIFAR-10 sample split 3,500 / 500 held out, with limits checked', async () => {
    const d = await loadTrainingData('densenet40', SHARED_DATASETS);
    expect(d.train.count).toBe(4000 - CIFAR_HELD_OUT);
    expect(d.test.count).toBe(CIFAR_HELD_OUT);
    expect(d.train.shape).toEqual([3500, 32, 32, 3]);
    expect(d.testDescription).toMatch(/held out \(no CIFAR test set here\)/);
    await expect(loadTrainingData('densenet40', SHARED_DATASETS, 3600)).rejects.toThrow(ConfigError);
  });

  it('names what it looked for when the data is missing', async () => {
    await expect(loadTrainingData('cnn6', '/nonexistent')).rejects.toThrow(DataError);
    await expect(loadTrainingData('lstm', '/nonexistent')).rejects.toThrow(/no MNIST stroke archive here/);
  });
});
