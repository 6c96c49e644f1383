/**
 * Third-party models: small versions of what PyTorch's exporter emits for common
 * vision and sequence architectures (ResNet, MobileNet, SqueezeNet, a transformer
 * encoder as ViT/BERT code writes it and PyTorch's own nn.TransformerEncoderLayer,
 * GRU, bidirectional LSTM, Conv1d) at opsets 11–21, each run exactly on
 * the tfjs executor and on the onnxruntime engine against PyTorch's own outputs,
 * and the models the frontend must refuse, naming each node it cannot convert.
 * Fixtures: `test/fixtures/onnx/tp_*` (written by `make_onnx.py third_party`).
 */
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { compile, IDEAL_CHIP, type CompiledModel } from '../../src/compiler/compile';
import { execute } from '../../src/compiler/executor';
import { SUPPORTED_ONNX_OPS, fromOnnx, loadOnnxFile } from '../../src/compiler/frontends/onnx';
import { GraphBuilder } from '../../src/compiler/ir/builder';
import type { Graph, NodeOf } from '../../src/compiler/ir/graph';
import type { ConstTensor, OpKind } from '../../src/compiler/ir/ops';
import { inferShape } from '../../src/compiler/ir/shapes';
import { DataError, ShapeError, UnsupportedOpError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { readTorchRecord, relMaxError, relArrayError, type TorchRecord } from './helpers';
import { encodeModel, floats, intAttr, ints, intsAttr, node, valueInfo } from './syntheticOnnx';

const DIR = path.join(__dirname, '..', 'fixtures', 'onnx');
const TOL = 1e-4;
const MODELS = ['resnet', 'mobilenet', 'squeezenet', 'transformer', 'mha_encoder', 'gru', 'bilstm', 'conv1d'] as const;
const OPSETS = [11, 13, 17, 18, 21] as const;

beforeAll(async () => {
  await initBackend();
});

// ------------------------------------------------------------- synthetic models

const expected = (model: string): TorchRecord => readTorchRecord(path.join(DIR, `tp_${model}.json`));
const fixture = (model: string, opset: number): string => path.join(DIR, `tp_${model}_op${opset}.onnx`);
const ops = (g: Graph): OpKind[] => g.nodes.map((n) => n.op);
const nodesOf = <K extends OpKind>(g: Graph, op: K): NodeOf<K>[] => g.nodes.filter((n) => n.op === op) as unknown as NodeOf<K>[];


async function runEngine(model: CompiledModel, x: Float32Array, execution: Parameters<CompiledModel['runner']>[0], engine: 'onnxruntime' | 'tfjs' = 'onnxruntime'): Promise<Float32Array> {
  const r = await model.runner(execution, { engine });
  try {
    return await r.run(x, { seed: 5 });
  } finally {
    await r.dispose();
  }
}

describe('PyTorch exports of common architectures run exactly on the tfjs executor', () => {
  const cases = MODELS.flatMap((m) => OPSETS.map((opset) => [m, opset] as const));
  test.each(cases)('%s at opset %i', (model, opset) => {
    const record = expected(model);
    const graph = loadOnnxFile(fixture(model, opset));
    const x = tf.tensor(record.input, record.inputShape);
    const want = tf.tensor(record.output, record.outputShape);
    const got = execute(graph, x);
    expect(relMaxError(got, want)).toBeLessThan(TOL);
    tf.dispose([x, want, got]);
  });
});

describe('... and on the onnxruntime engine (ideal chip, exact execution)', () => {
  // Two opsets per model keep the suite short; the executor above covers all five.
  const cases = MODELS.flatMap((m) => [13, 21].map((opset) => [m, opset] as const));
  test.each(cases)('%s at opset %i', async (model, opset) => {
    const record = expected(model);
    const compiled = compile(loadOnnxFile(fixture(model, opset)), { chip: IDEAL_CHIP });
    try {
      expect(compiled.endsInSoftmax).toBe(false); // the runners return exactly what PyTorch's model does
      const y = await runEngine(compiled, Float32Array.from(record.input), { kind: 'exact' });
      expect(relArrayError(y, record.output)).toBeLessThan(TOL);
    } finally {
      compiled.dispose();
    }
  });
});

describe('what the frontend makes of each architecture', () => {
  test('ResNet: convolutions (BN folded by the exporter), residual adds, global pooling, one dense', () => {
    const g = loadOnnxFile(fixture('resnet', 17));
    expect(nodesOf(g, 'conv2d')).toHaveLength(6);
    expect(nodesOf(g, 'add').filter((n) => n.inputs.length === 2)).toHaveLength(2);
    expect(ops(g).filter((o) => o === 'globalAvgPool' || o === 'dense')).toEqual(['globalAvgPool', 'dense']);
  });

  test('MobileNet: depthwise convs keep their groups; ReLU6 and hardtanh are clips; hard-swish and the SE gate are hard-sigmoids', () => {
    for (const opset of [11, 21]) {
      const g = loadOnnxFile(fixture('mobilenet', opset));
      expect(nodesOf(g, 'conv2d').map((n) => n.attrs.groups)).toEqual([1, 1, 16, 1, 1, 1, 8]);
      expect(nodesOf(g, 'clip').map((n) => [n.attrs.min, n.attrs.max])).toEqual([[0, 6], [0, 6], [0, 6], [-2, 2]]);
      const gates = nodesOf(g, 'hardSigmoid').map((n) => [n.attrs.alpha, n.attrs.beta]);
      expect(gates).toHaveLength(2);
      for (const [alpha, beta] of gates) {
        expect(alpha).toBeCloseTo(1 / 6, 6);
        expect(beta).toBeCloseTo(0.5, 6);
      }
      // The SE gate [N, C, 1, 1] multiplies the NHWC image without a transpose: the only one is the input's.
      expect(ops(g).filter((o) => o === 'transpose')).toHaveLength(1);
      expect(g.nodes[1].op).toBe('transpose');
    }
  });

  test('SqueezeNet: ceil_mode max pools get the extra bottom/right padding that floor-mode windows need', () => {
    const g = loadOnnxFile(fixture('squeezenet', 13));
    const pools = nodesOf(g, 'maxPool');
    expect(pools.map((p) => p.attrs.padding)).toEqual([
      [0, 1, 0, 1],
      [0, 1, 0, 1],
    ]);
    expect(pools.map((p) => p.outputShape)).toEqual([
      [null, 4, 4, 8],
      [null, 2, 2, 12],
    ]);
    expect(nodesOf(g, 'concat')[0].attrs.axis).toBe(3);
  });

  test('transformer: LayerNormalization from opset 17 (decomposed before), GELU as the Gelu op at 21, attention as digital matmuls', () => {
    const older = loadOnnxFile(fixture('transformer', 13));
    expect(ops(older)).not.toContain('layerNorm');
    expect(ops(older).filter((o) => ['reduce', 'sub', 'pow', 'sqrt', 'div'].includes(o)).length).toBeGreaterThanOrEqual(10);
    const opset17 = loadOnnxFile(fixture('transformer', 17));
    expect(nodesOf(opset17, 'layerNorm').map((n) => n.attrs.epsilon)).toEqual([1e-5, 1e-5].map(Math.fround));
    expect(ops(opset17)).toContain('erf');
    const opset21 = loadOnnxFile(fixture('transformer', 21));
    expect(nodesOf(opset21, 'gelu').map((n) => n.attrs.approximate)).toEqual(['none', 'tanh']);
    for (const g of [older, opset17, opset21]) {
      expect(nodesOf(g, 'matmul')).toHaveLength(2);
      expect(nodesOf(g, 'softmax').map((n) => n.outputShape)).toEqual([[null, 2, 5, 5]]);
      // Shape arithmetic (Shape, Gather, Cast, Concat, …) folded away: no node for it.
      expect(nodesOf(g, 'dense')).toHaveLength(5);
    }
  });

  test("nn.TransformerEncoderLayer: attention over batch × heads held as [batch, heads, seq, d/heads], so the IR is the hand-written encoder's", () => {
    for (const opset of [11, 17]) {
      const g = loadOnnxFile(fixture('mha_encoder', opset));
      expect(nodesOf(g, 'dense')).toHaveLength(4);
      expect(nodesOf(g, 'matmul').map((n) => n.outputShape)).toEqual([
        [null, 2, 5, 5],
        [null, 2, 5, 4],
      ]);
      expect(nodesOf(g, 'softmax').map((n) => n.attrs.axis)).toEqual([3]);
      if (opset === 17) expect(nodesOf(g, 'layerNorm')).toHaveLength(2);
    }
  });

  test('GRU stack: one analog gru per direction, PyTorch\'s linear_before_reset as resetAfter, reverse for the backward directions', () => {
    const g = loadOnnxFile(fixture('gru', 11));
    const grus = nodesOf(g, 'gru');
    expect(grus.map((n) => [n.attrs.units, n.attrs.resetAfter, n.attrs.reverse ?? false])).toEqual([
      [6, true, false],
      [4, true, false],
      [4, true, true],
      [4, true, false],
      [4, true, true],
    ]);
    // Both Y and Y_h of the first GRU are read: one node, its last state sliced from the sequence.
    expect(grus[0].attrs.returnSequences).toBe(true);
  });

  test('bidirectional LSTM: a forward and a reverse lstm node', () => {
    const g = loadOnnxFile(fixture('bilstm', 17));
    expect(nodesOf(g, 'lstm').map((n) => n.attrs.reverse ?? false)).toEqual([false, true]);
  });

  test('Conv1d: conv2d and pools over an image of height 1 (depthwise and strided kept)', () => {
    const g = loadOnnxFile(fixture('conv1d', 13));
    const convs = nodesOf(g, 'conv2d');
    expect(convs.map((n) => [n.attrs.kernel.shape, n.attrs.strides, n.attrs.groups])).toEqual([
      [[1, 5, 4, 8], [1, 1], 1],
      [[1, 3, 1, 8], [1, 2], 8],
      [[1, 3, 8, 6], [1, 1], 1],
    ]);
    expect(convs.map((n) => n.outputShape[1])).toEqual([1, 1, 1]);
  });
});

describe('refusals name each node the frontend cannot convert', () => {
  test('a Reshape that moves the batch, and a merged batch reaching an op that cannot read it, are refused', () => {
    const x = [valueInfo('x', ['N', 6, 4])];
    const moves = encodeModel([node('Reshape', ['x', 's'], ['y'], 'move')], x, [valueInfo('y', [6, 'M'])], [ints('s', [6, -1])]);
    expect(() => fromOnnx(moves)).toThrow(UnsupportedOpError);
    expect(() => fromOnnx(moves)).toThrow("unsupported op 'Reshape to [6, -1]' at node 'move'");
    const relu = encodeModel([node('Reshape', ['x', 's'], ['m'], 'merge'), node('Relu', ['m'], ['y'], 'relu')], x, [valueInfo('y', ['M', 4])], [ints('s', [-1, 4])]);
    expect(() => fromOnnx(relu)).toThrow("unsupported op 'Relu of a tensor whose batch axis a Reshape merged with other axes' at node 'relu'");
  });

  test('a model with three unsupported ops names all three nodes in one error, in file order', () => {
    let caught: unknown;
    try {
      loadOnnxFile(path.join(DIR, 'tp_unsupported_op17.onnx'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnsupportedOpError);
    const err = caught as UnsupportedOpError;
    expect(err.op).toBe('PRelu, InstanceNormalization, Resize');
    expect(err.nodeName).toBe("/1/PRelu', '/2/InstanceNormalization', '/3/Resize");
    expect(err.supported).toEqual(SUPPORTED_ONNX_OPS);
    expect(err.message).toMatch(/^unsupported op 'PRelu, InstanceNormalization, Resize' at node '\/1\/PRelu', '\/2\/InstanceNormalization', '\/3\/Resize'; supported ops: Add, /);
  });

  test('opsets 11 to 21 are accepted; 22 is a DataError', () => {
    const relu = (opset: number) => encodeModel([node('Relu', ['x'], ['y'], 'r')], [valueInfo('x', ['N', 4])], [valueInfo('y', ['N', 4])], [], opset);
    for (const opset of [11, 18, 19, 20, 21]) expect(ops(fromOnnx(relu(opset)))).toEqual(['input', 'relu']);
    expect(() => fromOnnx(relu(22))).toThrow(DataError);
    expect(() => fromOnnx(relu(22))).toThrow('default-domain opset 22 is not supported: expected 11 to 21');
  });

  const x4 = [valueInfo('x', ['N', 3, 4, 4])];
  const refusals: [string, Uint8Array, string][] = [
    [
      'a graph output whose batch a Reshape merged with other axes',
      encodeModel([node('Reshape', ['x', 's'], ['y'], 'merge')], x4, [valueInfo('y', [-1, 4])], [ints('s', [-1, 4])]),
      "unsupported op 'a graph output of a tensor whose batch axis a Reshape merged with other axes' at node 'y'",
    ],
    [
      'Pow with a computed exponent',
      encodeModel([node('Pow', ['x', 'x'], ['y'], 'pow')], x4, [valueInfo('y', ['N', 3, 4, 4])]),
      "unsupported op 'Pow with a computed or non-scalar exponent' at node 'pow'",
    ],
    [
      'Gather by computed indices (an embedding lookup)',
      encodeModel([node('Gather', ['table', 'x'], ['y'], 'embed')], x4, [valueInfo('y', ['N', 3, 4, 4, 2])], [floats('table', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8])]),
      "unsupported op 'Gather by computed indices (an embedding lookup)' at node 'embed'",
    ],
    [
      'Slice of the batch axis',
      encodeModel([node('Slice', ['x', 'st', 'en', 'ax'], ['y'], 'slice_batch')], x4, [valueInfo('y', [1, 3, 4, 4])], [ints('st', [0]), ints('en', [1]), ints('ax', [0])]),
      "unsupported op 'Slice of the batch axis' at node 'slice_batch'",
    ],
    [
      'ReduceMean over every axis, the batch included',
      encodeModel([node('ReduceMean', ['x'], ['y'], 'mean_all', [intAttr('keepdims', 0)])], x4, [valueInfo('y', [])], [], 13),
      "unsupported op 'ReduceMean over every axis, the batch included' at node 'mean_all'",
    ],
    [
      'AveragePool with ceil_mode, padding and count_include_pad=1',
      encodeModel(
        [node('AveragePool', ['x'], ['y'], 'avg_ceil', [intsAttr('kernel_shape', [2, 2]), intsAttr('strides', [2, 2]), intsAttr('pads', [1, 1, 0, 0]), intAttr('ceil_mode', 1), intAttr('count_include_pad', 1)])],
        [valueInfo('x', ['N', 3, 6, 6])],
        [valueInfo('y', ['N', 3, 4, 4])],
      ),
      "unsupported op 'AveragePool with ceil_mode=1, padding and count_include_pad=1 on input [?, 3, 6, 6]' at node 'avg_ceil'",
    ],
    [
      'a Cast of an activation to an integer',
      encodeModel([node('Cast', ['x'], ['y'], 'to_int', [intAttr('to', 7)])], x4, [valueInfo('y', ['N', 3, 4, 4])]),
      "unsupported op 'Cast of an activation to data type 7' at node 'to_int'",
    ],
  ];
  test.each(refusals)('%s', (_what, bytes, message) => {
    expect(() => fromOnnx(bytes)).toThrow(UnsupportedOpError);
    expect(() => fromOnnx(bytes)).toThrow(message);
  });
});

describe('opset 18+ forms of attributes that became inputs', () => {
  test('Pad with an axes input (18) before a Conv', () => {
    const bytes = encodeModel(
      [node('Pad', ['x', 'pads', '', 'pad_axes'], ['p'], 'pad_w'), node('Conv', ['p', 'w'], ['y'], 'conv')],
      [valueInfo('x', ['N', 1, 3, 2])],
      [valueInfo('y', ['N', 1, 3, 4])],
      [ints('pads', [1, 1]), ints('pad_axes', [3]), floats('w', [1, 1, 1, 1], [2])],
      18,
    );
    const graph = fromOnnx(bytes);
    expect(ops(graph)).toEqual(['input', 'transpose', 'conv2d', 'transpose']);
    const y = execute(graph, tf.tensor([1, 2, 3, 4, 5, 6], [1, 1, 3, 2]));
    expect(Array.from(y.dataSync())).toEqual([0, 2, 4, 0, 0, 6, 8, 0, 0, 10, 12, 0]);
    y.dispose();
  });

  test('ReduceMean and ReduceMax axes as an input (18), Split num_outputs (18)', () => {
    const bytes = encodeModel(
      [
        node('Identity', ['x'], ['p'], 'id'),
        node('Split', ['p'], ['a', 'b'], 'split', [intAttr('axis', 1), intAttr('num_outputs', 2)]),
        node('ReduceMean', ['a', 'axes'], ['m'], 'mean', [intAttr('keepdims', 0)]),
        node('ReduceMax', ['b', 'axes'], ['n'], 'max', [intAttr('keepdims', 0)]),
        node('Sub', ['m', 'n'], ['y'], 'sub'),
      ],
      [valueInfo('x', ['N', 4, 3, 2])],
      [valueInfo('y', ['N', 2])],
      [ints('axes', [2, 3])],
      18,
    );
    const graph = fromOnnx(bytes);
    const data = Array.from({ length: 2 * 24 }, (_, i) => Math.sin(i));
    const y = execute(graph, tf.tensor(data, [2, 4, 3, 2]));
    // Reference: split the channels 2/2; mean of the first two − max of the last two over H, W.
    const want: number[] = [];
    for (let n = 0; n < 2; n++) {
      for (let ch = 0; ch < 2; ch++) {
        const at = (c: number, h: number, w: number) => data[((n * 4 + c) * 3 + h) * 2 + w];
        let sum = 0;
        let max = -Infinity;
        for (let h = 0; h < 3; h++) {
          for (let w = 0; w < 2; w++) {
            sum += at(ch, h, w);
            max = Math.max(max, at(ch + 2, h, w));
          }
        }
        want.push(sum / 6 - max);
      }
    }
    expect(relArrayError(y.dataSync(), want)).toBeLessThan(1e-6);
    y.dispose();
  });
});

describe('Reshapes that merge the batch with other axes (x.view(-1, d) → Linear → .view(b, ...))', () => {
  test('split, merged, multiplied and split back, on both engines', async () => {
    const w = [0.5, -1, 2, 0.25, -0.5, 1.5];
    const bytes = encodeModel(
      [
        node('Reshape', ['x', 'rows'], ['r'], 'rows'), // [N, 6] → [N·2, 3]: splits the 6
        node('MatMul', ['r', 'w'], ['m'], 'fc'), // → [N·2, 2]
        node('Div', ['m', 'two'], ['d'], 'halve'),
        node('Reshape', ['d', 'back'], ['y'], 'back'), // → [N, 4]
      ],
      [valueInfo('x', ['N', 6])],
      [valueInfo('y', ['N', 4])],
      [ints('rows', [-1, 3]), floats('w', [3, 2], w), floats('two', [], [2]), ints('back', [-1, 4])],
    );
    const graph = fromOnnx(bytes);
    expect(ops(graph)).toEqual(['input', 'reshape', 'dense', 'div', 'reshape']);
    const data = Array.from({ length: 18 }, (_, i) => Math.cos(i));
    const want: number[] = [];
    for (let row = 0; row < 6; row++) {
      for (let j = 0; j < 2; j++) want.push((data[row * 3] * w[j] + data[row * 3 + 1] * w[2 + j] + data[row * 3 + 2] * w[4 + j]) / 2);
    }
    const y = execute(graph, tf.tensor(data, [3, 6]));
    expect(relArrayError(y.dataSync(), want)).toBeLessThan(1e-6);
    y.dispose();
    const compiled = compile(graph, { chip: IDEAL_CHIP });
    try {
      expect(relArrayError(await runEngine(compiled, Float32Array.from(data), { kind: 'exact' }), want)).toBeLessThan(1e-6);
    } finally {
      compiled.dispose();
    }
  });
});

describe('recurrent layers on a noisy chip: both engines give the same draws', () => {
  test.each([['gru'], ['bilstm']])('%s', async (model) => {
    const record = expected(model);
    const compiled = compile(loadOnnxFile(fixture(model, 17)), { chip: { device: 'reram', dac: { bits: null }, adc: { bits: null } } });
    try {
      const chip = compiled.program(3);
      const x = Float32Array.from(record.input);
      const a = await runEngine(compiled, x, { kind: 'chip', chip }, 'onnxruntime');
      const b = await runEngine(compiled, x, { kind: 'chip', chip }, 'tfjs');
      expect(relArrayError(a, b)).toBeLessThan(TOL);
      expect(relArrayError(a, record.output)).toBeGreaterThan(1e-4); // the device noise is really there
      // A GRU has three matrices per node (gates, input candidate, recurrent candidate).
      const grus = compiled.plan.layers.filter((l) => l.op === 'gru');
      expect(grus.every((l) => l.matrices.length === 3)).toBe(true);
    } finally {
      compiled.dispose();
    }
  });
});

// ------------------------------------------------------ the new IR ops, lowered

/** A small IR graph over `[N, ...dims]` built by `body`, compared between the executor and onnxruntime. */
async function executorMatchesEngine(dims: number[], body: (b: GraphBuilder, x: string) => string, batch = 3): Promise<void> {
  const b = new GraphBuilder();
  b.input('x', [null, ...dims]);
  const graph = b.build([body(b, 'x')]);
  const n = batch * dims.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  Rng.fromSeed(dims.length).fillNormal(data);
  const x = tf.tensor(data, [batch, ...dims]);
  const want = execute(graph, x);
  const compiled = compile(graph, { chip: IDEAL_CHIP });
  try {
    const got = await runEngine(compiled, data, { kind: 'exact' });
    expect(relArrayError(got, want.dataSync())).toBeLessThan(1e-5);
  } finally {
    compiled.dispose();
    tf.dispose([x, want]);
  }
}

const ramp = (shape: number[], scale = 0.1): ConstTensor => {
  const n = shape.reduce((a, d) => a * d, 1);
  return { shape, data: Float32Array.from({ length: n }, (_, i) => ((i % 7) - 3) * scale) };
};

describe('the new IR ops lower to ONNX as the executor computes them', () => {
  test('on images (held NCHW by the engine): broadcast mul/sub/div, clip, hard-sigmoid, layerNorm over [H, W, C], reduce max keepDims', async () => {
    await executorMatchesEngine([4, 5, 3], (b, x) => {
      const conv = b.add('conv2d', 'conv', [x], { kernel: ramp([3, 3, 3, 4]), strides: [1, 1], padding: 'same', dilations: [1, 1], groups: 1 });
      const gate = b.add('reduce', 'gate', [conv], { kind: 'max', axes: [1, 2], keepDims: true });
      const scaled = b.add('mul', 'scaled', [conv, gate], {});
      const shifted = b.add('sub', 'shifted', [scaled], { constant: ramp([4]), constantFirst: true });
      const ratio = b.add('div', 'ratio', [shifted], { constant: { shape: [1], data: Float32Array.of(3) } });
      const clipped = b.add('clip', 'clipped', [ratio], { min: -0.5 });
      const hard = b.add('hardSigmoid', 'hard', [clipped], { alpha: 0.3, beta: 0.4 });
      const both = b.add('sub', 'both', [hard, clipped], {});
      return b.add('layerNorm', 'ln', [both], { axis: 1, gamma: ramp([4, 5, 4]), beta: ramp([4, 5, 4], 0.01), epsilon: 1e-3 });
    });
  });

  test('on sequences: gelu (erf and tanh), pow, sqrt, erf, reduce sum/mean/min, slice, reciprocal', async () => {
    await executorMatchesEngine([6, 4], (b, x) => {
      const g1 = b.add('gelu', 'g1', [x], { approximate: 'none' });
      const g2 = b.add('gelu', 'g2', [g1], { approximate: 'tanh' });
      const cube = b.add('pow', 'cube', [g2], { exponent: 3 });
      const sq = b.add('pow', 'sq', [x], { exponent: 2 });
      const root = b.add('sqrt', 'root', [b.add('add', 'pos', [sq], { constant: { shape: [1], data: Float32Array.of(1) } })], {});
      const inv = b.add('div', 'inv', [root], { constant: { shape: [1], data: Float32Array.of(1) }, constantFirst: true });
      const e = b.add('erf', 'e', [b.add('mul', 'prod', [cube, inv], {})], {});
      const sum = b.add('reduce', 'sum', [e], { kind: 'sum', axes: [1], keepDims: true });
      const mean = b.add('reduce', 'mean', [e], { kind: 'mean', axes: [2], keepDims: true });
      const outer = b.add('add', 'outer', [b.add('mul', 'grid', [sum, mean], {}), e], {});
      const part = b.add('slice', 'part', [outer], { axis: 1, start: 2, end: 5 });
      return b.add('reduce', 'min', [part], { kind: 'min', axes: [2], keepDims: false });
    });
  });

  test('recurrent: reverse hard-sigmoid LSTM and GRU without resetAfter, sequences and last states', async () => {
    const lstm = (reverse: boolean, returnSequences: boolean) => ({
      units: 3,
      kernel: ramp([4, 12]),
      recurrentKernel: ramp([3, 12], 0.2),
      bias: ramp([12], 0.05),
      returnSequences,
      recurrentActivation: 'hardSigmoid' as const,
      reverse,
    });
    const gru = (resetAfter: boolean, reverse: boolean) => ({
      units: 3,
      kernel: ramp([3, 9]),
      recurrentKernel: ramp([3, 9], 0.2),
      bias: ramp([9], 0.05),
      ...(resetAfter ? { recurrentBias: ramp([3], 0.07) } : {}),
      resetAfter,
      returnSequences: true,
      recurrentActivation: 'hardSigmoid' as const,
      reverse,
    });
    await executorMatchesEngine([5, 4], (b, x) => {
      const seq = b.add('lstm', 'lstm_rev', [x], lstm(true, true));
      const g1 = b.add('gru', 'gru_before', [seq], gru(false, true));
      const g2 = b.add('gru', 'gru_after', [g1], gru(true, false));
      const last = b.add('lstm', 'lstm_last', [g2], { ...lstm(true, false), kernel: ramp([3, 12]) });
      return b.add('concat', 'cat', [last, b.add('reduce', 'pool', [g2], { kind: 'mean', axes: [1], keepDims: false })], { axis: 1 });
    });
  });
});

describe('shape rules of the new IR ops', () => {
  test('broadcasting, constants and bounds are checked', () => {
    expect(inferShape('mul', {}, [[null, 5, 1], [null, 1, 4]])).toEqual([null, 5, 4]);
    expect(() => inferShape('div', {}, [[null, 5, 3], [null, 4, 3]])).toThrow(ShapeError);
    expect(() => inferShape('sub', {}, [[null, 5]])).toThrow('one activation input needs a constant operand');
    expect(inferShape('reduce', { kind: 'max', axes: [1, 2], keepDims: false }, [[null, 4, 5, 3]])).toEqual([null, 3]);
    expect(() => inferShape('reduce', { kind: 'mean', axes: [0], keepDims: true }, [[null, 4]])).toThrow('axis 0 is the batch');
    expect(inferShape('slice', { axis: 2, start: 1, end: 3 }, [[null, 4, 5]])).toEqual([null, 4, 2]);
    expect(() => inferShape('slice', { axis: 2, start: 3, end: 3 }, [[null, 4, 5]])).toThrow(ShapeError);
    expect(() => inferShape('clip', { min: 2, max: 1 }, [[null, 4]])).toThrow('exceeds max');
    expect(() => inferShape('layerNorm', { axis: 1, gamma: ramp([4]), epsilon: 1e-5 }, [[null, 3, 4]])).toThrow('layerNorm gamma');
    const gru = { units: 2, kernel: ramp([3, 6]), recurrentKernel: ramp([2, 6]), bias: ramp([6]), resetAfter: false, returnSequences: false };
    expect(inferShape('gru', gru, [[null, 7, 3]])).toEqual([null, 2]);
    expect(() => inferShape('gru', { ...gru, recurrentBias: ramp([2]) }, [[null, 7, 3]])).toThrow('only with resetAfter');
  });
});
