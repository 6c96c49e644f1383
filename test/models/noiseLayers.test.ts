import { initBackend, tf } from '../../src/backend';
import { ConfigError } from '../../src/errors';
import {
  AdditiveGaussianNoise,
  MultiplicativeGaussianNoise,
  noiseSources,
  setNoise,
} from '../../src/models/noiseLayers';

beforeAll(async () => {
  await initBackend();
});

const N_ROWS = 200;
const N_COLS = 500; // 100,000 draws per statistic

function stats(a: Float32Array | Int32Array | Uint8Array): { mean: number; std: number } {
  let s = 0;
  for (const v of a) s += v;
  const mean = s / a.length;
  let q = 0;
  for (const v of a) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / (a.length - 1)) };
}

function run(layer: tf.layers.Layer, x: tf.Tensor, training: boolean): Float32Array {
  return tf.tidy(() => (layer.apply(x, { training }) as tf.Tensor).dataSync() as Float32Array);
}

describe('MultiplicativeGaussianNoise (Eq. 3: y(1 + σε))', () => {
  it('has mean y and std σ|y| (5-sigma bounds over 1e5 draws)', () => {
    const sigma = 0.4;
    const c = 2;
    const layer = new MultiplicativeGaussianNoise({ sigma, seed: 11, streamLabel: 'a' });
    const x = tf.fill([N_ROWS, N_COLS], c);
    const { mean, std } = stats(run(layer, x, true));
    const n = N_ROWS * N_COLS;
    // Standard error of the mean is cσ/√n = 0.0025; of the std about cσ/√(2n) = 0.0018.
    expect(Math.abs(mean - c)).toBeLessThan((5 * c * sigma) / Math.sqrt(n));
    expect(Math.abs(std - c * sigma)).toBeLessThan((5 * c * sigma) / Math.sqrt(2 * n));
    x.dispose();
  });

  it('scales its noise with the signal: (y′ − y)/y ~ N(0, σ²) for mixed-sign y', () => {
    const sigma = 0.7;
    const layer = new MultiplicativeGaussianNoise({ sigma, seed: 12, streamLabel: 'b' });
    const base = tf.tidy(() => tf.linspace(-3, 3, N_ROWS * N_COLS).add(0.0123).reshape([N_ROWS, N_COLS]));
    const y = base.dataSync();
    const out = run(layer, base, true);
    const rel = new Float32Array(y.length);
    for (let i = 0; i < y.length; i++) rel[i] = (out[i] - y[i]) / y[i];
    const { mean, std } = stats(rel);
    const n = y.length;
    expect(Math.abs(mean)).toBeLessThan((5 * sigma) / Math.sqrt(n));
    expect(Math.abs(std - sigma)).toBeLessThan(2e-3 + (5 * sigma) / Math.sqrt(2 * n));
    base.dispose();
  });

  it('is the identity at σ = 0, and off in inference unless activeInInference', () => {
    const x = tf.tensor2d([[1, -2, 3.5]]);
    const off = new MultiplicativeGaussianNoise({ sigma: 0, seed: 1, streamLabel: 'c' });
    expect(Array.from(run(off, x, true))).toEqual([1, -2, 3.5]);
    const train = new MultiplicativeGaussianNoise({ sigma: 0.5, seed: 1, streamLabel: 'c' });
    expect(Array.from(run(train, x, false))).toEqual([1, -2, 3.5]);
    expect(train.drawIndex).toBe(0);
    const noisy = new MultiplicativeGaussianNoise({ sigma: 0.5, seed: 1, streamLabel: 'c', activeInInference: true });
    expect(Array.from(run(noisy, x, false))).not.toEqual([1, -2, 3.5]);
    expect(noisy.drawIndex).toBe(1);
    x.dispose();
  });

  it('draws differently per call, and identically for the same seed, label and draw index', () => {
    const x = tf.ones([4, 64]);
    const a = new MultiplicativeGaussianNoise({ sigma: 0.3, seed: 5, streamLabel: 'conv1' });
    const b = new MultiplicativeGaussianNoise({ sigma: 0.3, seed: 5, streamLabel: 'conv1' });
    const other = new MultiplicativeGaussianNoise({ sigma: 0.3, seed: 5, streamLabel: 'conv2' });
    const a1 = run(a, x, true);
    const a2 = run(a, x, true);
    const b1 = run(b, x, true);
    const o1 = run(other, x, true);
    expect(Buffer.from(b1.buffer).equals(Buffer.from(a1.buffer))).toBe(true);
    let same12 = 0;
    let sameOther = 0;
    for (let i = 0; i < a1.length; i++) {
      if (a1[i] === a2[i]) same12++;
      if (a1[i] === o1[i]) sameOther++;
    }
    expect(same12).toBe(0);
    expect(sameOther).toBe(0);
    b.drawIndex = 1; // replay call 2
    expect(Buffer.from(run(b, x, true).buffer).equals(Buffer.from(a2.buffer))).toBe(true);
    x.dispose();
  });

  it('passes the gradient 1 + σε through y (ε held constant)', () => {
    const layer = new MultiplicativeGaussianNoise({ sigma: 0.5, seed: 9, streamLabel: 'g' });
    const y = tf.tensor2d([[0.5, -1, 2, 4]]);
    const out = run(layer, y, true);
    layer.drawIndex = 0;
    const grad = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true }) as tf.Tensor))(y).dataSync());
    const yv = y.dataSync();
    for (let i = 0; i < 4; i++) expect(grad[i]).toBeCloseTo(out[i] / yv[i], 5);
    y.dispose();
  });

  it('rejects a negative σ and a bad seed with ConfigError naming the field', () => {
    expect(() => new MultiplicativeGaussianNoise({ sigma: -0.1, seed: 0, streamLabel: 'x' })).toThrow(
      /MultiplicativeGaussianNoise\.sigma = -0\.1: expected a finite number >= 0/,
    );
    expect(() => new AdditiveGaussianNoise({ sigma: 0.1, seed: 1.5, streamLabel: 'x' })).toThrow(ConfigError);
  });
});

describe('AdditiveGaussianNoise (Eq. 2: y + σε)', () => {
  it('has mean y and std σ independent of y', () => {
    const sigma = 0.6;
    const layer = new AdditiveGaussianNoise({ sigma, seed: 21, streamLabel: 'a' });
    const x = tf.fill([N_ROWS, N_COLS], -7);
    const { mean, std } = stats(run(layer, x, true));
    const n = N_ROWS * N_COLS;
    expect(Math.abs(mean + 7)).toBeLessThan((5 * sigma) / Math.sqrt(n));
    expect(Math.abs(std - sigma)).toBeLessThan((5 * sigma) / Math.sqrt(2 * n));
    const zeros = tf.zeros([N_ROWS, N_COLS]);
    expect(Math.abs(stats(run(layer, zeros, true)).std - sigma)).toBeLessThan((5 * sigma) / Math.sqrt(2 * n));
    tf.dispose([x, zeros]);
  });

  it('is the identity at σ = 0 and has gradient 1', () => {
    const layer = new AdditiveGaussianNoise({ sigma: 0, seed: 1, streamLabel: 'z' });
    const x = tf.tensor1d([3, -1]);
    expect(Array.from(run(layer, x, true))).toEqual([3, -1]);
    const noisy = new AdditiveGaussianNoise({ sigma: 2, seed: 1, streamLabel: 'z' });
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(noisy.apply(t, { training: true }) as tf.Tensor))(x).dataSync());
    expect(Array.from(g)).toEqual([1, 1]);
    x.dispose();
  });
});

describe('noise layers inside a model', () => {
  it('serialise under their class names and come back with σ, seed and label', async () => {
    const input = tf.input({ shape: [3] });
    const m1 = new MultiplicativeGaussianNoise({ sigma: 0.4, seed: 3, streamLabel: 'm', name: 'mult' });
    const a1 = new AdditiveGaussianNoise({ sigma: 0.2, seed: 3, streamLabel: 'a', name: 'add' });
    const model = tf.model({ inputs: input, outputs: a1.apply(m1.apply(input)) as tf.SymbolicTensor });
    const topology = model.toJSON(undefined, false) as unknown as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
    const classes = topology.config.layers.map((l) => l.class_name);
    expect(classes).toEqual(['InputLayer', 'MultiplicativeGaussianNoise', 'AdditiveGaussianNoise']);
    // tfjs writes config keys in Keras' snake_case and converts them back on load.
    expect(topology.config.layers[1].config).toMatchObject({ sigma: 0.4, seed: 3, stream_label: 'm', active_in_inference: false });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } })));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const sources = noiseSources(loaded);
    expect(sources.map((s) => [s.constructor.name, s.sigma, s.streamLabel])).toEqual([
      ['MultiplicativeGaussianNoise', 0.4, 'm'],
      ['AdditiveGaussianNoise', 0.2, 'a'],
    ]);
    setNoise(loaded, { sigma: 0.9, activeInInference: true });
    expect(sources.every((s) => s.sigma === 0.9 && s.activeInInference)).toBe(true);
    expect(() => setNoise(loaded, { sigma: -1 })).toThrow(/sigma = -1/);
  });
});
