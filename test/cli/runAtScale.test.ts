/**
 * `ohmic run` at scale: 10,000 real digits from a .npy file streamed in batches with
 * signal-level noise (this aborted in wasm before the onnxruntime engine), voting,
 * the npy reader's checks, and `npx ohmic` after `npm ci` (the bin runs from source).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { runCli } from '../helpers/cli';
import { loadMnist, embeddedMnistDir } from '../../src/data';
import { encodeNpyFloat32 } from '../../src/compiler/npy';
import { ConfigError, DataError } from '../../src/errors';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-run-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function npy(name: string, data: Float32Array, shape: number[]): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, encodeNpyFloat32(data, shape));
  return f;
}

describe('ohmic run on 10,000 digits', () => {
  test('streams every test digit with σ = 0.4 noise and keeps the zoo model accurate', async () => {
    const d = loadMnist(embeddedMnistDir(), 'test');
    const file = npy('mnist.npy', d.images, [d.count, 28, 28, 1]);
    const out = JSON.parse(await runCli(['run', '--model', 'zoo:cnn6-mnist-mult-0.4', '--inputs', file, '--noise', 'mult:0.4', '--batch', '500', '--threads', '1', '--json']));
    expect(out.outputs).toHaveLength(10000);
    expect(out.outputs[0]).toHaveLength(10);
    expect(out.labels).toHaveLength(10000);
    let correct = 0;
    out.labels.forEach((l: number, i: number) => (correct += l === d.labels[i] ? 1 : 0));
    // σ_train 0.4 at σ 0.4 on 10,000 digits: well above 95 % (the paper's Table 2: 98.8 %).
    expect(correct / 10000).toBeGreaterThan(0.95);
    expect(out.engine).toBe('onnxruntime');
  });

  test('votes: the labels are the mode of V runs; more votes do not lose accuracy at high σ', async () => {
    const d = loadMnist(embeddedMnistDir(), 'test', { limit: 300 });
    const file = npy('mnist300.npy', d.images, [d.count, 28, 28, 1]);
    const acc = async (votes: number) => {
      const out = JSON.parse(await runCli(['run', '--model', 'zoo:cnn6-mnist-mult-0', '--inputs', file, '--noise', 'mult:0.8', '--votes', String(votes), '--seed', '2', '--json']));
      expect(out.votes).toBe(votes);
      return out.labels.filter((l: number, i: number) => l === d.labels[i]).length / d.count;
    };
    const one = await acc(1);
    const nine = await acc(9);
    expect(nine).toBeGreaterThan(one);
  });

  test('--calibration sets the converter ranges; --stats counts clipping per layer, shifted inputs clip', async () => {
    const d = loadMnist(embeddedMnistDir(), 'test', { limit: 296 });
    const inputs = npy('in40.npy', d.images.slice(0, 40 * 784), [40, 28, 28, 1]);
    const calibration = npy('cal256.npy', d.images.slice(40 * 784), [256, 28, 28, 1]);
    const brighter = npy('in40x3.npy', d.images.slice(0, 40 * 784).map((v) => 3 * v), [40, 28, 28, 1]);
    const run = async (file: string) =>
      JSON.parse(await runCli(['run', '--model', 'zoo:cnn6-mnist-mult-0', '--inputs', file, '--device', 'pcm', '--calibration', calibration, '--stats', '--seed', '1', '--json']));
    const plain = await run(inputs);
    expect(plain.calibration).toEqual({ source: calibration, samples: 256 });
    const layers = Object.values(plain.stats.layers) as Array<{ dacClipped: number; adcClipped: number; adcConversions: number; adcClippedFraction: number }>;
    expect(layers).toHaveLength(6);
    for (const l of layers) {
      expect(l.adcConversions).toBeGreaterThan(0);
      expect(l.adcClippedFraction).toBeLessThan(0.01);
    }
    const shifted = await run(brighter);
    const first = Object.keys(shifted.stats.layers)[0];
    expect(shifted.stats.layers[first].dacClipped).toBeGreaterThan(1000);
    expect(plain.stats.layers[first].dacClipped).toBe(0);
    await expect(runCli(['run', '--model', 'zoo:cnn6-mnist-mult-0', '--inputs', inputs, '--noise', 'mult:0.2', '--stats'])).rejects.toThrow(/--stats = true: expected a chip/);
  });

  test('a batch size never changes the outputs', async () => {
    const d = loadMnist(embeddedMnistDir(), 'test', { limit: 40 });
    const file = npy('mnist40.npy', d.images, [d.count, 28, 28, 1]);
    const run = async (batch: number) => JSON.parse(await runCli(['run', '--model', 'zoo:cnn6-mnist-mult-0', '--inputs', file, '--device', 'pcm', '--batch', String(batch), '--seed', '5', '--json'])).outputs;
    expect(await run(7)).toEqual(await run(40));
  });

  test('.npy inputs are checked: shape, dtype, non-finite values, truncation', async () => {
    const bad = (name: string, data: Float32Array, shape: number[]) =>
      runCli(['run', '--model', 'zoo:cnn6-mnist-mult-0', '--inputs', npy(name, data, shape), '--noise', 'mult:0.1']);
    await expect(bad('shape.npy', new Float32Array(2 * 784), [2, 784])).rejects.toThrow(ConfigError);
    await expect(bad('shape.npy', new Float32Array(2 * 784), [2, 784])).rejects.toThrow(/shape.*\[N, 28, 28, 1\]/);
    const nan = new Float32Array(784);
    nan[17] = NaN;
    await expect(bad('nan.npy', nan, [1, 28, 28, 1])).rejects.toThrow(/data\[0\]\[17\]/);
    const truncated = path.join(dir, 'trunc.npy');
    fs.writeFileSync(truncated, encodeNpyFloat32(new Float32Array(784), [1, 28, 28, 1]).subarray(0, 500));
    await expect(runCli(['run', '--model', 'zoo:cnn6-mnist-mult-0', '--inputs', truncated])).rejects.toThrow(DataError);
    await expect(runCli(['run', '--model', 'zoo:cnn6-mnist-mult-0', '--inputs', truncated, '--votes', '0'])).rejects.toThrow(/--votes/);
  });
});

describe('the ohmic bin', () => {
  test('runs from a clone without a build (npx ohmic --help)', () => {
    const bin = path.join(__dirname, '..', '..', 'bin', 'ohmic.js');
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: ohmic/);
    expect(r.stdout).toMatch(/run \[options\]/);
  });
});
