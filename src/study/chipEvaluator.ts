/**
 * The study's point evaluator: a model on a device (or under the paper's
 * signal-level noise), V votes under one of the three voting semantics, on a test
 * set. It returns accuracy per replicate seed and the chip's cost for that many
 * votes (latency, energy, power and tiles from the scheduler).
 *
 * Determinism: every draw comes from the point's stream, keyed by sample index, so
 * results depend on the point and its seeds only, never on the batch size
 * ({@link EVAL_BATCH}), workers or shards.
 * The runs of V votes are the first V of V+1, so smaller V reuse larger V's runs
 * within one evaluator (a cache keyed by everything but V).
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, backendName, tf } from '../backend';
import { ConfigError } from '../errors';
import type { Rng } from '../rng';
import { compile, IDEAL_CHIP, type CompiledModel } from '../compiler/compile';
import type { ProgrammedChip } from '../compiler/programmedChip';
import type { EngineName, ModelRunner } from '../compiler/engine/modelRunner';
import type { Graph } from '../compiler/ir/graph';
import { loadOnnxFile } from '../compiler/frontends/onnx';
import { fromTfjsLayersModel } from '../compiler/frontends/tfjsLayers';
import { loadTfjsModelFromDir } from '../compiler/frontends/tfjsFiles';
import { schedule, type ScheduleMode } from '../compiler/scheduler';
import { loadZooModel } from '../models/zoo';
import { voteDecision, voteSeeds, type VotingSemantics } from '../models/voting';
import { PRESET_NAMES } from '../crossbar/presets';
import { loadMnist, embeddedMnistDir, defaultDataDir } from '../data';
import { LSTM_TIME_STEPS } from '../models/paper/lstm';
import { loadLstmStrokes, loadTrainingData, strokesArchiveIn } from '../models/training/trainingData';
import type { StudyPoint } from './grid';
import { replicateRng } from './grid';
import type { PointEvaluator } from './evaluator';
import type { PointResult } from './resultRecord';

/** Images per batch of a noisy run (part of the determinism contract above). */
export const EVAL_BATCH = 250;

/** The device name that selects the paper's signal-level noise instead of a chip. */
export const SIGNAL_DEVICE = 'signal';

export interface ChipEvaluatorOptions {
  /**
   * Dataset folder (`…/datasets`, or for MNIST the `mnist` folder itself). Default:
   * the embedded MNIST test files for `mnist`, `../shared/datasets` for `mnist-strokes`
   * and `cifar10-heldout`.
   */
  readonly dataDir?: string;
  /** Inference engine (default onnxruntime; tfjs is the reference). */
  readonly engine?: EngineName;
}

/**
 * Datasets the chip evaluator reads: MNIST test digits, the stroke test sequences
 * (the LSTM's input), or the 500 CIFAR-10 images the DenseNet trainer held out of
 * the 4,000-image sample (no CIFAR-10 test set exists here; `CIFAR_HELD_OUT`).
 */
export const CHIP_DATASETS = ['mnist', 'mnist-strokes', 'cifar10-heldout'] as const;

interface TestSet {
  /** Every sample, batch first, in the model's input layout. */
  readonly x: Float32Array;
  readonly labels: Uint8Array;
  readonly classes: number;
}

const SCHEDULE_MODE: Record<VotingSemantics, ScheduleMode> = {
  passes: 'pipelined', // V runs through one chip, pipelined
  replicas: 'parallel', // V programmed copies side by side
  signal: 'pipelined',
};

async function loadGraph(model: string): Promise<Graph> {
  const name = model.startsWith('zoo:') ? model.slice(4) : model;
  if (model.endsWith('.onnx')) return loadOnnxFile(model);
  if (model.endsWith('.json')) return fromTfjsLayersModel(await loadTfjsModelFromDir(model));
  return fromTfjsLayersModel(await loadZooModel(name));
}

function mnistDir(dataDir: string | undefined): string {
  if (dataDir === undefined) return embeddedMnistDir();
  return fs.existsSync(path.join(dataDir, 't10k-labels-idx1-ubyte.gz')) ? dataDir : path.join(dataDir, 'mnist');
}

/**
 * The test set of a point: MNIST digits [n, 28, 28, 1], stroke sequences [n, T, 2] as
 * the zoo LSTM reads them, or the held-out CIFAR-10 images [n, 32, 32, 3].
 */
async function loadTestSet(dataset: StudyPoint['dataset'], dataDir: string | undefined): Promise<TestSet> {
  if (dataset.name === 'cifar10-heldout') {
    const { test } = await loadTrainingData('densenet40', dataDir ?? defaultDataDir());
    const n = dataset.limit ?? test.count;
    if (n > test.count) throw new ConfigError('dataset.limit', n, `at most ${test.count} (the CIFAR-10 images held out from training)`);
    const per = test.shape.slice(1).reduce((a, b) => a * b, 1);
    return { x: test.x.subarray(0, n * per), labels: test.y.subarray(0, n), classes: 10 };
  }
  if (dataset.name === 'mnist-strokes') {
    const s = await loadLstmStrokes(strokesArchiveIn(dataDir ?? defaultDataDir()), 'test', dataset.limit ?? undefined);
    if (s.sequences.length !== s.count * LSTM_TIME_STEPS * 2) throw new ConfigError('dataset', dataset.name, `${LSTM_TIME_STEPS}-step stroke sequences`);
    return { x: s.sequences, labels: s.labels, classes: 10 };
  }
  const data = loadMnist(mnistDir(dataDir), 'test', dataset.limit === null ? {} : { limit: dataset.limit });
  return { x: data.images, labels: data.labels, classes: 10 };
}

function chipFor(device: string): Record<string, unknown> {
  // The exact reference and the signal-level mode use the ideal device with ideal
  // converters; the signal mode's costs are those of that (ReRAM-timed) chip.
  if (device === 'ideal' || device === SIGNAL_DEVICE) return { ...IDEAL_CHIP };
  if (!(PRESET_NAMES as readonly string[]).includes(device)) {
    throw new ConfigError('device', device, `a preset (${PRESET_NAMES.join(', ')}) or "${SIGNAL_DEVICE}"`);
  }
  return { device };
}

/**
 * Whether a point describes an experiment the chip evaluator can run: chips take
 * their noise from the device (`noise: "device"`) and vote by `passes` or `replicas`;
 * the `signal` device takes a multiplicative or additive σ and `signal` voting.
 * Pure, so a study checks every point before any work starts.
 */
export function validateChipPoint(point: Pick<StudyPoint, 'device' | 'noise' | 'semantics' | 'dataset'>): void {
  const isSignal = point.device === SIGNAL_DEVICE;
  chipFor(point.device);
  if (isSignal && point.noise === 'device') {
    throw new ConfigError('noise', point.noise, '"multiplicative" or "additive" for the signal-level device');
  }
  if (!isSignal && point.noise !== 'device') {
    throw new ConfigError('noise', point.noise, `"device" for device ${point.device} (its noise comes from the preset)`);
  }
  if (isSignal !== (point.semantics === 'signal')) {
    throw new ConfigError('semantics', point.semantics, isSignal ? '"signal" for the signal-level device' : '"passes" or "replicas" for a chip');
  }
  if (!(CHIP_DATASETS as readonly string[]).includes(point.dataset.name)) {
    throw new ConfigError(
      'dataset.name',
      point.dataset.name,
      '"mnist" (MNIST test digits), "mnist-strokes" (stroke test sequences, for the LSTM) or "cifar10-heldout" (the 500 held-out CIFAR-10 images, for DenseNet)',
    );
  }
}

/** Logits of one run over the whole test set, streamed in batches of {@link EVAL_BATCH}. */
function runAll(test: TestSet, runner: ModelRunner, seed: Rng): Promise<Float32Array> {
  return runner.runAll(test.x, { seed, batchSize: EVAL_BATCH });
}

async function releaseChip(c: { chip: ProgrammedChip; runner: ModelRunner } | null): Promise<void> {
  if (!c) return;
  await c.runner.dispose();
  c.chip.dispose();
}

/** Factory called once per worker: keeps models, data and runs cached across points. */
export async function createChipEvaluator(options: ChipEvaluatorOptions = {}): Promise<PointEvaluator> {
  await initBackend();
  const graphs = new Map<string, Graph>();
  const compiled = new Map<string, CompiledModel>();
  const tests = new Map<string, TestSet>();
  const runsCache = new Map<string, Float32Array[]>();
  const engine = { engine: options.engine ?? 'onnxruntime' } as const;

  const testSet = async (point: StudyPoint): Promise<TestSet> => {
    const key = `${point.dataset.name}/${point.dataset.limit}`;
    let t = tests.get(key);
    if (!t) {
      t = await loadTestSet(point.dataset, options.dataDir);
      tests.set(key, t);
    }
    return t;
  };

  const compiledFor = async (point: StudyPoint): Promise<CompiledModel> => {
    const key = `${point.model}|${point.device}`;
    let c = compiled.get(key);
    if (!c) {
      let g = graphs.get(point.model);
      if (!g) {
        g = await loadGraph(point.model);
        graphs.set(point.model, g);
      }
      c = compile(g, { chip: chipFor(point.device) });
      compiled.set(key, c);
    }
    return c;
  };

  return async (point: StudyPoint, rng: Rng): Promise<PointResult> => {
    validateChipPoint(point);
    const isSignal = point.device === SIGNAL_DEVICE;
    const model = await compiledFor(point);
    const test = await testSet(point);
    const accuracyPerSeed: number[] = [];
    for (const seed of point.seeds) {
      const root = replicateRng(rng, seed);
      const key = JSON.stringify([point.model, point.device, point.noise, point.sigma, point.semantics, point.dataset, root.keyHex]);
      const runs = runsCache.get(key) ?? [];
      const streams = voteSeeds(root, point.semantics, point.votes);
      // `passes` programs one chip for all votes (same stream); `replicas` one per vote.
      let chip: { chip: ProgrammedChip; runner: ModelRunner } | null = null;
      try {
        for (let v = runs.length; v < point.votes; v++) {
          const s = streams[v];
          if (isSignal) {
            const noise = { kind: point.noise as 'multiplicative' | 'additive', sigma: point.sigma };
            // Signal runners share one session per model and noise kind.
            const runner = await model.runner({ kind: 'signal', noise }, engine);
            runs.push(await runAll(test, runner, s.run));
            continue;
          }
          if (chip === null || chip.chip.seed !== s.program!.path) {
            await releaseChip(chip);
            chip = null;
            const programmed = model.program(s.program!);
            chip = { chip: programmed, runner: await model.runner({ kind: 'chip', chip: programmed }, engine) };
          }
          runs.push(await runAll(test, chip.runner, s.run));
        }
      } finally {
        await releaseChip(chip);
      }
      runsCache.set(key, runs);
      const decision = voteDecision(runs.slice(0, point.votes), { batch: test.labels.length, classes: test.classes });
      let correct = 0;
      for (let i = 0; i < decision.length; i++) if (decision[i] === test.labels[i]) correct++;
      accuracyPerSeed.push(correct / decision.length);
    }
    const sched = schedule(model.scheduleInput(point.votes), SCHEDULE_MODE[point.semantics]);
    return {
      accuracyPerSeed,
      metrics: {
        latencyNs: sched.latencyNs,
        energyPicojoules: sched.energyPerDecisionPicojoules,
        powerMilliwatts: sched.averagePowerMilliwatts,
        paperPowerMilliwatts: sched.paperPowerMilliwatts,
        tiles: sched.tiles,
        areaSquareMicrometers: sched.areaSquareMicrometers ?? 0,
        scheduleMode: sched.mode,
        backend: engine.engine === 'tfjs' ? `tfjs-${backendName()}` : 'onnxruntime',
        examples: test.labels.length,
      },
    };
  };
}
