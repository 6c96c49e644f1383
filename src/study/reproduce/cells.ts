/**
 * The unit of measurement of `ohmic reproduce`: a *cell* is one model under one
 * noise setting on one test set, run many times.
 *
 * - A **signal** cell runs the paper's signal-level noise (Eq. 2 or 3, σ after
 *   every MVM or at the model's own noise points) R times with independent
 *   seeds. Its single-run accuracy is the mean over the R runs (the spread is
 *   their std); V votes use V of the runs (see {@link votesCurve}).
 * - A **device** cell programs `chips` chips of a device preset (independent
 *   programming draws) and runs each once; the first `passChips` chips are run
 *   `passes` times (fresh read noise per pass). Single-run accuracy is the mean
 *   over chips; V votes are either passes of one chip (`passes` semantics) or one
 *   run of each of V chips (`replicas`).
 *
 * Seeds: the cell's stream is `Rng.fromSeed(rootSeed).fold('reproduce').fold(key)`
 * where `key` names the model, test set and noise but not R, the sample count or
 * the chip count, so run r of a cell is the same whatever R, and a cell on the
 * first N samples is a prefix of the same cell on more (noise is keyed by sample).
 * Signal run r draws from `voteSeeds(stream, 'signal', R)[r].run` (`stream/run/r`);
 * device chip c is programmed from `stream/program/c` and its pass p reads with
 * `stream/run/c/p`.
 */
import { loadCalibrationSet, type CalibrationSet } from '../calibrationSet';
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../../errors';
import { Rng } from '../../rng';
import { tf } from '../../backend';
import { compile, IDEAL_CHIP, type CompiledModel } from '../../compiler/compile';
import type { ModelRunner } from '../../compiler/engine/modelRunner';
import { scheduleAll } from '../../compiler/scheduler';
import type { Graph } from '../../compiler/ir/graph';
import { fromTfjsLayersModel } from '../../compiler/frontends/tfjsLayers';
import { loadZooModel, readZooManifest, type ZooEntry } from '../../models/zoo';
import { accuracyVsVotes, voteSeeds } from '../../models/voting';
import { loadMnist, defaultDataDir } from '../../data';
import { LSTM_TIME_STEPS } from '../../models/paper/lstm';
import { loadLstmStrokes, loadTrainingData, strokesArchiveIn } from '../../models/training/trainingData';
import { lstmPlacementLogits } from './lstmNoisePlacement';
import type { LstmPlacementResult, LstmPlacementSpec } from './plan';

export type ReproDataset = 'mnist' | 'mnist-strokes' | 'cifar10-heldout';
export type SignalNoiseKind = 'multiplicative' | 'additive';

/** Images per batch (results do not depend on it: noise is keyed by sample). */
export const CELL_BATCH = 250;

export interface SignalCellSpec {
  readonly kind: 'signal';
  /** A zoo name (`cnn6-mnist-mult-0.4`) or `ZOO_DIR/NAME` for a model in another zoo folder. */
  readonly model: string;
  readonly dataset: ReproDataset;
  readonly noise: SignalNoiseKind;
  readonly sigma: number;
  /** R, independent noisy runs (1 when σ = 0: the run is exact). */
  readonly runs: number;
}

export interface DeviceCellSpec {
  readonly kind: 'device';
  readonly model: string;
  readonly dataset: ReproDataset;
  /** A device preset at its defaults (`reram`, `pcm`, `nand`). */
  readonly device: string;
  /** Independently programmed chips, each run once (the replicas of a `replicas` vote). */
  readonly chips: number;
  /** Chips also run `passes` times (the `passes` votes). */
  readonly passChips: number;
  readonly passes: number;
}

export type CellSpec = SignalCellSpec | DeviceCellSpec;

/** What a signal cell measured. Accuracies are fractions. */
export interface SignalCellResult {
  readonly spec: SignalCellSpec;
  readonly key: string;
  readonly examples: number;
  readonly rootSeed: number;
  /** Accuracy of each run. */
  readonly runAccuracy: number[];
  /**
   * Accuracy of V votes for V = 1 … min(R, maxVotes): the mean over the R cyclic
   * rotations of the run order of the vote of V consecutive runs.
   */
  readonly votesCurve: number[];
  /** Per run, rms(logits − exact logits) / rms(exact logits) over the test set. */
  readonly logitError: number[];
  readonly seconds: number;
}

/** What a device cell measured. */
export interface DeviceCellResult {
  readonly spec: DeviceCellSpec;
  readonly key: string;
  readonly examples: number;
  readonly rootSeed: number;
  /** Accuracy of each chip's first run. */
  readonly chipAccuracy: number[];
  /** Per pass chip, accuracy of V passes for V = 1 … passes (first V passes). */
  readonly passesCurves: number[][];
  /** Accuracy of V replicas (first run of chips 0 … V−1), V = 1 … chips. */
  readonly replicasCurve: number[];
  /** Per chip, rms relative logit error of its first run against the exact network. */
  readonly logitError: number[];
  readonly seconds: number;
}

export type CellResult = SignalCellResult | DeviceCellResult;

/**
 * A model's identity in keys and file names: its zoo name, wherever its folder is,
 * so results and seeds do not depend on where a checkout (or a shard) keeps it.
 */
export function modelId(model: string): string {
  return modelLocation(model).name;
}

/** The seed key of a cell: what it measures, not how much of it. */
export function cellKey(spec: CellSpec): string {
  const model = modelId(spec.model);
  return spec.kind === 'signal'
    ? `signal|${model}|${spec.dataset}|${spec.noise}|${spec.sigma}`
    : `device|${model}|${spec.dataset}|${spec.device}`;
}

/** File name of a cell's result on the first `limit` samples (null: all): readable and unique. */
export function cellFileName(spec: CellSpec, limit: number | null): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
  const size =
    spec.kind === 'signal' ? `r${spec.runs}` : `c${spec.chips}-p${spec.passChips}x${spec.passes}`;
  return `${safe(cellKey(spec).replace(/\|/g, '__'))}__n${limit ?? 'all'}__${size}.json`;
}

/** A test set in the model's input layout. */
export interface TestSet {
  readonly x: Float32Array;
  readonly labels: Uint8Array;
  readonly classes: number;
  readonly description: string;
}

function mnistDirOf(dataDir: string): string {
  if (fs.existsSync(path.join(dataDir, 't10k-labels-idx1-ubyte.gz'))) return dataDir;
  return path.join(dataDir, 'mnist');
}

/**
 * The first `limit` samples (all when null) of a test set: MNIST t10k digits,
 * the stroke test sequences as the zoo LSTM reads them, or the 500 CIFAR-10
 * images the DenseNet trainer held out (no CIFAR-10 test set exists here).
 */
export async function loadTestSet(dataset: ReproDataset, dataDir: string | undefined, limit: number | null): Promise<TestSet> {
  const dir = dataDir ?? defaultDataDir();
  if (dataset === 'cifar10-heldout') {
    const { test, testDescription } = await loadTrainingData('densenet40', dir);
    const n = limit === null ? test.count : Math.min(limit, test.count);
    const per = test.shape.slice(1).reduce((a, b) => a * b, 1);
    return { x: test.x.subarray(0, n * per), labels: test.y.subarray(0, n), classes: 10, description: `${testDescription}, first ${n}` };
  }
  if (dataset === 'mnist-strokes') {
    const s = await loadLstmStrokes(strokesArchiveIn(dir), 'test', limit ?? undefined);
    if (s.sequences.length !== s.count * LSTM_TIME_STEPS * 2) throw new ConfigError('dataset', dataset, `${LSTM_TIME_STEPS}-step stroke sequences`);
    return { x: s.sequences, labels: s.labels, classes: 10, description: `mnist-stroke test, first ${s.count} sequences (${s.truncated} cut to ${LSTM_TIME_STEPS} steps)` };
  }
  const d = loadMnist(mnistDirOf(dir), 'test', limit === null ? {} : { limit });
  return { x: d.images, labels: d.labels, classes: 10, description: `MNIST t10k, first ${d.count} digits` };
}

/** Splits `ZOO_DIR/NAME` into its zoo folder and name (the default zoo for a bare name). */
export function modelLocation(model: string): { zooDir: string | undefined; name: string } {
  const i = model.lastIndexOf('/');
  return i < 0 ? { zooDir: undefined, name: model } : { zooDir: model.slice(0, i), name: model.slice(i + 1) };
}

/** The tfjs model of a model reference (bare zoo name or `ZOO_DIR/NAME`), hash-checked against its manifest. */
function loadModelRef(model: string): Promise<tf.LayersModel> {
  const { zooDir, name } = modelLocation(model);
  return loadZooModel(name, zooDir === undefined ? {} : { zooDir });
}

/** The manifest record of a model reference. */
export function zooEntryOf(model: string): ZooEntry {
  const { zooDir, name } = modelLocation(model);
  const entry = readZooManifest(zooDir).models.find((m) => m.name === name);
  if (!entry) throw new ConfigError('model', model, `a model of the zoo manifest in ${zooDir ?? 'zoo/'}`);
  return entry;
}

/** Mean |w| over the MVM weights (conv and dense kernels, LSTM kernels): the paper's Table 4 "expected norm of weights". */
export function meanAbsKernelWeight(model: tf.LayersModel): { meanAbs: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const w of model.weights) {
    if (!/kernel/.test(w.originalName) && !/kernel/.test(w.name)) continue;
    const v = w.read().dataSync();
    for (let i = 0; i < v.length; i++) sum += Math.abs(v[i]);
    count += v.length;
  }
  return { meanAbs: count > 0 ? sum / count : 0, count };
}

function argmaxAccuracy(logits: Float32Array, labels: Uint8Array, classes: number): number {
  let correct = 0;
  for (let b = 0; b < labels.length; b++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[b * classes + c] > logits[b * classes + best]) best = c;
    if (best === labels[b]) correct++;
  }
  return correct / labels.length;
}

function relativeError(y: Float32Array, exact: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < y.length; i++) {
    num += (y[i] - exact[i]) ** 2;
    den += exact[i] ** 2;
  }
  return den > 0 ? Math.sqrt(num / den) : 0;
}

/**
 * Accuracy of V votes, V = 1 … maxVotes, averaged over the cyclic rotations of
 * the run order: rotation k votes over runs k, k+1, … (mod R). With R runs this
 * uses every run equally for every V, so the curve is smoother than one ordering's.
 */
export function votesCurve(runs: readonly Float32Array[], labels: Uint8Array, classes: number, maxVotes: number): number[] {
  const v = Math.min(maxVotes, runs.length);
  const sum = new Float64Array(v);
  for (let k = 0; k < runs.length; k++) {
    const rotated = runs.map((_, i) => runs[(i + k) % runs.length]);
    const acc = accuracyVsVotes(rotated, labels, v, classes);
    for (let i = 0; i < v; i++) sum[i] += acc[i];
  }
  return Array.from(sum, (s) => s / runs.length);
}

export interface CellEvaluatorOptions {
  readonly dataDir?: string;
  readonly rootSeed: number;
  /** onnxruntime sessions on worker threads for signal runs (default 1). */
  readonly workers?: number;
  /** Most votes a votes curve goes to (default 20). */
  readonly maxVotes?: number;
}

/** Runs cells; keeps the current model, its compiled forms, exact logits and the test sets cached. */
export class CellEvaluator {
  private readonly tests = new Map<string, TestSet>();
  private readonly calibrationSets = new Map<string, Promise<CalibrationSet>>();
  private current: { model: string; graph: Graph; compiled: Map<string, CompiledModel>; exact: Map<string, Float32Array> } | null = null;

  constructor(private readonly options: CellEvaluatorOptions) {}

  async testSet(dataset: ReproDataset, limit: number | null): Promise<TestSet> {
    const key = `${dataset}/${limit}`;
    let t = this.tests.get(key);
    if (!t) {
      t = await loadTestSet(dataset, this.options.dataDir, limit);
      this.tests.set(key, t);
    }
    return t;
  }

  /** Training samples of `dataset` the device chips calibrate their converter ranges on. */
  calibrationSet(dataset: ReproDataset, limit: number | null): Promise<CalibrationSet> {
    const key = `${dataset}/${limit}`;
    let c = this.calibrationSets.get(key);
    if (!c) {
      c = loadCalibrationSet(dataset, this.options.dataDir, limit);
      this.calibrationSets.set(key, c);
    }
    return c;
  }

  private async modelState(model: string) {
    if (this.current?.model !== model) {
      this.release();
      const layers = await loadModelRef(model);
      const graph = fromTfjsLayersModel(layers);
      layers.dispose();
      this.current = { model, graph, compiled: new Map(), exact: new Map() };
    }
    return this.current!;
  }

  private async compiled(model: string, device: string): Promise<CompiledModel> {
    const state = await this.modelState(model);
    let c = state.compiled.get(device);
    if (!c) {
      c = compile(state.graph, { chip: device === 'ideal' ? IDEAL_CHIP : { device } });
      state.compiled.set(device, c);
    }
    return c;
  }

  private async exactLogits(model: string, test: TestSet): Promise<Float32Array> {
    const state = await this.modelState(model);
    let e = state.exact.get(test.description);
    if (!e) {
      const m = await this.compiled(model, 'ideal');
      const runner = await m.runner({ kind: 'exact' });
      e = await runner.runAll(test.x, { batchSize: CELL_BATCH });
      await runner.dispose();
      state.exact.set(test.description, e);
    }
    return e;
  }

  private stream(spec: CellSpec): Rng {
    return Rng.fromSeed(this.options.rootSeed).fold('reproduce').fold(cellKey(spec));
  }

  /** Measures one cell on the first `limit` samples of its test set. */
  async evaluate(spec: CellSpec, limit: number | null, onRun?: (done: number, total: number) => void): Promise<CellResult> {
    const t0 = Date.now();
    const test = await this.testSet(spec.dataset, limit);
    const exact = await this.exactLogits(spec.model, test);
    const root = this.stream(spec);
    const maxVotes = this.options.maxVotes ?? 20;
    const accuracy = (y: Float32Array) => argmaxAccuracy(y, test.labels, test.classes);
    if (spec.kind === 'signal') {
      const model = await this.compiled(spec.model, 'ideal');
      const runs: Float32Array[] = [];
      if (spec.sigma === 0) {
        runs.push(exact);
      } else {
        const runner = await model.runner({ kind: 'signal', noise: { kind: spec.noise, sigma: spec.sigma } }, { workers: this.options.workers ?? 1 });
        try {
          const seeds = voteSeeds(root, 'signal', spec.runs);
          for (let r = 0; r < spec.runs; r++) {
            runs.push(await runner.runAll(test.x, { seed: seeds[r].run, batchSize: CELL_BATCH }));
            onRun?.(r + 1, spec.runs);
          }
        } finally {
          await runner.dispose();
        }
      }
      return {
        spec,
        key: cellKey(spec),
        examples: test.labels.length,
        rootSeed: this.options.rootSeed,
        runAccuracy: runs.map(accuracy),
        votesCurve: votesCurve(runs, test.labels, test.classes, maxVotes),
        logitError: runs.map((y) => relativeError(y, exact)),
        seconds: (Date.now() - t0) / 1000,
      };
    }
    const model = await this.compiled(spec.model, spec.device);
    const firstRuns: Float32Array[] = [];
    const passesCurves: number[][] = [];
    const total = spec.chips + spec.passChips * (spec.passes - 1);
    let done = 0;
    for (let c = 0; c < spec.chips; c++) {
      const chip = model.program(root.fold('program').fold(c), { calibration: (await this.calibrationSet(spec.dataset, limit)).x });
      let runner: ModelRunner | null = null;
      try {
        runner = await model.runner({ kind: 'chip', chip });
        const passes = c < spec.passChips ? spec.passes : 1;
        const runs: Float32Array[] = [];
        for (let p = 0; p < passes; p++) {
          runs.push(await runner.runAll(test.x, { seed: root.fold('run').fold(c).fold(p), batchSize: CELL_BATCH }));
          onRun?.(++done, total);
        }
        firstRuns.push(runs[0]);
        if (c < spec.passChips) {
          passesCurves.push(Array.from(accuracyVsVotes(runs, test.labels, Math.min(maxVotes, runs.length), test.classes)));
        }
      } finally {
        await runner?.dispose();
        chip.dispose();
      }
    }
    return {
      spec,
      key: cellKey(spec),
      examples: test.labels.length,
      rootSeed: this.options.rootSeed,
      chipAccuracy: firstRuns.map(accuracy),
      passesCurves,
      replicasCurve: Array.from(accuracyVsVotes(firstRuns, test.labels, Math.min(maxVotes, firstRuns.length), test.classes)),
      logitError: firstRuns.map((y) => relativeError(y, exact)),
      seconds: (Date.now() - t0) / 1000,
    };
  }

  /**
   * The chip a model compiles to on a device preset: per-layer effective σ (the
   * compile report's rms relative MVM error on seeded inputs) and the schedules of
   * 1 and `votes` votes in every mode.
   */
  async chipInfo(model: string, device: string, votes: number, dataset?: ReproDataset) {
    const c = await this.compiled(model, device);
    // The converter ranges and effective σ measured on the model's own training samples (as the device cells' chips
    // calibrate), else on the report's labelled uniform-random fallback.
    const calibration = dataset === undefined ? undefined : (await this.calibrationSet(dataset, null)).x;
    const report = c.report({ seed: this.options.rootSeed, ...(calibration ? { calibration } : {}) });
    const schedules = [1, votes].flatMap((v) =>
      scheduleAll(c.scheduleInput(v)).map((s) => ({
        votes: v,
        mode: s.mode,
        latencyNs: s.latencyNs,
        energyPicojoules: s.energyPerDecisionPicojoules,
        averagePowerMilliwatts: s.averagePowerMilliwatts,
        paperPowerMilliwatts: s.paperPowerMilliwatts,
        tiles: s.tiles,
        areaSquareMicrometers: s.areaSquareMicrometers ?? null,
      })),
    );
    return {
      layers: report.layers.map((l) => ({ name: l.name, effectiveSigma: l.effectiveSigma, snrDb: l.snrDb })),
      tiles: report.totals.tiles,
      areaSquareMicrometers: report.totals.areaSquareMicrometers,
      energyPerInferencePicojoules: report.totals.energyPerInferencePicojoules,
      latencyNs: report.totals.latencyNs,
      schedules,
    };
  }

  /**
   * Table 6's noise-placement diagnostic ({@link lstmPlacementLogits}) on the first `limit` stroke test sequences:
   * run r draws from `Rng.fromSeed(rootSeed).fold('reproduce').fold('lstm-placement|MODEL|PLACEMENT|σ').fold('run').fold(r)`.
   */
  async lstmPlacement(spec: LstmPlacementSpec, limit: number | null): Promise<LstmPlacementResult> {
    const t0 = Date.now();
    const test = await this.testSet('mnist-strokes', limit);
    const layers = await loadModelRef(spec.model);
    try {
      const stream = Rng.fromSeed(this.options.rootSeed).fold('reproduce').fold(`lstm-placement|${modelId(spec.model)}|${spec.placement}|${spec.sigma}`);
      const runAccuracy: number[] = [];
      for (let r = 0; r < spec.runs; r++) {
        const logits = lstmPlacementLogits(layers, test.x, test.labels.length, spec.placement, spec.sigma, stream.fold('run').fold(r), CELL_BATCH);
        runAccuracy.push(argmaxAccuracy(logits, test.labels, test.classes));
      }
      return { spec, examples: test.labels.length, rootSeed: this.options.rootSeed, runAccuracy, seconds: (Date.now() - t0) / 1000 };
    } finally {
      layers.dispose();
    }
  }

  /** Table 4's mean |w| of a model's MVM weights (loads the model on its own). */
  async weightStats(model: string): Promise<{ meanAbs: number; count: number }> {
    const layers = await loadModelRef(model);
    try {
      return meanAbsKernelWeight(layers);
    } finally {
      layers.dispose();
    }
  }

  /** Frees the cached model's compiled forms and sessions. */
  release(): void {
    if (!this.current) return;
    for (const c of this.current.compiled.values()) c.dispose();
    this.current = null;
  }
}
