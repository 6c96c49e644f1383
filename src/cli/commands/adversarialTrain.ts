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
import { buildModel, PAPER_MODEL_NAMES } from '../../models/paper/buildModel';
import { loadTrainingData } from '../../models/training/trainingData';
import { type EpochRecord, evaluateAccuracy } from '../../models/training/train';
import { loadModelDir, saveZooModel } from '../../models/zoo';
import { adversarialTrainingRecord, adversarialTrainModel, type AdversarialTrainingRecord } from '../../models/attacks/adversarialTraining';
import { pgdAttack } from '../../models/attacks/pgd';
import { parseIntegerOption, parseNumberOption } from '../options';
import { addTrainingLoopOptions, parseDtypeOption, parseNoiseOption, parseOptimizerOption, parsePaperModelOption, prepareTrainingOutputs, type TrainingLoopFlags } from '../trainingOptions';
import { initWeightsFromZoo, reportTrainingEnd, trainedZooEntry, trainingEpochLine, trainingProgressLine, watchInterrupts, type TrainedZooEntry } from '../trainingRun';

interface AdvTrainFlags extends TrainingLoopFlags {
  model: string;
  noise: string;
  epochs: string;
  data: string;
  out: string;
  eps: string;
  step: string;
  iters: string;
  fraction: string;
  evalLimit: string;
  note?: string;
}

/** Examples the end-of-epoch and manifest PGD accuracy are measured on (the first of the test set). */
const DEFAULT_EVAL_LIMIT = 1000;

export function registerAdversarialTrain(program: Command): void {
  const command = program
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
    .option('--fraction <f>', 'share of each batch replaced by PGD examples', '0.5');
  addTrainingLoopOptions(command, {
    seed: 'seed of initialisation, shuffling, noise and the PGD random starts',
    batchSize: 'mini-batch size (natural + adversarial)',
    checkpointEveryDefault: '100',
    initFrom: "start from a zoo model's weights (recorded in the manifest)",
  })
    .option('--eval-limit <n>', 'test examples the per-epoch and manifest PGD accuracy use', String(DEFAULT_EVAL_LIMIT))
    .option('--note <text>', 'how this run differs from the paper (recorded in the manifest)')
    .action(async (flags: AdvTrainFlags) => {
      const modelName = parsePaperModelOption(flags.model);
      if (modelName === 'lstm') throw new ConfigError('--model', flags.model, 'an image model (the attack perturbs pixels in [0, 1])');
      const noise = parseNoiseOption(flags.noise);
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
      const optimizer = parseOptimizerOption(flags.optimizer);
      const dtype = parseDtypeOption(flags.dtype);
      const learningRate = flags.lr === undefined ? undefined : parseNumberOption('--lr', flags.lr);
      const learningRateDecayPerEpoch = parseNumberOption('--lr-decay', flags.lrDecay);
      const checkpointEveryBatches = parseIntegerOption('--checkpoint-every', flags.checkpointEvery, 0);
      const { zooDir, name, checkpointDir } = prepareTrainingOutputs(flags.out, flags.checkpointDir);
      await initBackend(process.env.OHMIC_BACKEND === 'cpu' ? 'cpu' : 'wasm');

      const data = await loadTrainingData(modelName, flags.data, limit);
      const model = buildModel(modelName, { noise, sigma: 0, seed });
      const initFrom = await initWeightsFromZoo(model, flags.initFrom, modelName, zooDir);
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
      const interrupts = watchInterrupts();
      const result = await adversarialTrainModel(model, data.train, {
        optimizer,
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
          if (tty) process.stderr.write(trainingProgressLine(p));
          else if (p.batch % 100 === 0) process.stderr.write(`${trainingProgressLine(p).slice(1)}\n`);
        },
        onEpoch: (r) => {
          const adv = pgdAccuracy(model);
          process.stderr.write((tty ? '\n' : '') + epochLine(r, adv, evalCount));
        },
        shouldStop: interrupts.shouldStop,
      });
      interrupts.stopWatching();
      if (!reportTrainingEnd(result, checkpointDir)) return;
      const record: AdversarialTrainingRecord = adversarialTrainingRecord(attack, batchSize, flags.note);
      const entry: TrainedZooEntry & { adversarial: AdversarialTrainingRecord & { pgdTestAccuracy?: number; pgdTestData?: string } } = {
        ...trainedZooEntry({ name, model: flags.model, noise, sigmaTrain: 0, epochs, seed, data, initFrom }),
        adversarial: record,
      };
      await saveZooModel(model, entry, { zooDir, dtype });
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
      const saved = await saveZooModel(model, entry, { zooDir, dtype });
      process.stdout.write(
        `${name}: test accuracy ${(100 * entry.testAccuracy).toFixed(2)}%` +
          (entry.adversarial.pgdTestAccuracy === undefined ? '' : `, PGD accuracy ${(100 * entry.adversarial.pgdTestAccuracy).toFixed(2)}% on ${evalCount}`) +
          ` (${saved.weightsBytes} bytes, sha256 ${saved.weightsSha256})\n`,
      );
    });
}

function epochLine(r: EpochRecord, pgd: number, evalCount: number): string {
  return trainingEpochLine(r, Number.isNaN(pgd) ? '' : `, PGD acc ${(100 * pgd).toFixed(2)}% (first ${evalCount})`);
}
