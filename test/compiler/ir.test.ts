import { ShapeError } from '../../src/errors';
import { GraphBuilder } from '../../src/compiler/ir/builder';
import type { Graph, Node } from '../../src/compiler/ir/graph';
import { isAnalog } from '../../src/compiler/ir/graph';
import { mvmMatrix } from '../../src/compiler/ir/mvmMatrix';
import type { ConstTensor } from '../../src/compiler/ir/ops';
import { OP_KINDS } from '../../src/compiler/ir/ops';
import { printGraph } from '../../src/compiler/ir/print';
import { explicitPadding, inferShape } from '../../src/compiler/ir/shapes';
import { verifyGraph } from '../../src/compiler/ir/verify';

function ramp(shape: number[]): ConstTensor {
  const n = shape.reduce((a, d) => a * d, 1);
  return { shape, data: Float32Array.from({ length: n }, (_, i) => i) };
}

function mlpGraph(): Graph {
  const b = new GraphBuilder();
  b.input('x', [null, 4]);
  b.add('dense', 'fc', ['x'], { weights: ramp([4, 3]), bias: ramp([3]) });
  b.add('relu', 'act', ['fc'], {});
  b.add('softmax', 'prob', ['act'], { axis: 1 });
  return b.build(['prob']);
}

describe('shape inference', () => {
  test("'same' padding follows TF: ceil(in/stride), smaller half first", () => {
    expect(explicitPadding('same', 10, 10, [3, 3], [2, 2])).toEqual([0, 1, 0, 1]);
    expect(explicitPadding('same', 9, 8, [4, 3], [1, 1])).toEqual([1, 2, 1, 1]);
    expect(explicitPadding('same', 7, 7, [3, 3], [1, 1], [2, 2])).toEqual([2, 2, 2, 2]);
    const conv = { kernel: ramp([3, 3, 2, 4]), strides: [2, 2] as const, padding: 'same' as const, dilations: [1, 1] as const, groups: 1 };
    expect(inferShape('conv2d', conv, [[null, 10, 9, 2]])).toEqual([null, 5, 5, 4]);
  });

  test('valid, dilated and explicitly padded windows', () => {
    const base = { kernel: ramp([3, 2, 1, 6]), strides: [1, 1] as const, dilations: [2, 3] as const, groups: 3 };
    // height: 10 - (2·2+1) + 1 = 6; width: 9 - (1·3+1) + 1 = 6
    expect(inferShape('conv2d', { ...base, padding: 'valid' }, [[null, 10, 9, 3]])).toEqual([null, 6, 6, 6]);
    expect(inferShape('conv2d', { ...base, padding: [1, 0, 2, 2] }, [[null, 10, 9, 3]])).toEqual([null, 7, 10, 6]);
    const pool = { poolSize: [3, 3] as const, strides: [2, 2] as const, padding: [1, 1, 1, 1] as const, countIncludePad: true };
    expect(inferShape('avgPool', pool, [[2, 7, 7, 5]])).toEqual([2, 4, 4, 5]);
  });

  test('reshape resolves -1; flatten, transpose, concat, lstm, matmul', () => {
    expect(inferShape('reshape', { shape: [-1, 6] }, [[null, 4, 3, 2]])).toEqual([null, 4, 6]);
    expect(inferShape('flatten', {}, [[null, 4, 3, 2]])).toEqual([null, 24]);
    expect(inferShape('transpose', { perm: [0, 3, 1, 2] }, [[null, 4, 3, 2]])).toEqual([null, 2, 4, 3]);
    expect(inferShape('concat', { axis: 3 }, [[null, 4, 4, 2], [null, 4, 4, 5]])).toEqual([null, 4, 4, 7]);
    const lstm = { units: 3, kernel: ramp([5, 12]), recurrentKernel: ramp([3, 12]), bias: ramp([12]) };
    expect(inferShape('lstm', { ...lstm, returnSequences: true }, [[null, 7, 5]])).toEqual([null, 7, 3]);
    expect(inferShape('lstm', { ...lstm, returnSequences: false }, [[null, 7, 5]])).toEqual([null, 3]);
    expect(inferShape('matmul', {}, [[null, 2, 3, 4], [null, 2, 4, 5]])).toEqual([null, 2, 3, 5]);
  });

  test('misfits are ShapeErrors that say what was expected', () => {
    expect(() => inferShape('transpose', { perm: [1, 0, 2] }, [[null, 4, 3]])).toThrow(/must keep the batch axis first/);
    expect(() => inferShape('reshape', { shape: [5, -1] }, [[null, 4, 3]])).toThrow(/cannot reshape \[\?, 4, 3\] \(12 values per sample\)/);
    expect(() => inferShape('concat', { axis: 3 }, [[null, 4, 4, 2], [null, 3, 4, 5]])).toThrow(ShapeError);
    expect(() => inferShape('add', {}, [[null, 4], [null, 5]])).toThrow(/add: input 0 has shape \[\?, 4\] but input 1 has \[\?, 5\]/);
    const conv = { kernel: ramp([3, 3, 2, 4]), strides: [1, 1] as const, padding: 'valid' as const, dilations: [1, 1] as const, groups: 1 };
    expect(() => inferShape('conv2d', conv, [[null, 8, 8, 3]])).toThrow(/input has 3 channels but kernel \[3, 3, 2, 4\] with groups = 1 expects 2/);
    expect(() => inferShape('conv2d', conv, [[null, 2, 8, 2]])).toThrow(/does not fit input length 2/);
  });
});

describe('GraphBuilder and verifyGraph', () => {
  test('a dense layer whose fanIn does not match its input names the node', () => {
    const b = new GraphBuilder();
    b.input('x', [null, 5]);
    expect(() => b.add('dense', 'fc', ['x'], { weights: ramp([4, 3]) })).toThrow(ShapeError);
    expect(() => b.add('dense', 'fc', ['x'], { weights: ramp([4, 3]) })).toThrow(
      /node 'fc' \(dense\): dense: input last axis is 5 but weights are \[4, 3\] \(fanIn 4\)/,
    );
  });

  test('a wrong recorded shape is reported with the nodes around it', () => {
    const g = mlpGraph();
    const nodes = g.nodes.map((n) => (n.name === 'act' ? ({ ...n, outputShape: [null, 7] } as Node) : n));
    const bad: Graph = { ...g, nodes };
    expect(() => verifyGraph(bad)).toThrow(ShapeError);
    let message = '';
    try {
      verifyGraph(bad);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^node 'act' \(relu\): recorded output shape \[\?, 7\] but its inputs give \[\?, 3\]/);
    expect(message).toContain('    %fc = dense(%x) {weights: [4, 3], bias: [3]} : [?, 3]  # analog');
    expect(message).toContain('>>> %act = relu(%fc) : [?, 7]');
  });

  test('unknown inputs, cycles and ordering errors', () => {
    const g = mlpGraph();
    const withInputs = (name: string, inputs: string[]): Graph => ({
      ...g,
      nodes: g.nodes.map((n) => (n.name === name ? ({ ...n, inputs } as Node) : n)),
    });
    expect(() => verifyGraph(withInputs('act', ['nowhere']))).toThrow(/node 'act' \(relu\): reads unknown value '%nowhere'/);
    expect(() => verifyGraph(withInputs('fc', ['act']))).toThrow(/node 'fc' \(dense\): cycle: %fc -> %act -> %fc/);
    expect(() => verifyGraph(withInputs('act', ['prob']))).toThrow(/cycle: %act -> %prob -> %act/);
    const reordered: Graph = { ...g, nodes: [g.nodes[0], g.nodes[2], g.nodes[1], g.nodes[3]] };
    expect(() => verifyGraph(reordered)).toThrow(/node 'act' \(relu\): reads '%fc', which is defined later \(index 2\)/);
    expect(() => verifyGraph({ ...g, outputs: ['ghost'] })).toThrow(/graph output '%ghost' is not a node/);
    expect(() => verifyGraph({ ...g, nodes: [...g.nodes, g.nodes[1]] })).toThrow(/node 'fc' \(dense\): duplicate node name/);
  });

  test('non-finite weights name the node and the tensor', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const b = new GraphBuilder();
      b.input('x', [null, 4]);
      const bias = ramp([3]);
      bias.data[2] = bad;
      b.add('dense', 'fc', ['x'], { weights: ramp([4, 3]), bias });
      expect(() => b.build(['fc'])).toThrow(new RegExp(`node 'fc' \\(dense\\): constant 'bias' has a non-finite value ${bad} at flat index 2`));
    }
  });

  test('a constant whose data does not match its shape is rejected', () => {
    const b = new GraphBuilder();
    b.input('x', [null, 4]);
    b.add('dense', 'fc', ['x'], { weights: { shape: [4, 3], data: new Float32Array(11) } });
    expect(() => b.build(['fc'])).toThrow(/constant 'weights' of shape \[4, 3\] holds 11 values, expected 12/);
  });

  test('printGraph', () => {
    expect(printGraph(mlpGraph())).toBe(
      [
        'graph(%x) {',
        '    %x = input() {shape: [null,4]} : [?, 4]',
        '    %fc = dense(%x) {weights: [4, 3], bias: [3]} : [?, 3]  # analog',
        '    %act = relu(%fc) : [?, 3]',
        '    %prob = softmax(%act) {axis: 1} : [?, 3]',
        '} -> (%prob)',
      ].join('\n'),
    );
  });
});

describe('analog nodes and their matrices', () => {
  test('isAnalog marks dense, conv2d, lstm and gru only (the lowered mvm is its own kind)', () => {
    const g = mlpGraph();
    expect(g.nodes.filter(isAnalog).map((n) => n.name)).toEqual(['fc']);
    expect(OP_KINDS).toHaveLength(36);
    expect(OP_KINDS.slice(-3)).toEqual(['mvm', 'im2col', 'pad']);
  });

  test('grouped conv matrix g holds output channels [g·cOutG, (g+1)·cOutG)', () => {
    const b = new GraphBuilder();
    b.input('x', [null, 5, 5, 4]);
    const kernel = ramp([2, 2, 2, 6]); // groups 2: cInG 2, cOutG 3
    b.add('conv2d', 'c', ['x'], { kernel, strides: [1, 1], padding: 'valid', dilations: [1, 1], groups: 2 });
    const node = b.build(['c']).nodes[1];
    if (!isAnalog(node)) throw new Error('conv2d must be analog');
    const m1 = mvmMatrix(node, 1);
    expect(m1.shape).toEqual([8, 3]);
    // row r = (c·kh + i)·kw + j (channel-major), column o → kernel[i, j, c, 3 + o] = flat ((i·kw + j)·2 + c)·6 + 3 + o
    for (let c = 0; c < 2; c++) {
      for (let p = 0; p < 4; p++) {
        for (let o = 0; o < 3; o++) expect(m1.data[(c * 4 + p) * 3 + o]).toBe((p * 2 + c) * 6 + 3 + o);
      }
    }
  });

  test('lstm matrix stacks kernel over recurrent kernel', () => {
    const b = new GraphBuilder();
    b.input('x', [null, 3, 2]);
    const recurrentKernel = ramp([1, 4]);
    recurrentKernel.data.fill(-1);
    b.add('lstm', 'l', ['x'], { units: 1, kernel: ramp([2, 4]), recurrentKernel, bias: ramp([4]), returnSequences: false });
    const node = b.build(['l']).nodes[1];
    if (!isAnalog(node)) throw new Error('lstm must be analog');
    const m = mvmMatrix(node);
    expect(m.shape).toEqual([3, 4]);
    expect(Array.from(m.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, -1, -1, -1, -1]);
  });
});
