import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { GraphExecutor, exactMvm, execute } from '../../src/compiler/executor';
import { fromTfjsLayersModel } from '../../src/compiler/frontends/tfjsLayers';
import { loadTfjsModelFromDir, saveTfjsModelToDir } from '../../src/compiler/frontends/tfjsFiles';
import { isAnalog } from '../../src/compiler/ir/graph';
import { printGraph } from '../../src/compiler/ir/print';
import { DataError, ShapeError, UnsupportedOpError } from '../../src/errors';
import { relMaxError, seededInput } from './helpers';
import { cnn, convVariants, denseBlock, fixtureCnn, lstmClassifier, lstmSequence, mlp } from './tfjsModels';

beforeAll(async () => {
  await initBackend();
});

const TOL = 1e-4;

/** Worst relative error of the executor against `predict`, over the fused and the im2col (hooked) paths. */
function compareWithPredict(model: tf.LayersModel, inputShape: number[], seed: number): number {
  const graph = fromTfjsLayersModel(model);
  const x = seededInput(inputShape, seed);
  const expected = model.predict(x) as tf.Tensor;
  const fused = execute(graph, x);
  const viaHook = execute(graph, x, { mvm: exactMvm });
  const err = Math.max(relMaxError(fused, expected), relMaxError(viaHook, expected));
  tf.dispose([x, expected, fused, viaHook]);
  return err;
}

describe('fromTfjsLayersModel matches model.predict (1e-4 of max |y|)', () => {
  test('MLP (dense + relu/tanh/sigmoid/softmax, dropout)', () => {
    const model = mlp(1);
    const graph = fromTfjsLayersModel(model);
    expect(graph.nodes.map((n) => n.op)).toEqual([
      'input', 'dense', 'relu', 'identity', 'dense', 'tanh', 'dense', 'sigmoid', 'dense', 'softmax',
    ]);
    expect(graph.nodes.filter(isAnalog).map((n) => n.name)).toEqual(['fc1', 'fc2', 'fc3', 'out']);
    expect(compareWithPredict(model, [9, 20], 11)).toBeLessThan(TOL);
  });

  test('CNN with conv, BN, max pool and avg pool', () => {
    const model = cnn(2);
    const graph = fromTfjsLayersModel(model);
    expect(graph.nodes.find((n) => n.name === 'pool2')?.attrs).toMatchObject({ padding: 'same', countIncludePad: false });
    expect(graph.nodes.find((n) => n.name === 'logits')?.outputShape).toEqual([null, 10]);
    expect(compareWithPredict(model, [4, 12, 12, 3], 12)).toBeLessThan(TOL);
  });

  test('1x1, depthwise, strided same and dilated convs', () => {
    const model = convVariants(3);
    const graph = fromTfjsLayersModel(model);
    const dw = graph.nodes.find((n) => n.name === 'depthwise');
    expect(dw?.op).toBe('conv2d');
    expect(dw?.op === 'conv2d' && dw.attrs.groups).toBe(5);
    expect(dw?.outputShape).toEqual([null, 10, 10, 10]);
    expect(graph.nodes.find((n) => n.name === 'strided')?.outputShape).toEqual([null, 5, 5, 6]);
    expect(graph.nodes.find((n) => n.name === 'dilated')?.outputShape).toEqual([null, 1, 3, 7]);
    expect(compareWithPredict(model, [3, 10, 10, 4], 13)).toBeLessThan(TOL);
  });

  test('dense block with concat, global average pool and add', () => {
    const model = denseBlock(4);
    const graph = fromTfjsLayersModel(model);
    expect(graph.inputs).toEqual(['image']);
    expect(graph.nodes.find((n) => n.name === 'block_concat1')?.outputShape).toEqual([null, 8, 8, 12]);
    expect(compareWithPredict(model, [5, 8, 8, 4], 14)).toBeLessThan(TOL);
  });

  test('LSTM classifier, last state only', () => {
    expect(compareWithPredict(lstmClassifier(5, false), [6, 7, 5], 15)).toBeLessThan(TOL);
  });

  test('stacked LSTMs (returnSequences true, then false)', () => {
    const model = lstmClassifier(6, true);
    const graph = fromTfjsLayersModel(model);
    expect(graph.nodes.find((n) => n.name === 'lstm_seq')?.outputShape).toEqual([null, 7, 8]);
    expect(compareWithPredict(model, [6, 7, 5], 16)).toBeLessThan(TOL);
  });

  test('LSTM returning the whole sequence as output', () => {
    expect(compareWithPredict(lstmSequence(7), [3, 4, 3], 17)).toBeLessThan(TOL);
  });
});

describe('tfjs files', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-tfjs-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('save → load round trip through model.json + weights.bin keeps the function', async () => {
    const model = denseBlock(8);
    const file = await saveTfjsModelToDir(model, path.join(tmp, 'block'));
    expect(fs.existsSync(path.join(tmp, 'block', 'weights.bin'))).toBe(true);
    const loaded = await loadTfjsModelFromDir(path.dirname(file));
    const x = seededInput([3, 8, 8, 4], 18);
    const expected = model.predict(x) as tf.Tensor;
    const actual = execute(fromTfjsLayersModel(loaded), x);
    expect(relMaxError(actual, expected)).toBeLessThan(TOL);
    tf.dispose([x, expected, actual]);
  });

  test('committed fixture reproduces its recorded outputs', async () => {
    const dir = path.join(__dirname, '..', 'fixtures', 'tfjs', 'cnn-small');
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
      inputShape: number[];
      input: number[];
      outputShape: number[];
      output: number[];
    };
    const model = await loadTfjsModelFromDir(path.join(dir, 'model.json'));
    const graph = fromTfjsLayersModel(model);
    expect(printGraph(graph)).toContain('%conv = conv2d(%');
    const x = tf.tensor(record.input, record.inputShape);
    const expected = tf.tensor(record.output, record.outputShape);
    const actual = execute(graph, x);
    expect(relMaxError(actual, expected)).toBeLessThan(TOL);
    // The same seed-built model (the fixture script's recipe) still gives these outputs.
    const rebuilt = fixtureCnn(42).predict(x) as tf.Tensor;
    expect(relMaxError(rebuilt, expected)).toBeLessThan(TOL);
    tf.dispose([x, expected, actual, rebuilt]);
  });

  test('a missing file is a DataError naming it', async () => {
    const missing = path.join(tmp, 'nope', 'model.json');
    await expect(loadTfjsModelFromDir(missing)).rejects.toThrow(DataError);
    await expect(loadTfjsModelFromDir(missing)).rejects.toThrow(missing);
  });

  test('a truncated weight shard is a DataError', async () => {
    const dir = path.join(tmp, 'short');
    await saveTfjsModelToDir(mlp(9), dir);
    const bin = path.join(dir, 'weights.bin');
    fs.writeFileSync(bin, fs.readFileSync(bin).subarray(0, 100));
    await expect(loadTfjsModelFromDir(dir)).rejects.toThrow(/weight shards hold 100 bytes, the manifest needs \d+/);
  });
});

describe('frontend errors', () => {
  test('a SimpleRNN layer is an UnsupportedOpError naming the layer and the supported list', () => {
    const model = tf.sequential({
      layers: [tf.layers.simpleRNN({ inputShape: [4, 3], units: 2, name: 'my_rnn' }), tf.layers.dense({ units: 2 })],
    });
    expect(() => fromTfjsLayersModel(model)).toThrow(UnsupportedOpError);
    expect(() => fromTfjsLayersModel(model)).toThrow(/unsupported op 'SimpleRNN' at node 'my_rnn'; supported ops: InputLayer, Dense, .*LSTM, GRU/);
  });

  test('a Conv3D layer is an UnsupportedOpError', () => {
    const model = tf.sequential({ layers: [tf.layers.conv3d({ inputShape: [4, 4, 4, 1], filters: 2, kernelSize: 2, name: 'vol' })] });
    expect(() => fromTfjsLayersModel(model)).toThrow(/unsupported op 'Conv3D' at node 'vol'/);
  });

  test("an LSTM with tfjs's default hardSigmoid recurrent activation (once refused) converts with that gate activation", () => {
    const model = tf.sequential({ layers: [tf.layers.lstm({ inputShape: [4, 3], units: 2, name: 'hard' })] });
    const cell = fromTfjsLayersModel(model).nodes[1];
    expect(cell.op === 'lstm' && cell.attrs.recurrentActivation).toBe('hardSigmoid');
    // Against tfjs's predict: thirdPartyTfjs.test.ts.
  });

  test('an unsupported activation is rejected', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, activation: 'elu', name: 'e' })] });
    expect(() => fromTfjsLayersModel(model)).toThrow(/unsupported op 'activation "elu"' at node 'e'; supported ops: linear, relu/);
  });

  test('a NaN weight is a ShapeError naming the node and the tensor', () => {
    const model = mlp(10);
    const layer = model.getLayer('fc2');
    const [kernel, bias] = layer.getWeights();
    const data = kernel.dataSync().slice();
    data[7] = NaN;
    layer.setWeights([tf.tensor(data, kernel.shape), bias]);
    expect(() => fromTfjsLayersModel(model)).toThrow(ShapeError);
    expect(() => fromTfjsLayersModel(model)).toThrow(/node 'fc2' \(dense\): constant 'weights' has a non-finite value NaN at flat index 7/);
  });

  test('noise layers are recognised by class name with a sigma or stddev field', () => {
    // An identity layer of another library's noise class: only its class name and config field count.
    const foreignNoiseLayer = (className: string, field: 'sigma' | 'stddev', value: number, name: string): tf.layers.Layer => {
      class ForeignNoise extends tf.layers.Layer {
        static className = className;
        constructor() {
          super({ name });
        }
        override call(x: tf.Tensor | tf.Tensor[]): tf.Tensor {
          return Array.isArray(x) ? x[0] : x;
        }
        override getConfig() {
          return { ...super.getConfig(), [field]: value };
        }
      }
      return new ForeignNoise();
    };
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4, name: 'd' }),
        foreignNoiseLayer('MultiplicativeGaussianNoise', 'sigma', 0.4, 'mnoise'),
        foreignNoiseLayer('AdditiveGaussianNoise', 'stddev', 0.1, 'anoise'),
      ],
    });
    const graph = fromTfjsLayersModel(model);
    expect(graph.nodes.slice(2).map((n) => [n.op, n.attrs])).toEqual([
      ['noise', { kind: 'multiplicative', sigma: 0.4 }],
      ['noise', { kind: 'additive', sigma: 0.1 }],
    ]);
  });
});

test('repeated execution does not leak tensors', () => {
  const model = cnn(11);
  const beforeConvert = tf.memory().numTensors;
  const graph = fromTfjsLayersModel(model);
  expect(tf.memory().numTensors).toBe(beforeConvert);
  const ex = new GraphExecutor(graph);
  const x = seededInput([2, 12, 12, 3], 19);
  ex.run(x).dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) ex.run(x).dispose();
  expect(tf.memory().numTensors).toBe(before);
  const withWeights = tf.memory().numTensors;
  ex.dispose();
  // conv1, conv2: matrix + bias + fused filter; logits: matrix + bias; bn1, bn2: scale + shift.
  expect(withWeights - tf.memory().numTensors).toBe(12);
  x.dispose();
});
