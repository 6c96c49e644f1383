/**
 * The compiler's pass list: the lowered graph (every analog product an `mvm` node)
 * computes what the unlowered graph does, on PyTorch exports (grouped and depthwise
 * convolutions, GRU, bidirectional LSTM) checked against PyTorch's own outputs and
 * on tfjs models (hard-sigmoid LSTM gates); a pass that breaks the graph is named.
 */
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { compile, IDEAL_CHIP } from '../../src/compiler/compile';
import { execute } from '../../src/compiler/executor';
import { loadOnnxFile } from '../../src/compiler/frontends/onnx';
import { fromTfjsLayersModel } from '../../src/compiler/frontends/tfjsLayers';
import type { Graph, NodeOf } from '../../src/compiler/ir/graph';
import { isAnalog } from '../../src/compiler/ir/graph';
import { mvmGroupCount } from '../../src/compiler/ir/mvmMatrix';
import { printGraph } from '../../src/compiler/ir/print';
import { lowerToMvm } from '../../src/compiler/passes/lowerToMvm';
import { inferShape } from '../../src/compiler/ir/shapes';
import { runPasses, type GraphPass } from '../../src/compiler/passes/pipeline';
import { ShapeError } from '../../src/errors';
import { readTorchRecord, relMaxError, seededNormals } from './helpers';
import * as models from './tfjsModels';

const DIR = path.join(__dirname, '..', 'fixtures', 'onnx');

beforeAll(async () => {
  await initBackend();
});

const mvms = (g: Graph): NodeOf<'mvm'>[] => g.nodes.filter((n): n is NodeOf<'mvm'> => n.op === 'mvm');

/** MVM products the unlowered graph's analog layers make per inference (groups × steps). */
function productsOf(graph: Graph): number {
  let n = 0;
  for (const node of graph.nodes) {
    if (!isAnalog(node)) continue;
    const steps = node.op === 'lstm' || node.op === 'gru' ? (graph.nodes.find((m) => m.name === node.inputs[0])!.outputShape[1] as number) : 1;
    n += mvmGroupCount(node) * steps;
  }
  return n;
}

describe('lowerToMvm on PyTorch exports, against PyTorch', () => {
  test.each(['resnet', 'mobilenet', 'squeezenet', 'gru', 'bilstm', 'conv1d'])('%s: the lowered graph gives PyTorch outputs, and its only analog op is mvm', (name) => {
    const record = readTorchRecord(path.join(DIR, `tp_${name}.json`));
    const model = compile(loadOnnxFile(path.join(DIR, `tp_${name}_op13.onnx`)), { chip: IDEAL_CHIP });
    const lowered = model.loweredGraph;
    expect(lowered.nodes.filter(isAnalog)).toEqual([]);
    expect(mvms(lowered).length).toBe(productsOf(model.graph));
    expect(mvms(lowered).every((n) => n.attrs.tiles !== undefined)).toBe(true);
    const x = tf.tensor(record.input, record.inputShape);
    const got = execute(lowered, x);
    const want = tf.tensor(record.output, record.outputShape);
    expect(relMaxError(got, want)).toBeLessThan(1e-4);
    tf.dispose([x, got, want]);
    model.dispose();
  });
});

describe('lowerToMvm on tfjs models, against the unlowered graph', () => {
  const cases: Array<[string, () => tf.LayersModel, number[]]> = [
    ['mlp', () => models.mlp(3), [5, 20]],
    ['conv variants (strides, dilation, depthwise)', () => models.convVariants(4), [3, 10, 10, 4]],
    ['stacked LSTM', () => models.lstmClassifier(5, true), [4, 7, 5]],
    ['LSTM returning sequences', () => models.lstmSequence(6), [3, 4, 3]],
    // tfjs's default gate activation is the hard sigmoid; its GRU resets before the product (PyTorch's, after).
    ['LSTM with hard-sigmoid gates', () => tf.sequential({ layers: [tf.layers.lstm({ inputShape: [5, 3], units: 4 })] }), [2, 5, 3]],
    ['GRU (reset before the product) with hard-sigmoid gates', () => tf.sequential({ layers: [tf.layers.gru({ inputShape: [5, 3], units: 4, returnSequences: true })] }), [2, 5, 3]],
  ];
  test.each(cases)('%s', (_name, make, shape) => {
    const layers = make();
    const graph = fromTfjsLayersModel(layers);
    const lowered = lowerToMvm(graph);
    expect(lowered.nodes.filter(isAnalog)).toEqual([]);
    expect(mvms(lowered).length).toBe(productsOf(graph));
    const x = tf.tensor(seededNormals(shape.reduce((a, b) => a * b, 1), 7), shape);
    const want = execute(graph, x);
    const got = execute(lowered, x);
    expect(relMaxError(got, want)).toBeLessThan(1e-5);
    tf.dispose([x, want, got]);
    layers.dispose();
  });

  test('the readers of a lowered layer and the graph outputs keep their names', () => {
    const graph = fromTfjsLayersModel(models.mlp(3));
    const lowered = lowerToMvm(graph);
    expect(lowered.outputs).toEqual(graph.outputs);
    const names = new Set(lowered.nodes.map((n) => n.name));
    for (const n of graph.nodes) expect(names.has(n.name)).toBe(true);
  });
});

describe('the lowered ops check their shapes', () => {
  const matrix = { shape: [6, 4], data: new Float32Array(24) };
  test('mvm takes [..., rows] to [..., cols], and names the mismatch', () => {
    expect(inferShape('mvm', { matrix, layer: 'fc', group: 0, step: 0 }, [[null, 3, 6]])).toEqual([null, 3, 4]);
    expect(() => inferShape('mvm', { matrix, layer: 'fc', group: 0, step: 0 }, [[null, 5]])).toThrow(/mvm: input \[\?, 5\] must end in the matrix's 6 rows/);
  });
  test('im2col gives kh·kw·channels per position; a channel range outside the input is an error', () => {
    const attrs = { window: [3, 3] as const, strides: [1, 1] as const, padding: 'same' as const, dilations: [1, 1] as const, channelStart: 2, channelEnd: 4 };
    expect(inferShape('im2col', attrs, [[null, 8, 8, 4]])).toEqual([null, 8, 8, 18]);
    expect(() => inferShape('im2col', { ...attrs, channelEnd: 5 }, [[null, 8, 8, 4]])).toThrow(/im2col channels \[2, 5\)/);
  });
  test('pad adds zeros on one axis', () => {
    expect(inferShape('pad', { axis: 1, before: 0, after: 3 }, [[null, 5]])).toEqual([null, 8]);
    expect(() => inferShape('pad', { axis: 1, before: -1, after: 3 }, [[null, 5]])).toThrow(/pad before = -1/);
  });
});

describe('the compiler pass list', () => {
  test('names every pass, in order, and the placed products print with their tiles', () => {
    const model = compile(fromTfjsLayersModel(models.cnn(2)), { chip: { device: 'reram', tile: '64x64' } });
    expect(model.passTrace().map((t) => t.pass)).toEqual(['input', 'stripFinalSoftmax', 'foldBatchNorm', 'lowerToMvm', 'place']);
    const text = printGraph(model.loweredGraph);
    const mvmLines = text.split('\n').filter((l) => / = mvm\(/.test(l));
    expect(mvmLines.length).toBe(mvms(model.loweredGraph).length);
    for (const line of mvmLines) expect(line).toMatch(/tiles: \d+x\d+ reram tiles of 64x64 from #\d+.*# analog$/);
    // The placement is the plan's: the first product starts at tile 0, the tiles add up.
    const placed = mvms(model.loweredGraph).map((n) => n.attrs.tiles!);
    expect(placed[0].firstTile).toBe(0);
    expect(placed.reduce((a, t) => a + t.rowBlocks * t.colBlocks, 0)).toBe(model.plan.totalTiles);
    model.dispose();
  });

  test('a pass whose output does not verify is named in the error', () => {
    const graph = fromTfjsLayersModel(models.mlp(3));
    const breaks: GraphPass = { name: 'dropFirstDense', run: (g) => ({ ...g, nodes: g.nodes.filter((n) => n.op !== 'dense' || n.name !== g.nodes.find((m) => m.op === 'dense')!.name) }) };
    expect(() => runPasses(graph, [{ name: 'identity', run: (g) => g }, breaks])).toThrow(ShapeError);
    expect(() => runPasses(graph, [breaks])).toThrow(/after pass 'dropFirstDense'/);
  });

  test('lowered graphs are for reading and exact runs: a noisy MVM hook on one is a named error', () => {
    const lowered = lowerToMvm(fromTfjsLayersModel(models.mlp(3)));
    const x = tf.tensor(seededNormals(2 * 20, 1), [2, 20]);
    expect(() => execute(lowered, x, { mvm: (_n, xs, site) => tf.matMul(xs, site.matrix) })).toThrow(/runs on the interpreter without hooks/);
    x.dispose();
  });
});
