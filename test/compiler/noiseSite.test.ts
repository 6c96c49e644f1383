/**
 * Noise sites of the signal-level mode: `norm` is the noise on the batch norm's
 * output, `bias` on the layer's output after its bias, `mvm` on the raw product
 * (the default for a model without noise points), each checked against a graph
 * built by hand with the noise nodes where the site says.
 */
import { initBackend, tf } from '../../src/backend';
import { GraphBuilder } from '../../src/compiler/ir/builder';
import type { Graph } from '../../src/compiler/ir/graph';
import { compile, IDEAL_CHIP } from '../../src/compiler/compile';
import { placeSignalNoise } from '../../src/compiler/passes/placeNoise';
import { EXACT_CHIP_CONFIG } from '../../src/compiler/hardware';
import { ConfigError } from '../../src/errors';
import type { SignalNoise } from '../../src/crossbar/noise/signalNoise';

const t = (shape: number[], data: number[]) => ({ shape, data: Float32Array.from(data) });
const NOISE = { kind: 'multiplicative', sigma: 0 } as const;

/** input [4] → d1 (dense, bias) → bn1 → relu → d2 (dense, bias); noise nodes at `site` (or none). */
function model(site: 'none' | 'bias' | 'norm', w1Scale = 1): Graph {
  const b = new GraphBuilder();
  b.input('x', [null, 4]);
  b.add('dense', 'd1', ['x'], {
    weights: t([4, 3], [0.5, -1, 0.25, 1, 0.3, -0.7, -0.2, 0.8, 0.6, 0.1, -0.4, 0.9].map((v) => v * w1Scale)),
    bias: t([3], [5, -2, 0.5]),
  });
  let y = 'd1';
  if (site === 'bias') y = b.add('noise', 'd1_noise', [y], NOISE);
  y = b.add('batchNorm', 'bn1', [y], { gamma: t([3], [2, 0.5, 1.5]), beta: t([3], [1, -1, 0.2]), mean: t([3], [5, -2, 0.4]), variance: t([3], [0.25, 4, 1]), epsilon: 1e-3 });
  if (site === 'norm') y = b.add('noise', 'd1_noise', [y], NOISE);
  y = b.add('relu', 'r1', [y], {});
  y = b.add('dense', 'd2', [y], { weights: t([3, 2], [1, -0.5, 0.3, 0.8, -0.6, 0.4]), bias: t([2], [0.1, -0.2]) });
  if (site !== 'none') y = b.add('noise', 'd2_noise', [y], NOISE);
  return b.build([y]);
}

const X = Float32Array.from({ length: 16 * 4 }, (_, i) => Math.sin(i * 1.7) * 2);

function signal(g: Graph, options: Parameters<typeof compile>[1], noise: SignalNoise, seed = 3): Float32Array {
  const m = compile(g, options);
  const y = m.runSignal(tf.tensor2d(X, [16, 4]), noise, { seed });
  const out = y.dataSync() as Float32Array;
  y.dispose();
  m.dispose();
  return out;
}

beforeAll(async () => {
  await initBackend();
});

describe('noise sites (signal-level noise)', () => {
  const mult: SignalNoise = { kind: 'multiplicative', sigma: 0.3 };
  const add: SignalNoise = { kind: 'additive', sigma: 0.3 };
  const chip = IDEAL_CHIP;

  it('the exact chip of the hardware description is compile\'s ideal chip', () => {
    expect(EXACT_CHIP_CONFIG).toEqual(IDEAL_CHIP);
  });

  it('norm is the noise on the batch norm output (after the bias where no batch norm follows)', () => {
    for (const noise of [mult, add]) {
      const placed = signal(model('none'), { chip, noiseSite: 'norm' }, noise);
      const byHand = signal(model('norm'), { chip, foldBatchNorm: 'never' }, noise);
      expect(Array.from(placed)).toEqual(Array.from(byHand));
      // and the noise is there: σ = 0 gives other outputs
      expect(Array.from(placed)).not.toEqual(Array.from(signal(model('none'), { chip, noiseSite: 'norm' }, { ...noise, sigma: 0 })));
    }
  });

  it('bias is the noise on the layer output after its bias, before the batch norm', () => {
    for (const noise of [mult, add]) {
      expect(Array.from(signal(model('none'), { chip, noiseSite: 'bias' }, noise))).toEqual(Array.from(signal(model('bias'), { chip, foldBatchNorm: 'never' }, noise)));
    }
    // BN is not folded over the noise even when folding is allowed
    const m = compile(model('none'), { chip, noiseSite: 'bias', foldBatchNorm: 'always' });
    expect(m.signalGraph.nodes.map((n) => n.name)).toEqual(['x', 'd1', 'd1_noise', 'bn1', 'r1', 'd2', 'd2_noise']);
    m.dispose();
  });

  it('mvm is the noise on the raw product, the default of a model without noise points, and replaces a model\'s own points', () => {
    const plain = signal(model('none'), { chip }, mult);
    expect(Array.from(signal(model('none'), { chip, noiseSite: 'mvm' }, mult))).toEqual(Array.from(plain));
    expect(Array.from(signal(model('norm'), { chip, noiseSite: 'mvm' }, mult))).toEqual(Array.from(plain));
    // a model's own points at the batch norm, moved to the bias
    expect(Array.from(signal(model('norm'), { chip, noiseSite: 'bias' }, mult))).toEqual(Array.from(signal(model('bias'), { chip, foldBatchNorm: 'never' }, mult)));
  });

  it('mvm and bias differ as defined: multiplicative noise on W·x alone leaves a large bias clean', () => {
    // One dense layer whose product is tiny next to its bias 5: at mvm the noise scales W·x, at bias W·x + 5.
    const b = new GraphBuilder();
    b.input('x', [null, 4]);
    b.add('dense', 'd', ['x'], { weights: t([4, 1], [0.001, -0.002, 0.001, 0.003]), bias: t([1], [5]) });
    const g = b.build(['d']);
    const spread = (site: 'mvm' | 'bias') => {
      const y = signal(g, { chip, noiseSite: site }, { kind: 'multiplicative', sigma: 0.2 });
      const mean = y.reduce((a, v) => a + v, 0) / y.length;
      return Math.sqrt(y.reduce((a, v) => a + (v - mean) ** 2, 0) / y.length);
    };
    expect(spread('bias')).toBeGreaterThan(0.5); // ≈ 0.2 · 5
    expect(spread('mvm')).toBeLessThan(0.05);
  });

  it('the onnxruntime engine places the noise as the tfjs reference does', async () => {
    const m = compile(model('none'), { chip, noiseSite: 'norm' });
    const byHand = compile(model('norm'), { chip, foldBatchNorm: 'never' });
    const run = async (c: typeof m, engine: 'onnxruntime' | 'tfjs') => {
      const r = await c.runner({ kind: 'signal', noise: mult }, { engine });
      const y = await r.run(X, { seed: 5 });
      await r.dispose();
      return Array.from(y);
    };
    const ort = await run(m, 'onnxruntime');
    expect(ort).toEqual(await run(byHand, 'onnxruntime'));
    const ref = await run(m, 'tfjs');
    ort.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 4));
    m.dispose();
    byHand.dispose();
  });

  it('norm on a zoo CNN-6 puts the noise where its own noise layers are: the same points, the same draws', async () => {
    const { loadZooModel } = await import('../../src/models/zoo');
    const { fromTfjsLayersModel } = await import('../../src/compiler/frontends/tfjsLayers');
    const { embeddedMnistDir, loadMnist } = await import('../../src/data');
    const g = fromTfjsLayersModel(await loadZooModel('cnn6-mnist-mult-0'));
    const own = compile(g, { chip, foldBatchNorm: 'never' });
    const norm = compile(g, { chip, foldBatchNorm: 'never', noiseSite: 'norm' });
    expect(norm.signalGraph.nodes.map((n) => n.name)).toEqual(own.signalGraph.nodes.map((n) => n.name));
    const digits = loadMnist(embeddedMnistDir(), 'test', { limit: 4 });
    const x = tf.tensor4d(digits.images, [4, 28, 28, 1]);
    const a = own.runSignal(x, mult, { seed: 2 });
    const b = norm.runSignal(x, mult, { seed: 2 });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    own.dispose();
    norm.dispose();
  });

  it('refuses bias and norm for recurrent layers, naming the layer', () => {
    const b = new GraphBuilder();
    b.input('x', [null, 3, 2]);
    const units = 2;
    b.add('lstm', 'lstm1', ['x'], {
      units,
      kernel: t([2, 4 * units], new Array(16).fill(0.1)),
      recurrentKernel: t([units, 4 * units], new Array(16).fill(0.1)),
      bias: t([4 * units], new Array(8).fill(0)),
      returnSequences: false,
    } as never);
    const g = b.build(['lstm1']);
    expect(() => placeSignalNoise(g, 'norm')).toThrow(ConfigError);
    expect(() => placeSignalNoise(g, 'norm')).toThrow(/lstm1 is lstm/);
    expect(placeSignalNoise(g, 'mvm')).toBe(g);
  });
});
