/**
 * Entry of a study worker thread: loads the evaluator named in `workerData`, then
 * evaluates the points the pool sends, one at a time, and posts each result back.
 * The main thread owns the results file; workers never write it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../rng';
import { loadEvaluator, type EvaluatorModule, type PointEvaluator } from './evaluator';
import type { StudyPoint } from './grid';

/** Main thread → worker: evaluate `point` from `Rng.fromSeed(seed)`. */
export interface PointJob {
  readonly type: 'run';
  readonly job: number;
  readonly point: StudyPoint;
  readonly seed: number;
}

/** An error as it crosses the thread boundary. */
export interface WorkerErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** Worker → main thread. */
export type WorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly error: WorkerErrorInfo }
  | { readonly type: 'result'; readonly job: number; readonly result: unknown }
  | { readonly type: 'error'; readonly job: number; readonly error: WorkerErrorInfo };

function errorInfo(err: unknown): WorkerErrorInfo {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

async function serve(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('pointWorker must run in a worker thread');
  const post = (reply: WorkerReply): void => port.postMessage(reply);
  let evaluate: PointEvaluator;
  try {
    evaluate = await loadEvaluator((workerData as { evaluator: EvaluatorModule }).evaluator);
  } catch (err) {
    post({ type: 'init-error', error: errorInfo(err) });
    return;
  }
  port.on('message', (msg: PointJob) => {
    void (async () => {
      try {
        const result = await evaluate(msg.point, Rng.fromSeed(msg.seed));
        post({ type: 'result', job: msg.job, result });
      } catch (err) {
        // Also catches a result that cannot be cloned across threads.
        post({ type: 'error', job: msg.job, error: errorInfo(err) });
      }
    })();
  });
  post({ type: 'ready' });
}

void serve();
