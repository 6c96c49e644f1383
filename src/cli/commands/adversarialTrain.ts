/**
 * `ohmic adversarial-train`: Madry-style adversarial training of one of the
 * paper's networks (each mini-batch half natural, half PGD examples against the
 * current weights), noiseless as in the paper's §4, with `ohmic train`'s
 * checkpoints and resume, writing the result into the zoo with the attack
 * recorded in its manifest entry (`adversarial`).
 *
 *   ohmic adversarial-train --model madryCnn4 --epochs 2 --eps 0.3 --step 0.04 --iters 10 \
 *     --data ../shared/datasets/mnist --out zoo/madrycnn4-mnist-adv
 */
import type { Command } from 'commander';
import * as path from 'path';
import { initBackend } from '../../backend';
import { ConfigError } from '../../errors';
import { buildModel, PAPER_MODEL_NAMES, type PaperModelName } from '../../models/paper/buildModel';
import { loadTrainingData } from '../../models/training/trainingData';
import { type EpochRecord, type TrainProgress, evaluateAccuracy } from '../../models/training/train';
import { loadModelDir, loadZooModel, saveZooModel, type ZooEntry } from '../../models/zoo';
import { adversarialTrainingRecord, adversarialTrainModel, type AdversarialTrainingRecord } from '../../models/attacks/adversarialTraining';
import { pgdAttack } from '../../models/attacks/pgd';
import { parseIntegerOption, parseNumberOption } from '../options';

interface AdvTrainFlags {
  model: string;
  noise: string;
  epochs: string;
  data: string;
  out: string;
  eps: string;
  step: string;
  iters: string;
  fraction: string;
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
  evalLimit: string;
  note?: string;
}

/** Examples the end-of-epoch and manifest PGD accuracy are measured on (the first of the test set). */
const DEFAULT_EVAL_LIMIT = 1000;

export function registerAdversarialTrain(program: Command): void {
  program
    .command('adversarial-train')
    .description("adversarially train one of the paper's networks: each batch half natural, half PGD examples (resumes from its checkpoints)")
    .requiredOption('--model <name>', `${PAPER_MODEL_NAMES.join(' | ')}`)
    .option('--noise <kind>', 'noise-layer kind of the built model (σ stays 0: the paper trains noiselessly): mult | add', 'mult')
    .requiredOption('--epochs <n>', 'epochs to train')
    .requiredOption('--data <dir>', "datasets folder (e.g. ../shared/datasets) or the model's own data folder or file")
    .requiredOption('--out <dir>', 'zoo entry to write, e.g. zoo/cnn6-mnist-adv')
    .option('--eps <eps>', 'L∞ radius of the training attack (pixels in [0, 1])', '0.3')
    .option('--step <alpha>', 'PGD step size of the training attack', '0.01')
    .option('--iters <k>', 'PGD iterations of the training attack (Madry et al.: 40)', '40')
    .option('--fraction <f>', 'share of each batch replaced by PGD examples', '0.5')
    .option('--limit <n>', 'train on the first n training examples only')
    .option('--seed <seed>', 'seed of initialisation, shuffling, noise and the PGD random starts', '0')
    .option('--batch-size <n>', 'mini-batch size (natural + adversarial)', '32')
    .option('--optimizer <name>', 'adam | momentum', 'adam')
    .option('--lr <rate>', 'learning rate (default 1e-3 adam, 0.1 momentum)')
    .option('--lr-decay <factor>', 'learning-rate factor per epoch', '1')
    .option('--checkpoint-dir <dir>', 'checkpoint folder (default checkpoints/<out name>)')
    .option('--checkpoint-every <batches>', 'also checkpoint every n batches', '100')
    .option('--dtype <dtype>', 'stored weights: float16 | float32', 'float16')
    .option('--init-from <zoo:NAME>', "start from a zoo model's weights (recorded in the manifest)")
    .option('--eval-limit <n>', 'test examples the per-epoch and manifest PGD accuracy use', String(DEFAULT_EVAL_LIMIT))
    .option('--note <text>', 'how this run differs from the paper (recorded in the manifest)')
    .action(async (flags: AdvTrainFlags) => {
      if (!(PAPER_MODEL_NAMES as readonly string[]).includes(flags.model)) {
        throw new ConfigError('--model', flags.model, `one of ${PAPER_MODEL_NAMES.join(', ')}`);
      }
      const modelName = flags.model as PaperModelName;
      if (modelName === 'lstm') throw new ConfigError('--model', flags.model, 'an image model (the attack perturbs pixels in [0, 1])');
      const noise = flags.noise === 'mult' || flags.noise === 'multiplicative' ? 'multiplicative' : flags.noise === 'add' || flags.noise === 'additive' ? 'additive' : undefined;
      if (noise === undefined) throw new ConfigError('--noise', flags.noise, '"mult" or "add"');
      const epochs = parseIntegerOption('--epochs', flags.epochs, 1);
      const seed = parseIntegerOption('--seed', flags.seed, 0);
      const limit = flags.limit === undefined ? undefined : parseIntegerOption('--limit', flags.limit, 1);
      const batchSize = parseIntegerOption('--batch-size', flags.batchSize, 2);
      const evalLimit = parseIntegerOption('--eval-limit', flags.evalLimit, 0);
      const attack = {
        eps: parseNumberOption('--eps', flags.eps),
        stepSize: parseNumberOption('--step', flags.step),
        iterations: parseIntegerOption('--iters', flags.iters, 1),
        fraction: parseNumberOption('--fraction', flags.fraction),
      };
      if (!(attack.eps > 0)) throw new ConfigError('--eps', flags.eps, 'a number > 0');
      if (!(attack.stepSize > 0)) throw new ConfigError('--step', flags.step, 'a number > 0');
      if (!(attack.fraction > 0 && attack.fraction <= 1)) throw new ConfigError('--fraction', flags.fraction, 'a number in (0, 1]');
      if (flags.optimizer !== 'adam' && flags.optimizer !== 'momentum') throw new ConfigError('--optimizer', flags.optimizer, '"adam" or "momentum"');
      if (flags.dtype !== 'float16' && flags.dtype !== 'float32') throw new ConfigError('--dtype', flags.dtype, '"float16" or "float32"');
      const learningRate = flags.lr === undefined ? undefined : parseNumberOption('--lr', flags.lr);
      const learningRateDecayPerEpoch = parseNumberOption('--lr-decay', flags.lrDecay);
      const checkpointEveryBatches = parseIntegerOption('--checkpoint-every', flags.checkpointEvery, 0);
      await initBackend(process.env.OHMIC_BACKEND === 'cpu' ? 'cpu' : 'wasm');

      const data = await loadTrainingData(modelName, flags.data, limit);
      const name = path.basename(path.resolve(flags.out));
      const zooDir = path.dirname(path.resolve(flags.out));
      const checkpointDir = flags.checkpointDir ?? path.join('checkpoints', name);
      const model = buildModel(modelName, { noise, sigma: 0, seed });
      const initFrom = flags.initFrom === undefined ? undefined : flags.initFrom.replace(/^zoo:/, '');
      if (initFrom !== undefined) {
        const source = await loadZooModel(initFrom, { zooDir });
        const from = source.getWeights();
        const to = model.getWeights();
        if (from.length !== to.length || from.some((w, i) => w.shape.join('x') !== to[i].shape.join('x'))) {
          throw new ConfigError('--init-from', flags.initFrom, `a zoo model with the weights of ${modelName} (shapes differ)`);
        }
        model.setWeights(from);
        source.dispose();
      }
      const evalCount = Math.min(evalLimit, data.test.count);
      const per = data.test.x.length / data.test.count;
      const pgdAccuracy = (m: typeof model): number => {
        if (evalCount === 0) return NaN;
        const r = pgdAttack(
          m,
          { x: data.test.x.subarray(0, evalCount * per), labels: data.test.y.subarray(0, evalCount), shape: [evalCount, ...data.test.shape.slice(1)] },
          { ...attack, restarts: 1, seed: seed + 1, batchSize: 100 },
        );
        return (evalCount - r.fooled.reduce((a, b) => a + b, 0)) / evalCount;
      };

      const tty = process.stderr.isTTY === true;
      let stop = false;
      const onSigint = (): void => {
        stop = true;
        process.stderr.write('\nohmic: interrupted, writing a checkpoint…\n');
      };
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
      const result = await adversarialTrainModel(model, data.train, {
        optimizer: flags.optimizer,
        learningRate,
        learningRateDecayPerEpoch,
        batchSize,
        epochs,
        seed,
        checkpointDir,
        checkpointEveryBatches,
        validation: data.test,
        adversarial: attack,
        onProgress: (p) => {
          if (tty) process.stderr.write(progressLine(p));
          else if (p.batch % 100 === 0) process.stderr.write(`${progressLine(p).slice(1)}\n`);
        },
        onEpoch: (r) => {
          const adv = pgdAccuracy(model);
          process.stderr.write((tty ? '\n' : '') + epochLine(r, adv, evalCount));
        },
        shouldStop: () => stop,
      });
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGTERM', onSigint);
      if (result.resumedFromStep !== undefined) process.stderr.write(`resumed from step ${result.resumedFromStep}\n`);
      if (!result.completed) {
        process.stdout.write(`stopped at step ${result.step}; run the same command again to resume from ${checkpointDir}\n`);
        return;
      }
      const record: AdversarialTrainingRecord = adversarialTrainingRecord(attack, batchSize, flags.note);
      const entry: Omit<ZooEntry, 'weightsDtype' | 'modelJson' | 'weightsFile' | 'weightsSha256' | 'weightsBytes'> & {
        adversarial: AdversarialTrainingRecord & { pgdTestAccuracy?: number; pgdTestData?: string };
      } = {
        name,
        model: flags.model,
        noise,
        sigmaTrain: 0,
        command: `ohmic ${process.argv.slice(2).join(' ')}`,
        epochs,
        seed,
        data: data.trainDescription,
        testAccuracy: 0,
        testData: data.testDescription,
        ...(initFrom === undefined ? {} : { fineTunedFrom: initFrom }),
        adversarial: record,
      };
      await saveZooModel(model, entry, { zooDir, dtype: flags.dtype });
      // The manifest's accuracies are those of the stored (possibly float16) weights.
      const stored = await loadModelDir(path.join(zooDir, name));
      entry.testAccuracy = evaluateAccuracy(stored, data.test);
      if (evalCount > 0) {
        entry.adversarial = {
          ...record,
          pgdTestAccuracy: pgdAccuracy(stored),
          pgdTestData: `the first ${evalCount} of ${data.testDescription}, the training attack (1 restart, seed ${seed + 1})`,
        };
      }
      const saved = await saveZooModel(model, entry, { zooDir, dtype: flags.dtype });
      process.stdout.write(
        `${name}: test accuracy ${(100 * entry.testAccuracy).toFixed(2)}%` +
          (entry.adversarial.pgdTestAccuracy === undefined ? '' : `, PGD accuracy ${(100 * entry.adversarial.pgdTestAccuracy).toFixed(2)}% on ${evalCount}`) +
          ` (${saved.weightsBytes} bytes, sha256 ${saved.weightsSha256})\n`,
      );
    });
}

function progressLine(p: TrainProgress): string {
  const width = 24;
  const done = Math.round((p.batch / p.batchesPerEpoch) * width);
  return (
    `\repoch ${p.epoch + 1}/${p.epochs} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ` +
    `${p.batch}/${p.batchesPerEpoch} loss ${p.loss.toFixed(4)} ${p.examplesPerSecond.toFixed(0)} img/s `
  );
}

function epochLine(r: EpochRecord, pgd: number, evalCount: number): string {
  const acc = r.validationAccuracy === undefined ? '' : ` test acc ${(100 * r.validationAccuracy).toFixed(2)}%`;
  const adv = Number.isNaN(pgd) ? '' : `, PGD acc ${(100 * pgd).toFixed(2)}% (first ${evalCount})`;
  return `epoch ${r.epoch}: loss ${r.trainLoss.toFixed(4)}${acc}${adv} (${r.seconds.toFixed(0)} s, ${r.examplesPerSecond.toFixed(0)} img/s)\n`;
}
