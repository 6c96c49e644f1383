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
