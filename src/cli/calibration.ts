/** `--calibration`: the model's own inputs, for effective σ and measured energy (`ohmic compile`, `ohmic schedule`). */
import type { Graph } from '../compiler/ir/graph';
import { embeddedMnistDir, loadMnist } from '../data';
import { parseIntegerOption } from './options';
import { readRunInputs } from './commands/run';

export const CALIBRATION_HELP =
  "the model's own inputs to measure effective σ and energy on: mnist[:N] (the first N embedded MNIST test digits, default 64) or a .npy/JSON inputs file as for ohmic run";
export const CALIBRATION_LIMIT_HELP = 'use at most N calibration inputs';

/** `mnist[:N]` (the first N embedded MNIST test digits) or an inputs file as for `ohmic run`, at most `limit` samples. */
export function calibrationInputs(arg: string | undefined, limitArg: string, graph: Graph): Float32Array | undefined {
  if (arg === undefined) return undefined;
  const limit = parseIntegerOption('--calibration-limit', limitArg, 1);
  const m = /^mnist(?::(\d+))?$/.exec(arg);
  if (m) {
    const n = Math.min(limit, m[1] === undefined ? 64 : parseIntegerOption('--calibration', m[1], 1));
    return loadMnist(embeddedMnistDir(), 'test', { limit: n }).images;
  }
  const inputs = readRunInputs(arg, graph);
  const per = inputs.data.length / inputs.count;
  return inputs.data.subarray(0, Math.min(inputs.count, limit) * per);
}
