/**
 * Runs an IR graph on TensorFlow.js tensors, batched: an interpreter over the node
 * list (jax's `eval_jaxpr`), calling one kernel per op kind from the `KERNELS` table
 * (`kernels.ts`).
 *
 * Analog nodes never multiply by their weights directly: every matrix product of
 * a dense, conv2d (im2col), lstm or gru (per step) node goes through `hooks.mvm`, whose
 * default is the exact product. A crossbar model replaces that hook. Only when no
 * `mvm` hook is given (ideal execution) does a conv2d use tfjs's fused convolution,
 * which computes the same product without materialising im2col patches (about 7×
 * faster on the wasm backend for a 3×3, 48→12 channel conv); pass
 * `{ mvm: exactMvm }` to force the im2col path. Noise nodes go
 * through `hooks.noise`, whose default draws from the explicit `hooks.rng`.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../errors';
import type { Rng } from '../rng';
import { applySignalNoise, type SignalNoise } from '../crossbar/noise/signalNoise';
import type { AnalogNode, Graph, Node, NodeOf } from './ir/graph';
import type { OpKind } from './ir/ops';
import { formatShape } from './ir/shapes';
import { IM2COL_BUDGET, KERNELS, buildConstants, type Kernel, type KernelContext, type NodeConstants } from './kernels';

export { IM2COL_BUDGET, im2col } from './kernels';

/** Where in a node an MVM happens. */
export interface MvmSite {
  /** Matrix index: conv group, GRU matrix (see `GruAttrs`); 0 for ungrouped convs, dense and lstm. */
  readonly group: number;
  /** Recurrent step, in the order the steps are processed (0 for dense and conv2d). */
  readonly step: number;
  /**
   * The first sample (index within the batch) whose rows `x` starts with: im2col of
   * a big batch is cut into chunks of samples so no patch matrix exceeds
   * {@link IM2COL_BUDGET}. A noisy hook keys its draws by sample (see
   * `fillSampleKeyedNormals`), so chunking never changes them.
   */
  readonly sampleStart: number;
  /** Rows of `x` per sample: a convolution's output positions, a sequence's steps, or 1. */
  readonly positions: number;
  /**
   * Whether the site's canonical noise order within a sample is channels-first
   * (`[fanOut, positions]`: convolutions, as the onnxruntime engine holds images)
   * rather than row order (`[positions, fanOut]`).
   */
  readonly channelsFirst: boolean;
  /**
   * The node's exact `[rows, cols]` matrix for this group (see `mvmMatrix`), cached
   * by the executor; a hook may use it (e.g. exact product + signal-level noise).
   * Owned by the executor: do not dispose.
   */
  readonly matrix: tf.Tensor2D;
}

/**
 * Computes one analog matrix product: `x: [rows, fanIn]` → `[rows, fanOut]`, where
 * the matrix is `mvmMatrix(node, site.group)`. Biases are added by the executor
 * afterwards. Runs inside the executor's `tf.tidy`.
 */
export type MvmHook = (node: AnalogNode, x: tf.Tensor2D, site: MvmSite) => tf.Tensor2D;

/** Applies a noise node to its input `y`; returns a tensor of the same shape. */
export type NoiseHook = (node: NodeOf<'noise'>, y: tf.Tensor) => tf.Tensor;

/**
 * Whether a value of this rank is held channels-first by the onnxruntime engine, so
 * that noise drawn on it is in channels-first order per sample (images: rank 4).
 */
export function channelsFirstRank(rank: number): boolean {
  return rank === 4;
}

/** Replaceable parts of execution. Every field is optional. */
export interface ExecutorHooks {
  /** Analog MVM; default: the exact product `x · site.matrix`. */
  readonly mvm?: MvmHook;
  /**
   * Noise nodes; default: {@link signalNoiseHook} over `rng`. Use {@link NOISE_OFF}
   * to run noise nodes as identities.
   */
  readonly noise?: NoiseHook;
  /** Stream for the default noise hook (required if the graph has noise nodes and no `noise` hook). */
  readonly rng?: Rng;
  /**
   * Largest im2col patch matrix built at once, in elements (default
   * {@link IM2COL_BUDGET}); larger batches are cut into chunks of samples.
   */
  readonly im2colBudget?: number;
  /**
   * Applied to a convolution's output (NHWC, before its bias) computed by tfjs's fused
   * convolution, which then runs even though an `mvm` hook is given: output-level
   * noise without im2col patches (the signal-level mode). Convolutions tfjs cannot
   * fuse still go through `mvm`.
   */
  readonly convOutput?: (node: NodeOf<'conv2d'>, y: tf.Tensor4D) => tf.Tensor4D;
}

/** The exact product: the default MVM. */
export const exactMvm: MvmHook = (_node, x, site) => tf.matMul(x, site.matrix);

/** A noise hook that leaves values unchanged (noise points switched off). */
export const NOISE_OFF: NoiseHook = (_node, y) => y;

/**
 * The paper's signal-level noise (Eq. 2 and 3) drawn from `rng.fold(node.name)`:
 * multiplicative `y ⊙ (1 + σε)` or additive `y + σε`, ε ~ N(0,1) per element, keyed
 * by sample (the batch's first sample is `sampleOffset`). The draw depends only on
 * `rng`, the node's name and the sample index, so pass a fresh stream per run to get
 * independent noise across runs. With `override`, every noise node takes that kind
 * and σ instead of its own (the signal-level mode).
 */
export function signalNoiseHook(rng: Rng, override?: SignalNoise, sampleOffset = 0): NoiseHook {
  return (node, y) =>
    applySignalNoise(y, override ?? node.attrs, rng.fold(node.name), sampleOffset, y.shape[0], channelsFirstRank(y.rank));
}

/** Graph inputs as one tensor (single-input graphs), a list in `graph.inputs` order, or a map by name. */
export type ExecutorInputs = tf.Tensor | readonly tf.Tensor[] | Readonly<Record<string, tf.Tensor>>;

/**
 * Runs one graph many times. Holds the graph's weights as tfjs tensors, created
 * once; call {@link GraphExecutor.dispose} to free them.
 *
 * @example
 * const ex = new GraphExecutor(graph);
 * const y = ex.run(x);            // exact (ideal) execution
 * const yNoisy = ex.run(x, { rng: Rng.fromSeed(1) });
 * ex.dispose();
 */
export class GraphExecutor {
  private readonly constants = new Map<string, NodeConstants>();
  private disposed = false;
  /** Last node index that reads each node's output (graph outputs: never freed). */
  private readonly lastUse = new Map<string, number>();

  constructor(readonly graph: Graph) {
    for (const node of graph.nodes) {
      const c = buildConstants(node);
      if (Object.keys(c).length > 0) this.constants.set(node.name, c);
    }
    graph.nodes.forEach((node, i) => node.inputs.forEach((name) => this.lastUse.set(name, i)));
    for (const out of graph.outputs) this.lastUse.set(out, Infinity);
  }

  /**
   * Run the graph on a batch and return its outputs in `graph.outputs` order.
   * Tensors the caller passes in are not disposed; the returned ones are the
   * caller's to dispose.
   */
  runAll(inputs: ExecutorInputs, hooks: ExecutorHooks = {}): tf.Tensor[] {
    if (this.disposed) throw new ConfigError('executor', 'disposed', 'an executor whose dispose() has not been called');
    const bound = this.bindInputs(inputs);
    const mvmHook = hooks.mvm ?? exactMvm;
    const noiseHook = hooks.noise ?? (hooks.rng ? signalNoiseHook(hooks.rng) : undefined);
    return tf.tidy(() => {
      const env = new Map<string, tf.Tensor>();
      const refs = new Map<number, number>(); // tensor id → number of env entries holding it
      const callerTensors = new Set([...bound.values()].map((t) => t.id));
      const ctxBase = {
        input: (name: string) => bound.get(name)!,
        mvm: (node: AnalogNode, x: tf.Tensor2D, group: number, step: number, layout: Partial<Pick<MvmSite, 'sampleStart' | 'positions' | 'channelsFirst'>> = {}) => {
          const matrix = this.constants.get(node.name)!.matrices![group];
          const site: MvmSite = { group, step, sampleStart: layout.sampleStart ?? 0, positions: layout.positions ?? 1, channelsFirst: layout.channelsFirst ?? false, matrix };
          const y = mvmHook(node, x, site);
          const expected = matrix.shape[1];
          if (y.rank !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== expected) {
            throw new ShapeError(
              `node '${node.name}': mvm hook returned shape ${formatShape(y.shape)}, expected [${x.shape[0]}, ${expected}]`,
            );
          }
          return y;
        },
        noise: (node: NodeOf<'noise'>, y: tf.Tensor) => {
          if (!noiseHook) {
            throw new ConfigError(
              'hooks.rng',
              undefined,
              `an Rng (or a hooks.noise function, e.g. NOISE_OFF) because the graph has noise node '${node.name}'`,
            );
          }
          return noiseHook(node, y);
        },
      };
      this.graph.nodes.forEach((node, index) => {
        const args = node.inputs.map((i) => env.get(i)!);
        const ctx: KernelContext = {
          ...ctxBase,
          exact: hooks.mvm === undefined,
          im2colBudget: hooks.im2colBudget ?? IM2COL_BUDGET,
          convOutput: hooks.convOutput,
          constants: this.constants.get(node.name) ?? {},
        };
        const kernel = KERNELS[node.op] as Kernel<OpKind>;
        // A tidy per node frees its temporaries (im2col slices and patches) at once,
        // not when the whole graph ends: DenseNet-100 would otherwise hold gigabytes.
        const y = tf.tidy(() => kernel(node as NodeOf<OpKind>, args, ctx));
        env.set(node.name, y);
        refs.set(y.id, (refs.get(y.id) ?? 0) + 1);
        // Free inputs whose last reader this was, unless another live value is the same tensor.
        for (const name of new Set(node.inputs)) {
          if (this.lastUse.get(name) !== index) continue;
          const t = env.get(name)!;
          env.delete(name);
          const left = refs.get(t.id)! - 1;
          refs.set(t.id, left);
          if (left === 0 && !callerTensors.has(t.id)) t.dispose();
        }
      });
      return this.graph.outputs.map((o) => env.get(o)!);
    });
  }

  /** Run a single-output graph; see {@link GraphExecutor.runAll}. */
  run(inputs: ExecutorInputs, hooks: ExecutorHooks = {}): tf.Tensor {
    if (this.graph.outputs.length !== 1) {
      throw new ConfigError('graph.outputs', this.graph.outputs, 'exactly one output for run(); use runAll()');
    }
    return this.runAll(inputs, hooks)[0];
  }

  /** Free the cached weight tensors. The executor cannot run afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const c of this.constants.values()) {
      c.matrices?.forEach((m) => m.dispose());
      for (const t of [c.bias, c.filter, c.scale, c.shift, c.constant, c.recurrentBias]) t?.dispose();
    }
    this.constants.clear();
    this.disposed = true;
  }

  private bindInputs(inputs: ExecutorInputs): Map<string, tf.Tensor> {
    const names = this.graph.inputs;
    let list: tf.Tensor[];
    if (inputs instanceof tf.Tensor) list = [inputs];
    else if (Array.isArray(inputs)) list = [...(inputs as readonly tf.Tensor[])];
    else {
      const byName = inputs as Readonly<Record<string, tf.Tensor>>;
      list = names.map((n) => {
        if (!(n in byName)) throw new ConfigError(`inputs.${n}`, undefined, `a tensor for graph input '${n}'`);
        return byName[n];
      });
    }
    if (list.length !== names.length) {
      throw new ConfigError('inputs', `${list.length} tensor(s)`, `${names.length} tensor(s) for graph inputs ${names.join(', ')}`);
    }
    const bound = new Map<string, tf.Tensor>();
    names.forEach((name, i) => {
      const t = list[i];
      const node = this.graph.nodes.find((n) => n.name === name)!;
      const want = node.outputShape;
      if (t.rank !== want.length || want.some((d, j) => d !== null && d !== t.shape[j])) {
        throw new ShapeError(`graph input '${name}': got shape ${formatShape(t.shape)}, expected ${formatShape(want)}`);
      }
      if (t.dtype !== 'float32') throw new ShapeError(`graph input '${name}': got dtype ${t.dtype}, expected float32`);
      bound.set(name, t);
    });
    return bound;
  }
}

/**
 * One-shot execution of a single-output graph: builds the weight tensors, runs,
 * frees them. For repeated runs of one graph use {@link GraphExecutor}.
 */
export function execute(graph: Graph, inputs: ExecutorInputs, hooks: ExecutorHooks = {}): tf.Tensor {
  const ex = new GraphExecutor(graph);
  try {
    return ex.run(inputs, hooks);
  } finally {
    ex.dispose();
  }
}
