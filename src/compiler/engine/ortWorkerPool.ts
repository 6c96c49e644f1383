/**
 * Several onnxruntime sessions on worker threads, one batch each at a time: how the
 * engine uses every core. One session's intra-op threads parallelise a single
 * convolution, but the noise of a batch is drawn on the JS thread that feeds it;
 * here each worker draws its own batch's noise and runs its own session, so both
 * the draws and the arithmetic scale with the workers. Noise is keyed by sample,
 * so which worker runs which batch never changes a bit.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError, OhmicError } from '../../errors';
import type { Rng } from '../../rng';
import type { LoweredModel } from './lowerToOnnx';

/** A batch for a worker. */
export interface OrtJob {
  readonly job: number;
  readonly x: Float32Array;
  readonly batch: number;
  readonly rng: { readonly key: string; readonly path: string } | null;
  readonly offset: number;
  readonly std: number | undefined;
}

export type OrtReply =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly job: number; readonly outputs: Float32Array[] }
  | { readonly type: 'error'; readonly job: number; readonly message: string };

/** An onnxruntime worker failed (the session could not be built, or a batch failed). */
export class EngineWorkerError extends OhmicError {}

function spawn(lowered: LoweredModel, threads: number): Worker {
  const ext = path.extname(__filename);
  const entry = path.join(__dirname, `ortWorker${ext}`);
  const workerData = { lowered, threads };
  if (ext !== '.ts') return new Worker(entry, { workerData });
  // Running from source (tsx, jest): register tsx's loader in the worker first.
  let tsxApi: string;
  try {
    tsxApi = require.resolve('tsx/cjs/api');
  } catch {
    throw new ConfigError('workers', 'from TypeScript sources', 'the tsx package (to load TypeScript in worker threads), or the built package');
  }
  const bootstrap = `require(${JSON.stringify(tsxApi)}).register();\nrequire(${JSON.stringify(entry)});\n`;
  return new Worker(bootstrap, { eval: true, workerData, execArgv: [] });
}

class PooledWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (o: Float32Array[]) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;
  readonly ready: Promise<void>;
  busy = 0;

  constructor(lowered: LoweredModel, threads: number) {
    this.worker = spawn(lowered, threads);
    let markReady!: () => void;
    let markFailed!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      markReady = res;
      markFailed = rej;
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (reply: OrtReply) => {
      if (reply.type === 'ready') return markReady();
      if (reply.type === 'error' && reply.job === -1) return markFailed(new EngineWorkerError(`onnxruntime worker could not build its session: ${reply.message}`));
      const p = this.pending.get(reply.job);
      this.pending.delete(reply.job);
      if (!p) return;
      if (reply.type === 'result') p.resolve(reply.outputs);
      else p.reject(new EngineWorkerError(`onnxruntime worker failed on a batch: ${reply.message}`));
    });
    const fail = (err: Error) => {
      this.dead ??= err;
      markFailed(err);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new EngineWorkerError(`onnxruntime worker exited (code ${code})`)));
  }

  run(job: OrtJob): Promise<Float32Array[]> {
    if (this.dead) return Promise.reject(this.dead);
    this.busy++;
    return new Promise<Float32Array[]>((resolve, reject) => {
      this.pending.set(job.job, { resolve, reject });
      this.worker.postMessage(job);
    }).finally(() => {
      this.busy--;
    });
  }

  async terminate(): Promise<void> {
    this.dead ??= new EngineWorkerError('onnxruntime worker terminated');
    await this.worker.terminate();
  }
}

/** `size` workers, each with one session of `threads` intra-op threads. */
export class OrtWorkerPool {
  private nextJob = 0;
  private constructor(private readonly workers: PooledWorker[]) {}

  static async create(lowered: LoweredModel, size: number, threads = 1): Promise<OrtWorkerPool> {
    if (!Number.isSafeInteger(size) || size < 1) throw new ConfigError('workers', size, 'an integer >= 1');
    const workers = Array.from({ length: size }, () => new PooledWorker(lowered, threads));
    const pool = new OrtWorkerPool(workers);
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (err) {
      await pool.dispose();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Run one batch on the least busy worker. `x` is copied; the caller keeps it. */
  run(x: Float32Array, batch: number, rng: Rng | null, offset: number, std: number | undefined): Promise<Float32Array[]> {
    const w = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    return w.run({ job: this.nextJob++, x: x.slice(), batch, rng: rng ? { key: rng.keyHex, path: rng.path } : null, offset, std });
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
