/**
 * Running a compiled model many times, on either engine: onnxruntime (the default,
 * for speed: the execution is lowered to an ONNX graph once) or TensorFlow.js (the
 * reference). Both draw the same noise for the same seed (keyed by sample), so they
 * agree within float tolerance.
 */
import { assertCalibrated } from '../../crossbar/layerState';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { Rng } from '../../rng';
import type { SignalNoise } from '../../crossbar/noise/signalNoise';
import { validateSignalNoise } from '../../crossbar/noise/signalNoise';
import type { AnalogNode, Graph } from '../ir/graph';
import type { CompiledModel, RunOptions } from '../compile';
import type { ProgrammedChip } from '../programmedChip';
import { substituteMatrices } from '../passes/substituteMatrices';
import { sampleOffsetOf, toRng } from '../runSeed';
import { lowerToOnnx, type LoweredStats, type LoweringMode } from './lowerToOnnx';
import { emptyMvmStats, type MvmStats } from '../../crossbar/analogMvm';
import { OrtSession } from './ortSession';
import { OrtWorkerPool } from './ortWorkerPool';

export type EngineName = 'onnxruntime' | 'tfjs';
export const ENGINE_NAMES: readonly EngineName[] = ['onnxruntime', 'tfjs'];

export interface EngineOptions {
  /** Default `onnxruntime`. */
  readonly engine?: EngineName;
  /** Intra-op threads of each onnxruntime session (default 1; tfjs-wasm in Node has one). */
  readonly threads?: number;
  /**
   * onnxruntime sessions on worker threads, each drawing its own batches' noise
   * (default 1: one session on the calling thread). `runAll` keeps every worker busy.
   */
  readonly workers?: number;
}

/**
 * What a runner computes: the exact network, the paper's signal-level noise after
 * every MVM (or at the model's own noise points), or a programmed chip.
 */
export type Execution =
  | { readonly kind: 'exact' }
  | { readonly kind: 'signal'; readonly noise: SignalNoise }
  | { readonly kind: 'chip'; readonly chip: ProgrammedChip };

/**
 * Run statistics per analog node (by node name): what a chip's MVMs counted, summed
 * over the node's groups and steps. A runner adds into the entries (creating missing
 * ones), so one object can gather several batches or runs.
 */
export type LayerStats = Record<string, MvmStats>;

/** Options of {@link ModelRunner.run}: a noisy run's seed and offset, and optional statistics. */
export interface RunnerRunOptions extends RunOptions {
  /**
   * A chip execution adds its MVMs' counts here (cell energy Σ V²·G·t, converter
   * clipping, conversions, word-line drives, digital operations), per analog node.
   * Both engines count the same; onnxruntime builds a second session that also
   * outputs the counts (on first use).
   */
  readonly stats?: LayerStats;
}

/** A model bound to one execution on one engine. */
export interface ModelRunner {
  readonly engine: EngineName;
  /** Per-sample input dims, in the IR's layout (images NHWC). */
  readonly inputDims: readonly number[];
  /** Per-sample output dims. */
  readonly outputDims: readonly number[];
  /**
   * Run a batch (`x.length / prod(inputDims)` samples) and return its outputs.
   * Noisy executions need `options.seed`; `options.sampleOffset` is the batch's first
   * sample index within the run, so streamed batches draw what one big batch would.
   */
  run(x: Float32Array, options?: RunnerRunOptions): Promise<Float32Array>;
  /**
   * Run every sample of `x` in batches of `batchSize` (default {@link DEFAULT_BATCH}),
   * sample `i` of `x` being sample `sampleOffset + i` of the run: the same draws as
   * one {@link run} over all of `x`, in bounded memory. On one session the draws and
   * onnxruntime's arithmetic take turns on the calling thread (onnxruntime-node's
   * `run` is synchronous underneath); `workers: N` overlaps them on N threads.
   * `onBatch` is told how many samples are done.
   */
  runAll(x: Float32Array, options?: StreamOptions): Promise<Float32Array>;
  /** Frees the session (or nothing, for tfjs). */
  dispose(): Promise<void>;
}

/** Samples per batch of {@link ModelRunner.runAll} unless told otherwise. */
export const DEFAULT_BATCH = 256;

/** Options of {@link ModelRunner.runAll}. */
export interface StreamOptions extends Partial<RunOptions> {
  readonly batchSize?: number;
  readonly onBatch?: (samplesDone: number) => void;
  /** As {@link RunnerRunOptions.stats}: the counts of every batch are added here. */
  readonly stats?: LayerStats;
}

/** Add one batch's onnxruntime statistics vectors (`[energy, dacClipped, adcClipped, drives]`) into `into`. */
function addLoweredStats(into: LayerStats, lowered: readonly LoweredStats[], vectors: readonly Float32Array[], batch: number): void {
  lowered.forEach((l, k) => {
    const v = vectors[k];
    const s = (into[l.node] ??= emptyMvmStats());
    s.cellEnergyPicojoules += v[0];
    s.dacClipped += v[1];
    s.adcClipped += v[2];
    s.dacDrives += v[3];
    s.mvms += l.perSample.mvms * batch;
    s.adcConversions += l.perSample.adcConversions * batch;
    s.digitalAdds += l.perSample.digitalAdds * batch;
    s.digitalMultiplies += l.perSample.digitalMultiplies * batch;
    s.shiftAdds += l.perSample.shiftAdds * batch;
    s.inputCycles += l.perSample.inputCycles * batch;
  });
}

function noStatsHere(kind: string): ConfigError {
  return new ConfigError('options.stats', `a ${kind} execution`, 'a chip execution: statistics count a programmed chip\'s MVMs');
}

function batchSizeOf(options: StreamOptions): number {
  const b = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(b) || b < 1) throw new ConfigError('batchSize', b, 'an integer >= 1');
  return b;
}

/**
 * The shared batching loop: `prepare(k)` for batch k+1 runs while `execute` of batch k
 * is in flight (a no-op overlap for engines that compute synchronously).
 */
async function streamBatches<P>(
  x: Float32Array,
  inputDims: readonly number[],
  outputDims: readonly number[],
  options: StreamOptions,
  prepare: (xb: Float32Array, offset: number) => P,
  execute: (prepared: P) => Promise<Float32Array>,
): Promise<Float32Array> {
  const n = batchOf(x, inputDims);
  const per = prod(inputDims);
  const outPer = prod(outputDims);
  const size = batchSizeOf(options);
  const base = options.sampleOffset ?? 0;
  if (!Number.isSafeInteger(base) || base < 0) throw new ConfigError('sampleOffset', base, 'a non-negative integer');
  const out = new Float32Array(n * outPer);
  const slice = (start: number) => prepare(x.subarray(start * per, Math.min(n, start + size) * per), base + start);
  let next = slice(0);
  for (let start = 0; start < n; start += size) {
    const pending = execute(next);
    if (start + size < n) next = slice(start + size);
    out.set(await pending, start * outPer);
    options.onBatch?.(Math.min(n, start + size));
  }
  return out;
}

function prod(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function validateEngineOptions(options: EngineOptions): Required<EngineOptions> {
  const engine = options.engine ?? 'onnxruntime';
  if (!ENGINE_NAMES.includes(engine)) throw new ConfigError('engine', engine, `one of ${ENGINE_NAMES.join(', ')}`);
  const count = (field: 'threads' | 'workers') => {
    const v = options[field] ?? 1;
    if (!Number.isSafeInteger(v) || v < 1 || v > 256) throw new ConfigError(field, v, 'an integer in [1, 256]');
    return v;
  };
  return { engine, threads: count('threads'), workers: count('workers') };
}

function singleIo(graph: Graph): { inputDims: number[]; outputDims: number[] } {
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) {
    throw new ConfigError('graph', `${graph.inputs.length} inputs, ${graph.outputs.length} outputs`, 'one input and one output for a runner (use GraphExecutor for others)');
  }
  const dimsOf = (name: string) => {
    const node = graph.nodes.find((n) => n.name === name)!;
    const dims = node.outputShape.slice(1);
    if (dims.some((d) => d === null)) throw new ConfigError(`graph.${name}.shape`, node.outputShape, 'static dimensions apart from the batch');
    return dims as number[];
  };
  return { inputDims: dimsOf(graph.inputs[0]), outputDims: dimsOf(graph.outputs[0]) };
}

function batchOf(x: Float32Array, inputDims: readonly number[]): number {
  const per = prod(inputDims);
  if (!(x instanceof Float32Array) || x.length === 0 || x.length % per !== 0) {
    throw new ConfigError('x', x instanceof Float32Array ? `${x.length} values` : typeof x, `a Float32Array of N·${per} values (N samples of [${inputDims.join(', ')}])`);
  }
  return x.length / per;
}

interface Lowering {
  readonly graph: Graph;
  readonly mode: LoweringMode;
  /** Label of the run's noise stream under the seed, or null when nothing is drawn. */
  readonly stream: string | null;
  /** Sessions of signal-level executions are shared per noise kind (σ is fed at run time). */
  readonly shareKey: string | null;
  /** The std of every noise feed, when the execution sets it (signal-level σ). */
  readonly std?: number;
}

/**
 * The graph and lowering mode of an execution (what the onnxruntime engine runs);
 * `stats`: a chip lowered to also output its run statistics (never substituted by
 * its programmed weights, whose product would count nothing).
 */
function loweringOf(model: CompiledModel, execution: Execution, stats = false): Lowering {
  if (execution.kind === 'exact') return { graph: model.graph, mode: { kind: 'exact' }, stream: null, shareKey: 'exact' };
  if (execution.kind === 'signal') {
    const noise = validateSignalNoise(execution.noise, 'execution.noise');
    const noisyMvm = (node: AnalogNode) => !model.hasNoiseNodes || (node.op === 'lstm' && node.attrs.gateNoise !== undefined);
    // σ is the feeds' std, so one lowered model serves every σ of a noise kind (1 is a placeholder).
    const mode: LoweringMode = { kind: 'signal', noise: { kind: noise.kind, sigma: 1 }, noisyMvm, noiseNodes: model.hasNoiseNodes };
    return { graph: model.signalGraph, mode, stream: 'signal', shareKey: `signal:${noise.kind}`, std: noise.sigma };
  }
  const chip = execution.chip;
  if (chip.model !== model) throw new ConfigError('execution.chip', 'a chip of another model', 'a chip programmed from this compiled model');
  if (stats) return { graph: model.graph, mode: { kind: 'chip', layers: chip.layers, stats: true }, stream: 'run', shareKey: null };
  const all = [...chip.layers.values()].flat();
  if (all.every((l) => l.effectiveWeights !== null)) {
    // Linear and noise-free: the chip is its programmed weights.
    const matrices = new Map<string, Float32Array[]>();
    for (const [node, ls] of chip.layers) matrices.set(node, ls.map((l) => l.effectiveWeights!));
    return { graph: substituteMatrices(model.graph, matrices), mode: { kind: 'exact' }, stream: null, shareKey: null };
  }
  return { graph: model.graph, mode: { kind: 'chip', layers: chip.layers }, stream: 'run', shareKey: null };
}

/** One session on this thread, or a pool of them on workers. */
type OrtExec = OrtSession | OrtWorkerPool;

function createExec(graph: Graph, mode: LoweringMode, threads: number, workers: number): Promise<OrtExec> {
  const lowered = lowerToOnnx(graph, mode);
  return workers > 1 ? OrtWorkerPool.create(lowered, workers, threads) : OrtSession.create(lowered, { threads });
}

/** Sessions shared by the runners of one compiled model, released with it. */
const sharedSessions = new WeakMap<CompiledModel, Map<string, Promise<OrtExec>>>();

/** Release the sessions `model`'s runners share (called by `CompiledModel.dispose`). */
export function releaseSharedSessions(model: CompiledModel): void {
  const m = sharedSessions.get(model);
  sharedSessions.delete(model);
  m?.forEach((p) => p.then((s) => s.dispose()).catch(() => undefined));
}

/** How an onnxruntime runner builds its statistics session, when asked for counts. */
interface StatsSource {
  readonly create: () => Promise<{ exec: OrtExec; stats: readonly LoweredStats[] }>;
}

class OrtRunner implements ModelRunner {
  readonly engine = 'onnxruntime' as const;
  private statsExec: Promise<{ exec: OrtExec; stats: readonly LoweredStats[] }> | null = null;
  constructor(
    private readonly session: OrtExec,
    private readonly stream: string | null,
    private readonly std: number | undefined,
    private readonly shared: boolean,
    readonly inputDims: readonly number[],
    readonly outputDims: readonly number[],
    private readonly statsSource: StatsSource | null = null,
    private readonly kind = 'chip',
  ) {}

  /** The session to run and where its statistics go (null: none asked). */
  private async sessionFor(stats: LayerStats | undefined): Promise<{ exec: OrtExec; lowered: readonly LoweredStats[] | null }> {
    if (stats === undefined) return { exec: this.session, lowered: null };
    if (!this.statsSource) throw noStatsHere(this.kind);
    this.statsExec ??= this.statsSource.create();
    const { exec, stats: lowered } = await this.statsExec;
    return { exec, lowered };
  }

  async run(x: Float32Array, options?: RunnerRunOptions): Promise<Float32Array> {
    const batch = batchOf(x, this.inputDims);
    const rng = this.streamOf(options?.seed);
    const offset = options ? sampleOffsetOf(options) : 0;
    const { exec: s, lowered } = await this.sessionFor(options?.stats);
    const [y, ...rest] = s instanceof OrtWorkerPool ? await s.run(x, batch, rng, offset, this.std) : await s.run([x], batch, rng, offset, this.std);
    if (lowered) addLoweredStats(options!.stats!, lowered, rest, batch);
    return y;
  }

  async runAll(x: Float32Array, options: StreamOptions = {}): Promise<Float32Array> {
    const rng = this.streamOf(options.seed);
    const { exec: s, lowered } = await this.sessionFor(options.stats);
    if (s instanceof OrtWorkerPool) return this.runAllOnPool(s, x, rng, options, lowered);
    const per = prod(this.inputDims);
    // Noisy batches go to onnxruntime in cache-sized calls (OrtSession.samplesPerCall).
    const calls = { ...options, batchSize: s.samplesPerCall(batchSizeOf(options)) };
    return streamBatches(
      x,
      this.inputDims,
      this.outputDims,
      calls,
      (xb, offset) => ({ feeds: s.prepare([xb], xb.length / per, rng, offset, this.std), batch: xb.length / per }),
      async ({ feeds, batch }) => {
        const [y, ...rest] = await s.execute(feeds);
        if (lowered) addLoweredStats(options.stats!, lowered, rest, batch);
        return y;
      },
    );
  }

  /** Batches on every worker of the pool, at most two in flight per worker. */
  private async runAllOnPool(pool: OrtWorkerPool, x: Float32Array, rng: Rng | null, options: StreamOptions, lowered: readonly LoweredStats[] | null = null): Promise<Float32Array> {
    const n = batchOf(x, this.inputDims);
    const per = prod(this.inputDims);
    const outPer = prod(this.outputDims);
    const size = batchSizeOf(options);
    const base = sampleOffsetOf(options);
    const out = new Float32Array(n * outPer);
    const inFlight = new Set<Promise<void>>();
    let done = 0;
    let failure: unknown = null;
    for (let start = 0; start < n && failure === null; start += size) {
      const end = Math.min(n, start + size);
      const p: Promise<void> = pool
        .run(x.subarray(start * per, end * per), end - start, rng, base + start, this.std)
        .then(([y, ...rest]) => {
          if (lowered) addLoweredStats(options.stats!, lowered, rest, end - start);
          out.set(y, start * outPer);
          done += end - start;
          options.onBatch?.(done);
        })
        .catch((err) => {
          failure ??= err;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 2 * pool.size) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure !== null) throw failure;
    return out;
  }

  /** The run's noise stream (null when nothing is drawn; σ = 0 draws nothing and needs no seed). */
  private streamOf(seed: number | Rng | undefined): Rng | null {
    if (this.stream === null) return null;
    if (seed === undefined) {
      if (this.std === 0) return Rng.fromSeed(0);
      throw new ConfigError('options.seed', undefined, 'a seed: this execution draws noise');
    }
    return toRng(seed).fold(this.stream);
  }

  async dispose(): Promise<void> {
    const statsExec = this.statsExec;
    this.statsExec = null;
    if (statsExec) await statsExec.then((s) => s.exec.dispose(), () => undefined);
    if (!this.shared) await this.session.dispose();
  }
}

class TfjsRunner implements ModelRunner {
  readonly engine = 'tfjs' as const;
  constructor(
    private readonly model: CompiledModel,
    private readonly execution: Execution,
    readonly inputDims: readonly number[],
    readonly outputDims: readonly number[],
  ) {}

  async run(x: Float32Array, options?: RunnerRunOptions): Promise<Float32Array> {
    const batch = batchOf(x, this.inputDims);
    const e = this.execution;
    if (options?.stats !== undefined && e.kind !== 'chip') throw noStatsHere(e.kind);
    const input = tf.tensor(x, [batch, ...this.inputDims], 'float32');
    try {
      const opts = options ?? { seed: 0 };
      const y =
        e.kind === 'exact'
          ? this.model.runIdeal(input)
          : e.kind === 'signal'
            ? this.model.runSignal(input, e.noise, opts)
            : e.chip.run(input, { seed: opts.seed, ...(opts.sampleOffset !== undefined ? { sampleOffset: opts.sampleOffset } : {}), ...(opts.stats ? { layerStats: opts.stats } : {}) });
      const data = y.dataSync() as Float32Array;
      y.dispose();
      return data;
    } finally {
      input.dispose();
    }
  }

  runAll(x: Float32Array, options: StreamOptions = {}): Promise<Float32Array> {
    const seed = options.seed ?? 0;
    return streamBatches(x, this.inputDims, this.outputDims, options, (xb, offset) => ({ xb, offset }), ({ xb, offset }) =>
      this.run(xb, { seed, sampleOffset: offset, ...(options.stats ? { stats: options.stats } : {}) }),
    );
  }

  async dispose(): Promise<void> {}
}

/** Bind `model` to one execution on one engine. */
export async function createRunner(model: CompiledModel, execution: Execution, options: EngineOptions = {}): Promise<ModelRunner> {
  const { engine, threads, workers } = validateEngineOptions(options);
  if (execution.kind === 'chip') for (const [node, ls] of execution.chip.layers) ls.forEach((l) => assertCalibrated(l, node));
  if (engine === 'tfjs') {
    const graph = execution.kind === 'signal' ? model.signalGraph : model.graph;
    const { inputDims, outputDims } = singleIo(graph);
    return new TfjsRunner(model, execution, inputDims, outputDims);
  }
  const { graph, mode, stream, shareKey, std } = loweringOf(model, execution);
  const { inputDims, outputDims } = singleIo(graph);
  const statsSource: StatsSource | null =
    execution.kind === 'chip'
      ? {
          create: async () => {
            const l = loweringOf(model, execution, true);
            const lowered = lowerToOnnx(l.graph, l.mode);
            const exec = workers > 1 ? await OrtWorkerPool.create(lowered, workers, threads) : await OrtSession.create(lowered, { threads });
            return { exec, stats: lowered.stats ?? [] };
          },
        }
      : null;
  if (shareKey === null) return new OrtRunner(await createExec(graph, mode, threads, workers), stream, std, false, inputDims, outputDims, statsSource);
  let byKey = sharedSessions.get(model);
  if (!byKey) {
    byKey = new Map();
    sharedSessions.set(model, byKey);
  }
  const key = `${shareKey}/${threads}/${workers}`;
  let pending = byKey.get(key);
  if (!pending) {
    pending = createExec(graph, mode, threads, workers);
    byKey.set(key, pending);
    pending.catch(() => byKey!.delete(key));
  }
  return new OrtRunner(await pending, stream, std, true, inputDims, outputDims, statsSource, execution.kind);
}
