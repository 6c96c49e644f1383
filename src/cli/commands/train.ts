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
import { buildModel, PAPER_MODEL_NAMES } from '../../models/paper/buildModel';
import { loadTrainingData } from '../../models/training/trainingData';
import { evaluateAccuracy, trainModel } from '../../models/training/train';
import { loadModelDir, saveZooModel } from '../../models/zoo';
import { parseIntegerOption, parseNumberOption } from '../options';
import { addTrainingLoopOptions, parseDtypeOption, parseNoiseOption, parseOptimizerOption, parsePaperModelOption, prepareTrainingOutputs, type TrainingLoopFlags } from '../trainingOptions';
import { initWeightsFromZoo, reportTrainingEnd, trainedZooEntry, trainingEpochLine, trainingProgressLine, watchInterrupts } from '../trainingRun';

/** A decimal number (`integer`: a decimal integer >= `min`) option, or undefined when not given (see ../options). */
function parseNumber(flag: string, v: string | undefined, integer: boolean, min = 0): number | undefined {
  if (v === undefined) return undefined;
  return integer ? parseIntegerOption(flag, v, min) : parseNumberOption(flag, v);
}

interface TrainFlags extends TrainingLoopFlags {
  model: string;
  noise: string;
  sigmaTrain: string;
  epochs: string;
  data: string;
  out: string;
}

export function registerTrain(program: Command): void {
  const command = program
    .command('train')
    .description("train one of the paper's networks with noise injection (resumes from its checkpoints)")
    .requiredOption('--model <name>', `${PAPER_MODEL_NAMES.join(' | ')} (MNIST; lstm: MNIST strokes; densenet: the CIFAR-10 sample)`)
    .option('--noise <kind>', 'mult | add', 'mult')
    .option('--sigma-train <sigma>', 'noise std during training', '0')
    .requiredOption('--epochs <n>', 'epochs to train')
    .requiredOption('--data <dir>', 'datasets folder (e.g. ../shared/datasets) or the model\'s own data folder or file')
    .requiredOption('--out <dir>', 'zoo entry to write, e.g. zoo/cnn6-mnist-mult-0.4');
  addTrainingLoopOptions(command, {
    seed: 'seed of initialisation, shuffling and noise',
    batchSize: 'mini-batch size',
    checkpointEveryDefault: '500',
    initFrom: "start from a zoo model's weights (fine-tuning; recorded in the manifest)",
  }).action(async (flags: TrainFlags) => {
    const noise = parseNoiseOption(flags.noise);
    const sigma = parseNumber('--sigma-train', flags.sigmaTrain, false)!;
    const epochs = parseNumber('--epochs', flags.epochs, true, 1)!;
    const seed = parseNumber('--seed', flags.seed, true)!;
    const limit = parseNumber('--limit', flags.limit, true, 1);
    const modelName = parsePaperModelOption(flags.model);
    const optimizer = parseOptimizerOption(flags.optimizer);
    const dtype = parseDtypeOption(flags.dtype);
    const { zooDir, name, checkpointDir } = prepareTrainingOutputs(flags.out, flags.checkpointDir);
    await initBackend(process.env.OHMIC_BACKEND === 'cpu' ? 'cpu' : 'wasm');

    const data = await loadTrainingData(modelName, flags.data, limit);
    const model = buildModel(modelName, { noise, sigma, seed });
    const initFrom = await initWeightsFromZoo(model, flags.initFrom, modelName, zooDir);

    const tty = process.stderr.isTTY === true;
    const interrupts = watchInterrupts();
    const result = await trainModel(model, data.train, {
      optimizer,
      learningRate: parseNumber('--lr', flags.lr, false),
      learningRateDecayPerEpoch: parseNumber('--lr-decay', flags.lrDecay, false),
      batchSize: parseNumber('--batch-size', flags.batchSize, true, 1),
      epochs,
      seed,
      checkpointDir,
      checkpointEveryBatches: parseNumber('--checkpoint-every', flags.checkpointEvery, true, 1),
      validation: data.test,
      onProgress: tty ? (p) => process.stderr.write(trainingProgressLine(p)) : undefined,
      onEpoch: (r) => process.stderr.write((tty ? '\n' : '') + trainingEpochLine(r)),
      shouldStop: interrupts.shouldStop,
    });
    interrupts.stopWatching();
    if (!reportTrainingEnd(result, checkpointDir)) return;
    const entry = await saveZooModel(model, trainedZooEntry({ name, model: flags.model, noise, sigmaTrain: sigma, epochs, seed, data, initFrom }), { zooDir, dtype });
    // The manifest's accuracy is that of the stored (possibly float16) weights.
    const stored = await loadModelDir(path.join(zooDir, name));
    const accuracy = evaluateAccuracy(stored, data.test);
    await saveZooModel(model, { ...entry, testAccuracy: accuracy }, { zooDir, dtype });
    process.stdout.write(`${name}: test accuracy ${(100 * accuracy).toFixed(2)}% (${entry.weightsBytes} bytes, sha256 ${entry.weightsSha256})\n`);
  });
}
