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
import { ConfigError, DataError } from '../errors';
import type { Rng } from '../rng';
import type { CompiledModel } from '../compiler/compile';
import { compileHardware } from '../compiler/compileHardware';
import { hardwareToJson, rawChipOf, validateHardware, type Hardware } from '../compiler/hardware';
import { onnxSourceNames, type SourceNames } from '../compiler/layerNames';
import type { ProgrammedChip } from '../compiler/programmedChip';
import type { EngineName, ModelRunner } from '../compiler/engine/modelRunner';
import type { Graph } from '../compiler/ir/graph';
import { loadOnnxFile } from '../compiler/frontends/onnx';
import { fromTfjsLayersModel } from '../compiler/frontends/tfjsLayers';
import { loadTfjsModelFromDir } from '../compiler/frontends/tfjsFiles';
import { schedule, type ScheduleMode } from '../compiler/scheduler';
import { energyFromStats, energyMetrics, measureEnergyOnData, type MeasuredEnergy } from '../compiler/report';
import type { LayerStats } from '../compiler/engine/modelRunner';
import { loadZooModel } from '../models/zoo';
import { voteDecision, voteSeeds, type VotingSemantics } from '../models/voting';
import { PRESET_NAMES } from '../crossbar/presets';
import { expandGrid, NOISE_KINDS, type StudyConfig } from './grid';
import { deviceRole, SIGNAL_DEVICE } from './studyHardware';
import { loadMnist, embeddedMnistDir, defaultDataDir } from '../data';
import { LSTM_TIME_STEPS } from '../models/paper/lstm';
import { cifarSampleIn, loadLstmStrokes, loadTrainingData, strokesArchiveIn } from '../models/training/trainingData';
import type { StudyPoint } from './grid';
import { replicateRng } from './grid';
import type { PointEvaluator } from './evaluator';
import type { PointResult } from './resultRecord';
import { loadCalibrationSet, type CalibrationSet } from './calibrationSet';

/**
 * Samples (the first of the test set) a signal-level point costed on a chip counts
 * its energy on. A chip point counts it on its own first pass, over the whole test set.
 */
export const ENERGY_SAMPLES = 1000;

/** Images per batch of a noisy run (part of the determinism contract above). */
export const EVAL_BATCH = 250;

export { SIGNAL_DEVICE } from './studyHardware';

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

async function loadGraph(model: string): Promise<{ graph: Graph; sourceNames?: SourceNames }> {
  const name = model.startsWith('zoo:') ? model.slice(4) : model;
  // An ONNX model's node names are accepted as layer names beside its tensor names.
  if (model.endsWith('.onnx')) return { graph: loadOnnxFile(model), sourceNames: onnxSourceNames(model) };
  if (model.endsWith('.json')) return { graph: fromTfjsLayersModel(await loadTfjsModelFromDir(model)) };
  return { graph: fromTfjsLayersModel(await loadZooModel(name)) };
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

/**
 * The files a point's dataset is read from (what its identity fingerprints): the
 * two MNIST test files, the stroke archive, or the CIFAR-10 sample.
 * @throws DataError naming the file that is missing.
 */
export function chipDatasetFiles(dataset: StudyPoint['dataset'], dataDir: string | undefined): string[] {
  if (dataset.name === 'cifar10-heldout') return [cifarSampleIn(dataDir ?? defaultDataDir())];
  if (dataset.name === 'mnist-strokes') return [strokesArchiveIn(dataDir ?? defaultDataDir())];
  const dir = mnistDir(dataDir);
  return ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].map((stem) => {
    const candidates = [path.join(dir, `${stem}.gz`), path.join(dir, stem)];
    const found = candidates.find((c) => fs.existsSync(c));
    if (found === undefined) throw new DataError(candidates[0], `file not found (nor ${candidates[1]})`);
    return found;
  });
}

/** The dims of one sample of each dataset, as the models take it. */
function sampleDims(name: string): number[] {
  if (name === 'cifar10-heldout') return [32, 32, 3];
  if (name === 'mnist-strokes') return [LSTM_TIME_STEPS, 2];
  return [28, 28, 1];
}

/**
 * Checks what a study's points read before the first one runs (otherwise a bad
 * value fails only when its point comes up, after the points before it ran):
 * the dataset loads with `dataset.limit` (a positive integer not above its
 * size), and every model loads and takes the dataset's samples, giving one
 * score per class.
 * @throws ConfigError `dataset.limit` or `models[i]`; DataError/UnsupportedOpError
 *   naming a model file that does not load.
 */
export async function checkChipStudyInputs(config: StudyConfig, options: Pick<ChipEvaluatorOptions, 'dataDir'> = {}): Promise<void> {
  let test: TestSet;
  try {
    test = await loadTestSet(config.dataset, options.dataDir);
  } catch (err) {
    if (err instanceof ConfigError && (err.field === 'limit' || err.field === 'dataset.limit')) {
      throw new ConfigError('dataset.limit', err.value, `${err.expected.replace(/^an integer in /, 'a positive integer in ')} for dataset ${config.dataset.name}`);
    }
    throw err;
  }
  const want = sampleDims(config.dataset.name);
  const per = test.labels.length > 0 ? test.x.length / test.labels.length : 0;
  if (want.reduce((a, b) => a * b, 1) !== per) throw new ConfigError('dataset', config.dataset.name, `samples of [${want.join(', ')}]`);
  await initBackend();
  for (const [i, model] of config.models.entries()) {
    const { graph } = await loadGraph(model);
    const dimsOf = (name: string): (number | null)[] => graph.nodes.find((n) => n.name === name)?.outputShape.slice(1) ?? [];
    if (graph.inputs.length !== 1 || graph.outputs.length !== 1) {
      throw new ConfigError(`models[${i}]`, model, `a model with one input and one output (it has ${graph.inputs.length} and ${graph.outputs.length})`);
    }
    const input = dimsOf(graph.inputs[0]);
    const fits = input.length === want.length && input.every((d, k) => d === null || d === want[k]);
    if (!fits) {
      throw new ConfigError(
        `models[${i}]`,
        model,
        `a model taking samples of dataset ${config.dataset.name}, [${want.join(', ')}] (it takes [${input.map((d) => d ?? '?').join(', ')}])`,
      );
    }
    const output = dimsOf(graph.outputs[0]);
    const classes = output.every((d) => d !== null) ? (output as number[]).reduce((a, b) => a * b, 1) : test.classes;
    if (classes !== test.classes) {
      throw new ConfigError(`models[${i}]`, model, `a model with ${test.classes} outputs, one per class of ${config.dataset.name} (it has ${classes})`);
    }
  }
}

const DATASET_EXPECTED =
  '"mnist" (MNIST test digits), "mnist-strokes" (stroke test sequences, for the LSTM) or "cifar10-heldout" (the 500 held-out CIFAR-10 images, for DenseNet)';
const DEVICE_EXPECTED = `a preset (${PRESET_NAMES.join(', ')}), "${SIGNAL_DEVICE}", a chip object or a chip .json/.yaml file`;
const SIGMA_FOR_CHIP =
  "0 for a chip device: a chip's noise comes from its device physics, so σ would change nothing; " +
  'sweep a device field with axes instead, e.g. "device.readNoiseRelStd": [0.01, 0.05]';

type HardwarePoint = Pick<StudyPoint, 'device' | 'noise' | 'sigma' | 'hardware'>;

/**
 * The hardware a point runs on, validated and with every default filled in (what
 * its result record carries): a chip for a preset name or chip entry (axes
 * applied), the signal-level model with the point's noise kind and σ otherwise.
 */
export function pointHardware(point: HardwarePoint): Hardware {
  const role = deviceRole(point.device, point.hardware);
  if (role === 'signal') {
    const h = point.hardware?.kind === 'signal' ? point.hardware : undefined;
    if (point.noise === 'device') throw new ConfigError('noise', point.noise, '"multiplicative" or "additive" for the signal-level device');
    return validateHardware({
      kind: 'signal',
      noise: { kind: point.noise, sigma: point.sigma },
      ...(h?.site ? { site: h.site } : {}),
      ...(h?.chip ? { chip: h.chip } : {}),
    });
  }
  if (role === 'chip') {
    const h = point.hardware?.kind === 'chip' ? point.hardware : undefined;
    return validateHardware(h ? { kind: 'chip', chip: h.chip, ...(h.layers ? { layers: h.layers } : {}) } : { kind: 'chip', chip: rawChipOf(point.device, 'device') });
  }
  throw new ConfigError('device', point.device, DEVICE_EXPECTED);
}

/**
 * Whether a point describes an experiment the chip evaluator can run: chips take
 * their noise from the device (`noise: "device"`, σ = 0) and vote by `passes` or
 * `replicas`; the signal-level device takes a multiplicative or additive σ and
 * `signal` voting. Pure, so a study checks every point before any work starts.
 */
export function validateChipPoint(point: Pick<StudyPoint, 'device' | 'noise' | 'sigma' | 'semantics' | 'dataset' | 'hardware'>): void {
  const role = deviceRole(point.device, point.hardware);
  if (role === 'other') throw new ConfigError('device', point.device, DEVICE_EXPECTED);
  const isSignal = role === 'signal';
  if (isSignal && point.noise === 'device') {
    throw new ConfigError('noise', point.noise, '"multiplicative" or "additive" for the signal-level device');
  }
  if (!isSignal && point.noise !== 'device') {
    throw new ConfigError('noise', point.noise, `"device" for device ${point.device} (its noise comes from the preset)`);
  }
  if (!isSignal && point.sigma !== 0) throw new ConfigError('sigma', point.sigma, `${SIGMA_FOR_CHIP} (device ${point.device})`);
  if (isSignal !== (point.semantics === 'signal')) {
    throw new ConfigError('semantics', point.semantics, isSignal ? '"signal" for the signal-level device' : '"passes" or "replicas" for a chip');
  }
  if (!(CHIP_DATASETS as readonly string[]).includes(point.dataset.name)) {
    throw new ConfigError('dataset.name', point.dataset.name, DATASET_EXPECTED);
  }
  pointHardware(point);
}

/**
 * Checks a whole study for the chip evaluator before its grid is expanded, naming
 * the list entry at fault: every field must apply to every device it meets
 * (chips: noise "device", σ 0, passes/replicas voting; the signal-level device: a
 * multiplicative or additive σ and signal voting), and the dataset must be known.
 */
export function validateChipStudy(config: StudyConfig): void {
  config.devices.forEach((device, i) => {
    const role = deviceRole(device, config.deviceHardware?.[device]);
    const what = `devices[${i}] ${JSON.stringify(device)}`;
    if (role === 'other') throw new ConfigError(`devices[${i}]`, device, DEVICE_EXPECTED);
    if (role === 'chip') {
      config.noise.forEach((n, j) => {
        if (n !== 'device') throw new ConfigError(`noise[${j}]`, n, `"device" for chip devices (${what} takes its noise from its device physics)`);
      });
      config.sigmas.forEach((s, j) => {
        if (s !== 0) throw new ConfigError(`sigmas[${j}]`, s, `${SIGMA_FOR_CHIP} (${what}); leave sigmas out`);
      });
      config.semantics.forEach((m, j) => {
        if (m === 'signal') throw new ConfigError(`semantics[${j}]`, m, `"passes" or "replicas" for chip devices (${what})`);
      });
    } else {
      config.noise.forEach((n, j) => {
        if (n === 'device') throw new ConfigError(`noise[${j}]`, n, `${NOISE_KINDS.filter((k) => k !== 'device').map((k) => JSON.stringify(k)).join(' or ')} for the signal-level device (${what})`);
      });
      config.semantics.forEach((m, j) => {
        if (m !== 'signal') throw new ConfigError(`semantics[${j}]`, m, `"signal" for the signal-level device (${what})`);
      });
    }
  });
  if (!(CHIP_DATASETS as readonly string[]).includes(config.dataset.name)) {
    throw new ConfigError('dataset.name', config.dataset.name, DATASET_EXPECTED);
  }
}

/** Logits of one run over the whole test set, streamed in batches of {@link EVAL_BATCH}. */
function runAll(test: TestSet, runner: ModelRunner, seed: Rng, stats?: LayerStats): Promise<Float32Array> {
  return runner.runAll(test.x, { seed, batchSize: EVAL_BATCH, ...(stats ? { stats } : {}) });
}

async function releaseChip(c: { chip: ProgrammedChip; runner: ModelRunner } | null): Promise<void> {
  if (!c) return;
  await c.runner.dispose();
  c.chip.dispose();
}

/** Factory called once per worker: keeps models, data and runs cached across points. */
export async function createChipEvaluator(options: ChipEvaluatorOptions = {}): Promise<PointEvaluator> {
  await initBackend();
  const graphs = new Map<string, { graph: Graph; sourceNames?: SourceNames }>();
  const compiled = new Map<string, CompiledModel>();
  const tests = new Map<string, TestSet>();
  const calibrationSets = new Map<string, Promise<CalibrationSet>>();
  // Training samples of the point's data set: chips calibrate their converter ranges on them, never on what they are scored on.
  const calibrationFor = (point: StudyPoint): Promise<CalibrationSet> => {
    const key = `${point.dataset.name}/${point.dataset.limit}`;
    let c = calibrationSets.get(key);
    if (!c) {
      c = loadCalibrationSet(point.dataset.name, options.dataDir, point.dataset.limit);
      calibrationSets.set(key, c);
    }
    return c;
  };
  const runsCache = new Map<string, Float32Array[]>();
  // The last programmed (and calibrated) chip: the next points of a vote sweep run more passes on the same chip.
  let held: { key: string; chip: ProgrammedChip; runner: ModelRunner } | null = null;
  const engine = { engine: options.engine ?? 'onnxruntime' } as const;
  // Measured energy per inference, once per model, hardware and data set (a deterministic
  // chip and run: the same whichever point asks first).
  const energies = new Map<string, Promise<MeasuredEnergy>>();
  // A chip point's energy is counted on its own chip's first pass (`passEnergyKey`), set when that pass runs.
  const passEnergyKey = (point: StudyPoint, hardware: Hardware, root: Rng): string => JSON.stringify([point.model, hardware, point.dataset, point.semantics, root.keyHex]);
  const energyFor = (point: StudyPoint, model: CompiledModel, test: TestSet, hardware: Hardware, rng: Rng): Promise<MeasuredEnergy> => {
    const own = energies.get(passEnergyKey(point, hardware, replicateRng(rng, point.seeds[0])));
    if (own) return own;
    // A signal-level point costed on a chip: measured once on a chip of its own.
    const key = JSON.stringify([point.model, hardware, point.dataset]);
    let e = energies.get(key);
    if (!e) {
      e = calibrationFor(point).then((c) =>
        measureEnergyOnData(model, test.x, { engine: engine.engine, limit: ENERGY_SAMPLES, batchSize: EVAL_BATCH, calibration: c.x }),
      );
      energies.set(key, e);
    }
    return e;
  };

  const testSet = async (point: StudyPoint): Promise<TestSet> => {
    const key = `${point.dataset.name}/${point.dataset.limit}`;
    let t = tests.get(key);
    if (!t) {
      t = await loadTestSet(point.dataset, options.dataDir);
      tests.set(key, t);
    }
    return t;
  };

  // Compiled per model and hardware (for the signal level: its site and cost chip, not σ).
  const compiledFor = async (point: StudyPoint, hardware: Hardware): Promise<CompiledModel> => {
    const shape = hardware.kind === 'signal' ? { kind: 'signal', site: hardware.site, chip: hardware.chip } : hardware;
    const key = JSON.stringify([point.model, shape]);
    let c = compiled.get(key);
    if (!c) {
      let g = graphs.get(point.model);
      if (!g) {
        g = await loadGraph(point.model);
        graphs.set(point.model, g);
      }
      c = compileHardware(g.graph, hardware, g.sourceNames ? { sourceNames: g.sourceNames } : {});
      compiled.set(key, c);
    }
    return c;
  };

  return async (point: StudyPoint, rng: Rng): Promise<PointResult> => {
    validateChipPoint(point);
    const hardware = pointHardware(point);
    const isSignal = hardware.kind === 'signal';
    const model = await compiledFor(point, hardware);
    const test = await testSet(point);
    const accuracyPerSeed: number[] = [];
    for (const seed of point.seeds) {
      const root = replicateRng(rng, seed);
      const key = JSON.stringify([point.model, point.device, point.hardware ?? null, point.noise, point.sigma, point.semantics, point.dataset, root.keyHex]);
      const runs = runsCache.get(key) ?? [];
      const streams = voteSeeds(root, point.semantics, point.votes);
      // `passes` programs one chip for all votes (same stream); `replicas` one per vote.
      for (let v = runs.length; v < point.votes; v++) {
        const s = streams[v];
        if (isSignal) {
          // σ = 0 draws nothing: every pass is the first.
          if (point.sigma === 0 && runs.length > 0) {
            runs.push(runs[0]);
            continue;
          }
          const noise = { kind: point.noise as 'multiplicative' | 'additive', sigma: point.sigma };
          // Signal runners share one session per model and noise kind.
          const runner = await model.runner({ kind: 'signal', noise }, engine);
          runs.push(await runAll(test, runner, s.run));
          continue;
        }
        const chipKey = JSON.stringify([point.model, hardware, point.dataset, s.program!.path]);
        if (held?.key !== chipKey) {
          await releaseChip(held);
          held = null;
          const programmed = model.program(s.program!, { calibration: (await calibrationFor(point)).x });
          held = { key: chipKey, chip: programmed, runner: await model.runner({ kind: 'chip', chip: programmed }, engine) };
        }
        // The first seed's first pass also counts the chip's energy (no second chip to program and calibrate).
        const stats: LayerStats | undefined = v === 0 && seed === point.seeds[0] ? {} : undefined;
        runs.push(await runAll(test, held.runner, s.run, stats));
        if (stats) energies.set(passEnergyKey(point, hardware, root), Promise.resolve(energyFromStats(model, stats, test.labels.length)));
      }
      runsCache.set(key, runs);
      const decision = voteDecision(runs.slice(0, point.votes), { batch: test.labels.length, classes: test.classes });
      let correct = 0;
      for (let i = 0; i < decision.length; i++) if (decision[i] === test.labels[i]) correct++;
      accuracyPerSeed.push(correct / decision.length);
    }
    const engineMetrics = {
      backend: engine.engine === 'tfjs' ? `tfjs-${backendName()}` : 'onnxruntime',
      examples: test.labels.length,
    };
    // A signal-level point has no chip cost unless it names a chip to be costed on.
    if (hardware.kind === 'signal' && hardware.chip === undefined) {
      return { accuracyPerSeed, metrics: engineMetrics, hardware: hardwareToJson(hardware) };
    }
    const energy = await energyFor(point, model, test, hardware, rng);
    const sched = schedule(model.scheduleInput(point.votes, { energyPerInferencePicojoules: energy.perInferencePicojoules }), SCHEDULE_MODE[point.semantics]);
    return {
      accuracyPerSeed,
      hardware: hardwareToJson(hardware),
      metrics: {
        ...engineMetrics,
        latencyNs: sched.latencyNs,
        energyPicojoules: sched.energyPerDecisionPicojoules,
        powerMilliwatts: sched.averagePowerMilliwatts,
        paperPowerMilliwatts: sched.paperPowerMilliwatts,
        tiles: sched.tiles,
        areaSquareMicrometers: sched.areaSquareMicrometers ?? 0,
        scheduleMode: sched.mode,
        ...energyMetrics(model, energy, point.votes),
      },
    };
  };
}

/**
 * Checks the per-layer overrides of a study's chips against each model's layer
 * names before any point runs (the names depend on the model, so `validateStudyConfig`
 * cannot): compiles one point per model and device that has overrides.
 * @throws ConfigError `layers.NAME` listing the model's names.
 */
export async function checkStudyLayerNames(config: StudyConfig): Promise<void> {
  const seen = new Set<string>();
  const withLayers = expandGrid(config).filter((p) => {
    if (p.hardware?.kind !== 'chip' || p.hardware.layers === undefined) return false;
    const key = JSON.stringify([p.model, p.device, Object.keys(p.hardware.layers).sort()]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (withLayers.length === 0) return;
  await initBackend();
  const graphs = new Map<string, Awaited<ReturnType<typeof loadGraph>>>();
  for (const p of withLayers) {
    let g = graphs.get(p.model);
    if (!g) {
      g = await loadGraph(p.model);
      graphs.set(p.model, g);
    }
    try {
      compileHardware(g.graph, pointHardware(p), g.sourceNames ? { sourceNames: g.sourceNames } : {}).dispose();
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(err.field, err.value, `${err.expected} (model ${p.model}, device ${p.device})`);
      throw err;
    }
  }
}
