/**
 * `ohmic study`: run a what-if grid (models × devices × noise × σ × semantics ×
 * votes, over seeds) and write its results, table, CSV and plots into `--out`.
 *
 * The grid comes from `--config study.json` or from the grid flags, never both,
 * and every option is checked before any point runs. With `--shard i/n` (or a
 * Slurm array / Kubernetes Indexed Job index in the environment) only that slice
 * runs, into its own results file; `ohmic merge` joins the slices.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../errors';
import { chipEvaluatorModule } from '../../study/chipEvaluatorModule';
import type { EvaluatorModule } from '../../study/evaluator';
import { expandGrid, validateStudyConfig, type StudyConfig } from '../../study/grid';
import { normaliseResultsFile, readResults, scanResultsFile } from '../../study/resultsFile';
import { runStudy, type RunStudyReport } from '../../study/runStudy';
import { checkChipStudyInputs, checkStudyLayerNames, validateChipPoint, validateChipStudy } from '../../study/chipEvaluator';
import { formatShard, parseShard, shardFromEnv, WHOLE_GRID, type Shard } from '../../study/shard';
import { readStudyConfigFile } from '../../study/studyConfigFile';
import { writeStudyOutputs, type StudyOutputs } from '../../study/studyOutputs';
import { prepareOutputFolder } from '../../study/outputPaths';
import { checkStudyWork } from '../../study/workEstimate';
import { readZooManifest } from '../../models/zoo';
import { summaryMarkdown } from '../../study/summary';
import { decimalOrText, parseIntegerOption, parseListOption } from '../options';
import { progressBar, showsProgress } from '../progressBar';
import { STUDY_DEVICES } from '../studyDevices';

/** Options as commander hands them over (all strings; `resume`/`json` booleans). */
export interface StudyFlags {
  config?: string;
  models?: string;
  devices?: string;
  noise?: string;
  sigmas?: string;
  votes?: string;
  semantics?: string;
  seeds?: string;
  dataset?: string;
  limit?: string;
  rootSeed?: string;
  axis?: string[];
  zip?: boolean;
  noiseSites?: string;
  out: string;
  allowLarge?: boolean;
  shard?: string;
  shards?: string;
  workers: string;
  resume?: boolean;
  json?: boolean;
  data?: string;
  evaluator?: string;
  evaluatorOptions?: string;
}

/** Study config field → the flag that sets it, so validation errors name what the user typed. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  models: '--models',
  devices: '--devices',
  noise: '--noise',
  sigmas: '--sigmas',
  votes: '--votes',
  semantics: '--semantics',
  seeds: '--seeds',
  'dataset.name': '--dataset',
  'dataset.limit': '--limit',
  rootSeed: '--root-seed',
  noiseSites: '--noise-sites',
  zip: '--zip',
};

/** Flags that define the grid; with `--config` they belong in the file. */
const GRID_FLAGS: ReadonlyArray<readonly [keyof StudyFlags, string]> = [
  ['models', '--models'],
  ['devices', '--devices'],
  ['noise', '--noise'],
  ['sigmas', '--sigmas'],
  ['votes', '--votes'],
  ['semantics', '--semantics'],
  ['seeds', '--seeds'],
  ['dataset', '--dataset'],
  ['limit', '--limit'],
  ['rootSeed', '--root-seed'],
  ['axis', '--axis'],
  ['zip', '--zip'],
  ['noiseSites', '--noise-sites'],
];

/** The default dataset of a study given by flags. */
export const DEFAULT_STUDY_DATASET = 'mnist';

/** A number when `text` spells one in decimal, else the text itself, so validation reports what was typed. */
const numberOrText = decimalOrText;

/**
 * The study config the grid flags describe, validated against `knownDevices`.
 * Errors name the flag: `--sigmas[1] = -0.2: expected a finite number >= 0`.
 */
export function studyConfigFromFlags(flags: StudyFlags, knownDevices: readonly string[]): StudyConfig {
  const raw: Record<string, unknown> = {};
  const list = (key: keyof StudyFlags, flag: string): string[] | undefined => {
    const value = flags[key];
    return value === undefined ? undefined : parseListOption(flag, value);
  };
  const set = (field: string, value: unknown): void => {
    if (value !== undefined) raw[field] = value;
  };
  set('models', list('models', '--models'));
  set('devices', list('devices', '--devices'));
  set('noise', list('noise', '--noise'));
  set('sigmas', list('sigmas', '--sigmas')?.map(numberOrText));
  set('votes', list('votes', '--votes')?.map(numberOrText));
  set('semantics', list('semantics', '--semantics'));
  set('seeds', list('seeds', '--seeds')?.map(numberOrText));
  if (flags.axis !== undefined && flags.axis.length > 0) raw.axes = Object.fromEntries(flags.axis.map(parseAxisFlag));
  if (flags.zip) raw.zip = true;
  set('noiseSites', list('noiseSites', '--noise-sites'));
  raw.dataset = {
    name: flags.dataset ?? DEFAULT_STUDY_DATASET,
    limit: flags.limit === undefined ? null : numberOrText(flags.limit),
  };
  if (flags.rootSeed !== undefined) raw.rootSeed = numberOrText(flags.rootSeed);
  try {
    return validateStudyConfig(raw, knownDevices);
  } catch (err) {
    throw flagError(err);
  }
}

/** A study config error renamed to the flag that set the field (`sigmas[1]` → `--sigmas[1]`, `axes.adc.bits[0]` → `--axis adc.bits[0]`). */
function flagError(err: unknown): unknown {
  if (!(err instanceof ConfigError)) return err;
  if (err.field.startsWith('axes.')) return new ConfigError(`--axis ${err.field.slice(5)}`, err.value, err.expected);
  if (err.field === 'axes') return new ConfigError('--axis', err.value, err.expected);
  const m = /^([A-Za-z]+(?:\.[A-Za-z]+)?)(.*)$/.exec(err.field);
  const flag = m === null ? undefined : FLAG_OF_FIELD[m[1]];
  if (flag === undefined || m === null) return err;
  return new ConfigError(`${flag}${m[2]}`, err.value, err.expected);
}

/** An error from checking a validated study, named as the user gave the field: by flag, or in the config file. */
function studyFieldError(err: unknown, configFile: string | undefined): unknown {
  if (!(err instanceof ConfigError)) return err;
  return configFile === undefined ? flagError(err) : new ConfigError(`${configFile}: ${err.field}`, err.value, err.expected);
}

/**
 * `--axis PATH=V1,V2,...`: a sweep axis over a chip field. Values are decimal
 * numbers, `null`, `true`/`false`, or text (`128x128`, `1 h`).
 */
export function parseAxisFlag(text: string): [string, unknown[]] {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new ConfigError('--axis', text, 'PATH=V1,V2,..., e.g. adc.bits=4,6,8 or tile=128x128,256x256');
  const values = parseListOption('--axis', text.slice(eq + 1)).map((v) => (v === 'null' ? null : v === 'true' ? true : v === 'false' ? false : numberOrText(v)));
  return [text.slice(0, eq).trim(), values];
}

/** The study config: from `--config` (then no grid flag may be given) or from the grid flags. */
export function resolveStudyConfig(flags: StudyFlags, knownDevices: readonly string[]): StudyConfig {
  if (flags.config === undefined) return studyConfigFromFlags(flags, knownDevices);
  for (const [key, flag] of GRID_FLAGS) {
    if (flags[key] !== undefined) {
      throw new ConfigError(flag, flags[key], `to be omitted when --config is given (set it in ${flags.config})`);
    }
  }
  return readStudyConfigFile(flags.config, knownDevices);
}

/**
 * The shard to run: `--shard i/n`, else the scheduler's index from the
 * environment (`SLURM_ARRAY_TASK_ID`, or `JOB_COMPLETION_INDEX` with `--shards n`),
 * else the whole grid.
 */
export function resolveStudyShard(flags: Pick<StudyFlags, 'shard' | 'shards'>, env: NodeJS.ProcessEnv): Shard {
  if (flags.shard !== undefined) {
    if (flags.shards !== undefined) {
      throw new ConfigError('--shards', flags.shards, 'to be omitted when --shard i/n gives the count');
    }
    return parseShard(flags.shard, '--shard');
  }
  const count = flags.shards === undefined ? undefined : parseIntegerOption('--shards', flags.shards, 1);
  return shardFromEnv(env, count) ?? WHOLE_GRID;
}

/** `results.jsonl` for the whole grid, `results-shard-2-of-4.jsonl` for a shard. */
export function resultsFileName(shard: Shard): string {
  return shard.count === 1 ? 'results.jsonl' : `results-shard-${shard.index + 1}-of-${shard.count}.jsonl`;
}

function parseWorkers(raw: string): number | 'auto' {
  return raw.trim() === 'auto' ? 'auto' : parseIntegerOption('--workers', raw, 1);
}

/**
 * The evaluator: `--evaluator MODULE#EXPORT` (a module path, relative to the
 * current folder, and the name of its factory export), else the chip evaluator.
 * Its options are `--evaluator-options` (a JSON object) plus `dataDir` from `--data`.
 */
export function resolveEvaluator(flags: Pick<StudyFlags, 'evaluator' | 'evaluatorOptions' | 'data'>): EvaluatorModule {
  let options: Record<string, unknown> = {};
  if (flags.evaluatorOptions !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(flags.evaluatorOptions);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError('--evaluator-options', flags.evaluatorOptions, 'a JSON object');
    }
    options = parsed as Record<string, unknown>;
  }
  if (flags.data !== undefined) options = { dataDir: path.resolve(flags.data), ...options };
  let evaluator: EvaluatorModule;
  if (flags.evaluator === undefined) {
    evaluator = chipEvaluatorModule(options);
  } else {
    const hash = flags.evaluator.lastIndexOf('#');
    const modulePath = hash < 0 ? '' : flags.evaluator.slice(0, hash);
    const exportName = hash < 0 ? '' : flags.evaluator.slice(hash + 1);
    if (modulePath === '' || !/^[A-Za-z_$][\w$]*$/.test(exportName)) {
      throw new ConfigError('--evaluator', flags.evaluator, 'MODULE#EXPORT, e.g. ./myEvaluator.js#createEvaluator');
    }
    evaluator = { modulePath: path.resolve(modulePath), exportName, options };
  }
  if (!fs.existsSync(evaluator.modulePath)) {
    if (flags.evaluator !== undefined) {
      throw new ConfigError(
        '--evaluator',
        flags.evaluator,
        `MODULE#EXPORT naming an existing module file (${evaluator.modulePath} not found)`,
      );
    }
    throw new ConfigError(
      'evaluator',
      evaluator.modulePath,
      'an existing module file (not found; --evaluator MODULE#EXPORT selects another evaluator)',
    );
  }
  return evaluator;
}

/**
 * The chip evaluator's models, checked before the first point runs: each must
 * exist (a zoo name, or an .onnx / model.json file), and no model may be listed
 * twice under two spellings (`cnn6-mnist-mult-0` and `zoo:cnn6-mnist-mult-0`,
 * `m.onnx` and `./m.onnx`), which would run it twice under different seeds.
 */
export function checkChipStudyModels(config: StudyConfig, configFile: string | undefined): void {
  const field = (i: number): string => (configFile === undefined ? `--models[${i}]` : `${configFile}: models[${i}]`);
  let zoo: string[] | undefined;
  const seen = new Map<string, number>();
  config.models.forEach((model, i) => {
    const isFile = model.endsWith('.onnx') || model.endsWith('.json');
    const key = isFile ? `file:${path.resolve(model)}` : `zoo:${model.startsWith('zoo:') ? model.slice(4) : model}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ConfigError(field(i), model, `a model not listed already (it is the same model as models[${first}], ${JSON.stringify(config.models[first])})`);
    }
    seen.set(key, i);
    if (isFile) {
      if (!fs.existsSync(model)) throw new ConfigError(field(i), model, 'an existing .onnx or tfjs model.json file');
      return;
    }
    zoo ??= readZooManifest().models.map((m) => m.name);
    if (!zoo.includes(key.slice(4))) {
      throw new ConfigError(field(i), model, zoo.length > 0 ? `a zoo model (${zoo.join(', ')}) or an .onnx / model.json file` : 'an .onnx or model.json file (the zoo is empty)');
    }
  });
}

/** Refuses to add to an earlier run's results unless `--resume` says so. */
function checkResume(resultsPath: string, resume: boolean): void {
  if (resume || !fs.existsSync(resultsPath)) return;
  const held = scanResultsFile(resultsPath).records.length;
  if (held === 0) return;
  throw new ConfigError(
    '--out',
    path.dirname(resultsPath),
    `a folder without ${path.basename(resultsPath)} (it holds ${held} points of an earlier run): ` +
      'pass --resume to continue that study, or choose another --out',
  );
}

/** Everything `ohmic study` did, as `--json` prints it. */
export interface StudyCommandResult {
  readonly shard: string;
  readonly run: RunStudyReport;
  /** Records of the results file, in grid order. */
  readonly records: ReturnType<typeof readResults>;
  /** Report files; `null` for a shard of a larger grid (merge the shards, then report). */
  readonly outputs: StudyOutputs | null;
}

function printStudy(
  result: StudyCommandResult,
  shard: Shard,
  outDir: string,
  configFile: string | undefined,
  seconds: number,
): void {
  const out = process.stdout;
  const { run } = result;
  out.write(
    `ohmic study: ${run.total} point${run.total === 1 ? '' : 's'}${shard.count > 1 ? ` in shard ${formatShard(shard)}` : ''} ` +
      `(${run.computed} computed, ${run.skipped} already done) in ${seconds.toFixed(1)} s\n\n`,
  );
  if (result.outputs === null) {
    out.write(`results: ${run.resultsPath}\n`);
    // Without the config, merge orders by point fields rather than by the grid (see mergeResultFiles).
    const config = configFile === undefined ? '' : `--config ${configFile} `;
    out.write(
      `This is shard ${formatShard(shard)}; when every shard has finished, join them with\n` +
        `  ohmic merge ${config}--out ${path.join(outDir, 'results.jsonl')} --report ${outDir} ` +
        `${path.join(outDir, 'results-shard-*.jsonl')}\n`,
    );
    return;
  }
  out.write(summaryMarkdown(result.records));
  out.write('\n');
  out.write(`results: ${run.resultsPath}\n`);
  out.write(formatOutputPaths(result.outputs));
}

/** Where a study's report, table and plots were written, one per line. */
export function formatOutputPaths(outputs: StudyOutputs): string {
  return (
    `report:  ${outputs.summaryPath}\ntable:   ${outputs.csvPath}\n` +
    outputs.plots.map((p, i) => `${i === 0 ? 'plots:   ' : '         '}${p.path}\n`).join('')
  );
}

/** Runs the study the flags describe; prints the table and where the report and plots are. */
export async function studyCommand(flags: StudyFlags): Promise<StudyCommandResult> {
  // Everything is checked before any point runs or any file is touched.
  const config = resolveStudyConfig(flags, STUDY_DEVICES);
  const shard = resolveStudyShard(flags, process.env);
  // Days of work (a 10^6-point grid, votes = 1e9) are refused before the grid is expanded.
  try {
    checkStudyWork(config, { allowLarge: flags.allowLarge === true, shardCount: shard.count, overrideHint: 'pass --allow-large' });
  } catch (err) {
    if (!(err instanceof ConfigError) || err.field !== 'votes') throw err;
    throw new ConfigError(flags.config === undefined ? '--votes' : `${flags.config}: votes`, err.value, err.expected);
  }
  const workers = parseWorkers(flags.workers);
  const evaluator = resolveEvaluator(flags);
  // The chip evaluator's points must be consistent (chips take device noise, the
  // signal device a σ): checked for every point before anything runs.
  if (flags.evaluator === undefined) {
    checkChipStudyModels(config, flags.config);
    try {
      validateChipStudy(config);
      for (const p of expandGrid(config)) validateChipPoint(p);
      // The dataset with its limit, and every model against it: a bad last model fails before the first point.
      await checkChipStudyInputs(config, { dataDir: flags.data === undefined ? undefined : path.resolve(flags.data) });
      await checkStudyLayerNames(config);
    } catch (err) {
      throw studyFieldError(err, flags.config);
    }
  }
  // An existing file, a path under a file, a dangling link, an unwritable folder or
  // /proc: a ConfigError naming --out, before any point runs.
  const outDir = prepareOutputFolder('--out', flags.out);
  const resultsPath = path.join(outDir, resultsFileName(shard));
  checkResume(resultsPath, flags.resume === true);

  const bar = showsProgress(process.stderr, process.env) ? progressBar(process.stderr) : null;
  const started = performance.now();
  let run: RunStudyReport;
  try {
    run = await runStudy(config, evaluator, {
      resultsPath,
      shard,
      workers,
      onProgress: bar
        ? (p) =>
            bar.update({ done: p.skipped + p.computed, total: p.total, computed: p.computed, elapsedMs: p.elapsedMs })
        : undefined,
    });
  } finally {
    bar?.end();
  }
  // Workers append in completion order; grid order makes the file's bytes independent of scheduling.
  normaliseResultsFile(resultsPath, expandGrid(config).map((p) => p.id));
  const records = readResults(resultsPath);
  const outputs = shard.count === 1 ? await writeStudyOutputs(records, outDir) : null;
  const result: StudyCommandResult = { shard: formatShard(shard), run, records, outputs };
  for (const w of outputs?.warnings ?? []) process.stderr.write(`ohmic: plot warning: ${w}\n`);
  if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else printStudy(result, shard, outDir, flags.config, (performance.now() - started) / 1000);
  return result;
}

export function registerStudy(program: Command): void {
  program
    .command('study')
    .description(
      'Run a what-if grid (models × devices, each over its chip --axis values × noise × σ (× noise sites) × voting semantics × votes, over seeds) and write ' +
        'results.jsonl, summary.md, results.csv and SVG plots into --out. A killed study resumes with --resume.',
    )
    .requiredOption('--out <dir>', 'output folder: results, report and plots')
    .option('--config <file>', 'study config, JSON or YAML {models, devices, axes, zip, noise, sigmas, noiseSites, votes, semantics, seeds, dataset, rootSeed}; replaces the grid flags')
    .option('--models <list>', 'comma-separated model names (zoo names or files)')
    .option('--devices <list>', `comma-separated devices: ${STUDY_DEVICES.join(', ')}, or chip .json/.yaml files`)
    .option('--noise <list>', 'noise kinds: multiplicative, additive, device (default multiplicative)')
    .option('--sigmas <list>', 'signal-level noise standard deviations σ >= 0, e.g. 0,0.2,0.4 (chips take none: their noise is the device\'s)')
    .option('--votes <list>', 'numbers of votes V >= 1 (default 1)')
    .option('--semantics <list>', 'voting semantics: passes, replicas, signal (default signal)')
    .option('--seeds <list>', 'replicate seeds; accuracy is reported as mean ± std over them (default 0)')
    .option('--dataset <name>', `dataset to evaluate on (default ${DEFAULT_STUDY_DATASET})`)
    .option('--limit <n>', 'evaluate on the first n examples of the dataset (default: all)')
    .option('--root-seed <n>', 'root of every point seed (default 0)')
    .option(
      '--axis <path=values>',
      'sweep a chip field over values, e.g. adc.bits=4,6,8, tile=128x128,256x256, device.readNoiseRelStd=0.01,0.05, ' +
        'readTimeSeconds="1 s,1 h,1 day", layers.conv1.adc.bits=6,8 (repeatable; the product over every chip device)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--zip', 'pair the --axis values value by value instead of taking their product')
    .option('--noise-sites <list>', 'signal-level noise sites: mvm (raw product), bias (after the bias add), norm (after the batch norm)')
    .option('--shard <i/n>', 'run only shard i of n (1-based); default from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX')
    .option('--shards <n>', 'number of shards when the index comes from JOB_COMPLETION_INDEX (the Indexed Job’s completions)')
    .option('--workers <n>', "worker threads, or 'auto' for one per core", 'auto')
    .option('--resume', 'continue the study whose results are already in --out')
    .option('--allow-large', 'run even a study estimated above 100000 points or 1e9 inferences (per shard)')
    .option('--data <dir>', 'dataset folder, passed to the evaluator as dataDir')
    .option('--evaluator <module#export>', 'evaluate points with another evaluator factory (default: the chip evaluator)')
    .option('--evaluator-options <json>', 'JSON object passed to the evaluator factory')
    .option('--json', 'print the run, its records and output paths as JSON')
    .action(async (flags: StudyFlags) => {
      await studyCommand(flags);
    });
}
