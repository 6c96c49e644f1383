/**
 * The corpus of hostile inputs (test/fixtures/hostile/, written by makeHostile.ts
 * beside it, plus a few built here because they are large or depend on the
 * machine): every one must end in a named error — its class and the field or file
 * it names asserted — never a stack trace, a wasm dump, a hang, an allocation of
 * 10^12 elements or a silently ignored field.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../../src/backend';
import { readInputsFile } from '../../src/cli/inputsFile';
import { simulateSchedule } from '../../src/compiler/eventSim';
import { loadOnnxFile } from '../../src/compiler/frontends/onnx';
import { loadTfjsModelFromDir } from '../../src/compiler/frontends/tfjsFiles';
import { fromTfjsLayersModel } from '../../src/compiler/frontends/tfjsLayers';
import type { Graph } from '../../src/compiler/ir/graph';
import { ConfigError, DataError, OhmicError, ShapeError, UnsupportedOpError, showValue } from '../../src/errors';
import { STUDY_DEVICES } from '../../src/cli/studyDevices';
import { validateStudyConfig } from '../../src/study/grid';
import { readStudyConfigFile } from '../../src/study/studyConfigFile';
import { checkStudyWork, MAX_STUDY_POINTS } from '../../src/study/workEstimate';
import { parseQuantity } from '../../src/units';
import { runCli, runMain } from '../helpers/cli';

const HOSTILE = path.join(__dirname, '..', 'fixtures', 'hostile');
const fixture = (...parts: string[]): string => path.join(HOSTILE, ...parts);
const FAKE = `${path.resolve(__dirname, '../study/fixtures/fakeEvaluator.ts')}#createFakeEvaluator`;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

type ErrorClass = new (...args: never[]) => Error;

/** The error `run` throws or rejects with (fails the test if it returns). */
async function caught(run: () => unknown): Promise<Error> {
  try {
    await run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, but the call returned');
}

/** Asserts the class, and that the message names `named` (a field, file, node or weight). */
async function expectNamedError(run: () => unknown, cls: ErrorClass, named: string | RegExp): Promise<Error> {
  const err = await caught(run);
  expect(err).toBeInstanceOf(cls);
  if (typeof named === 'string') expect(err.message).toContain(named);
  else expect(err.message).toMatch(named);
  // One readable line, never a third-party dump.
  expect(err.message.length).toBeLessThan(1000);
  expect(err.message).not.toMatch(/\n\s+at /);
  return err;
}

/** Asserts a ConfigError naming exactly `field`. */
async function expectConfigError(run: () => unknown, field: string, expected?: RegExp): Promise<ConfigError> {
  const err = (await expectNamedError(run, ConfigError, field)) as ConfigError;
  expect(err.field).toBe(field);
  if (expected) expect(err.expected).toMatch(expected);
  return err;
}

let dir: string;
beforeAll(async () => {
  await initBackend();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-hostile-'));
});
afterEach(() => {
  fs.chmodSync(dir, 0o755);
  fs.rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ ONNX

describe('hostile ONNX files', () => {
  test.each([
    ['huge-dims.onnx', DataError, /initializer 'w': float_data holds 2 values, but dims \[1000000, 1000000\] need 1000000000000/],
    ['huge-dims-raw.onnx', DataError, /initializer 'w': raw_data holds 2 values, but dims \[1000000, 1000000\] need 1000000000000/],
    ['int64-dims.onnx', DataError, /initializer 'w': invalid dims \[\d+, 2\]; expected non-negative integers below 2\^53/],
    ['overflow-dims.onnx', DataError, /initializer 'w': dims \[2147483648, 2147483648, 2147483648\] describe .* elements, more than any file holds/],
    ['constant-of-shape-huge.onnx', ShapeError, /ONNX node 'zeros' \(ConstantOfShape\): shape \[1000000, 1000000\] has 1000000000000 elements/],
    ['concat-no-axis.onnx', DataError, /node 'cat' \(Concat\) has no 'axis' attribute/],
    ['bn-negative-variance.onnx', ShapeError, /'bn'.*variance\[1\] = -0\.5: expected a finite number ≥ 0/],
    ['zero-size-input.onnx', DataError, /graph input 'x' declares size 0 on axis 1/],
  ] as const)('%s is refused with a named error', async (name, cls, message) => {
    const file = fixture('onnx', name);
    const err = await expectNamedError(() => loadOnnxFile(file), cls, message);
    if (err instanceof DataError) expect(err.file).toBe(file);
  });

  test('Concat without axis is not reported as a Concat along the batch axis', async () => {
    const err = await caught(() => loadOnnxFile(fixture('onnx', 'concat-no-axis.onnx')));
    expect(err.message).not.toMatch(/batch axis/);
  });

  test('a negative BatchNorm variance is reported as the variance, not as a NaN kernel', async () => {
    const err = await caught(() => loadOnnxFile(fixture('onnx', 'bn-negative-variance.onnx')));
    expect(err.message).not.toMatch(/NaN|kernel/);
  });
});

// ------------------------------------------------------------------ tfjs

describe('hostile tfjs model.json files', () => {
  test('the intact model of the corpus loads and converts', async () => {
    const graph = fromTfjsLayersModel(await loadTfjsModelFromDir(fixture('tfjs', 'ok', 'model.json')));
    expect(graph.nodes.map((n) => n.op)).toEqual(['input', 'dense', 'relu']);
  });

  test.each([
    ['no-manifest', DataError, /no weightsManifest/],
    ['group-without-paths', DataError, /weightsManifest\[0\]\.paths = undefined: expected an array of weight shard file names/],
    ['unknown-layer', UnsupportedOpError, /unsupported op 'Denze' at node 'fc'; supported ops: InputLayer, Dense/],
    ['transposed-kernel', DataError, /weight 'fc\/kernel' has shape \[3, 4\] in weightsManifest, but the model's layer needs \[4, 3\] \(the manifest has it transposed\)/],
    ['wrong-kernel-shape', DataError, /weight 'fc\/kernel' has shape \[2, 6\] in weightsManifest, but the model's layer needs \[4, 3\]$/],
    ['negative-shape', DataError, /weightsManifest\[0\]\.weights\[1\]\.shape = \[-3\] \(weight 'fc\/bias'\)/],
    ['weight-name-typo', DataError, /weight 'fc\/bais', which no layer of the model has \(did you mean 'fc\/bias'\?\)/],
    ['uint8-without-scale', DataError, /quantization\.scale = undefined \(weight 'fc\/bias', uint8-quantised\)/],
    ['trailing-garbage', DataError, /weight shards hold 124 bytes, but the manifest's weights take 60: 64 bytes are left over/],
  ] as const)('%s is refused with a named error', async (name, cls, message) => {
    const file = fixture('tfjs', name, 'model.json');
    const err = await expectNamedError(() => loadTfjsModelFromDir(file), cls, message);
    if (err instanceof DataError) expect(err.file).toBe(file);
  });

  test('through the CLI: one line on stderr, exit code 2, no tfjs or wasm text', async () => {
    for (const name of ['no-manifest', 'unknown-layer', 'transposed-kernel', 'weight-name-typo', 'negative-shape']) {
      const run = await runMain(['compile', '--model', fixture('tfjs', name, 'model.json'), '--device', 'ideal']);
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toMatch(/^ohmic: (DataError|UnsupportedOpError): [^\n]*\n$/);
      expect(run.stderr).not.toMatch(/tfjs-|wasm|ValueError|\bat [\w.<>]+ \(/);
      expect(run.stdout).toBe('');
    }
  });

  test('a model.json that is not an object is a DataError', async () => {
    const file = path.join(dir, 'model.json');
    fs.writeFileSync(file, 'null');
    await expectNamedError(() => loadTfjsModelFromDir(file), DataError, 'not a JSON object');
  });
});

// ------------------------------------------------------------------ inputs files

describe('hostile inputs files (ohmic run --inputs)', () => {
  let graph: Graph;
  beforeAll(async () => {
    graph = fromTfjsLayersModel(await loadTfjsModelFromDir(fixture('tfjs', 'ok', 'model.json')));
  });

  test('the intact inputs file reads', () => {
    const x = readInputsFile(fixture('inputs', 'ok.json'), graph);
    expect(x.shape).toEqual([1, 4]);
    x.dispose();
  });

  test('1e39 (Infinity in float32) is a ConfigError naming the value', async () => {
    const file = fixture('inputs', 'float32-overflow.json');
    const err = await expectConfigError(() => readInputsFile(file, graph), `${file}: data[0][1]`, /float32 range/);
    expect(err.value).toBe(1e39);
  });

  test('an unknown field is a ConfigError, not ignored', async () => {
    const file = fixture('inputs', 'unknown-field.json');
    await expectConfigError(() => readInputsFile(file, graph), `${file}: labels`, /no such field; known fields: shape, data/);
  });

  test('a 0-size shape is named as the shape', async () => {
    const file = fixture('inputs', 'zero-size-shape.json');
    await expectConfigError(() => readInputsFile(file, graph), `${file}: shape`, /positive integers/);
  });

  test('a top level that is not an object, and a missing file', async () => {
    const file = path.join(dir, 'in.json');
    fs.writeFileSync(file, '[1, 2, 3]');
    await expectConfigError(() => readInputsFile(file, graph), file, /JSON object/);
    await expectNamedError(() => readInputsFile(path.join(dir, 'none.json'), graph), DataError, 'no such inputs file');
  });
});

// ------------------------------------------------------------------ chip / device / study configs

describe('hostile chip, device and study configs', () => {
  const model = fixture('tfjs', 'ok', 'model.json');
  const compileWith = (device: string, ...more: string[]) => () => runCli(['compile', '--model', model, '--device', device, ...more]);

  test.each([
    ['preset-kind-conflict.json', 'chip.device.kind', /the preset sets the kind/],
    ['huge-tile.json', 'chip.tile', /two decimal integers in \[1, 1048576\]/],
    ['overflow-quantity.json', 'chip.device.gMaxMicroSiemens', /finite quantity in uS \(1e400 uS overflows a 64-bit float\)/],
    ['overflow-number.json', 'chip.device.gMaxMicroSiemens', /finite number in uS .*overflow/],
  ])('%s is a ConfigError naming %s', async (name, field, expected) => {
    await expectConfigError(compileWith(fixture('chips', name)), field, expected);
  });

  test('"1e400 uS" is named as an overflow, not as a value below gMin', () => {
    expect(() => parseQuantity('gMaxMicroSiemens', '1e400 uS', 'uS')).toThrow(/overflows/);
    expect(() => parseQuantity('gMaxMicroSiemens', '1e400 uS', 'uS')).not.toThrow(/gMinMicroSiemens/);
  });

  test('a 200,000-deep nested device JSON: the error formats without overflowing the stack', async () => {
    const file = path.join(dir, 'deep-device.json');
    fs.writeFileSync(file, `{ "preset": "pcm", "readNoiseRelStd": ${'['.repeat(200000)}${']'.repeat(200000)} }`);
    const err = await expectConfigError(compileWith(file), 'chip.device.readNoiseRelStd', /finite number/);
    expect(err.message.length).toBeLessThan(200);
  });

  test('a 200,000-deep nested chip tile and study config', async () => {
    const deepObject = `${'{"a":'.repeat(200000)}1${'}'.repeat(200000)}`;
    const chip = path.join(dir, 'deep-chip.json');
    fs.writeFileSync(chip, `{ "device": "pcm", "tile": ${deepObject} }`);
    await expectConfigError(compileWith(chip), 'chip.tile.a', /known fields: rows, cols/);
    const study = path.join(dir, 'deep-study.json');
    fs.writeFileSync(study, `{ "models": [${'['.repeat(200000)}${']'.repeat(200000)}], "devices": ["signal"], "sigmas": [0], "dataset": { "name": "mnist" } }`);
    await expectConfigError(() => readStudyConfigFile(study, STUDY_DEVICES), `${study}: models[0]`, /non-empty string/);
  });

  test('the value formatter is bounded in depth and length, and survives cycles', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200000; i++) deep = [deep];
    expect(showValue(deep)).toBe('[[[[[[[...]]]]]]]');
    const cycle: Record<string, unknown> = { x: 1 };
    cycle.self = cycle;
    expect(showValue(cycle).length).toBeLessThanOrEqual(120);
    expect(showValue(new Array(1e6).fill(1.5)).length).toBeLessThanOrEqual(120);
    // Small plain values read as JSON, as before.
    expect(showValue({ a: [1, 2, { b: 'x' }], c: null, d: undefined })).toBe('{"a":[1,2,{"b":"x"}],"c":null}');
  });
});

// ------------------------------------------------------------------ CLI numbers, schedule bounds

describe('hostile CLI numbers', () => {
  const model = fixture('tfjs', 'ok', 'model.json');
  const schedule = (...args: string[]) => () => runCli(['schedule', ...args]);

  test.each([
    ['--seed 0x10', ['--seed', '0x10'], '--seed'],
    ['--seed 99999999999999999999', ['--seed', '99999999999999999999'], '--seed'],
    ['--seed 1e3', ['--seed', '1e3'], '--seed'],
    ['--replicas Infinity', ['--replicas', 'Infinity'], '--replicas'],
    ['--tile 99999999999999999999x1', ['--tile', '99999999999999999999x1'], '--tile'],
    ['--tile 0x16', ['--tile', '0x16'], '--tile'],
  ])('compile %s is a ConfigError naming the flag', async (_name, args, field) => {
    await expectConfigError(() => runCli(['compile', '--model', model, '--device', 'pcm', ...args]), field);
  });

  test.each([
    ['--power-mw 0x10', ['--stages', '2', '--votes', '2', '--stage-ns', '1', '--power-mw', '0x10'], '--power-mw', /decimal notation/],
    ['--energy-pj 0b11', ['--stages', '2', '--votes', '2', '--stage-ns', '1', '--energy-pj', '0b11'], '--energy-pj', /decimal notation/],
    ['--stages 4294967296', ['--stages', '4294967296', '--votes', '2', '--stage-ns', '1', '--energy-pj', '1'], '--stages', /<= 100000/],
    ['--stages 1e9', ['--stages', '1e9', '--votes', '2', '--stage-ns', '1', '--energy-pj', '1'], '--stages', /<= 100000/],
    ['--stage-ns 1e999', ['--stages', '2', '--votes', '2', '--stage-ns', '1e999', '--energy-pj', '1'], '--stage-ns', /decimal notation/],
  ])('schedule %s is a ConfigError naming the flag', async (_name, args, field, expected) => {
    await expectConfigError(schedule(...args), field, expected);
  });

  test('the event simulation bounds its work before allocating', async () => {
    const input = { stageTimesNs: new Array(1000).fill(1), votes: 100_000, energyPerInferencePicojoules: 1, decisions: 1000 };
    await expectConfigError(() => simulateSchedule(input, 'pipelined'), 'stages × votes × decisions', /at most 10000000 stage events/);
  });
});

// ------------------------------------------------------------------ study outputs and work

describe('hostile study outputs and grids', () => {
  const SMALL = ['--models', 'cnn6', '--devices', 'signal', '--sigmas', '0', '--limit', '10', '--workers', '1', '--evaluator', FAKE];
  const study = (out: string, ...more: string[]) => () => runCli(['study', ...SMALL, ...more, '--out', out]);

  test('--out on an existing file', async () => {
    const file = path.join(dir, 'taken');
    fs.writeFileSync(file, 'x');
    await expectConfigError(study(file), '--out', /is an existing file, not a folder/);
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
  });

  test('--out under a file', async () => {
    const file = path.join(dir, 'taken');
    fs.writeFileSync(file, 'x');
    await expectConfigError(study(path.join(file, 'sub', 'out')), '--out', new RegExp(`${file} is a file, not a folder`));
  });

  test('--out on a dangling symbolic link', async () => {
    const link = path.join(dir, 'link');
    fs.symlinkSync(path.join(dir, 'nowhere'), link);
    await expectConfigError(study(link), '--out', /is a symbolic link to .*nowhere, which does not exist/);
    expect(fs.existsSync(path.join(dir, 'nowhere'))).toBe(false);
  });

  test('--out under /proc is refused at once (Node\'s recursive mkdir would spin there)', async () => {
    if (!fs.existsSync('/proc/self')) return; // not Linux
    await expectConfigError(study('/proc/ohmic-hostile/out'), '--out', /cannot create \/proc\/ohmic-hostile/);
  });

  test('--out and --report in a folder that refuses new entries even to root (/sys), before anything is written', async () => {
    if (!fs.existsSync('/sys/kernel')) return; // not Linux
    await expectConfigError(study('/sys/ohmic-hostile'), '--out', /cannot create \/sys\/ohmic-hostile \((permission denied|read-only file system)\)/);
    const shards = path.join(dir, 'shards');
    await runCli(['study', ...SMALL, '--out', shards]);
    const merged = path.join(dir, 'merged.jsonl');
    await expectConfigError(() => runCli(['merge', '--out', merged, '--report', '/sys/ohmic-hostile-report', path.join(shards, 'results.jsonl')]), '--report', /cannot create \/sys\/ohmic-hostile-report/);
    expect(fs.existsSync(merged)).toBe(false);
  });

  (isRoot ? test.skip : test)('--out in a read-only folder', async () => {
    fs.chmodSync(dir, 0o555);
    await expectConfigError(study(path.join(dir, 'out')), '--out', /permission denied/);
  });

  test('a 10^6-point grid is refused before it is expanded', async () => {
    const file = fixture('studies', 'million-points.json');
    await expectConfigError(() => runCli(['study', '--config', file, '--evaluator', FAKE, '--out', path.join(dir, 'out')]), 'grid', /at most 100000 points/);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  test('votes = 1e9 is refused, from a config file and from the flags', async () => {
    const file = fixture('studies', 'billion-votes.json');
    await expectConfigError(() => runCli(['study', '--config', file, '--evaluator', FAKE, '--out', path.join(dir, 'a')]), `${file}: votes`, /1e9 inferences/);
    await expectConfigError(study(path.join(dir, 'b'), '--votes', '1000000000'), '--votes', /1e9 inferences/);
  });

  test('the work bound can be lifted explicitly, and a sharded run is bounded per shard', () => {
    const config = validateStudyConfig(JSON.parse(fs.readFileSync(fixture('studies', 'million-points.json'), 'utf8')), STUDY_DEVICES);
    expect(checkStudyWork(config, { allowLarge: true }).points).toBe(1_000_000);
    expect(1_000_000).toBeGreaterThan(MAX_STUDY_POINTS);
    // 20 σ × 1000 votes × 20 seeds × 10^4 digits = 4e9 inferences, 2e8 per point.
    const heavy = validateStudyConfig(
      {
        models: ['m'],
        devices: ['signal'],
        sigmas: Array.from({ length: 20 }, (_, i) => i / 10),
        votes: [1000],
        seeds: Array.from({ length: 20 }, (_, i) => i),
        dataset: { name: 'mnist', limit: null },
      },
      STUDY_DEVICES,
    );
    expect(() => checkStudyWork(heavy)).toThrow(ConfigError);
    expect(() => checkStudyWork(heavy)).toThrow(/grid = "4e9 inferences": expected at most 1e9 inferences per run/);
    expect(checkStudyWork(heavy, { shardCount: 8 }).inferences).toBe(4e9);
  });

  test('one model under two spellings, and a model that does not exist, are refused before the first point', async () => {
    const chip = (models: string) => () =>
      runCli(['study', '--models', models, '--devices', 'signal', '--sigmas', '0', '--limit', '10', '--out', path.join(dir, 'out')]);
    await expectConfigError(chip('cnn6-mnist-mult-0,zoo:cnn6-mnist-mult-0'), '--models[1]', /same model as models\[0\]/);
    await expectConfigError(chip('cnn6-mnist-mult-0,cnn6-mnist-mult-O'), '--models[1]', /a zoo model \(cnn6-mnist-add-0, /);
    await expectConfigError(chip(`${path.join(dir, 'none.onnx')}`), '--models[0]', /an existing \.onnx or tfjs model\.json file/);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  test('every model and the dataset limit are checked against the data before the first point', async () => {
    const out = path.join(dir, 'out');
    const chip = (...args: string[]) => () => runCli(['study', '--devices', 'signal', '--sigmas', '0', '--workers', '1', ...args, '--out', out]);
    // The last model takes stroke sequences, not MNIST digits: refused before cnn6 runs.
    await expectConfigError(chip('--models', 'cnn6-mnist-mult-0,lstm-strokes-mult-0', '--limit', '10'), '--models[1]', /taking samples of dataset mnist, \[28, 28, 1\] \(it takes \[100, 2\]\)/);
    await expectConfigError(chip('--models', 'cnn6-mnist-mult-0', '--limit', '10001'), '--limit', /a positive integer in 1\.\.10000 .* for dataset mnist/);
    // A last model file that does not load is named before any point.
    await expectNamedError(chip('--models', `cnn6-mnist-mult-0,${fixture('tfjs', 'unknown-layer', 'model.json')}`, '--limit', '10'), UnsupportedOpError, "unsupported op 'Denze' at node 'fc'");
    expect(fs.existsSync(out)).toBe(false);
    // From a config file, the field is named in the file.
    const file = path.join(dir, 'limit.json');
    fs.writeFileSync(file, JSON.stringify({ models: ['densenet40-cifar-mult-0'], devices: ['signal'], sigmas: [0], dataset: { name: 'cifar10-heldout', limit: 501 } }));
    await expectConfigError(() => runCli(['study', '--config', file, '--workers', '1', '--out', out]), `${file}: dataset.limit`, /at most 500/);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('ohmic train --out under /proc, on a file, and a /proc --checkpoint-dir fail before any training', async () => {
    const train = (...args: string[]) => () => runCli(['train', '--model', 'cnn6', '--noise', 'mult', '--sigma-train', '0', '--epochs', '1', '--data', path.join(dir, 'no-data'), ...args]);
    if (fs.existsSync('/proc/self')) {
      await expectConfigError(train('--out', '/proc/ohmic-hostile/x'), '--out', /cannot create \/proc\/ohmic-hostile/);
      await expectConfigError(train('--out', path.join(dir, 'zoo', 'x'), '--checkpoint-dir', '/proc/ohmic-hostile-ckpt'), '--checkpoint-dir', /cannot create \/proc\/ohmic-hostile-ckpt/);
    }
    const file = path.join(dir, 'taken');
    fs.writeFileSync(file, 'x');
    await expectConfigError(train('--out', file), '--out', /is an existing file, not a folder/);
    await expectConfigError(train('--out', path.join(file, 'x')), '--out', new RegExp(`${file} is an existing file, not a folder`));
    await expectConfigError(train('--out', path.join(file, 'x', 'y')), '--out', new RegExp(`${file} is a file, not a folder`));
    // Numbers are decimal, integers exact and in range, as in every other command.
    await expectConfigError(train('--out', path.join(dir, 'zoo', 'x'), '--seed', '0x10'), '--seed', /in decimal digits/);
    await expectConfigError(() => runCli(['train', '--model', 'cnn6', '--epochs', '0', '--data', dir, '--out', path.join(dir, 'zoo', 'x')]), '--epochs', /an integer >= 1/);
  });

  test('numbers in study flags are decimal only', async () => {
    await expectConfigError(study(path.join(dir, 'out'), '--root-seed', '0x10'), '--root-seed');
  });
});

// ------------------------------------------------------------------ merge

describe('hostile merges', () => {
  let shards: string;
  const smallConfig = fixture('studies', 'small.json');
  beforeEach(async () => {
    shards = path.join(dir, 'shards');
    for (const shard of ['1/2', '2/2']) {
      const run = await runMain(['study', '--config', smallConfig, '--evaluator', FAKE, '--workers', '1', '--out', shards, '--shard', shard]);
      expect(run.exitCode).toBeUndefined();
    }
  });
  const shard = (i: number) => path.join(shards, `results-shard-${i}-of-2.jsonl`);
  const tmpFiles = (folder: string) => fs.readdirSync(folder).filter((f) => f.endsWith('.tmp'));

  test('a missing shard exits non-zero and writes nothing (without --config, by the shard file names)', async () => {
    const merged = path.join(dir, 'merged.jsonl');
    const run = await runMain(['merge', '--out', merged, shard(2)]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe(`ohmic: DataError: ${shard(1)}: not among the inputs: 1 of the 2 shards are missing (1); pass every shard, or --allow-missing to merge the others\n`);
    expect(fs.existsSync(merged)).toBe(false);
  });

  test('a missing shard exits non-zero with --config, naming the config and the points', async () => {
    const merged = path.join(dir, 'merged.jsonl');
    const err = await expectNamedError(() => runCli(['merge', '--config', smallConfig, '--out', merged, shard(2)]), DataError, /2 of the study's 4 points are in no input/);
    expect((err as DataError).file).toBe(smallConfig);
    expect(fs.existsSync(merged)).toBe(false);
    // --allow-missing merges what is there, and says what is missing.
    const partial = await runMain(['merge', '--allow-missing', '--config', smallConfig, '--out', merged, shard(2)]);
    expect(partial.exitCode).toBeUndefined();
    expect(partial.stdout).toContain("2 of the study's 4 points present");
    expect(fs.existsSync(merged)).toBe(true);
  });

  test('merge --config of another study exits non-zero', async () => {
    const other = fixture('studies', 'other.json');
    const merged = path.join(dir, 'merged.jsonl');
    const run = await runMain(['merge', '--config', other, '--out', merged, shard(1), shard(2)]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^ohmic: DataError: ${other}: the inputs hold 4 points that are not in this study's grid`));
    expect(fs.existsSync(merged)).toBe(false);
  });

  test('--out on a folder is a ConfigError and leaves no .tmp file', async () => {
    const folder = path.join(dir, 'folder');
    fs.mkdirSync(folder);
    await expectConfigError(() => runCli(['merge', '--out', folder, shard(1), shard(2)]), '--out', /is a folder/);
    expect(fs.readdirSync(folder)).toEqual([]);
    expect(tmpFiles(dir)).toEqual([]);
  });

  test('an unwritable --report folder fails before the merged file is written', async () => {
    const merged = path.join(dir, 'merged.jsonl');
    const file = path.join(dir, 'taken');
    fs.writeFileSync(file, 'x');
    await expectConfigError(() => runCli(['merge', '--out', merged, '--report', path.join(file, 'report'), shard(1), shard(2)]), '--report', /is a file, not a folder/);
    expect(fs.existsSync(merged)).toBe(false);
    if (fs.existsSync('/proc/self')) {
      await expectConfigError(() => runCli(['merge', '--out', merged, '--report', '/proc/ohmic-report', shard(1), shard(2)]), '--report', /cannot create/);
      expect(fs.existsSync(merged)).toBe(false);
    }
  });

  (isRoot ? test.skip : test)('a read-only --report folder fails before the merged file is written', async () => {
    const merged = path.join(dir, 'merged.jsonl');
    const report = path.join(dir, 'report');
    fs.mkdirSync(report);
    fs.chmodSync(report, 0o555);
    await expectConfigError(() => runCli(['merge', '--out', merged, '--report', report, shard(1), shard(2)]), '--report', /permission denied/);
    expect(fs.existsSync(merged)).toBe(false);
    fs.chmodSync(report, 0o755);
  });

  test('every shard merges', async () => {
    const merged = path.join(dir, 'merged.jsonl');
    const run = await runMain(['merge', '--config', smallConfig, '--out', merged, shard(1), shard(2)]);
    expect(run.exitCode).toBeUndefined();
    expect(run.stdout).toContain("4 of the study's 4 points present");
  });
});

// ------------------------------------------------------------------ results that cannot mix

describe('hostile resumes and merges: points are identified by content', () => {
  const resumeStudy = (out: string, ...args: string[]) => () =>
    runCli(['study', '--devices', 'signal', '--limit', '10', '--workers', '1', '--evaluator', FAKE, ...args, '--out', out, '--resume']);

  test('--resume with a different grid is an error naming a stored point the grid lacks', async () => {
    const out = path.join(dir, 'out');
    await runCli(['study', '--models', 'cnn6', '--devices', 'signal', '--sigmas', '0,0.5', '--limit', '10', '--workers', '1', '--evaluator', FAKE, '--out', out]);
    const results = path.join(out, 'results.jsonl');
    const before = fs.readFileSync(results, 'utf8');
    const err = (await expectNamedError(resumeStudy(out, '--models', 'cnn6', '--sigmas', '0.1'), DataError, /sigma=0 semantics=signal votes=1 is not in this study's grid/)) as DataError;
    expect(err.file).toBe(`${results}:1`);
    expect(err.message).toMatch(/rerun without --resume \(into a new or empty folder\) or use a new --out$/);
    expect(fs.readFileSync(results, 'utf8')).toBe(before);
    // A grid that holds every stored point (one σ more) resumes, computing only the new point.
    const grown = await runCli(['study', '--models', 'cnn6', '--devices', 'signal', '--sigmas', '0,0.5,1', '--limit', '10', '--workers', '1', '--evaluator', FAKE, '--out', out, '--resume']);
    expect(grown).toMatch(/^ohmic study: 3 points \(1 computed, 2 already done\)/);
  });

  test('--resume after a chip file was edited, or with another --limit, names the field that changed', async () => {
    const out = path.join(dir, 'out');
    const chip = path.join(dir, 'chip.json');
    fs.writeFileSync(chip, '{ "device": "reram", "tile": "256x256" }');
    const args = (limit: string) => ['--models', 'cnn6', '--devices', chip, '--limit', limit, '--workers', '1', '--evaluator', FAKE, '--out', out];
    await runCli(['study', ...args('10')]);
    await expectNamedError(() => runCli(['study', ...args('20'), '--resume']), DataError, /is not in this study's grid \(its dataset changed \(dataset\.limit: 10 → 20\); resuming would mix two grids/);
    fs.writeFileSync(chip, '{ "device": "reram", "tile": "128x128" }');
    await expectNamedError(() => runCli(['study', ...args('10'), '--resume']), DataError, /\(its hardware changed \(hardware\.chip\.tile: "256x256" → "128x128"\)/);
  });

  test('--resume after the model file was replaced names the point, the model and both hashes', async () => {
    const out = path.join(dir, 'out');
    const model = path.join(dir, 'm.onnx');
    fs.writeFileSync(model, 'the first model');
    await runCli(['study', '--models', model, '--devices', 'signal', '--sigmas', '0', '--limit', '10', '--workers', '1', '--evaluator', FAKE, '--out', out]);
    fs.writeFileSync(model, 'a retrained model');
    await expectNamedError(
      resumeStudy(out, '--models', model, '--sigmas', '0'),
      DataError,
      new RegExp(`results\\.jsonl:1: point [0-9a-f]{16} \\(model ${model}\\): model file changed \\(sha256 [0-9a-f]{12}… → [0-9a-f]{12}…\\); rerun without --resume`),
    );
  });

  test('--resume over a results file of format 1 (no identities) says to rerun', async () => {
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.copyFileSync(fixture('results-files', 'format-1.jsonl'), path.join(out, 'results.jsonl'));
    await expectNamedError(
      () => runCli(['study', '--config', fixture('studies', 'small.json'), '--evaluator', FAKE, '--workers', '1', '--out', out, '--resume']),
      DataError,
      /results\.jsonl:1: point cbc99a4acfb779ef \(model cnn6\) was written by an older ohmic \(results format 1\).*; rerun without --resume/,
    );
    // ohmic merge refuses it too: nothing tells which study it belongs to.
    const run = await runMain(['merge', '--out', path.join(dir, 'm.jsonl'), fixture('results-files', 'format-1.jsonl')]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^ohmic: DataError: .*format-1\.jsonl:1: was written by an older ohmic \(results format 1\)/);
  });

  test('merge of shards of two different studies exits non-zero naming both files', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    await runMain(['study', '--config', fixture('studies', 'small.json'), '--evaluator', FAKE, '--workers', '1', '--out', a, '--shard', '1/2']);
    await runMain(['study', '--config', fixture('studies', 'other.json'), '--evaluator', FAKE, '--workers', '1', '--out', b, '--shard', '2/2']);
    const s1 = path.join(a, 'results-shard-1-of-2.jsonl');
    const s2 = path.join(b, 'results-shard-2-of-2.jsonl');
    const merged = path.join(dir, 'merged.jsonl');
    const run = await runMain(['merge', '--out', merged, s1, s2]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^ohmic: DataError: ${s2}:1: holds results of study [0-9a-f]{16}, but ${s1}:1 of study [0-9a-f]{16}: shards of different study configs`));
    expect(fs.existsSync(merged)).toBe(false);
  });

  test('merge of shards whose model file was replaced between them exits non-zero', async () => {
    const model = path.join(dir, 'm.onnx');
    const config = path.join(dir, 'study.json');
    fs.writeFileSync(config, JSON.stringify({ models: [model], devices: ['signal'], sigmas: [0, 0.5], dataset: { name: 'mnist', limit: 10 } }));
    const out = path.join(dir, 'out');
    fs.writeFileSync(model, 'first');
    await runMain(['study', '--config', config, '--evaluator', FAKE, '--workers', '1', '--out', out, '--shard', '1/2']);
    fs.writeFileSync(model, 'second');
    await runMain(['study', '--config', config, '--evaluator', FAKE, '--workers', '1', '--out', out, '--shard', '2/2']);
    const shard = (i: number) => path.join(out, `results-shard-${i}-of-2.jsonl`);
    const run = await runMain(['merge', '--config', config, '--out', path.join(dir, 'merged.jsonl'), shard(1), shard(2)]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^ohmic: DataError: ${shard(2)}:1: model ${model} has sha256 [0-9a-f]{12}… here, but [0-9a-f]{12}… in ${shard(1)}:1: the model was replaced between runs`));
  });
});

describe('the CLI as installed from a clone (bin/ohmic.js through tsx, not jest)', () => {
  test('a tfjs model with an unknown layer class is one line naming the layer, exit 2', () => {
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const bin = path.resolve(__dirname, '..', '..', 'bin', 'ohmic.js');
    const run = spawnSync(process.execPath, [bin, 'compile', '--model', fixture('tfjs', 'unknown-layer', 'model.json'), '--device', 'ideal'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^ohmic: UnsupportedOpError: unsupported op 'Denze' at node 'fc'; supported ops: [^\n]*\n$/);
  });
});

describe('the test suite does not depend on an idle machine', () => {
  test('no test file lowers the configured timeout (jest.setTimeout or a per-test limit)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const configured = (require('../../jest.config.js') as { testTimeout: number }).testTimeout;
    expect(configured).toBeGreaterThanOrEqual(600_000);
    const walk = (d: string): string[] =>
      fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.test.ts') ? [path.join(d, e.name)] : []));
    const lowered: string[] = [];
    for (const file of walk(path.resolve(__dirname, '..'))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/jest\.setTimeout\(\s*([0-9_]+)\s*\)|^\s*\},\s*([0-9_]+)\s*\);?\s*$/gm)) {
        const ms = Number((m[1] ?? m[2]).replace(/_/g, ''));
        if (ms < configured) lowered.push(`${path.relative(path.resolve(__dirname, '..'), file)}: ${m[0].trim()}`);
      }
    }
    expect(lowered).toEqual([]);
  });
});

test('every error class of the corpus is an OhmicError (main prints it as one line, exit 2)', () => {
  for (const cls of [ConfigError, DataError, ShapeError, UnsupportedOpError]) expect(cls.prototype).toBeInstanceOf(OhmicError);
});

describe('library-level chip and device checks', () => {
  test('a preset with a conflicting kind, and a tile beyond any array, are named errors', () => {
    const { deviceFromConfig } = require('../../src/crossbar/presets') as typeof import('../../src/crossbar/presets');
    const { validateChipSpec } = require('../../src/crossbar/chipSpec') as typeof import('../../src/crossbar/chipSpec');
    const { ConfigError } = require('../../src/errors') as typeof import('../../src/errors');
    expect(() => deviceFromConfig({ preset: 'pcm', kind: 'reram' })).toThrow(ConfigError);
    expect(() => deviceFromConfig({ preset: 'pcm', kind: 'reram' })).toThrow(/device\.kind/);
    expect(deviceFromConfig({ preset: 'pcm', kind: 'pcm' }).kind).toBe('pcm');
    expect(() => validateChipSpec({ device: 'reram', tile: '99999999999999999999x1' })).toThrow(/tile\.rows/);
    expect(() => validateChipSpec({ device: 'reram', tile: { rows: 2 ** 21, cols: 4 } })).toThrow(ConfigError);
  });
});
