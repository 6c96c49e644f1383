/**
 * A lowered model on onnxruntime-node: one InferenceSession, fed a batch of inputs
 * and the noise the lowering asked for. The noise is drawn here, on the calling
 * thread, from the run's Rng keyed by sample (see `NoiseFeed`), so it does not
 * depend on batch size; onnxruntime does the arithmetic (on the calling thread and
 * its intra-op pool).
 */
import * as ort from 'onnxruntime-node';
import { ConfigError } from '../../errors';
import type { Rng } from '../../rng';
import type { LoweredModel, NoiseFeed } from './lowerToOnnx';

export interface OrtSessionOptions {
  /** Intra-op threads of the session (default 1). */
  readonly threads?: number;
}

function prod(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Fill one noise input for samples `[offset, offset + batch)`. */
export function fillNoiseFeed(feed: NoiseFeed, run: Rng, offset: number, batch: number, std = feed.std): Float32Array {
  const perSample = feed.perSite * feed.sites.length;
  const out = new Float32Array(batch * perSample);
  if (std === 0) return feed.mean === 0 ? out : out.fill(feed.mean);
  feed.sites.forEach((path, k) => {
    let site = run;
    for (const label of path) site = site.fold(label);
    for (let i = 0; i < batch; i++) {
      const at = i * perSample + k * feed.perSite;
      site.fold(offset + i).fillNormal(out.subarray(at, at + feed.perSite), feed.mean, std);
    }
  });
  return out;
}

export class OrtSession {
  private static liveCount = 0;

  /** Sessions created and not yet disposed in this thread (what a leak test watches). */
  static get live(): number {
    return OrtSession.liveCount;
  }

  private released = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly lowered: LoweredModel,
  ) {}

  static async create(lowered: LoweredModel, options: OrtSessionOptions = {}): Promise<OrtSession> {
    const threads = options.threads ?? 1;
    if (!Number.isSafeInteger(threads) || threads < 1) throw new ConfigError('threads', threads, 'an integer >= 1');
    const session = await ort.InferenceSession.create(lowered.bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    OrtSession.liveCount++;
    return new OrtSession(session, lowered);
  }

  /** Whether a run needs an Rng (the model has noise inputs). */
  get noisy(): boolean {
    return this.lowered.noise.length > 0;
  }

  /**
   * The feeds of one batch: `inputs[k]` holds `batch` samples of graph input k (IR
   * layout, batch first); noise for samples `[offset, offset + batch)` is drawn from
   * `run`. Separate from {@link execute}, but note that onnxruntime-node's `run`
   * computes on the calling thread after a `setImmediate` (microsoft/onnxruntime
   * #19611, #26968): on one session the draws and the arithmetic take turns on one
   * core. {@link OrtWorkerPool} draws and computes on every core.
   */
  prepare(inputs: readonly Float32Array[], batch: number, run: Rng | null, offset = 0, std?: number): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    this.lowered.inputs.forEach((inp, k) => {
      const want = batch * prod(inp.dims);
      if (inputs[k].length !== want) {
        throw new ConfigError(`inputs[${k}]`, `${inputs[k].length} values`, `${want} values ([${batch}, ${inp.dims.join(', ')}])`);
      }
      feeds[inp.name] = new ort.Tensor('float32', inputs[k], [batch, ...inp.dims]);
    });
    if (this.noisy) {
      if (!run) throw new ConfigError('seed', undefined, 'a seed: this execution draws noise');
      for (const feed of this.lowered.noise) {
        feeds[feed.input] = new ort.Tensor('float32', fillNoiseFeed(feed, run, offset, batch, std ?? feed.std), [batch, ...feed.dims]);
      }
    }
    return feeds;
  }

  /**
   * Run prepared feeds; returns each output's data, batch first, followed (for a
   * model lowered with `stats`) by each analog node's statistics vector.
   */
  async execute(feeds: Record<string, ort.Tensor>): Promise<Float32Array[]> {
    const result = await this.session.run(feeds);
    const outputs = this.lowered.outputs.map((o) => result[o.name].data as Float32Array);
    for (const s of this.lowered.stats ?? []) outputs.push(result[s.output].data as Float32Array);
    return outputs;
  }

  /** {@link prepare} then {@link execute}. */
  run(inputs: readonly Float32Array[], batch: number, run: Rng | null, offset = 0, std?: number): Promise<Float32Array[]> {
    return this.execute(this.prepare(inputs, batch, run, offset, std));
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    OrtSession.liveCount--;
    await this.session.release();
  }
}
