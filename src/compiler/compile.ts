/**
 * `compile(model, options)`: a model (IR graph or tfjs LayersModel) on a chip. The
 * compiled model is one point of a study: one chip configuration, any number of
 * programming draws (`program(seed)`) and noisy runs (`run(x, { seed })`), plus the
 * paper's signal-level mode on the same graph.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { Rng } from '../rng';
import type { ChipSpec } from '../crossbar/chipSpec';
import { needsCalibrationData } from '../crossbar/chipSpec';
import { calibrateRanges, transplantRanges } from './calibrateRanges';
import { programLayer, analogMvm, type MvmStats, type ProgrammedLayer } from '../crossbar/programmedLayer';
import type { SignalNoise } from '../crossbar/noise/signalNoise';
import { applyGroupedSignalNoise, applySignalNoise } from '../crossbar/noise/signalNoise';
import type { AnalogNode, Graph, NodeOf } from './ir/graph';
import { isAnalog, staticSampleDims } from './ir/graph';
import { mvmMatrix } from './ir/mvmMatrix';
import { verifyGraph } from './ir/verify';
import { fromTfjsLayersModel } from './frontends/tfjsLayers';
import { GraphExecutor, NOISE_OFF, signalNoiseHook, type MvmHook, type ExecutorInputs } from './executor';
import { foldBatchNorm } from './passes/foldBatchNorm';
import { LOWER_TO_MVM, placePass, runPasses, stripFinalSoftmax, type PassTrace } from './passes/pipeline';
import { planChip, type ChipPlan, type LayerOverrides, type RawChipConfig } from './chipPlan';
import { ProgrammedChip } from './programmedChip';
import { buildReport, type CompileReport, type ReportOptions } from './report';
import { sampleOffsetOf, toRng } from './runSeed';
import { validateScheduleInput, type ScheduleInput } from './scheduler';
import { createRunner, releaseSharedSessions, type EngineOptions, type Execution, type ModelRunner } from './engine/modelRunner';
import { validateNoiseSite, type NoiseSite } from './hardware';
import { hasNoisePoints, placeSignalNoise } from './passes/placeNoise';
import { analogLayerNames, resolveLayerOverrides, type LayerNames, type SourceNames } from './layerNames';

/**
 * - `auto`: fold where it keeps the noise where the user put it: always for the
 *   device (a chip programs the BN scale into its conductances), and for the
 *   signal-level mode only when the graph carries its own noise nodes (which sit
 *   after the BN, as in the paper's CNN); with noise at the raw MVM output, folding
 *   would rescale additive noise by γ/√(v+ε), so it is not done.
 * - `always` / `never`: both modes.
 */
export type FoldBatchNormMode = 'auto' | 'always' | 'never';

export interface CompileOptions {
  /** The chip: `{ device, tile, dac, adc, mapping, readTimeSeconds, driftCompensation }` (validated). */
  readonly chip: RawChipConfig | ChipSpec;
  /**
   * Per-layer overrides of the chip, by layer name (the compiled node's name, the
   * source layer's, or an ONNX node's given in `sourceNames`), or a function of the node.
   */
  readonly layers?: LayerOverrides;
  /** Source node names by graph value name (an ONNX file's node names: `onnxSourceNames`), accepted as layer names. */
  readonly sourceNames?: SourceNames;
  /**
   * Where the signal-level mode puts its noise (see `placeSignalNoise`). Absent: at
   * the model's own noise points, else on every MVM output. Given: the model's own
   * noise points are replaced by noise at this site (batch norm unfolded for `norm`).
   */
  readonly noiseSite?: NoiseSite;
  readonly foldBatchNorm?: FoldBatchNormMode;
  /**
   * Copies of the network placed on the chip for parallel voting (default 1): the
   * plan and report count V× tiles and area, and `programReplicas` draws each copy
   * independently.
   */
  readonly replicas?: number;
}

export type ModelSource = Graph | tf.LayersModel;

/**
 * Largest patch matrix (floats) whole-batch range calibration holds at once (64 M:
 * 256 MB, several copies of which tfjs-wasm's 4 GB heap must hold); above it the
 * batch is calibrated in chunks (`CalibrationRunOptions.wholeBatch`).
 */
const CALIBRATION_PATCH_BUDGET = 64 * 1024 * 1024;

/** Options of programming a chip. */
export interface ProgramOptions {
  /**
   * The calibration batch the converter ranges are set from (training or held-out
   * inputs, never the ones a study scores), for chips whose ranges come from data.
   */
  readonly calibration?: ExecutorInputs | Float32Array;
}

/** Options of one noisy run. */
export interface RunOptions {
  /** Seed (or stream) of the run's dynamic noise; different runs need different seeds. */
  readonly seed: number | Rng;
  /**
   * Index of the batch's first sample within the run (default 0). Noise is keyed by
   * sample index, so a data set streamed in batches with their offsets gets the
   * same draws at any batch size.
   */
  readonly sampleOffset?: number;
}


function isGraph(m: unknown): m is Graph {
  return typeof m === 'object' && m !== null && Array.isArray((m as Graph).nodes) && Array.isArray((m as Graph).outputs);
}

/** The exact reference chip: noiseless analog cells and ideal converters. */
export const IDEAL_CHIP: RawChipConfig = Object.freeze({ device: 'ideal', dac: { bits: null }, adc: { bits: null } });

const FOLD_MODES: readonly FoldBatchNormMode[] = ['auto', 'always', 'never'];

/** A model mapped onto a chip; create with {@link compile}. */
export class CompiledModel {
  /** Graph run on the chip (BN folded per `foldBatchNorm`), logits out. */
  readonly graph: Graph;
  /** Graph run in the signal-level mode. */
  readonly signalGraph: Graph;
  readonly plan: ChipPlan;
  /** Whether the source model ended in a softmax that runs leave out (they return logits). */
  readonly endsInSoftmax: boolean;
  /** The axis of that softmax (counting the batch), when there was one. */
  readonly softmaxAxis: number | undefined;
  /** BN nodes folded into the device graph, as `[bn, into]`. */
  readonly foldedBatchNorms: ReadonlyArray<readonly [string, string]>;
  /** Whether the signal graph carries noise points (then they take the signal-level noise). */
  readonly hasNoiseNodes: boolean;
  /** Every analog layer with the names per-layer overrides accept. */
  readonly layerNames: readonly LayerNames[];
  private readonly deviceExecutor: GraphExecutor;
  /** The graph after each stage the constructor ran (input, softmax stripped, batch norm folded). */
  private readonly stages: readonly PassTrace[];
  private lowered: PassTrace[] | null = null;
  private readonly signalExecutor: GraphExecutor;

  constructor(source: Graph, readonly options: CompileOptions) {
    const fold = options.foldBatchNorm ?? 'auto';
    if (!FOLD_MODES.includes(fold)) throw new ConfigError('foldBatchNorm', fold, `one of ${FOLD_MODES.join(', ')}`);
    const input = verifyGraph(source);
    const stripped = stripFinalSoftmax(input);
    if (stripped.endsInSoftmax) verifyGraph(stripped.graph);
    this.endsInSoftmax = stripped.endsInSoftmax;
    this.softmaxAxis = stripped.axis;
    const site = options.noiseSite === undefined ? undefined : validateNoiseSite(options.noiseSite, 'noiseSite');
    const signalSource = site === undefined ? stripped.graph : placeSignalNoise(stripped.graph, site);
    this.hasNoiseNodes = hasNoisePoints(signalSource);
    const folded = foldBatchNorm(stripped.graph);
    const foldDevice = fold !== 'never';
    const foldSignal = fold === 'always' || (fold === 'auto' && this.hasNoiseNodes && site !== 'norm');
    this.graph = foldDevice ? folded.graph : stripped.graph;
    this.signalGraph = !foldSignal ? signalSource : signalSource === stripped.graph ? folded.graph : foldBatchNorm(signalSource).graph;
    this.foldedBatchNorms = foldDevice ? folded.folded : [];
    this.stages = [
      { pass: 'input', graph: input },
      { pass: 'stripFinalSoftmax', graph: stripped.graph },
      ...(foldDevice ? [{ pass: 'foldBatchNorm', graph: folded.graph }] : []),
    ];
    this.layerNames = analogLayerNames(this.graph, this.foldedBatchNorms, options.sourceNames);
    const layers = resolveLayerOverrides(options.layers, this.layerNames);
    this.plan = planChip(this.graph, options.chip as RawChipConfig, layers, options.replicas ?? 1);
    this.deviceExecutor = new GraphExecutor(this.graph);
    this.signalExecutor = this.signalGraph === this.graph ? this.deviceExecutor : new GraphExecutor(this.signalGraph);
  }

  /**
   * The compiler's passes from the source graph to the chip graph, each output
   * verified: strip the final softmax, fold batch norms (unless `foldBatchNorm:
   * 'never'`), lower every analog layer to `mvm` products (`lowerToMvm`), and place
   * each product on the plan's tiles. The last entry is {@link loweredGraph}.
   */
  passTrace(): readonly PassTrace[] {
    // The first stages are the constructor's own (they also give the folded pairs and the softmax axis); the rest lower this.graph.
    this.lowered ??= [...this.stages, ...runPasses(this.graph, [LOWER_TO_MVM, placePass(this.plan)]).trace.slice(1)];
    return this.lowered;
  }

  /**
   * The chip graph lowered and placed: every analog product an `mvm` node with its
   * matrix and tiles, everything else digital (`printGraph` shows it). It computes
   * what {@link graph} does; the engines run {@link graph} and lower it themselves.
   */
  get loweredGraph(): Graph {
    const trace = this.passTrace();
    return trace[trace.length - 1].graph;
  }

  /**
   * Draw the static noise (programming, stuck cells, drift) and return the programmed
   * chip. A chip whose converter ranges are calibrated on data (the default; see
   * `CalibrationSpec`) needs `calibration` inputs: the ranges are set from them right
   * after programming (before drift: a chip read at `readTimeSeconds` keeps the ranges
   * of its first read) and then stay fixed.
   *
   * @throws ConfigError naming `calibration` when the chip needs data and none is given.
   */
  program(seed: number | Rng, options: ProgramOptions = {}): ProgrammedChip {
    const rng = toRng(seed);
    const layers = this.programLayers(rng, (chip) => chip);
    const needs = this.plan.layers.some((l) => l.matrices.some((m) => needsCalibrationData(m.chip)));
    const label = seed instanceof Rng ? seed.path : seed;
    if (!needs) return new ProgrammedChip(this, layers, label);
    if (options.calibration === undefined) {
      for (const ls of layers.values()) ls.forEach((l) => l.dispose());
      throw new ConfigError(
        'calibration',
        undefined,
        'calibration inputs (program(seed, { calibration: inputs })) for a chip whose converter ranges are set from data, or chip.calibration "worstCase" with dac.range "perInputAbsMax" or a number',
      );
    }
    // Calibrated at the first read after programming: the same draw read at the drift law's t0.
    const drifts = this.plan.layers.some((l) => l.matrices.some((m) => m.chip.readTimeSeconds > m.chip.device.driftT0Seconds));
    const atCalibration = drifts ? this.programLayers(rng, (chip) => ({ ...chip, readTimeSeconds: chip.device.driftT0Seconds })) : layers;
    const inputs = options.calibration instanceof Float32Array ? this.batchOf(options.calibration, 'calibration') : options.calibration;
    try {
      // Whole-batch calibration holds every conv layer's patch matrix of the batch at once: bounded here.
      const samples = inputs instanceof tf.Tensor ? inputs.shape[0] : 1;
      const patchFloats = Math.max(...this.plan.layers.map((l) => l.mvmsPerInference * Math.max(...l.matrices.map((m) => m.fanIn))));
      const wholeBatch = samples * patchFloats <= CALIBRATION_PATCH_BUDGET;
      const { layers: calibrated, calibration } = calibrateRanges(this.deviceExecutor, atCalibration, inputs, { wholeBatch });
      const final = drifts ? transplantRanges(calibrated, layers) : calibrated;
      return new ProgrammedChip(this, final, label, calibration);
    } finally {
      for (const ls of layers.values()) ls.forEach((l) => l.dispose());
      if (drifts) for (const ls of atCalibration.values()) ls.forEach((l) => l.dispose());
      if (inputs !== options.calibration) tf.dispose(inputs as tf.Tensor);
    }
  }

  /** A flat batch `[N · per-sample values]` as the graph's one input tensor `[N, ...dims]`. */
  private batchOf(x: Float32Array, field: string): tf.Tensor {
    const dims = staticSampleDims(this.graph);
    if (!dims) throw new ConfigError(field, 'a Float32Array', 'a tensor: this graph has several inputs or dynamic dimensions');
    const per = dims.reduce((a, b) => a * b, 1);
    if (x.length === 0 || x.length % per !== 0) {
      throw new ConfigError(field, `${x.length} values`, `N·${per} values (N >= 1 samples of [${dims.join(', ')}])`);
    }
    return tf.tensor(x, [x.length / per, ...dims], 'float32');
  }

  private programLayers(rng: Rng, chipOf: (chip: ChipSpec) => ChipSpec): Map<string, ProgrammedLayer[]> {
    const root = rng.fold('program');
    const layers = new Map<string, ProgrammedLayer[]>();
    const byName = new Map(this.graph.nodes.map((n) => [n.name, n]));
    try {
      for (const layer of this.plan.layers) {
        const node = byName.get(layer.node)!;
        if (!isAnalog(node)) continue;
        layers.set(
          layer.node,
          layer.matrices.map((m) => {
            const w = mvmMatrix(node, m.group);
            return programLayer({ data: w.data, fanIn: m.fanIn, fanOut: m.fanOut }, chipOf(m.chip), root.fold(m.node).fold(m.group));
          }),
        );
      }
    } catch (err) {
      for (const ls of layers.values()) ls.forEach((l) => l.dispose());
      throw err;
    }
    return layers;
  }

  /**
   * Program every copy of a replicated chip (`replicas` in the options): copy r is
   * drawn from `seed`'s stream folded by `replica/r`, so copies are independent and
   * copy r's draw does not depend on how many copies there are.
   */
  programReplicas(seed: number | Rng, options: ProgramOptions = {}): ProgrammedChip[] {
    const root = toRng(seed).fold('replica');
    return Array.from({ length: this.plan.replicas }, (_, r) => this.program(root.fold(r), options));
  }

  /** Run on the chip's programmed layers (used by ProgrammedChip.run). */
  runOnLayers(
    x: ExecutorInputs,
    layers: ReadonlyMap<string, readonly ProgrammedLayer[]>,
    rng: Rng,
    stats?: MvmStats | ((node: string) => MvmStats),
    sampleOffset = 0,
  ): tf.Tensor {
    const mvm: MvmHook = (node, input, site) =>
      analogMvm(layers.get(node.name)![site.group], input, rng.fold(node.name).fold(site.group).fold(site.step), typeof stats === 'function' ? stats(node.name) : stats, {
        sampleStart: sampleOffset + site.sampleStart,
        positions: site.positions,
        channelsFirst: site.channelsFirst,
      });
    return this.deviceExecutor.run(x, { mvm, noise: NOISE_OFF });
  }

  /** The device graph's executor, which range calibration runs with its own MVM hook. @internal */
  deviceExecutorForCalibration(): GraphExecutor {
    return this.deviceExecutor;
  }

  /** The exact (digital, noise-free) outputs: the reference a chip is compared with. */
  runIdeal(x: ExecutorInputs): tf.Tensor {
    return this.deviceExecutor.run(x, { noise: NOISE_OFF });
  }

  /**
   * The paper's signal-level model: fresh noise after every MVM. If the graph has
   * its own noise nodes (models trained with noise layers) they take this noise
   * (kind and σ) and MVMs are exact; otherwise the noise is applied to every MVM
   * output, before the digital bias add.
   */
  runSignal(x: ExecutorInputs, noise: SignalNoise, options: RunOptions): tf.Tensor {
    const rng = toRng(options.seed).fold('signal');
    const offset = sampleOffsetOf(options);
    // Noisy MVMs: every MVM when the graph carries no noise points of its own;
    // otherwise only LSTMs with a gate-noise point (the noise nodes take the rest).
    const noisyMvm = (node: AnalogNode) => !this.hasNoiseNodes || (node.op === 'lstm' && node.attrs.gateNoise !== undefined);
    const mvm: MvmHook = (node, input, site) => {
      const y = tf.matMul(input, site.matrix) as tf.Tensor2D;
      if (!noisyMvm(node)) return y;
      const samples = y.shape[0] / site.positions;
      return applySignalNoise(y, noise, rng.fold(node.name).fold(site.group).fold(site.step), offset + site.sampleStart, samples, site.channelsFirst);
    };
    const hook = signalNoiseHook(rng, noise, offset);
    // Convolutions take their noise on the fused convolution's output: no im2col patches.
    const convOutput = (node: NodeOf<'conv2d'>, y: tf.Tensor4D) =>
      noisyMvm(node) ? applyGroupedSignalNoise(y, noise, (g) => rng.fold(node.name).fold(g).fold(0), node.attrs.groups, offset) : y;
    // Without a hook the executor keeps its fused convolutions: attach it only when an MVM is noisy.
    const anyNoisyMvm = this.signalGraph.nodes.some((n) => isAnalog(n) && noisyMvm(n));
    return this.signalExecutor.run(x, { ...(anyNoisyMvm ? { mvm, convOutput } : {}), noise: this.hasNoiseNodes ? hook : NOISE_OFF });
  }

  /**
   * This model bound to one execution (exact, signal-level noise, or a programmed
   * chip of it) on an engine: onnxruntime by default, tfjs as the reference. The
   * runner takes batches as Float32Arrays and is what studies and the CLI use.
   *
   * @example
   * const runner = await model.runner({ kind: 'signal', noise: { kind: 'multiplicative', sigma: 0.4 } });
   * const logits = await runner.run(images, { seed: 1, sampleOffset: 0 });
   * await runner.dispose();
   */
  runner(execution: Execution, options: EngineOptions = {}): Promise<ModelRunner> {
    return createRunner(this, execution, options);
  }

  /**
   * The scheduler's input for V votes on this chip: each analog layer is a pipeline
   * stage with its own stage time; energy per inference, tiles and area of one copy.
   */
  scheduleInput(votes: number, options: { readonly energyPerInferencePicojoules?: number } = {}): ScheduleInput {
    return validateScheduleInput({
      stageTimesNs: this.plan.layers.map((l) => l.stageTimeNs),
      votes,
      // The energy measured on data when the caller has it (`measureEnergyOnData`), else the plan's worst-case bound.
      energyPerInferencePicojoules: options.energyPerInferencePicojoules ?? this.plan.layers.reduce((s, l) => s + l.energyPerInferencePicojoules, 0),
      tiles: this.plan.tilesPerCopy,
      areaSquareMicrometers: this.plan.layers.reduce((s, l) => s + l.areaSquareMicrometers, 0),
    });
  }

  /**
   * Per-layer and total tiles, cells, utilisation, stage time, energy (bound and, on
   * `calibration` data, measured, per component), area per component, and the
   * effective σ/SNR measured on the calibration inputs (split static/dynamic and
   * proportional/additive; a labelled uniform-random fallback without data).
   */
  report(options: ReportOptions = {}): CompileReport {
    return buildReport(this, options);
  }

  dispose(): void {
    releaseSharedSessions(this);
    this.deviceExecutor.dispose();
    if (this.signalExecutor !== this.deviceExecutor) this.signalExecutor.dispose();
  }
}

/** Compile a model onto a chip. */
export function compile(model: ModelSource, options: CompileOptions): CompiledModel {
  if (typeof options !== 'object' || options === null || options.chip === undefined) {
    throw new ConfigError('options.chip', options?.chip, 'a chip description, e.g. { device: "reram" }');
  }
  const graph = isGraph(model) ? model : fromTfjsLayersModel(model as tf.LayersModel);
  return new CompiledModel(graph, options);
}
