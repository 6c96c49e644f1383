import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { ConfigError, DataError } from '../../src/errors';
import { loadTfjsModelFromDir } from '../../src/compiler';
import { runCli } from '../helpers/cli';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'tfjs', 'cnn-small', 'model.json');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-cli-'));

beforeAll(async () => {
  await initBackend();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeInputs(name: string, content: unknown): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

describe('ohmic compile', () => {
  it('prints JSON with layers and totals whose tile counts match the tile size', async () => {
    const out = JSON.parse(await runCli(['compile', '--model', FIXTURE, '--device', 'reram', '--tile', '16x16', '--json']));
    expect(out.layers.map((l: { name: string }) => l.name)).toEqual(['conv', 'out']);
    // conv: 3·3·2 = 18 rows × 3 cols → 2 row blocks; dense 27×4 → 2 row blocks
    expect(out.layers.map((l: { tiles: number }) => l.tiles)).toEqual([2, 2]);
    expect(out.layers[0].mvmsPerInference).toBe(36);
    expect(out.totals.tiles).toBe(4);
    expect(out.totals.latencyNs).toBeCloseTo(out.layers[0].stageTimeNs + out.layers[1].stageTimeNs, 9);
  });

  it('prints a table by default, and rejects a bad device or tile', async () => {
    const text = await runCli(['compile', '--model', FIXTURE, '--device', 'pcm']);
    expect(text).toMatch(/^layer\s+op\s+device/);
    expect(text).toMatch(/total\s+/);
    await expect(runCli(['compile', '--model', FIXTURE, '--device', 'sram'])).rejects.toThrow(
      /--device = "sram": expected a preset \(reram, pcm, nand, ideal\) or a chip\/device \.json\/\.yaml file/,
    );
    await expect(runCli(['compile', '--model', FIXTURE, '--device', 'reram', '--tile', '16by16'])).rejects.toThrow(/--tile = "16by16": expected ROWSxCOLS/);
    await expect(runCli(['compile', '--model', path.join(dir, 'none.onnx'), '--device', 'reram'])).rejects.toThrow(DataError);
  });

  it('takes a chip JSON file', async () => {
    const chipFile = writeInputs('chip.json', { device: { preset: 'nand', bitsPerCell: 3 }, tile: '8x8', adc: { bits: 6 } });
    const out = JSON.parse(await runCli(['compile', '--model', FIXTURE, '--device', chipFile, '--json']));
    expect(out.layers[0].device).toBe('nand');
    expect(out.totals.tiles).toBe(3 + 4 * 1);
  });
});

describe('ohmic compile with a hardware description', () => {
  it('takes a YAML hardware file with per-layer overrides by layer name, and names a layer the model lacks', async () => {
    const hw = writeInputs('hw.yaml', 'kind: chip\nchip: { device: pcm, tile: 16x16 }\nlayers:\n  out: { device: { preset: nand, bitsPerCell: 2 }, tile: 8x8 }\n');
    const out = JSON.parse(await runCli(['compile', '--model', FIXTURE, '--hardware', hw, '--json']));
    expect(out.layers.map((l: { device: string }) => l.device)).toEqual(['pcm', 'nand']);
    expect(out.layers[1].tiles).toBe(4 * 1); // 27×4 on 8×8 tiles
    const bad = writeInputs('bad.yaml', 'kind: chip\nchip: pcm\nlayers: { nope: { adc: { bits: 6 } } }\n');
    await expect(runCli(['compile', '--model', FIXTURE, '--hardware', bad])).rejects.toThrow(/layers\.nope = "nope": expected a layer name of the model \(conv, out\)/);
    const typo = writeInputs('typo.yaml', 'kind: chip\nchip: { device: pcm, adc: { bits: six } }\n');
    await expect(runCli(['compile', '--model', FIXTURE, '--hardware', typo])).rejects.toThrow(/typo\.yaml: hardware\.chip\.adc\.bits = "six": expected null \(ideal converter\) or an integer/);
    await expect(runCli(['compile', '--model', FIXTURE, '--hardware', hw, '--device', 'pcm'])).rejects.toThrow(/--device = "pcm": expected to be omitted with --hardware/);
  });

  it('--layers lists every analog layer with the source and lowered names overrides accept', async () => {
    const text = await runCli(['compile', '--model', 'zoo:cnn6-mnist-mult-0', '--layers']);
    expect(text).toMatch(/^layer\s+op\s+matrix\s+also accepted as/);
    expect(text).toMatch(/conv1_bn\s+conv2d\s+9x32\s+conv1\n/);
    expect(text).toMatch(/fc2\s+dense\s+200x10\s+–\n/);
    const json = JSON.parse(await runCli(['compile', '--model', path.join(__dirname, '..', 'fixtures', 'onnx', 'cnn_op13.onnx'), '--layers', '--json']));
    // ONNX: the node name, its output tensor's, and the PyTorch module's are all accepted
    expect(json.layers[0].names).toEqual(expect.arrayContaining(['/conv1/Conv', 'conv1', 'bn1']));
    expect(json.layers[2].names).toEqual(expect.arrayContaining(['/fc/Gemm', 'y', 'fc']));
  });
});

describe('ohmic run', () => {
  const inputs = { shape: [6, 6, 2], data: [Array.from({ length: 72 }, (_, i) => ((i * 7) % 13) / 13), Array.from({ length: 72 }, (_, i) => ((i * 5) % 11) / 11)] };

  it('on the ideal device returns the model\'s logits (before its softmax)', async () => {
    const file = writeInputs('in.json', inputs);
    const out = JSON.parse(await runCli(['run', '--model', FIXTURE, '--inputs', file, '--device', 'ideal', '--json']));
    expect(out.outputKind).toMatch(/^logits/);
    const model = await loadTfjsModelFromDir(FIXTURE);
    const x = tf.tensor4d(inputs.data.flat(), [2, 6, 6, 2]);
    const probs = (model.predict(x) as tf.Tensor).arraySync() as number[][];
    out.outputs.forEach((row: number[], i: number) => {
      const soft = tf.softmax(tf.tensor1d(row)).arraySync() as number[];
      soft.forEach((p, j) => expect(p).toBeCloseTo(probs[i][j], 4));
    });
  });

  it('is reproducible by seed, and --noise selects signal-level noise', async () => {
    const file = writeInputs('in2.json', inputs);
    const a = JSON.parse(await runCli(['run', '--model', FIXTURE, '--inputs', file, '--device', 'reram', '--seed', '3', '--json']));
    const b = JSON.parse(await runCli(['run', '--model', FIXTURE, '--inputs', file, '--device', 'reram', '--seed', '3', '--json']));
    const c = JSON.parse(await runCli(['run', '--model', FIXTURE, '--inputs', file, '--device', 'reram', '--seed', '4', '--json']));
    expect(a.outputs).toEqual(b.outputs);
    expect(a.outputs).not.toEqual(c.outputs);
    const s = JSON.parse(await runCli(['run', '--model', FIXTURE, '--inputs', file, '--noise', 'mult:0.4', '--json']));
    expect(s.mode).toBe('signal-level multiplicative σ=0.4');
    await expect(runCli(['run', '--model', FIXTURE, '--inputs', file, '--noise', 'mul:0.4'])).rejects.toThrow(/--noise = "mul:0.4"/);
  });

  it('--hardware and --noise-site: signal-level noise at a site, from a file or the flags; flags that do not apply are errors', async () => {
    const file = writeInputs('in3.json', inputs);
    const hw = writeInputs('signal.yaml', 'kind: signal\nnoise: { kind: additive, sigma: 0.5 }\nsite: bias\n');
    const fromFile = JSON.parse(await runCli(['run', '--model', FIXTURE, '--inputs', file, '--hardware', hw, '--seed', '2', '--json']));
    expect(fromFile.mode).toBe(`signal-level additive σ=0.5 at bias (${hw})`);
    expect(fromFile.hardware).toEqual({ kind: 'signal', noise: { kind: 'additive', sigma: 0.5 }, site: 'bias' });
    const fromFlags = JSON.parse(await runCli(['run', '--model', FIXTURE, '--inputs', file, '--noise', 'add:0.5', '--noise-site', 'bias', '--seed', '2', '--json']));
    expect(fromFlags.outputs).toEqual(fromFile.outputs);
    const atMvm = JSON.parse(await runCli(['run', '--model', FIXTURE, '--inputs', file, '--noise', 'add:0.5', '--seed', '2', '--json']));
    expect(atMvm.outputs).not.toEqual(fromFile.outputs);
    await expect(runCli(['run', '--model', FIXTURE, '--inputs', file, '--noise-site', 'norm'])).rejects.toThrow(/--noise-site = "norm": expected to be omitted without --noise/);
    await expect(runCli(['run', '--model', FIXTURE, '--inputs', file, '--noise', 'add:0.5', '--noise-site', 'post'])).rejects.toThrow(/--noise-site = "post": expected one of mvm, bias, norm/);
    await expect(runCli(['run', '--model', FIXTURE, '--inputs', file, '--noise', 'add:0.5', '--device', 'pcm'])).rejects.toThrow(/--device = "pcm": expected to be omitted with --noise/);
    await expect(runCli(['run', '--model', FIXTURE, '--inputs', file, '--hardware', hw, '--noise', 'add:0.5'])).rejects.toThrow(/--noise = "add:0.5": expected to be omitted with --hardware/);
    const exact = writeInputs('exact.json', { kind: 'exact' });
    const ideal = JSON.parse(await runCli(['run', '--model', FIXTURE, '--inputs', file, '--device', 'ideal', '--json']));
    const byExact = JSON.parse(await runCli(['run', '--model', FIXTURE, '--inputs', file, '--hardware', exact, '--json']));
    byExact.outputs.forEach((row: number[], i: number) => row.forEach((v, j) => expect(v).toBeCloseTo(ideal.outputs[i][j], 4)));
  });

  it('names the field of a malformed inputs file', async () => {
    const bad = (name: string, content: unknown) => runCli(['run', '--model', FIXTURE, '--inputs', writeInputs(name, content)]);
    await expect(bad('b1.json', '{not json')).rejects.toThrow(DataError);
    await expect(bad('b2.json', { shape: [5, 5, 2], data: [[1]] })).rejects.toThrow(/b2\.json: shape = \[5,5,2\]: expected one input of shape \[6, 6, 2\]/);
    await expect(bad('b3.json', { shape: [6, 6, 2], data: [[1, 2]] })).rejects.toThrow(/b3\.json: data\[0\] = "2 values": expected 72 numbers/);
    await expect(bad('b4.json', { shape: [6, 6, 2], data: [Array(72).fill('x')] })).rejects.toThrow(ConfigError);
  });
});

describe('ohmic schedule --model', () => {
  it("takes the compiled model's stage times, energy and tiles", async () => {
    const report = JSON.parse(await runCli(['compile', '--model', FIXTURE, '--device', 'pcm', '--json']));
    const out = JSON.parse(await runCli(['schedule', '--model', FIXTURE, '--device', 'pcm', '--votes', '7', '--json']));
    const taus: number[] = report.layers.map((l: { stageTimeNs: number }) => l.stageTimeNs);
    const sum = taus.reduce((a, b) => a + b, 0);
    const [pipelined, sequential, parallel] = out.results;
    expect(pipelined.latencyNs).toBeCloseTo(sum + 6 * Math.max(...taus), 6);
    expect(sequential.latencyNs).toBeCloseTo(7 * sum, 6);
    expect(parallel.latencyNs).toBeCloseTo(sum, 6);
    expect(pipelined.energyPerDecisionPicojoules).toBeCloseTo(7 * report.totals.energyPerInferencePicojoules, 3);
    expect(parallel.tiles).toBe(7 * report.totals.tiles);
    await expect(runCli(['schedule', '--model', FIXTURE, '--votes', '2', '--stages', '3'])).rejects.toThrow(
      /--stages = "3": expected to be omitted with --model/,
    );
  });
});
