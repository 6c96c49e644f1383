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
  /** Noise bytes per onnxruntime call (default {@link NOISE_BYTES_PER_CALL}). */
  readonly noiseBytesPerCall?: number;
  /** Bytes of the largest layer output per onnxruntime call (default {@link ACTIVATION_BYTES_PER_CALL}). */
  readonly activationBytesPerCall?: number;
}

/**
 * Noise bytes one onnxruntime call is fed at most: a larger batch runs as several
 * calls, so the noise written by JS is still in cache when onnxruntime reads it.
 * Measured on CNN-6 σ = 0.4 (2-core EPYC, 32 MiB L3, `npm run bench -- peers`):
 * 32 samples per call (9.7 MB) ran 8 % faster than 256, 16 as fast, 8 slower.
 */
export const NOISE_BYTES_PER_CALL = 10 * 1024 * 1024;

/**
 * Bytes a noisy call's largest layer output may hold: its elementwise chain (noise,
 * converters, band sums) then runs on tensors that stay in a core's L2. Measured on
 * the PyTorch-architecture CNN-6 (98 KiB per image at 32×28×28; 2-core Xeon, 2 MiB
 * L2 per core; onnxruntime alone, one thread): the ReRAM chip took 0.63 ms per image
 * at 6 images per call, 0.66 at 8, 0.70 at 12 and 0.80 at 32; the signal level 0.31,
 * 0.32, 0.32 and 0.35.
 */
export const ACTIVATION_BYTES_PER_CALL = 768 * 1024;

function prod(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * Fill one noise input for samples `[offset, offset + batch)`, into `into` when
 * given (a reused buffer of exactly `batch` samples), else into a new array.
 */
export function fillNoiseFeed(feed: NoiseFeed, run: Rng, offset: number, batch: number, std = feed.std, into?: Float32Array): Float32Array {
  const perSample = feed.perSite * feed.sites.length;
  if (into !== undefined && into.length !== batch * perSample) {
    throw new ConfigError('noise buffer', `${into.length} values`, `${batch * perSample} values`);
  }
  const out = into ?? new Float32Array(batch * perSample);
  if (std === 0) return out.fill(feed.mean);
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

/** One output of a chunked run: batch-first outputs are concatenated, statistics vectors summed. */
function concatParts(parts: readonly Float32Array[], batchFirst: boolean): Float32Array {
  if (!batchFirst) {
    const sum = new Float32Array(parts[0].length);
    for (const p of parts) for (let i = 0; i < p.length; i++) sum[i] += p[i];
    return sum;
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export class OrtSession {
  private static liveCount = 0;

  /** Sessions created and not yet disposed in this thread (what a leak test watches). */
  static get live(): number {
    return OrtSession.liveCount;
  }

  private released = false;
  /**
   * Noise buffers of batches that have run, for the next batch of the same size:
   * a fresh 77 MB array per CNN-6 batch cost more in page faults than its draws.
   */
  private freeNoise: Float32Array[][] = [];
  /** Noise buffers of prepared batches, released once their run is over. */
  private readonly noiseOf = new WeakMap<Record<string, ort.Tensor>, Float32Array[]>();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly lowered: LoweredModel,
    private readonly noiseBytesPerCall: number,
    private readonly activationBytesPerCall: number,
  ) {}

  static async create(lowered: LoweredModel, options: OrtSessionOptions = {}): Promise<OrtSession> {
    const threads = options.threads ?? 1;
    if (!Number.isSafeInteger(threads) || threads < 1) throw new ConfigError('threads', threads, 'an integer >= 1');
    const noiseBytes = options.noiseBytesPerCall ?? NOISE_BYTES_PER_CALL;
    if (!Number.isSafeInteger(noiseBytes) || noiseBytes < 1) throw new ConfigError('noiseBytesPerCall', noiseBytes, 'an integer >= 1');
    const activationBytes = options.activationBytesPerCall ?? ACTIVATION_BYTES_PER_CALL;
    if (!Number.isSafeInteger(activationBytes) || activationBytes < 1) throw new ConfigError('activationBytesPerCall', activationBytes, 'an integer >= 1');
    const session = await ort.InferenceSession.create(lowered.bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    OrtSession.liveCount++;
    return new OrtSession(session, lowered, noiseBytes, activationBytes);
  }

  /** A free set of noise buffers for `batch` samples, if one is kept. */
  private takeNoiseBuffers(batch: number): Float32Array[] | undefined {
    const want = this.lowered.noise.map((f) => batch * f.perSite * f.sites.length);
    const k = this.freeNoise.findIndex((set) => set.every((b, i) => b.length === want[i]));
    return k < 0 ? undefined : this.freeNoise.splice(k, 1)[0];
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
      const reused = this.takeNoiseBuffers(batch);
      const buffers = this.lowered.noise.map((feed, k) => {
        const data = fillNoiseFeed(feed, run, offset, batch, std ?? feed.std, reused?.[k]);
        feeds[feed.input] = new ort.Tensor('float32', data, [batch, ...feed.dims]);
        return data;
      });
      this.noiseOf.set(feeds, buffers);
    }
    return feeds;
  }

  /**
   * Run prepared feeds; returns each output's data, batch first, followed (for a
   * model lowered with `stats`) by each analog node's statistics vector.
   */
  async execute(feeds: Record<string, ort.Tensor>): Promise<Float32Array[]> {
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(feeds);
    } finally {
      const buffers = this.noiseOf.get(feeds);
      this.noiseOf.delete(feeds);
      // Two sets cover a batch in flight while the next is prepared.
      if (buffers && this.freeNoise.length < 2) this.freeNoise.push(buffers);
    }
    const outputs = this.lowered.outputs.map((o) => result[o.name].data as Float32Array);
    for (const s of this.lowered.stats ?? []) outputs.push(result[s.output].data as Float32Array);
    return outputs;
  }

  /**
   * Samples per onnxruntime call for a batch of `batch`: all of them for a
   * noise-free model, else as many as both the session's noise bytes and its
   * activation bytes per call allow. The draws are keyed by sample, so the split
   * never changes a result.
   */
  samplesPerCall(batch: number): number {
    if (!this.noisy) return batch;
    const noisePerSample = this.lowered.noise.reduce((a, f) => a + f.perSite * f.sites.length, 0) * 4;
    const byNoise = Math.floor(this.noiseBytesPerCall / noisePerSample);
    const byActivation = Math.floor(this.activationBytesPerCall / (4 * this.lowered.largestValuePerSample));
    return Math.max(1, Math.min(batch, byNoise, byActivation));
  }

  /** {@link prepare} then {@link execute}, in calls of {@link samplesPerCall} samples. */
  async run(inputs: readonly Float32Array[], batch: number, run: Rng | null, offset = 0, std?: number): Promise<Float32Array[]> {
    const per = this.samplesPerCall(batch);
    if (per >= batch) return this.execute(this.prepare(inputs, batch, run, offset, std));
    const inDims = this.lowered.inputs.map((inp) => prod(inp.dims));
    const parts: Float32Array[][] = [];
    for (let start = 0; start < batch; start += per) {
      const end = Math.min(batch, start + per);
      const xs = inputs.map((x, k) => x.subarray(start * inDims[k], end * inDims[k]));
      parts.push(await this.execute(this.prepare(xs, end - start, run, offset + start, std)));
    }
    return parts[0].map((_, k) => concatParts(parts.map((p) => p[k]), k < this.lowered.outputs.length));
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.freeNoise = [];
    OrtSession.liveCount--;
    await this.session.release();
  }
}
