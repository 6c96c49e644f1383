/**
 * A pool of worker threads that evaluates study points. Each worker loads the
 * evaluator once, then takes the next point whenever it is free; results come back
 * to the main thread as they finish (not in grid order).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors';
import { isTypeScriptFile, StudyEvaluationError, type EvaluatorModule } from './evaluator';
import type { StudyPoint } from './grid';
import type { PointJob, WorkerReply } from './pointWorker';

/** A point to evaluate and the seed of its Rng. */
export interface SeededPoint {
  readonly point: StudyPoint;
  readonly seed: number;
}

/**
 * Starts a worker on `pointWorker`. When that file or the evaluator is TypeScript
 * (running from source under tsx or jest), the worker first registers tsx's
 * require hook, and gets no inherited loader flags so the hook is installed once.
 */
function spawnWorker(evaluator: EvaluatorModule): Worker {
  const entry = path.join(__dirname, `pointWorker${path.extname(__filename)}`);
  const workerData = { evaluator: { ...evaluator, modulePath: path.resolve(evaluator.modulePath) } };
  if (!isTypeScriptFile(entry) && !isTypeScriptFile(evaluator.modulePath)) {
    return new Worker(entry, { workerData });
  }
  let tsxApi: string;
  try {
    tsxApi = require.resolve('tsx/cjs/api');
  } catch {
    throw new ConfigError(
      'evaluator.modulePath',
      evaluator.modulePath,
      'a JavaScript module, or the tsx package installed to load TypeScript in worker threads',
    );
  }
  const bootstrap = `require(${JSON.stringify(tsxApi)}).register();\nrequire(${JSON.stringify(entry)});\n`;
  return new Worker(bootstrap, { eval: true, workerData, execArgv: [] });
}

/**
 * Points that differ only in their vote count: one chip and one set of noisy runs
 * serves them all (the chip evaluator keeps the first V of a larger V's runs), so a
 * worker pool sends them to the same worker. Which worker runs a point never
 * changes its result, only how much is computed twice.
 */
export function votesAffinity(point: StudyPoint): string {
  const { votes: _votes, id: _id, index: _index, ...rest } = point;
  return JSON.stringify(rest);
}

/** One worker and the request it is serving. */
class PointWorker {
  private readonly worker: Worker;
  private pending: { resolve: (reply: WorkerReply) => void; reject: (err: Error) => void } | null = null;
  private dead: Error | null = null;
  private nextJob = 0;
  readonly ready: Promise<void>;

  constructor(evaluator: EvaluatorModule) {
    this.worker = spawnWorker(evaluator);
    this.ready = this.request(null).then((reply) => {
      if (reply.type === 'init-error') {
        throw new StudyEvaluationError(
          null,
          `a study worker could not set up the evaluator ${evaluator.exportName} of ${evaluator.modulePath}: ` +
            `${reply.error.name}: ${reply.error.message}`,
          reply.error,
        );
      }
    });
    // Awaited by the pool; this handler only keeps an unawaited failure from being "unhandled".
    this.ready.catch(() => undefined);
    this.worker.on('message', (reply: WorkerReply) => this.settle((p) => p.resolve(reply)));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`study worker exited (code ${code}) before replying`)));
  }

  private fail(err: Error): void {
    if (this.dead === null) this.dead = err;
    this.settle((p) => p.reject(err));
  }

  private settle(action: (p: NonNullable<PointWorker['pending']>) => void): void {
    const p = this.pending;
    this.pending = null;
    if (p !== null) action(p);
  }

  /** Sends `job` (or only waits, for the first reply) and resolves with the reply. */
  private request(job: PointJob | null): Promise<WorkerReply> {
    return new Promise<WorkerReply>((resolve, reject) => {
      if (this.dead !== null) {
        reject(this.dead);
        return;
      }
      this.pending = { resolve, reject };
      if (job !== null) this.worker.postMessage(job);
    });
  }

  /** Evaluates one point; resolves with the evaluator's raw result. */
  async run(item: SeededPoint): Promise<unknown> {
    const job = this.nextJob++;
    let reply: WorkerReply;
    try {
      reply = await this.request({ type: 'run', job, point: item.point, seed: item.seed });
    } catch (err) {
      throw StudyEvaluationError.forPoint(item.point, err as Error, err);
    }
    if (reply.type === 'result' && reply.job === job) return reply.result;
    if (reply.type === 'error') throw StudyEvaluationError.forPoint(item.point, reply.error, reply.error);
    const unexpected = { name: 'Error', message: `unexpected reply ${reply.type} from a study worker` };
    throw StudyEvaluationError.forPoint(item.point, unexpected, reply);
  }

  async terminate(): Promise<void> {
    this.dead ??= new Error('study worker terminated');
    await this.worker.terminate();
  }
}

/**
 * Evaluates `items` on `size` worker threads, calling `onResult` on the main
 * thread as each finishes. On the first failure no new point is started, the
 * points in flight are finished (and reported), the workers are stopped and the
 * failure is thrown.
 */
/** One `StudyWorkerPool.run` call: its groups left, its first failure in grid order. */
interface PoolCall {
  groups: number;
  failure: unknown;
  failedAt: number;
  readonly onResult: (point: StudyPoint, result: unknown) => void;
  settle(): void;
}

/**
 * Study workers shared by several grids (`npm start` runs two): each `run` queues its
 * points, grouped by affinity, and every idle worker takes the next group of any
 * call, so one grid's tail overlaps the next grid's start and the workers start once.
 */
export class StudyWorkerPool {
  private readonly workers: PointWorker[] = [];
  private readonly idle: PointWorker[] = [];
  private readonly queue: Array<{ items: readonly SeededPoint[]; call: PoolCall }> = [];

  constructor(
    private readonly evaluator: EvaluatorModule,
    readonly size: number,
  ) {}

  /**
   * Evaluates `items`; resolves when all have run. After a failure, the points ahead
   * of it in the grid still run (their results are kept), the rest do not.
   * @throws the first failure in grid order.
   */
  async run(items: readonly SeededPoint[], onResult: (point: StudyPoint, result: unknown) => void, affinity: (point: StudyPoint) => string = votesAffinity): Promise<void> {
    if (items.length === 0) return;
    // Points of one affinity group go to one worker, in order, so its caches serve them.
    const groups = new Map<string, SeededPoint[]>();
    for (const item of items) {
      const key = affinity(item.point);
      const g = groups.get(key);
      if (g) g.push(item);
      else groups.set(key, [item]);
    }
    let settle = (): void => undefined;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const call: PoolCall = { groups: groups.size, failure: null, failedAt: Infinity, onResult, settle: () => settle() };
    for (const g of groups.values()) this.queue.push({ items: g, call });
    const busy = this.workers.length - this.idle.length;
    while (this.workers.length < Math.min(this.size, busy + this.queue.length)) {
      const w = new PointWorker(this.evaluator);
      this.workers.push(w);
      this.idle.push(w);
    }
    for (const w of this.idle.splice(0, Math.min(this.idle.length, this.queue.length))) void this.serve(w);
    await done;
    if (call.failure !== null) throw call.failure;
  }

  /** Runs queued groups on `worker` until the queue is empty. */
  private async serve(worker: PointWorker): Promise<void> {
    try {
      await worker.ready;
    } catch (err) {
      // A worker that cannot start fails every call it would have served.
      for (const job of this.queue.splice(0)) {
        job.call.failure ??= err;
        if (--job.call.groups === 0) job.call.settle();
      }
      this.idle.push(worker);
      return;
    }
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      const { call } = job;
      for (const item of job.items) {
        if (item.point.index > call.failedAt) continue;
        try {
          call.onResult(item.point, await worker.run(item));
        } catch (err) {
          if (item.point.index < call.failedAt) {
            call.failure = err;
            call.failedAt = item.point.index;
          }
        }
      }
      if (--call.groups === 0) call.settle();
    }
    this.idle.push(worker);
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Evaluates `items` on a pool of `size` workers made for the call (see {@link StudyWorkerPool.run}). */
export async function evaluateOnWorkers(
  items: readonly SeededPoint[],
  evaluator: EvaluatorModule,
  size: number,
  onResult: (point: StudyPoint, result: unknown) => void,
  affinity: (point: StudyPoint) => string = votesAffinity,
): Promise<void> {
  if (items.length === 0) return;
  const pool = new StudyWorkerPool(evaluator, Math.min(size, items.length));
  try {
    await pool.run(items, onResult, affinity);
  } finally {
    await pool.terminate();
  }
}
