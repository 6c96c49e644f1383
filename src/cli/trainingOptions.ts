/**
 * Options `ohmic train` and `ohmic adversarial-train` share: the flags of the
 * training loop (both commands drive `trainModel`'s checkpointed loop), their
 * checks, and where the trained model and its checkpoints go.
 */
import type { Command } from 'commander';
import * as path from 'path';
import { ConfigError } from '../errors';
import { PAPER_MODEL_NAMES, type PaperModelName } from '../models/paper/buildModel';
import { prepareOutputFolder, prepareZooEntryPath } from '../study/outputPaths';

/** The training-loop flags both commands take, as commander hands them over. */
export interface TrainingLoopFlags {
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

/** The help texts and defaults that differ between the two commands. */
export interface TrainingLoopHelp {
  /** What `--seed` seeds. */
  seed: string;
  /** What a `--batch-size` mini-batch holds. */
  batchSize: string;
  /** Default of `--checkpoint-every` (batches). */
  checkpointEveryDefault: string;
  /** What `--init-from` is for. */
  initFrom: string;
}

/**
 * Adds the training-loop options (`--limit` … `--init-from`, in that order, so
 * both commands' help lists them alike) to `command`, and returns it.
 */
export function addTrainingLoopOptions(command: Command, help: TrainingLoopHelp): Command {
  return command
    .option('--limit <n>', 'train on the first n training examples only')
    .option('--seed <seed>', help.seed, '0')
    .option('--batch-size <n>', help.batchSize, '32')
    .option('--optimizer <name>', 'adam | momentum', 'adam')
    .option('--lr <rate>', 'learning rate (default 1e-3 adam, 0.1 momentum)')
    .option('--lr-decay <factor>', 'learning-rate factor per epoch', '1')
    .option('--checkpoint-dir <dir>', 'checkpoint folder (default checkpoints/<out name>)')
    .option('--checkpoint-every <batches>', 'also checkpoint every n batches', help.checkpointEveryDefault)
    .option('--dtype <dtype>', 'stored weights: float16 | float32', 'float16')
    .option('--init-from <zoo:NAME>', help.initFrom);
}

/** `--model`: one of the paper's networks. */
export function parsePaperModelOption(raw: string): PaperModelName {
  if (!(PAPER_MODEL_NAMES as readonly string[]).includes(raw)) {
    throw new ConfigError('--model', raw, `one of ${PAPER_MODEL_NAMES.join(', ')}`);
  }
  return raw as PaperModelName;
}

/** `--noise`: the kind of the built model's noise layers (`mult`/`add`, or spelt out). */
export function parseNoiseOption(raw: string): 'multiplicative' | 'additive' {
  if (raw === 'mult' || raw === 'multiplicative') return 'multiplicative';
  if (raw === 'add' || raw === 'additive') return 'additive';
  throw new ConfigError('--noise', raw, '"mult" or "add"');
}

/** `--optimizer`: adam or momentum. */
export function parseOptimizerOption(raw: string): 'adam' | 'momentum' {
  if (raw !== 'adam' && raw !== 'momentum') throw new ConfigError('--optimizer', raw, '"adam" or "momentum"');
  return raw;
}

/** `--dtype`: how the zoo stores the weights. */
export function parseDtypeOption(raw: string): 'float16' | 'float32' {
  if (raw !== 'float16' && raw !== 'float32') throw new ConfigError('--dtype', raw, '"float16" or "float32"');
  return raw;
}

/** Where a training run writes: the zoo entry `--out` names and its checkpoint folder. */
export interface TrainingOutputs {
  zooDir: string;
  name: string;
  checkpointDir: string;
}

/**
 * Checks (and creates) `--out`'s zoo folder and the checkpoint folder
 * (`--checkpoint-dir`, default checkpoints/<out name>). Called before any data
 * is read or any step trained: a bad --out must not fail after hours of
 * training (or spin, under /proc).
 */
export function prepareTrainingOutputs(out: string, checkpointDirFlag: string | undefined): TrainingOutputs {
  const { zooDir, name } = prepareZooEntryPath('--out', out);
  const checkpointDir = checkpointDirFlag ?? path.join('checkpoints', name);
  prepareOutputFolder(checkpointDirFlag === undefined ? '--checkpoint-dir (default)' : '--checkpoint-dir', checkpointDir);
  return { zooDir, name, checkpointDir };
}
