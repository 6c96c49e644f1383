/**
 * Entry of an onnxruntime worker thread: builds one session from the lowered model
 * in `workerData`, then runs the batches the pool posts. Each batch carries its
 * run stream (key and path) and sample offset, so the worker draws exactly the
 * noise the main thread would.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../../rng';
import type { LoweredModel } from './lowerToOnnx';
import { OrtSession } from './ortSession';
import type { OrtJob, OrtReply } from './ortWorkerPool';

const { lowered, threads } = workerData as { lowered: LoweredModel; threads: number };
const port = parentPort!;
const ready = OrtSession.create(lowered, { threads });
ready.then(
  () => port.postMessage({ type: 'ready' } satisfies OrtReply),
  (err: Error) => port.postMessage({ type: 'error', job: -1, message: `${err.name}: ${err.message}` } satisfies OrtReply),
);

port.on('message', async (job: OrtJob) => {
  try {
    const session = await ready;
    const rng = job.rng ? Rng.fromKey(job.rng.key, job.rng.path) : null;
    const outputs = await session.run([job.x], job.batch, rng, job.offset, job.std);
    // Copies own their buffers, so they can be transferred whatever the session holds.
    const owned = outputs.map((o) => o.slice());
    port.postMessage({ type: 'result', job: job.job, outputs: owned } satisfies OrtReply, owned.map((o) => o.buffer as ArrayBuffer));
  } catch (err) {
    port.postMessage({ type: 'error', job: job.job, message: `${(err as Error).name}: ${(err as Error).message}` } satisfies OrtReply);
  }
});
