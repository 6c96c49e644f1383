import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { execute } from '../../src/compiler/executor';
import { ONNX_OPSET_RANGE, SUPPORTED_ONNX_OPS, fromOnnx, loadOnnxFile } from '../../src/compiler/frontends/onnx';
import { NCHW_AS_NHWC, layoutChange, moveAxisLast, permutationIndex, transposeAxes } from '../../src/compiler/frontends/onnx/layout';
import type { Graph, Node } from '../../src/compiler/ir/graph';
import { isAnalog } from '../../src/compiler/ir/graph';
import { verifyGraph } from '../../src/compiler/ir/verify';
import { DataError, ShapeError, UnsupportedOpError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { SCHEMA_PATH, onnxSchemaFromProto } from '../fixtures/onnx/makeOnnxSchema';
import { readTorchRecord, relMaxError, type TorchRecord } from './helpers';
import { encodeModel, floats, intAttr, node, valueInfo } from './syntheticOnnx';

const DIR = path.join(__dirname, '..', 'fixtures', 'onnx');
const TOL = 1e-4;

beforeAll(async () => {
  await initBackend();
});

function expected(model: string): TorchRecord {
  return readTorchRecord(path.join(DIR, `${model}.json`));
}

function fixture(model: string, opset: number): string {
  return path.join(DIR, `${model}_op${opset}.onnx`);
}

/** Relative max error of the graph's output against PyTorch's, on the stored inputs. */
function errorAgainstTorch(graph: Graph, model: string, layout: 'nchw' | 'nhwc' = 'nchw'): number {
  const record = expected(model);
  let x = tf.tensor(record.input, record.inputShape);
  if (layout === 'nhwc') {
    const nhwc = tf.transpose(x, [0, 2, 3, 1]);
    x.dispose();
    x = nhwc;
  }
  const want = tf.tensor(record.output, record.outputShape);
  const got = execute(graph, x);
  const err = relMaxError(got, want);
  tf.dispose([x, want, got]);
  return err;
}

const ops = (g: Graph) => g.nodes.map((n) => n.op);
const byName = (g: Graph, name: string): Node => {
  const n = g.nodes.find((m) => m.name === name);
  if (!n) throw new Error(`no node ${name} in ${g.nodes.map((m) => m.name).join(', ')}`);
  return n;
};

describe('PyTorch exports match PyTorch within 1e-4 of max |y|', () => {
  const models = ['mlp', 'cnn', 'dense_block', 'conv_variants', 'lstm', 'lstm_seq', 'attention'];
  const cases = models.flatMap((m) => [11, 13, 17].map((opset) => [m, opset] as const));
  test.each(cases)('%s at opset %i', (model, opset) => {
    expect(errorAgainstTorch(loadOnnxFile(fixture(model, opset)), model)).toBeLessThan(TOL);
  });
});

describe('hand-built models for attributes PyTorch does not emit', () => {
  test('Conv auto_pad=SAME_UPPER + Transpose to NHWC + Reshape [0, -1] + MatMul/Add (opset 13)', () => {
    const g = loadOnnxFile(fixture('layout_ops', 13));
    // The only transpose is the NCHW → NHWC one at the input: the model's own Transpose
    // to NHWC is absorbed, so its Reshape flattens the IR tensor as it is (H, W, C).
    expect(ops(g)).toEqual(['input', 'transpose', 'conv2d', 'reshape', 'dense']);
    expect(byName(g, 'conv_same_upper').attrs).toMatchObject({ padding: 'same', strides: [2, 2] });
    expect(byName(g, 'fc_matmul').attrs).toHaveProperty('bias');
    expect(errorAgainstTorch(g, 'layout_ops')).toBeLessThan(TOL);
  });

  test('AveragePool count_include_pad=1, Conv auto_pad=SAME_LOWER, asymmetric MaxPool pads (opset 11)', () => {
    const g = loadOnnxFile(fixture('pool_pad_ops', 11));
    expect(byName(g, 'avg_incl').attrs).toMatchObject({ padding: [1, 1, 1, 1], countIncludePad: true });
    // SAME_LOWER puts the odd padding pixel first (top/left), unlike TF's SAME.
    expect(byName(g, 'conv_same_lower').attrs).toMatchObject({ padding: [1, 0, 1, 0] });
    // ONNX pads [top, left, bottom, right] = [1, 0, 0, 1] → IR [top, bottom, left, right].
    expect(byName(g, 'max_asym').attrs).toMatchObject({ padding: [1, 0, 0, 1] });
    expect(errorAgainstTorch(g, 'pool_pad_ops')).toBeLessThan(TOL);
  });

  test('Gemm transA/transB/alpha/beta with float_data C, Reshape allowzero=1, Softmax axis=1 (opset 14)', () => {
    const g = loadOnnxFile(fixture('gemm_attrs', 14));
    // Transpose + transA cancel: no IR transpose at all.
    expect(ops(g)).toEqual(['input', 'dense', 'reshape', 'softmax', 'flatten']);
    expect(byName(g, 'softmax').attrs).toEqual({ axis: 1 });
    expect(errorAgainstTorch(g, 'gemm_attrs')).toBeLessThan(TOL);
  });

  test('opset-11 Softmax(axis=1) normalises over all trailing axes, as ONNX defined it then', () => {
    const g = loadOnnxFile(fixture('softmax_coerced', 11));
    expect(ops(g)).toEqual(['input', 'reshape', 'softmax', 'reshape']);
    expect(errorAgainstTorch(g, 'softmax_coerced')).toBeLessThan(TOL);
  });
});

describe('layouts at the NCHW ↔ NHWC boundary', () => {
  test('a Flatten after NCHW conv features flattens in (C, H, W) order: one NHWC → NCHW transpose before it', () => {
    const g = loadOnnxFile(fixture('cnn', 13));
    expect(ops(g)).toEqual([
      'input', 'transpose', 'conv2d', 'batchNorm', 'relu', 'maxPool', 'conv2d', 'batchNorm', 'relu', 'avgPool', 'transpose', 'flatten', 'dense',
    ]);
    const flatten = g.nodes.find((n) => n.op === 'flatten')!;
    const before = byName(g, flatten.inputs[0]);
    expect(before.op === 'transpose' && before.attrs.perm).toEqual([0, 3, 1, 2]);
    expect(before.outputShape).toEqual([null, 6, 2, 2]);
    expect(g.nodes[1].op === 'transpose' && g.nodes[1].attrs.perm).toEqual([0, 2, 3, 1]);
  });

  test('dropping that transpose (flattening NHWC order) breaks the match: the test can see the classic bug', () => {
    const g = loadOnnxFile(fixture('cnn', 13));
    const flatten = g.nodes.find((n) => n.op === 'flatten')!;
    const transposeName = flatten.inputs[0];
    const source = byName(g, transposeName).inputs[0];
    const nodes = g.nodes
      .filter((n) => n.name !== transposeName)
      .map((n) => (n === flatten ? ({ ...n, inputs: [source] } as Node) : n));
    const wrong = verifyGraph({ ...g, nodes });
    expect(errorAgainstTorch(wrong, 'cnn')).toBeGreaterThan(0.05);
  });

  test("imageInputLayout 'nhwc' takes NHWC inputs with no input transpose and the same outputs", () => {
    const g = loadOnnxFile(fixture('cnn', 17), { imageInputLayout: 'nhwc' });
    expect(g.nodes[0].outputShape).toEqual([null, 12, 12, 3]);
    expect(g.nodes[1].op).toBe('conv2d');
    expect(ops(g).filter((o) => o === 'transpose')).toHaveLength(1);
    expect(errorAgainstTorch(g, 'cnn', 'nhwc')).toBeLessThan(TOL);
  });

  test('GlobalAveragePool → Flatten needs no transpose; Concat joins NHWC channels (axis 3)', () => {
    const g = loadOnnxFile(fixture('dense_block', 13));
    expect(ops(g).filter((o) => o === 'transpose')).toHaveLength(1);
    const concats = g.nodes.filter((n) => n.op === 'concat');
    expect(concats.map((n) => n.op === 'concat' && n.attrs.axis)).toEqual([3, 3]);
    expect(concats.map((n) => n.outputShape)).toEqual([
      [null, 8, 8, 10],
      [null, 8, 8, 14],
    ]);
  });

  test('depthwise, dilated, strided, grouped convs and both AvgPool padding conventions', () => {
    const g = loadOnnxFile(fixture('conv_variants', 13));
    const convs = g.nodes.filter((n) => n.op === 'conv2d');
    expect(convs.map((n) => n.op === 'conv2d' && [n.attrs.kernel.shape, n.attrs.groups, n.attrs.dilations, n.attrs.strides])).toEqual([
      [[3, 3, 1, 8], 4, [1, 1], [1, 1]],
      [[3, 3, 8, 6], 1, [2, 2], [1, 1]],
      [[3, 3, 6, 5], 1, [1, 1], [2, 2]],
      [[1, 1, 5, 4], 2, [1, 1], [1, 1]],
    ]);
    const pools = g.nodes.filter((n) => n.op === 'avgPool');
    // PyTorch's count_include_pad=True is an explicit Pad node, absorbed into the pool.
    expect(pools.map((n) => n.op === 'avgPool' && [n.attrs.padding, n.attrs.countIncludePad])).toEqual([
      [[1, 1, 1, 1], true],
      [[1, 1, 1, 1], false],
    ]);
  });
});

describe('analog marking', () => {
  test('MLP: every Gemm with constant weights is an analog dense node', () => {
    const g = loadOnnxFile(fixture('mlp', 11));
    expect(ops(g)).toEqual(['input', 'dense', 'relu', 'dense', 'tanh', 'dense', 'sigmoid', 'dense', 'softmax']);
    expect(g.nodes.filter(isAnalog)).toHaveLength(4);
  });

  test('attention block: the four Linear layers are analog, the two activation products digital', () => {
    const g = loadOnnxFile(fixture('attention', 17));
    expect(g.nodes.filter(isAnalog).map((n) => [n.name, n.op])).toEqual([
      ['/q/MatMul', 'dense'],
      ['/k/MatMul', 'dense'],
      ['/v/MatMul', 'dense'],
      ['/o/MatMul', 'dense'],
    ]);
    const products = g.nodes.filter((n) => n.op === 'matmul');
    expect(products.map((n) => [n.name, isAnalog(n), n.outputShape])).toEqual([
      ['/MatMul', false, [null, 5, 5]],
      ['/MatMul_1', false, [null, 5, 8]],
    ]);
    // Each Linear's MatMul + Add(bias) is one dense node with a bias; the only add left is the residual.
    expect(g.nodes.filter(isAnalog).every((n) => n.op === 'dense' && n.attrs.bias !== undefined)).toBe(true);
    expect(g.nodes.filter((n) => n.op === 'add').map((n) => n.inputs)).toEqual([['/o/MatMul', 'x']]);
    // kᵀ is a transpose feeding the digital product, not a weight.
    expect(byName(g, '/MatMul').inputs).toEqual(['/q/MatMul', '/MatMul/onnx_order']);
  });

  test('LSTM classifier: one analog lstm (last state) and one dense; the Shape → ConstantOfShape state chain is skipped', () => {
    const g = loadOnnxFile(fixture('lstm', 13));
    expect(ops(g)).toEqual(['input', 'lstm', 'dense']);
    const cell = g.nodes[1];
    expect(cell.op === 'lstm' && [cell.attrs.units, cell.attrs.returnSequences, cell.attrs.kernel.shape]).toEqual([8, false, [5, 32]]);
    expect(isAnalog(cell)).toBe(true);
  });

  test('LSTM over the whole sequence: Y, Squeeze of the direction axis and Transpose back cost no IR node', () => {
    for (const opset of [11, 13]) {
      const g = loadOnnxFile(fixture('lstm_seq', opset));
      expect(ops(g)).toEqual(['input', 'lstm', 'dense']);
      expect(g.nodes[1].op === 'lstm' && g.nodes[1].attrs.returnSequences).toBe(true);
      expect(g.nodes[2].outputShape).toEqual([null, 6, 3]);
    }
  });
});

// ------------------------------------------------------------- synthetic models

const weight = (name: string, rows: number, cols: number) => floats(name, [rows, cols], Array.from({ length: rows * cols }, (_, i) => (i % 7) / 10 - 0.3));

function runSynthetic(bytes: Uint8Array, input: number[], shape: number[]): { graph: Graph; output: number[]; outputShape: number[] } {
  const graph = fromOnnx(bytes);
  const x = tf.tensor(input, shape);
  const y = execute(graph, x);
  const result = { graph, output: Array.from(y.dataSync()), outputShape: y.shape };
  tf.dispose([x, y]);
  return result;
}

describe('bookkeeping ops (synthetic models)', () => {
  const x = [-1.5, 0.25, 2, 0.5, -0.75, 1];

  test('Constant (value_floats) bias, Unsqueeze/Squeeze (axes input), Dropout and Identity', () => {
    const bytes = encodeModel(
      [
        node('Constant', [], ['c'], 'const', [{ name: 'value_floats', type: 6, floats: [1, 2, 3] }]),
        node('Add', ['x', 'c'], ['a'], 'add'),
        node('Constant', [], ['axes'], 'axes', [{ name: 'value_ints', type: 7, ints: [1] }]),
        node('Unsqueeze', ['a', 'axes'], ['u'], 'unsqueeze'),
        node('Squeeze', ['u', 'axes'], ['s'], 'squeeze'),
        node('Dropout', ['s'], ['d'], 'dropout'),
        node('Identity', ['d'], ['y'], 'identity'),
      ],
      [valueInfo('x', ['N', 3])],
      [valueInfo('y', ['N', 3])],
    );
    const { graph, output } = runSynthetic(bytes, x, [2, 3]);
    expect(ops(graph)).toEqual(['input', 'add']);
    expect(output).toEqual(x.map((v, i) => v + [1, 2, 3][i % 3]));
  });

  test('Squeeze (axes attribute, opset 11) of a real size-1 axis is an IR reshape', () => {
    const bytes = encodeModel(
      [node('Squeeze', ['x'], ['s'], 'squeeze', [{ name: 'axes', type: 7, ints: [1] }]), node('Relu', ['s'], ['y'], 'relu')],
      [valueInfo('x', ['N', 1, 3])],
      [valueInfo('y', ['N', 3])],
      [],
      11,
    );
    const { graph, output, outputShape } = runSynthetic(bytes, x, [2, 1, 3]);
    expect(ops(graph)).toEqual(['input', 'reshape', 'relu']);
    expect(outputShape).toEqual([2, 3]);
    expect(output).toEqual(x.map((v) => Math.max(v, 0)));
  });

  test('Reshape whose first entry is the exported batch size keeps the batch; one that splits it is unsupported', () => {
    const reshapeTo = (shape: number[]) =>
      encodeModel(
        [node('Reshape', ['x', 'shape'], ['y'], 'reshape')],
        [valueInfo('x', [2, 6])],
        [valueInfo('y', shape)],
        [{ name: 'shape', dims: [shape.length], dataType: 7, int64Data: shape }],
      );
    const data = Array.from({ length: 18 }, (_, i) => i);
    const { graph, output, outputShape } = runSynthetic(reshapeTo([2, 3, 2]), data, [3, 6]);
    expect(graph.nodes[1].op === 'reshape' && graph.nodes[1].attrs.shape).toEqual([3, 2]);
    expect([outputShape, output]).toEqual([[3, 3, 2], data]);
    expect(() => fromOnnx(reshapeTo([3, 4]))).toThrow(UnsupportedOpError);
    expect(() => fromOnnx(reshapeTo([3, 4]))).toThrow("unsupported op 'Reshape to [3, 4]' at node 'reshape'");
  });

  test('a MatMul with a constant left operand is unsupported, naming the node', () => {
    const bytes = encodeModel([node('MatMul', ['w', 'x'], ['y'], 'left')], [valueInfo('x', ['N', 4])], [valueInfo('y', [3, 4])], [weight('w', 3, 4)]);
    expect(() => fromOnnx(bytes)).toThrow("unsupported op 'MatMul with a constant left operand' at node 'left'");
  });
});

describe('error cases', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-onnx-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('a GRU and a bidirectional LSTM (once refused) convert: one analog node per direction', () => {
    // Their outputs against PyTorch's are in thirdPartyOnnx.test.ts.
    expect(ops(loadOnnxFile(fixture('gru', 13)))).toEqual(['input', 'gru', 'dense']);
    const bi = loadOnnxFile(fixture('bilstm', 13));
    expect(ops(bi).filter((o) => o === 'lstm')).toHaveLength(2);
    expect(bi.nodes.filter((n) => n.op === 'lstm').map((n) => n.op === 'lstm' && (n.attrs.reverse ?? false))).toEqual([false, true]);
  });

  test('an unsupported op is an UnsupportedOpError naming the op, the node and the supported ops', () => {
    const bytes = encodeModel([node('Resize', ['x'], ['y'], 'up')], [valueInfo('x', ['N', 4])], [valueInfo('y', ['N', 4])]);
    let caught: unknown;
    try {
      fromOnnx(bytes);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnsupportedOpError);
    const err = caught as UnsupportedOpError;
    expect([err.op, err.nodeName]).toEqual(['Resize', 'up']);
    expect(err.supported).toEqual(SUPPORTED_ONNX_OPS);
    expect(err.message).toBe(`unsupported op 'Resize' at node 'up'; supported ops: ${SUPPORTED_ONNX_OPS.join(', ')}`);
  });

  test('an LSTM whose final cell state is read is rejected explicitly', () => {
    const w = floats('W', [1, 8, 3], Array.from({ length: 24 }, (_, i) => i / 24));
    const r = floats('R', [1, 8, 2], Array.from({ length: 16 }, (_, i) => i / 16));
    const bytes = encodeModel(
      [node('Transpose', ['x'], ['xt'], 'time_major', [{ name: 'perm', type: 7, ints: [1, 0, 2] }]), node('LSTM', ['xt', 'W', 'R'], ['', '', 'c'], 'cell', [intAttr('hidden_size', 2)])],
      [valueInfo('x', ['N', 5, 3])],
      [valueInfo('c', [1, 'N', 2])],
      [w, r],
    );
    expect(() => fromOnnx(bytes)).toThrow("unsupported op 'LSTM output Y_c (final cell state)' at node 'cell'");
  });

  test('an op from another domain and an unknown attribute are unsupported', () => {
    const fused = encodeModel([node('FusedConv', ['x'], ['y'], 'fused', [], 'com.microsoft')], [valueInfo('x', ['N', 4])], [valueInfo('y', ['N', 4])]);
    expect(() => fromOnnx(fused)).toThrow("unsupported op 'com.microsoft::FusedConv' at node 'fused'");
    const relu = encodeModel([node('Relu', ['x'], ['y'], 'r', [intAttr('alpha_hack', 1)])], [valueInfo('x', ['N', 4])], [valueInfo('y', ['N', 4])]);
    expect(() => fromOnnx(relu)).toThrow("unsupported op 'Relu attribute 'alpha_hack'' at node 'r'");
  });

  test('a NaN initializer is a ShapeError naming the tensor and the node', () => {
    expect(() => loadOnnxFile(fixture('nan_init', 13))).toThrow(ShapeError);
    expect(() => loadOnnxFile(fixture('nan_init', 13))).toThrow(
      "ONNX node 'fc' (Gemm): ONNX initializer 'fc.weight': non-finite value NaN at flat index 6 (dims [3, 4])",
    );
  });

  test('a Gemm weight that does not fit its input is a ShapeError naming the node', () => {
    const bytes = encodeModel(
      [node('Gemm', ['x', 'w'], ['y'], 'fc', [intAttr('transB', 1)])],
      [valueInfo('x', ['N', 4])],
      [valueInfo('y', ['N', 3])],
      [weight('w', 3, 5)],
    );
    expect(() => fromOnnx(bytes)).toThrow(ShapeError);
    expect(() => fromOnnx(bytes)).toThrow("ONNX node 'fc' (Gemm): input [?, 4] has 4 features but the weight is [5, 3] (fanIn 5)");
  });

  test('an output shape other than the declared one is a ShapeError', () => {
    const bytes = encodeModel(
      [node('Gemm', ['x', 'w'], ['y'], 'fc', [intAttr('transB', 1)])],
      [valueInfo('x', ['N', 5])],
      [valueInfo('y', ['N', 7])],
      [weight('w', 3, 5)],
    );
    expect(() => fromOnnx(bytes)).toThrow("graph output 'y': the model declares shape [N, 7] but the converted graph gives [?, 3]");
  });

  test('a value nobody defines is a DataError naming the file', () => {
    const bytes = encodeModel([node('Relu', ['missing'], ['y'], 'r')], [valueInfo('x', ['N', 4])], [valueInfo('y', ['N', 4])]);
    expect(() => fromOnnx(bytes, { fileName: 'broken.onnx' })).toThrow(DataError);
    expect(() => fromOnnx(bytes, { fileName: 'broken.onnx' })).toThrow(
      "broken.onnx: node 'r' (Relu) reads value 'missing', which no node, initializer or graph input defines",
    );
  });

  test(`an opset outside ${ONNX_OPSET_RANGE.min}–${ONNX_OPSET_RANGE.max} is a DataError`, () => {
    const relu = (opset: number) => encodeModel([node('Relu', ['x'], ['y'], 'r')], [valueInfo('x', ['N', 4])], [valueInfo('y', ['N', 4])], [], opset);
    expect(() => fromOnnx(relu(9), { fileName: 'old.onnx' })).toThrow('old.onnx: default-domain opset 9 is not supported: expected 11 to 21');
    expect(() => fromOnnx(relu(22))).toThrow('default-domain opset 22 is not supported');
    expect(ops(fromOnnx(relu(11)))).toEqual(['input', 'relu']);
  });

  test('truncated .onnx files are DataErrors naming the file', () => {
    const bytes = fs.readFileSync(fixture('cnn', 13));
    for (const keep of [16, Math.floor(bytes.length / 2), bytes.length - 3]) {
      const file = path.join(tmp, `truncated_${keep}.onnx`);
      fs.writeFileSync(file, bytes.subarray(0, keep));
      expect(() => loadOnnxFile(file)).toThrow(DataError);
      expect(() => loadOnnxFile(file)).toThrow(`${file}: not a valid ONNX model`);
    }
  });

  test('garbage, text, empty and missing files are DataErrors naming the file', () => {
    const garbage = new Uint8Array(2048);
    const rng = Rng.fromSeed(4);
    for (let i = 0; i < garbage.length; i++) garbage[i] = rng.int(256);
    const cases: [string, Uint8Array | string][] = [
      ['garbage.onnx', garbage],
      ['text.onnx', 'this is not a protobuf, it is a README\n'],
      ['empty.onnx', new Uint8Array(0)],
    ];
    for (const [name, content] of cases) {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, content);
      expect(() => loadOnnxFile(file)).toThrow(DataError);
      expect(() => loadOnnxFile(file)).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (not a valid ONNX model|empty file)`));
    }
    const missing = path.join(tmp, 'absent.onnx');
    expect(() => loadOnnxFile(missing)).toThrow(`${missing}: cannot read the ONNX model (ENOENT)`);
  });
});

describe('schema and layout helpers', () => {
  test('the committed protobufjs descriptor is what onnx.proto compiles to', () => {
    expect(JSON.parse(fs.readFileSync(SCHEMA_PATH, 'utf8'))).toEqual(JSON.parse(JSON.stringify(onnxSchemaFromProto())));
  });

  test('axis maps: transposes compose, NHWC conv output + ONNX Transpose to NHWC is the identity', () => {
    expect(transposeAxes(NCHW_AS_NHWC, [0, 2, 3, 1])).toEqual([0, 1, 2, 3]);
    expect(transposeAxes([0, 1, 2], [1, 0, 2])).toEqual([1, 0, 2]);
    expect(moveAxisLast([0, 1, 2, 3], 1)).toEqual(NCHW_AS_NHWC);
    expect(moveAxisLast([0, null, 1], 1)).toEqual([0, 2, 1]);
  });

  test('layoutChange: transposes, reshapes for size-1 axes, and refuses to move the batch', () => {
    expect(layoutChange([0, 1, 2, 3], NCHW_AS_NHWC, [null, 3, 4, 5])).toEqual({ transpose: [0, 2, 3, 1] });
    expect(layoutChange(NCHW_AS_NHWC, [0, 1, 2, 3], [null, 3, 4, 5])).toEqual({ transpose: [0, 3, 1, 2] });
    expect(layoutChange([0, 1, null, null], [0, 1, 2, 3], [null, 6, 1, 1])).toEqual({ reshape: [6, 1, 1] });
    expect(layoutChange([null, 0, 1], [null, 0, 1], [1, null, 4])).toEqual({});
    expect(() => layoutChange([1, 0, 2], [0, 1, 2], [7, null, 5])).toThrow(ShapeError);
    expect(() => layoutChange([0, 1, 2], [0, null, 1], [null, 3, 5])).toThrow('only size-1 axes can be dropped');
  });

  test('permutationIndex transposes row-major data', () => {
    // [[0, 1, 2], [3, 4, 5]]ᵀ = [[0, 3], [1, 4], [2, 5]]
    const { index, dims } = permutationIndex([2, 3], [1, 0]);
    expect(dims).toEqual([3, 2]);
    expect(Array.from(index)).toEqual([0, 3, 1, 4, 2, 5]);
  });
});
