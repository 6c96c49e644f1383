/**
 * `ohmic attack`: the paper's black-box transfer experiment (§4, Table 11).
 * PGD with random restarts on a source network makes adversarial examples of
 * the first `--limit` test images; a separately trained target classifies them
 * with noisy inference (signal-level multiplicative σ, device chips), `--runs`
 * noisy runs per configuration, mean accuracy and majority vote.
 *
 *   ohmic attack --source zoo:madrycnn4-mnist-adv --target zoo:cnn6-mnist-adv \
 *     --eps 0.3 --step 0.05 --iters 20 --restarts 20 --sigma 0,0.1,0.2,0.3,0.4 --limit 1000
 *
 * The examples are written to `--out` as `adversarial.npy` (float32, the model's
 * input layout) with `adversarial.json` (labels and how they were made), so
 * `--examples DIR/adversarial.npy` re-evaluates a target without attacking again.
 * `--white-box-sigma S` also attacks the target itself through its noisy forward
 * pass (gradient-masking check, src/models/attacks/whiteBox.ts).
 *
 * Also registers `ohmic adversarial-train` (./adversarialTrain.ts).
 */
import { translateWasmAbort } from '../../models/training/train';
import { loadCalibrationSet } from '../../study/calibrationSet';
import * as fs from 'fs';
import * as path from 'path';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { backendName, initBackend } from '../../backend';
import { ConfigError, DataError } from '../../errors';
import { loadMnist, embeddedMnistDir, defaultDataDir, sharedDatasetPaths } from '../../data';
import { loadTfjsModelFromDir } from '../../compiler/frontends/tfjsFiles';
import { encodeNpyFloat32, decodeNpyFloat32 } from '../../compiler/npy';
import { writeFileAtomic } from '../../models/training/checkpoint';
import { loadTrainingData } from '../../models/training/trainingData';
import { loadZooModel } from '../../models/zoo';
import { PRESET_NAMES } from '../../crossbar/presets';
import { pgdAttack } from '../../models/attacks/pgd';
import { ATTACK_PRESETS, attackPreset, type AttackPreset } from '../../models/attacks/presets';
import { evaluateTransfer, layersAccuracy, type ModeAccuracy, type TransferRow } from '../../models/attacks/transfer';
import { whiteBoxThroughNoise, type WhiteBoxResult } from '../../models/attacks/whiteBox';
import type { Graph } from '../../compiler/ir/graph';
import { prepareOutputFolder } from '../../study/outputPaths';
import { loadModelArg } from '../modelArg';
import { decimalOrText, parseIntegerOption, parseListOption, parseNumberOption } from '../options';
import { formatProgressLine, showsProgress } from '../progressBar';
import { registerAdversarialTrain } from './adversarialTrain';

export const ATTACK_DATASETS = ['mnist', 'cifar10-heldout'] as const;
export type AttackDataset = (typeof ATTACK_DATASETS)[number];

interface AttackFlags {
  source?: string;
  target: string;
  examples?: string;
  dataset: string;
  data?: string;
  preset?: string;
  eps?: string;
  step?: string;
  iters?: string;
  restarts?: string;
  sigma: string;
  devices?: string;
  runs: string;
  limit?: string;
  seed: string;
  batch: string;
  out: string;
  whiteBoxSigma?: string;
  whiteBoxLimit?: string;
  whiteBoxRestarts: string;
  eotSamples: string;
  resume?: boolean;
  json?: boolean;
}

/** Everything the attack needs, validated before any model is loaded. */
export interface AttackPlan {
  readonly source?: string;
  readonly target: string;
  readonly examples?: string;
  readonly dataset: AttackDataset;
  readonly dataDir?: string;
  readonly attack: AttackPreset;
  readonly sigmas: number[];
  readonly devices: string[];
  readonly runs: number;
  readonly limit?: number;
  readonly seed: number;
  readonly batch: number;
  readonly out: string;
  readonly whiteBoxSigma?: number;
  readonly whiteBoxLimit?: number;
  readonly whiteBoxRestarts: number;
  readonly eotSamples: number;
}

/** The paper's Table 11 σ values. */
export const TABLE11_SIGMAS = [0, 0.1, 0.2, 0.3, 0.4];

/** Parses and checks every flag (ConfigError naming the flag). */
export function parseAttackFlags(flags: AttackFlags): AttackPlan {
  if (!(ATTACK_DATASETS as readonly string[]).includes(flags.dataset)) {
    throw new ConfigError('--dataset', flags.dataset, `one of ${ATTACK_DATASETS.join(', ')}`);
  }
  const dataset = flags.dataset as AttackDataset;
  if (flags.source === undefined && flags.examples === undefined && flags.whiteBoxSigma === undefined) {
    throw new ConfigError('--source', flags.source, 'a source model to attack (zoo:NAME or a tfjs model.json), or --examples FILE.npy (or only --white-box-sigma)');
  }
  if (flags.source !== undefined && flags.examples !== undefined) {
    throw new ConfigError('--examples', flags.examples, 'to be left out with --source (re-evaluating saved examples needs no source)');
  }
  if (typeof flags.target !== 'string' || flags.target.trim() === '') throw new ConfigError('--target', flags.target, 'zoo:NAME, a .onnx file or a tfjs model.json');
  const base = attackPreset(flags.preset ?? (dataset === 'mnist' ? 'mnist' : 'cifar10'), '--preset');
  const eps = flags.eps === undefined ? base.eps : parseNumberOption('--eps', flags.eps);
  if (!(eps >= 0 && eps <= 1)) throw new ConfigError('--eps', flags.eps, 'a number in [0, 1] (pixels are in [0, 1])');
  const stepSize = flags.step === undefined ? base.stepSize : parseNumberOption('--step', flags.step);
  if (!(stepSize >= 0)) throw new ConfigError('--step', flags.step, 'a number >= 0');
  const iterations = flags.iters === undefined ? base.iterations : parseIntegerOption('--iters', flags.iters, 0);
  const restarts = flags.restarts === undefined ? base.restarts : parseIntegerOption('--restarts', flags.restarts, 1);
  const sigmas = parseListOption('--sigma', flags.sigma).map((t, i) => {
    const v = decimalOrText(t);
    if (typeof v !== 'number' || v < 0) throw new ConfigError(`--sigma[${i}]`, v, 'a number >= 0');
    return v;
  });
  const devices = flags.devices === undefined ? [] : parseListOption('--devices', flags.devices);
  devices.forEach((d, i) => {
    if (!(PRESET_NAMES as readonly string[]).includes(d)) throw new ConfigError(`--devices[${i}]`, d, `one of ${PRESET_NAMES.join(', ')}`);
  });
  const runs = parseIntegerOption('--runs', flags.runs, 1);
  if (runs > 1000) throw new ConfigError('--runs', flags.runs, 'at most 1000 runs');
  const whiteBoxSigma = flags.whiteBoxSigma === undefined ? undefined : parseNumberOption('--white-box-sigma', flags.whiteBoxSigma);
  if (whiteBoxSigma !== undefined && !(whiteBoxSigma > 0)) throw new ConfigError('--white-box-sigma', flags.whiteBoxSigma, 'a number > 0');
  return {
    source: flags.source,
    target: flags.target,
    examples: flags.examples,
    dataset,
    dataDir: flags.data,
    attack: { eps, stepSize, iterations, restarts },
    sigmas,
    devices,
    runs,
    limit: flags.limit === undefined ? undefined : parseIntegerOption('--limit', flags.limit, 1),
    seed: parseIntegerOption('--seed', flags.seed, 0),
    batch: parseIntegerOption('--batch', flags.batch, 1),
    out: flags.out,
    whiteBoxSigma,
    whiteBoxLimit: flags.whiteBoxLimit === undefined ? undefined : parseIntegerOption('--white-box-limit', flags.whiteBoxLimit, 1),
    whiteBoxRestarts: parseIntegerOption('--white-box-restarts', flags.whiteBoxRestarts, 1),
    eotSamples: parseIntegerOption('--eot-samples', flags.eotSamples, 1),
  };
}

/** A labelled test set, batch first. */
interface TestSet {
  x: Float32Array;
  labels: Uint8Array;
  shape: number[];
  description: string;
}

/** The attacked test images: MNIST t10k (embedded, or from `--data`), or the 500 held-out CIFAR-10 images. */
export async function loadAttackTestSet(dataset: AttackDataset, dataDir: string | undefined, limit: number | undefined): Promise<TestSet> {
  let all: TestSet;
  if (dataset === 'mnist') {
    const dir = dataDir === undefined ? embeddedMnistDir() : fs.existsSync(path.join(dataDir, 'mnist')) ? path.join(dataDir, 'mnist') : dataDir;
    const d = loadMnist(dir, 'test');
    all = { x: d.images, labels: d.labels, shape: [...d.shape], description: `mnist t10k from ${dataDir === undefined ? 'the embedded digits' : dir}` };
  } else {
    const dir = defaultDataDir(dataDir);
    const file = fs.existsSync(sharedDatasetPaths(dir).cifar10Sample) ? sharedDatasetPaths(dir).cifar10Sample : dir;
    const { test, testDescription } = await loadTrainingData('densenet40', file);
    all = { x: test.x, labels: test.y, shape: [...test.shape], description: testDescription };
  }
  const count = all.labels.length;
  if (limit !== undefined && limit > count) throw new ConfigError('--limit', limit, `at most ${count} (the test images of ${dataset})`);
  const n = limit ?? count;
  const per = all.x.length / count;
  return { x: all.x.subarray(0, n * per), labels: all.labels.subarray(0, n), shape: [n, ...all.shape.slice(1)], description: `the first ${n} images of ${all.description}` };
}

/** A tfjs LayersModel from `zoo:NAME` or a tfjs `model.json` (the attack needs gradients). */
export async function loadLayersModelArg(flag: string, arg: string): Promise<tf.LayersModel> {
  if (arg.startsWith('zoo:')) return loadZooModel(arg.slice(4));
  if (arg.endsWith('.json')) {
    if (!fs.existsSync(arg)) throw new DataError(arg, 'no such model file');
    return loadTfjsModelFromDir(arg);
  }
  throw new ConfigError(flag, arg, 'zoo:NAME or a tfjs model.json (a differentiable tfjs model)');
}

/** Metadata written next to `adversarial.npy`. */
interface ExamplesMeta {
  source: string;
  attack: AttackPreset & { randomStart: true; seed: number };
  dataset: string;
  testData: string;
  count: number;
  labels: number[];
  sourceNaturalAccuracy: number;
  sourceAdversarialAccuracy: number;
  meanLinfDistance: number;
}

function metaFileOf(npy: string): string {
  return npy.replace(/\.npy$/i, '') + '.json';
}

function readExamples(file: string, test: TestSet): { x: Float32Array; labels: Uint8Array; meta?: ExamplesMeta } {
  if (!fs.existsSync(file)) throw new DataError(file, 'no such file (expected adversarial examples written by ohmic attack --out)');
  if (!file.toLowerCase().endsWith('.npy')) throw new ConfigError('--examples', file, 'a .npy file');
  const npy = decodeNpyFloat32(fs.readFileSync(file), file);
  const want = test.shape.slice(1);
  if (npy.shape.length !== want.length + 1 || npy.shape.slice(1).some((d, i) => d !== want[i])) {
    throw new ConfigError(`${file}: shape`, `[${npy.shape.join(', ')}]`, `[N, ${want.join(', ')}] (the test images' layout)`);
  }
  const n = npy.shape[0];
  const metaFile = metaFileOf(file);
  // The metadata `--out` writes beside the examples (a partial attack's file holds no labels: the test set's are used).
  const parsed = fs.existsSync(metaFile) ? (JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Partial<ExamplesMeta>) : undefined;
  const meta = parsed !== undefined && Array.isArray(parsed.labels) ? (parsed as ExamplesMeta) : undefined;
  let labels: Uint8Array;
  if (meta) {
    if (!Array.isArray(meta.labels) || meta.labels.length !== n) throw new DataError(metaFile, `holds ${meta.labels?.length} labels for ${n} examples`);
    labels = Uint8Array.from(meta.labels);
  } else {
    if (n > test.labels.length) throw new ConfigError(`${file}: shape[0]`, n, `at most ${test.labels.length} (the test images loaded)`);
    labels = test.labels.slice(0, n);
  }
  return { x: npy.data, labels, meta };
}

function pct(v: number): string {
  return `${(100 * v).toFixed(2)}%`;
}

function accuracyCells(a: ModeAccuracy | undefined, runs: number): string {
  if (!a) return '| |';
  return runs > 1 ? `${pct(a.meanAccuracy)} ± ${(100 * a.stdAccuracy).toFixed(2)} | ${pct(a.votedAccuracy)}` : `${pct(a.meanAccuracy)} | ${pct(a.votedAccuracy)}`;
}

/** The transfer table as Markdown. */
export function transferTable(rows: readonly TransferRow[]): string {
  const lines = [
    '| target inference | runs | adversarial: mean ± std over runs | adversarial: voted | natural: mean ± std | natural: voted |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) lines.push(`| ${r.label} | ${r.runs} | ${accuracyCells(r.adversarial, r.runs)} | ${accuracyCells(r.natural, r.runs)} |`);
  return lines.join('\n') + '\n';
}

function whiteBoxTable(results: readonly WhiteBoxResult[], sigma: number): string {
  const lines = [
    `| white-box PGD on the target | gradient passes per step | noiseless target | target at σ=${sigma}: mean | target at σ=${sigma}: voted |`,
    '|---|---|---|---|---|',
  ];
  for (const r of results) {
    const clean = r.rows[0].adversarial;
    const noisy = r.rows[1].adversarial;
    lines.push(`| ${r.attack} | ${r.gradientSamples} | ${pct(clean.meanAccuracy)} | ${pct(noisy.meanAccuracy)} | ${pct(noisy.votedAccuracy)} |`);
  }
  return lines.join('\n') + '\n';
}

export const GRADIENT_MASKING_CAVEAT =
  'Caveat (gradient masking): noisy inference makes gradients stochastic. A white-box attack that follows one noisy ' +
  'pass per step is weakened by the noise itself, so a high accuracy against it is not evidence of robustness ' +
  '(Athalye et al. 2018, the paper\'s ref. [27]); an adaptive attacker averages the noise out (EOT) or attacks the ' +
  'noiseless weights. The black-box transfer table above measures something else: how well examples made on another ' +
  'network transfer to the noisy target.';

function progress(): (what: string, done: number, total: number) => void {
  const tty = showsProgress(process.stderr, process.env);
  let started = Date.now();
  let lastPrinted = -1;
  let lastWhat = '';
  return (what, done, total) => {
    if (what !== lastWhat) {
      // Each phase (attack, target runs, white-box) has its own rate and ETA.
      lastWhat = what;
      lastPrinted = -1;
      started = Date.now();
    }
    const state = { done, total, computed: done, elapsedMs: Date.now() - started };
    if (tty) {
      process.stderr.write(`\r${what} ${formatProgressLine(state, 24, 'items')}\x1b[K${done === total ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor((10 * done) / total);
    if (tenth !== lastPrinted) {
      lastPrinted = tenth;
      process.stderr.write(`${what} ${formatProgressLine(state, 24, 'items')}\n`);
    }
  };
}

export function registerAttack(program: Command): void {
  program
    .command('attack')
    .description("black-box transfer (the paper's Table 11): PGD examples made on --source, classified by --target with noisy inference")
    .option('--source <model>', 'model to attack: zoo:NAME or a tfjs model.json')
    .requiredOption('--target <model>', 'model that classifies the examples: zoo:NAME, a .onnx file or a tfjs model.json')
    .option('--examples <file.npy>', 'evaluate saved adversarial examples (from --out) instead of attacking')
    .option('--dataset <name>', `${ATTACK_DATASETS.join(' | ')}`, 'mnist')
    .option('--data <dir>', 'datasets folder (mnist: default the embedded t10k digits; cifar10-heldout: default ../shared/datasets)')
    .option('--preset <name>', `attack preset (Table 10): ${Object.keys(ATTACK_PRESETS).join(' | ')} (default: the dataset's)`)
    .option('--eps <eps>', 'L∞ radius ε (pixels in [0, 1]; preset mnist 0.3, cifar10 8/255)')
    .option('--step <alpha>', 'PGD step size (preset mnist 0.05, cifar10 2/255)')
    .option('--iters <k>', 'PGD iterations per restart (preset mnist 20, cifar10 7)')
    .option('--restarts <r>', 'random restarts; the strongest is kept (preset mnist 20, cifar10 10)')
    .option('--sigma <list>', 'signal-level multiplicative σ of the target, comma-separated', TABLE11_SIGMAS.join(','))
    .option('--devices <list>', `also run the target on these device chips: ${PRESET_NAMES.join(', ')}`)
    .option('--runs <n>', 'noisy runs per configuration (mean accuracy and majority vote)', '20')
    .option('--limit <n>', 'attack the first n test images only')
    .option('--seed <n>', 'seed of the random starts and of the noisy runs', '0')
    .option('--batch <n>', 'examples per gradient batch', '100')
    .option('--out <dir>', 'folder for adversarial.npy, adversarial.json, transfer.json and table.md', path.join('results', 'attack'))
    .option('--white-box-sigma <sigma>', 'also attack the target itself through its noisy forward pass at this σ (gradient-masking check)')
    .option('--white-box-limit <n>', 'images for the white-box check (default: all attacked)')
    .option('--white-box-restarts <r>', 'restarts of the white-box attacks (their iterations, ε and step are the transfer attack\'s)', '1')
    .option('--eot-samples <m>', 'noisy passes averaged per step by the EOT white-box attack', '8')
    .option('--resume', 'continue an interrupted attack from the partial examples in --out (same source, attack, seed and images)')
    .option('--json', 'print the results as JSON')
    .action(async (flags: AttackFlags) => {
      const plan = parseAttackFlags(flags);
      try {
        await runAttack(flags, plan);
      } catch (err) {
        // A gradient batch of a large model (DenseNet, CIFAR-10) can exhaust the wasm heap.
        throw translateWasmAbort(err, plan.batch, '--batch');
      }
    });
  registerAdversarialTrain(program);
}

/** `ohmic attack` once its flags are parsed. */
async function runAttack(flags: AttackFlags, plan: AttackPlan): Promise<void> {
  const outDir = prepareOutputFolder('--out', plan.out);
  await initBackend(process.env.OHMIC_BACKEND === 'cpu' ? 'cpu' : 'wasm');
  const test = await loadAttackTestSet(plan.dataset, plan.dataDir, plan.limit);
  const n = test.labels.length;
  const report = progress();
  const started = Date.now();

  const transfer = plan.source !== undefined || plan.examples !== undefined;
  let adversarial: { x: Float32Array; labels: Uint8Array } | undefined;
  let meta: ExamplesMeta | undefined;
  let natural: { x: Float32Array; labels: Uint8Array } | undefined = { x: test.x, labels: test.labels };
  if (plan.examples !== undefined) {
    const read = readExamples(plan.examples, test);
    adversarial = { x: read.x, labels: read.labels };
    meta = read.meta;
    // The natural images are those of the test set only when the saved labels are its first m.
    const m = read.labels.length;
    const per = test.x.length / n;
    natural = m <= n && read.labels.every((y, i) => y === test.labels[i]) ? { x: test.x.subarray(0, m * per), labels: test.labels.subarray(0, m) } : undefined;
  } else if (plan.source !== undefined) {
    const source = await loadLayersModelArg('--source', plan.source);
    const result = attackInChunks(source, test, plan, outDir, flags.resume === true, (d, t) => report('attack', d, t));
    let dist = 0;
    const per = test.x.length / n;
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let j = i * per; j < (i + 1) * per; j++) m = Math.max(m, Math.abs(result.x[j] - test.x[j]));
      dist += m;
    }
    meta = {
      source: plan.source!,
      attack: { ...plan.attack, randomStart: true, seed: plan.seed },
      dataset: plan.dataset,
      testData: test.description,
      count: n,
      labels: Array.from(test.labels),
      sourceNaturalAccuracy: layersAccuracy(source, { x: test.x, labels: test.labels }, test.shape),
      sourceAdversarialAccuracy: 1 - result.fooled.reduce((a, b) => a + b, 0) / n,
      meanLinfDistance: dist / n,
    };
    source.dispose();
    adversarial = { x: result.x, labels: test.labels };
    writeFileAtomic(path.join(outDir, 'adversarial.npy'), encodeNpyFloat32(result.x, test.shape));
    writeFileAtomic(path.join(outDir, 'adversarial.json'), JSON.stringify(meta, null, 2) + '\n');
    for (const f of PARTIAL_FILES) fs.rmSync(path.join(outDir, f), { force: true });
  }
  const attackSeconds = (Date.now() - started) / 1000;

  const targetModel = await loadTargetArg(plan.target);
  const rows = adversarial
    ? await evaluateTransfer(
        targetModel,
        adversarial,
        {
          sigmas: plan.sigmas,
          devices: plan.devices,
          runs: plan.runs,
          seed: plan.seed,
          onRun: (d, t) => report('target runs', d, t),
          // Device chips calibrate their converter ranges on natural training images, never on the attacked ones.
          ...(plan.devices.length
            ? { calibration: (await loadCalibrationSet(plan.dataset === 'mnist' ? 'mnist' : 'cifar10-heldout', plan.dataDir, plan.limit ?? null)).x }
            : {}),
        },
        natural,
      )
    : [];
  let whiteBox: WhiteBoxResult[] | undefined;
  if (plan.whiteBoxSigma !== undefined) {
    if (!(targetModel instanceof tf.LayersModel)) throw new ConfigError('--white-box-sigma', plan.whiteBoxSigma, 'a --target given as zoo:NAME or a tfjs model.json (the white-box attack needs its gradients)');
    const m = Math.min(plan.whiteBoxLimit ?? n, n);
    const per = test.x.length / n;
    whiteBox = await whiteBoxThroughNoise(
      targetModel,
      { x: test.x.subarray(0, m * per), labels: test.labels.subarray(0, m), shape: [m, ...test.shape.slice(1)] },
      {
        sigma: plan.whiteBoxSigma,
        ...plan.attack,
        restarts: plan.whiteBoxRestarts,
        seed: plan.seed,
        eotSamples: plan.eotSamples,
        runs: plan.runs,
        batchSize: plan.batch,
        onProgress: (a, d, t) => report(`white-box ${a}`, d, t),
      },
    );
  }
  if (targetModel instanceof tf.LayersModel) targetModel.dispose();

  const result = {
    source: meta?.source ?? null,
    target: plan.target,
    examples: transfer ? (plan.examples ?? path.join(outDir, 'adversarial.npy')) : null,
    dataset: plan.dataset,
    testData: meta?.testData ?? test.description,
    count: adversarial?.labels.length ?? 0,
    attack: meta?.attack ?? null,
    sourceNaturalAccuracy: meta?.sourceNaturalAccuracy ?? null,
    sourceAdversarialAccuracy: meta?.sourceAdversarialAccuracy ?? null,
    meanLinfDistance: meta?.meanLinfDistance ?? null,
    runs: plan.runs,
    seed: plan.seed,
    rows,
    ...(whiteBox ? { whiteBox: { sigma: plan.whiteBoxSigma, restarts: plan.whiteBoxRestarts, limit: Math.min(plan.whiteBoxLimit ?? n, n), eotSamples: plan.eotSamples, results: whiteBox, caveat: GRADIENT_MASKING_CAVEAT } } : {}),
    attackSeconds,
    seconds: (Date.now() - started) / 1000,
    backend: backendName(),
    command: `ohmic ${process.argv.slice(2).join(' ')}`,
  };
  const header =
    `${result.count} adversarial examples` +
    (meta ? ` made on ${meta.source} (PGD ε=${meta.attack.eps}, step ${meta.attack.stepSize}, ${meta.attack.iterations} iterations, ${meta.attack.restarts} restarts, seed ${meta.attack.seed})` : '') +
    `, classified by ${plan.target}\n` +
    (meta ? `source accuracy: natural ${pct(meta.sourceNaturalAccuracy)}, on its own adversarial examples (white-box) ${pct(meta.sourceAdversarialAccuracy)}; mean L∞ distance ${meta.meanLinfDistance.toFixed(4)}\n` : '');
  const markdown =
    (transfer ? header + '\n' + transferTable(rows) : '') +
    (whiteBox ? `\nWhite-box PGD on the target itself (first ${Math.min(plan.whiteBoxLimit ?? n, n)} images, ${plan.attack.iterations} iterations, ${plan.whiteBoxRestarts} restart(s)):\n\n${whiteBoxTable(whiteBox, plan.whiteBoxSigma!)}\n${GRADIENT_MASKING_CAVEAT}\n` : '');
  writeFileAtomic(path.join(outDir, 'transfer.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileAtomic(path.join(outDir, 'table.md'), markdown);
  process.stdout.write(flags.json ? JSON.stringify(result) + '\n' : markdown);
}

const PARTIAL_FILES = ['adversarial.partial.npy', 'adversarial.partial.json'];

/**
 * PGD on the source `--batch` images at a time, saving the examples made so far
 * after every chunk (`adversarial.partial.npy`/`.json` in `--out`), so an
 * interrupted attack continues with `--resume`. The random starts are keyed by
 * the image's index in the attacked set, so the chunks give what one call would.
 */
function attackInChunks(
  source: tf.LayersModel,
  test: TestSet,
  plan: AttackPlan,
  outDir: string,
  resume: boolean,
  onProgress: (done: number, total: number) => void,
): { x: Float32Array; fooled: Uint8Array } {
  const n = test.labels.length;
  const per = test.x.length / n;
  const x = new Float32Array(test.x.length);
  const fooled = new Uint8Array(n);
  const key = JSON.stringify({ source: plan.source, attack: plan.attack, seed: plan.seed, batch: plan.batch, dataset: plan.dataset, testData: test.description });
  const [npyFile, jsonFile] = PARTIAL_FILES.map((f) => path.join(outDir, f));
  let start = 0;
  if (resume && fs.existsSync(npyFile) && fs.existsSync(jsonFile)) {
    const saved = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as { key: string; done: number; fooled: number[] };
    if (saved.key !== key) throw new ConfigError('--resume', outDir, `partial examples of this attack (${jsonFile} is of another source, attack, seed or image set)`);
    const npy = decodeNpyFloat32(fs.readFileSync(npyFile), npyFile);
    x.set(npy.data.subarray(0, saved.done * per));
    fooled.set(saved.fooled.slice(0, saved.done));
    start = saved.done;
  }
  const total = n * plan.attack.restarts;
  for (; start < n; start += plan.batch) {
    const end = Math.min(n, start + plan.batch);
    const r = pgdAttack(
      source,
      { x: test.x.subarray(start * per, end * per), labels: test.labels.subarray(start, end), shape: [end - start, ...test.shape.slice(1)] },
      { ...plan.attack, seed: plan.seed, exampleOffset: start, batchSize: plan.batch, onProgress: (d) => onProgress(start * plan.attack.restarts + d, total) },
    );
    x.set(r.x, start * per);
    fooled.set(r.fooled, start);
    writeFileAtomic(npyFile, encodeNpyFloat32(x.subarray(0, end * per), [end, ...test.shape.slice(1)]));
    writeFileAtomic(jsonFile, JSON.stringify({ key, done: end, fooled: Array.from(fooled.subarray(0, end)) }) + '\n');
  }
  return { x, fooled };
}

/** `--target`: a LayersModel for zoo:/model.json (so the white-box check can differentiate it), else the IR graph of an .onnx file. */
async function loadTargetArg(arg: string): Promise<tf.LayersModel | Graph> {
  if (arg.startsWith('zoo:') || arg.endsWith('.json')) return loadLayersModelArg('--target', arg);
  return loadModelArg(arg);
}
