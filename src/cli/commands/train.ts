/**
 * `ohmic train`: noise-injected training of one of the paper's networks (data per
 * model: see src/models/training/trainingData.ts), with
 * checkpoints and resume, writing the result into the zoo.
 *
 *   ohmic train --model cnn6 --noise mult --sigma-train 0.4 --epochs 20 \
 *     --data ../shared/datasets/mnist --out zoo/cnn6-mnist-mult-0.4
 */
import type { Command } from 'commander';
import * as path from 'path';
import { initBackend } from '../../backend';
import { ConfigError } from '../../errors';
import { buildModel, PAPER_MODEL_NAMES, type PaperModelName } from '../../models/paper/buildModel';
import { loadTrainingData } from '../../models/training/trainingData';
import { EpochRecord, TrainProgress, evaluateAccuracy, trainModel } from '../../models/training/train';
import { loadModelDir, loadZooModel, saveZooModel } from '../../models/zoo';

function parseNoise(v: string): 'multiplicative' | 'additive' {
  if (v === 'mult' || v === 'multiplicative') return 'multiplicative';
  if (v === 'add' || v === 'additive') return 'additive';
  throw new ConfigError('--noise', v, '"mult" or "add"');
}

function parseNumber(flag: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) {
    throw new ConfigError(flag, v, integer ? 'an integer' : 'a number');
  }
  return n;
}

function progressLine(p: TrainProgress): string {
  const width = 24;
  const done = Math.round((p.batch / p.batchesPerEpoch) * width);
  return (
    `\repoch ${p.epoch + 1}/${p.epochs} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ` +
    `${p.batch}/${p.batchesPerEpoch} loss ${p.loss.toFixed(4)} ${p.examplesPerSecond.toFixed(0)} img/s `
  );
}

function epochLine(r: EpochRecord): string {
  const acc = r.validationAccuracy === undefined ? '' : ` test acc ${(100 * r.validationAccuracy).toFixed(2)}%`;
  return `epoch ${r.epoch}: loss ${r.trainLoss.toFixed(4)}${acc} (${r.seconds.toFixed(0)} s, ${r.examplesPerSecond.toFixed(0)} img/s)\n`;
}

interface TrainFlags {
  model: string;
  noise: string;
  sigmaTrain: string;
  epochs: string;
  data: string;
  out: string;
  limit?: string;
  seed: string;
  batchSize: string;
  optimizer: string;
  lr?: string;
  lrDecay: string;
  checkpointDir?: string;
  checkpointEvery: string;
  dtype: string;
  initFrom?: string;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description("train one of the paper's networks with noise injection (resumes from its checkpoints)")
    .requiredOption('--model <name>', `${PAPER_MODEL_NAMES.join(' | ')} (MNIST; lstm: MNIST strokes; densenet: the CIFAR-10 sample)`)
    .option('--noise <kind>', 'mult | add', 'mult')
    .option('--sigma-train <sigma>', 'noise std during training', '0')
    .requiredOption('--epochs <n>', 'epochs to train')
    .requiredOption('--data <dir>', 'datasets folder (e.g. ../shared/datasets) or the model\'s own data folder or file')
    .requiredOption('--out <dir>', 'zoo entry to write, e.g. zoo/cnn6-mnist-mult-0.4')
    .option('--limit <n>', 'train on the first n training examples only')
    .option('--seed <seed>', 'seed of initialisation, shuffling and noise', '0')
    .option('--batch-size <n>', 'mini-batch size', '32')
    .option('--optimizer <name>', 'adam | momentum', 'adam')
    .option('--lr <rate>', 'learning rate (default 1e-3 adam, 0.1 momentum)')
    .option('--lr-decay <factor>', 'learning-rate factor per epoch', '1')
    .option('--checkpoint-dir <dir>', 'checkpoint folder (default checkpoints/<out name>)')
    .option('--checkpoint-every <batches>', 'also checkpoint every n batches', '500')
    .option('--dtype <dtype>', 'stored weights: float16 | float32', 'float16')
    .option('--init-from <zoo:NAME>', 'start from a zoo model\'s weights (fine-tuning; recorded in the manifest)')
    .action(async (flags: TrainFlags) => {
      const noise = parseNoise(flags.noise);
      const sigma = parseNumber('--sigma-train', flags.sigmaTrain, false)!;
      const epochs = parseNumber('--epochs', flags.epochs, true)!;
      const seed = parseNumber('--seed', flags.seed, true)!;
      const limit = parseNumber('--limit', flags.limit, true);
      if (!(PAPER_MODEL_NAMES as readonly string[]).includes(flags.model)) {
        throw new ConfigError('--model', flags.model, `one of ${PAPER_MODEL_NAMES.join(', ')}`);
      }
      const modelName = flags.model as PaperModelName;
      if (flags.optimizer !== 'adam' && flags.optimizer !== 'momentum') {
        throw new ConfigError('--optimizer', flags.optimizer, '"adam" or "momentum"');
      }
      if (flags.dtype !== 'float16' && flags.dtype !== 'float32') throw new ConfigError('--dtype', flags.dtype, '"float16" or "float32"');
      await initBackend(process.env.OHMIC_BACKEND === 'cpu' ? 'cpu' : 'wasm');

      const data = await loadTrainingData(modelName, flags.data, limit);
      const name = path.basename(path.resolve(flags.out));
      const zooDir = path.dirname(path.resolve(flags.out));
      const checkpointDir = flags.checkpointDir ?? path.join('checkpoints', name);
      const model = buildModel(modelName, { noise, sigma, seed });
      const initFrom = flags.initFrom === undefined ? undefined : flags.initFrom.replace(/^zoo:/, '');
      if (initFrom !== undefined) {
        // Same architecture, other noise σ: the weights carry over one to one.
        const source = await loadZooModel(initFrom, { zooDir });
        const from = source.getWeights();
        const to = model.getWeights();
        if (from.length !== to.length || from.some((w, i) => w.shape.join('x') !== to[i].shape.join('x'))) {
          throw new ConfigError('--init-from', flags.initFrom, `a zoo model with the weights of ${modelName} (shapes differ)`);
        }
        model.setWeights(from);
        source.dispose();
      }

      const tty = process.stderr.isTTY === true;
      let stop = false;
      const onSigint = (): void => {
        stop = true;
        process.stderr.write('\nohmic: interrupted, writing a checkpoint…\n');
      };
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
      const result = await trainModel(model, data.train, {
        optimizer: flags.optimizer,
        learningRate: parseNumber('--lr', flags.lr, false),
        learningRateDecayPerEpoch: parseNumber('--lr-decay', flags.lrDecay, false),
        batchSize: parseNumber('--batch-size', flags.batchSize, true),
        epochs,
        seed,
        checkpointDir,
        checkpointEveryBatches: parseNumber('--checkpoint-every', flags.checkpointEvery, true),
        validation: data.test,
        onProgress: tty ? (p) => process.stderr.write(progressLine(p)) : undefined,
        onEpoch: (r) => process.stderr.write((tty ? '\n' : '') + epochLine(r)),
        shouldStop: () => stop,
      });
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGTERM', onSigint);
      if (result.resumedFromStep !== undefined) process.stderr.write(`resumed from step ${result.resumedFromStep}\n`);
      if (!result.completed) {
        process.stdout.write(`stopped at step ${result.step}; run the same command again to resume from ${checkpointDir}\n`);
        return;
      }
      const entry = await saveZooModel(
        model,
        {
          name,
          model: flags.model,
          noise,
          sigmaTrain: sigma,
          command: `ohmic ${process.argv.slice(2).join(' ')}`,
          epochs,
          seed,
          data: data.trainDescription,
          testAccuracy: 0,
          testData: data.testDescription,
          ...(initFrom === undefined ? {} : { fineTunedFrom: initFrom }),
        },
        { zooDir, dtype: flags.dtype },
      );
      // The manifest's accuracy is that of the stored (possibly float16) weights.
      const stored = await loadModelDir(path.join(zooDir, name));
      const accuracy = evaluateAccuracy(stored, data.test);
      await saveZooModel(model, { ...entry, testAccuracy: accuracy }, { zooDir, dtype: flags.dtype });
      process.stdout.write(`${name}: test accuracy ${(100 * accuracy).toFixed(2)}% (${entry.weightsBytes} bytes, sha256 ${entry.weightsSha256})\n`);
    });
}
