import { initBackend, tf } from '../../src/backend';
import type { MvmHook } from '../../src/compiler/executor';
import { GraphExecutor, NOISE_OFF, execute, exactMvm, signalNoiseHook } from '../../src/compiler/executor';
import { GraphBuilder } from '../../src/compiler/ir/builder';
import type { Graph } from '../../src/compiler/ir/graph';
import type { ConstTensor, Padding } from '../../src/compiler/ir/ops';
import { explicitPadding } from '../../src/compiler/ir/shapes';
import { ConfigError, ShapeError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { relMaxError, seededInput } from './helpers';

beforeAll(async () => {
  await initBackend();
});

function randomConst(shape: number[], seed: number, scale = 0.5): ConstTensor {
  const data = new Float32Array(shape.reduce((a, d) => a * d, 1));
  Rng.fromSeed(seed).fillNormal(data, 0, scale);
  return { shape, data };
}

interface ConvCase {
  x: number[];
  k: [number, number];
  cOut: number;
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
  groups: number;
}

/** Direct-loop NHWC grouped convolution in float64: the oracle. */
function naiveConv(x: tf.Tensor4D, kernel: ConstTensor, c: ConvCase): tf.Tensor {
  const [n, h, w, cIn] = x.shape;
  const [kh, kw, cInG, cOut] = kernel.shape;
  const cOutG = cOut / c.groups;
  const [pt, pb, pl, pr] = explicitPadding(c.padding, h, w, [kh, kw], c.strides, c.dilations);
  const oh = Math.floor((h + pt + pb - ((kh - 1) * c.dilations[0] + 1)) / c.strides[0]) + 1;
  const ow = Math.floor((w + pl + pr - ((kw - 1) * c.dilations[1] + 1)) / c.strides[1]) + 1;
  const xs = x.dataSync();
  const out = new Float32Array(n * oh * ow * cOut);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let z = 0; z < ow; z++)
        for (let o = 0; o < cOut; o++) {
          const g = Math.floor(o / cOutG);
          let s = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const r = y * c.strides[0] + i * c.dilations[0] - pt;
              const q = z * c.strides[1] + j * c.dilations[1] - pl;
              if (r < 0 || r >= h || q < 0 || q >= w) continue;
              for (let ci = 0; ci < cInG; ci++) {
                s += xs[((b * h + r) * w + q) * cIn + g * cInG + ci] * kernel.data[((i * kw + j) * cInG + ci) * cOut + o];
              }
            }
          out[((b * oh + y) * ow + z) * cOut + o] = s;
        }
  return tf.tensor(out, [n, oh, ow, cOut]);
}

function convGraph(c: ConvCase, kernel: ConstTensor): Graph {
  const b = new GraphBuilder();
  b.input('x', [null, ...c.x.slice(1)]);
  b.add('conv2d', 'conv', ['x'], { kernel, strides: c.strides, padding: c.padding, dilations: c.dilations, groups: c.groups });
  return b.build(['conv']);
}

describe('conv2d as im2col + MVM', () => {
  const cases: [string, ConvCase][] = [
    ['3x3 same', { x: [2, 7, 6, 3], k: [3, 3], cOut: 4, strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 1 }],
    ['strided same (asymmetric pad)', { x: [2, 8, 9, 3], k: [3, 4], cOut: 5, strides: [2, 3], dilations: [1, 1], padding: 'same', groups: 1 }],
    ['dilated valid', { x: [1, 9, 9, 2], k: [3, 2], cOut: 3, strides: [1, 1], dilations: [2, 3], padding: 'valid', groups: 1 }],
    ['stride and dilation together, explicit pads', { x: [2, 9, 8, 2], k: [3, 3], cOut: 3, strides: [2, 2], dilations: [2, 1], padding: [1, 0, 2, 1], groups: 1 }],
    ['grouped', { x: [2, 6, 6, 6], k: [3, 3], cOut: 4, strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 2 }],
    ['depthwise ×2', { x: [2, 6, 5, 3], k: [3, 3], cOut: 6, strides: [2, 1], dilations: [1, 1], padding: 'same', groups: 3 }],
    ['1x1', { x: [3, 4, 4, 5], k: [1, 1], cOut: 2, strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 1 }],
  ];
  test.each(cases)('%s matches a direct convolution (im2col path and fused path)', (_name, c) => {
    const kernel = randomConst([c.k[0], c.k[1], c.x[3] / c.groups, c.cOut], 3);
    const x = seededInput(c.x, 4) as tf.Tensor4D;
    const expected = naiveConv(x, kernel, c);
    let mvmCalls = 0;
    const counting: MvmHook = (n, v, s) => {
      mvmCalls++;
      return exactMvm(n, v, s);
    };
    const viaIm2col = execute(convGraph(c, kernel), x, { mvm: counting });
    expect(mvmCalls).toBe(c.groups);
    const fused = execute(convGraph(c, kernel), x);
    expect(relMaxError(viaIm2col, expected)).toBeLessThan(1e-5);
    expect(relMaxError(fused, expected)).toBeLessThan(1e-5);
    tf.dispose([x, expected, viaIm2col, fused]);
  });

  test('and matches tf.conv2d where tfjs supports the case', () => {
    const c = cases[1][1];
    const kernel = randomConst([c.k[0], c.k[1], c.x[3], c.cOut], 5);
    const x = seededInput(c.x, 6) as tf.Tensor4D;
    const expected = tf.conv2d(x, tf.tensor4d(kernel.data, kernel.shape as [number, number, number, number]), c.strides, 'same');
    const actual = execute(convGraph(c, kernel), x, { mvm: exactMvm });
    expect(relMaxError(actual, expected)).toBeLessThan(1e-5);
    tf.dispose([x, expected, actual]);
  });
});

describe('pooling', () => {
  const x = () => tf.tensor4d(Float32Array.from({ length: 16 }, (_, i) => i + 1), [1, 4, 4, 1]);
  function pool(kind: 'avgPool' | 'maxPool', padding: Padding, countIncludePad: boolean): number[] {
    const b = new GraphBuilder();
    b.input('x', [null, 4, 4, 1]);
    const attrs = { poolSize: [3, 3] as const, strides: [3, 3] as const, padding };
    if (kind === 'avgPool') b.add('avgPool', 'p', ['x'], { ...attrs, countIncludePad });
    else b.add('maxPool', 'p', ['x'], attrs);
    const input = x();
    const y = execute(b.build(['p']), input);
    const values = Array.from(y.dataSync());
    tf.dispose([input, y]);
    return values;
  }
  // x = [[1..4],[5..8],[9..12],[13..16]], pads [1,1,1,1], 3×3 windows at stride 3.
  test('avg pool with padding counted (ONNX count_include_pad=1)', () => {
    expect(pool('avgPool', [1, 1, 1, 1], true)).toEqual([(1 + 2 + 5 + 6) / 9, (3 + 4 + 7 + 8) / 9, (9 + 10 + 13 + 14) / 9, (11 + 12 + 15 + 16) / 9].map((v) => expect.closeTo(v, 5)));
  });
  test('avg pool over real pixels only (ONNX default, TF same)', () => {
    expect(pool('avgPool', [1, 1, 1, 1], false)).toEqual([14 / 4, 22 / 4, 46 / 4, 54 / 4].map((v) => expect.closeTo(v, 5)));
  });
  test('max pool ignores padding even for negative inputs', () => {
    expect(pool('maxPool', [1, 1, 1, 1], false)).toEqual([6, 8, 14, 16]);
    const b = new GraphBuilder();
    b.input('x', [null, 2, 2, 1]);
    b.add('maxPool', 'p', ['x'], { poolSize: [2, 2], strides: [1, 1], padding: [1, 0, 1, 0] });
    const input = tf.tensor4d([-4, -3, -2, -1], [1, 2, 2, 1]);
    const y = execute(b.build(['p']), input);
    expect(Array.from(y.dataSync())).toEqual([-4, -3, -2, -1]);
    tf.dispose([input, y]);
  });
});

describe('digital ops', () => {
  test('softmax on a middle axis, transpose, reshape, add with constant, matmul of activations', () => {
    const b = new GraphBuilder();
    b.input('a', [null, 3, 4]);
    b.input('m', [null, 4, 2]);
    b.add('softmax', 's', ['a'], { axis: 1 });
    b.add('add', 'plus', ['s', 's'], { constant: { shape: [4], data: Float32Array.from([1, 2, 3, 4]) } });
    b.add('matmul', 'mm', ['plus', 'm'], {});
    b.add('transpose', 't', ['mm'], { perm: [0, 2, 1] });
    b.add('reshape', 'r', ['t'], { shape: [-1] });
    const g = b.build(['r', 's']);
    const a = seededInput([2, 3, 4], 7);
    const m = seededInput([2, 4, 2], 8);
    const [r, s] = new GraphExecutor(g).runAll({ a, m });
    const sRef = tf.transpose(tf.softmax(tf.transpose(a, [0, 2, 1])), [0, 2, 1]);
    const rRef = tf.reshape(tf.transpose(tf.matMul(tf.add(tf.mul(sRef, 2), tf.tensor1d([1, 2, 3, 4])) as tf.Tensor3D, m as tf.Tensor3D), [0, 2, 1]), [2, 6]);
    expect(relMaxError(s, sRef)).toBeLessThan(1e-6);
    expect(relMaxError(r, rRef)).toBeLessThan(1e-6);
    tf.dispose([a, m, r, s, sRef, rRef]);
  });

  test('wrong input shapes and counts are rejected', () => {
    const b = new GraphBuilder();
    b.input('x', [null, 4]);
    b.add('relu', 'y', ['x'], {});
    const g = b.build(['y']);
    const bad = tf.zeros([2, 5]);
    expect(() => execute(g, bad)).toThrow(/graph input 'x': got shape \[2, 5\], expected \[\?, 4\]/);
    expect(() => execute(g, [bad, bad])).toThrow(ConfigError);
    bad.dispose();
  });
});

function lstmGraph(units: number, steps: number, features: number, returnSequences: boolean): Graph {
  const b = new GraphBuilder();
  b.input('seq', [null, steps, features]);
  b.add('lstm', 'rnn', ['seq'], {
    units,
    kernel: randomConst([features, 4 * units], 20),
    recurrentKernel: randomConst([units, 4 * units], 21),
    bias: randomConst([4 * units], 22),
    returnSequences,
  });
  b.add('dense', 'fc', ['rnn'], { weights: randomConst([units, 2], 23), bias: randomConst([2], 24) });
  return b.build(['fc']);
}

describe('MVM hook', () => {
  test('every analog product goes through the hook with its site', () => {
    const calls: string[] = [];
    const spy: MvmHook = (node, x, site) => {
      calls.push(`${node.name} g${site.group} t${site.step} [${x.shape}]x[${site.matrix.shape}]`);
      return exactMvm(node, x, site);
    };
    const ex = new GraphExecutor(lstmGraph(3, 4, 2, true));
    const x = seededInput([5, 4, 2], 9);
    const y = ex.run(x, { mvm: spy });
    expect(calls).toEqual([
      'rnn g0 t0 [5,5]x[5,12]',
      'rnn g0 t1 [5,5]x[5,12]',
      'rnn g0 t2 [5,5]x[5,12]',
      'rnn g0 t3 [5,5]x[5,12]',
      'fc g0 t0 [20,3]x[3,2]', // dense on [batch, time, units] is one MVM over batch·time rows
    ]);
    const c: ConvCase = { x: [2, 6, 5, 3], k: [3, 3], cOut: 6, strides: [1, 1], dilations: [1, 1], padding: 'valid', groups: 3 };
    calls.length = 0;
    const img = seededInput(c.x, 10);
    const yc = execute(convGraph(c, randomConst([3, 3, 1, 6], 11)), img, { mvm: spy });
    expect(calls).toEqual([0, 1, 2].map((g) => `conv g${g} t0 [24,9]x[9,2]`));
    tf.dispose([x, y, img, yc]);
    ex.dispose();
  });

  test('a hook that scales the product scales a dense output (bias added after the hook)', () => {
    const b = new GraphBuilder();
    b.input('x', [null, 3]);
    b.add('dense', 'fc', ['x'], { weights: randomConst([3, 4], 12), bias: randomConst([4], 13) });
    const g = b.build(['fc']);
    const x = seededInput([6, 3], 14);
    const exact = execute(g, x);
    const doubled = execute(g, x, { mvm: (n, v, s) => tf.mul(exactMvm(n, v, s), 2) });
    const zero = execute(g, x, { mvm: (_n, v, s) => tf.zeros([v.shape[0], s.matrix.shape[1]]) });
    const bias = tf.tensor1d(g.nodes[1].op === 'dense' ? g.nodes[1].attrs.bias!.data : new Float32Array());
    expect(relMaxError(doubled, tf.sub(tf.mul(exact, 2), bias))).toBeLessThan(1e-6);
    expect(relMaxError(zero, tf.tile(tf.expandDims(bias, 0), [6, 1]))).toBe(0);
    expect(() => execute(g, x, { mvm: (_n, v) => v })).toThrow(/node 'fc': mvm hook returned shape \[6, 3\], expected \[6, 4\]/);
    tf.dispose([x, exact, doubled, zero, bias]);
  });
});

describe('noise nodes', () => {
  function noiseGraph(kind: 'multiplicative' | 'additive', sigma: number): Graph {
    const b = new GraphBuilder();
    b.input('x', [null, 50]);
    b.add('noise', 'n', ['x'], { kind, sigma });
    return b.build(['n']);
  }

  test('multiplicative noise: y/x − 1 has mean 0 and std σ (Eq. 3)', () => {
    const x = tf.fill([200, 50], 2);
    const y = execute(noiseGraph('multiplicative', 0.4), x, { rng: Rng.fromSeed(1) });
    const r = Array.from(y.dataSync()).map((v) => v / 2 - 1);
    const mean = r.reduce((a, v) => a + v, 0) / r.length;
    const variance = r.reduce((a, v) => a + (v - mean) ** 2, 0) / (r.length - 1);
    // N = 10 000: standard errors 0.4/100 = 0.004 (mean) and 0.16·√(2/N) ≈ 0.0023 (variance); 5σ bounds.
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 0.16)).toBeLessThan(0.0115);
    tf.dispose([x, y]);
  });

  test('additive noise: y − x has std σ (Eq. 2), and the same Rng gives the same bits', () => {
    const x = seededInput([200, 50], 15);
    const g = noiseGraph('additive', 0.1);
    const y1 = execute(g, x, { rng: Rng.fromSeed(2).fold('run').fold(0) });
    const y2 = execute(g, x, { rng: Rng.fromSeed(2).fold('run').fold(0) });
    const y3 = execute(g, x, { rng: Rng.fromSeed(2).fold('run').fold(1) });
    expect(Buffer.from(y1.dataSync().buffer).equals(Buffer.from(y2.dataSync().buffer))).toBe(true);
    const d = Array.from(tf.sub(y1, x).dataSync());
    const variance = d.reduce((a, v) => a + v * v, 0) / d.length;
    expect(Math.abs(variance - 0.01)).toBeLessThan(0.01 * 5 * Math.sqrt(2 / d.length));
    const diff13 = Array.from(tf.sub(y1, y3).dataSync());
    // independent draws: var(y1 − y3) = 2σ²
    const v13 = diff13.reduce((a, v) => a + v * v, 0) / diff13.length;
    expect(Math.abs(v13 - 0.02)).toBeLessThan(0.02 * 5 * Math.sqrt(2 / d.length));
    tf.dispose([x, y1, y2, y3]);
  });

  test('a noise node without an Rng or hook is a ConfigError; NOISE_OFF is the identity', () => {
    const x = seededInput([3, 50], 16);
    const g = noiseGraph('multiplicative', 0.4);
    expect(() => execute(g, x)).toThrow(/hooks.rng = undefined: expected an Rng .* noise node 'n'/);
    const y = execute(g, x, { noise: NOISE_OFF });
    expect(relMaxError(y, x)).toBe(0);
    const custom = signalNoiseHook(Rng.fromSeed(3));
    const z = execute(g, x, { noise: custom });
    expect(relMaxError(z, x)).toBeGreaterThan(0.01);
    tf.dispose([x, y, z]);
  });
});

test('no tensors leak across runs with LSTM, hooks and noise', () => {
  const b = new GraphBuilder();
  b.input('seq', [null, 4, 2]);
  b.add('lstm', 'rnn', ['seq'], {
    units: 3,
    kernel: randomConst([2, 12], 30),
    recurrentKernel: randomConst([3, 12], 31),
    bias: randomConst([12], 32),
    returnSequences: true,
  });
  b.add('noise', 'nz', ['rnn'], { kind: 'multiplicative', sigma: 0.1 });
  b.add('identity', 'id', ['nz'], {});
  b.add('flatten', 'flat', ['id'], {});
  b.add('softmax', 'p', ['flat'], { axis: 1 });
  const ex = new GraphExecutor(b.build(['p', 'nz']));
  const x = seededInput([5, 4, 2], 33);
  const run = () => ex.runAll(x, { rng: Rng.fromSeed(4), mvm: (n, v, s) => tf.mul(exactMvm(n, v, s), 1.01) }).forEach((t) => t.dispose());
  run();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) run();
  expect(tf.memory().numTensors).toBe(before);
  expect(x.isDisposed).toBe(false);
  ex.dispose();
  expect(before - tf.memory().numTensors).toBe(2); // the LSTM's cached matrix and bias
  x.dispose();
  expect(() => ex.run(x)).toThrow(ConfigError);
});

test('mismatched shapes in a hand-built graph are caught before execution', () => {
  const b = new GraphBuilder();
  b.input('x', [null, 4, 4, 2]);
  expect(() => b.add('concat', 'c', ['x', 'x'], { axis: 0 })).toThrow(ShapeError);
  expect(() => b.add('concat', 'c', ['x', 'x'], { axis: 0 })).toThrow(/node 'c' \(concat\): concat axis = 0: expected an integer in \[1, 3\]/);
});
