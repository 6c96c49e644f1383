import { initBackend, tf } from '../../src/backend';
import { ConfigError } from '../../src/errors';
import { buildModel } from '../../src/models/paper/buildModel';
import { LSTM_TIME_STEPS } from '../../src/models/paper/lstm';
import { Rng } from '../../src/rng';
import { LSTM_NOISE_PLACEMENTS, lstmPlacementLogits } from '../../src/study/reproduce/lstmNoisePlacement';

let model: tf.LayersModel;

function sequences(count: number, seed: number): Float32Array {
  const x = new Float32Array(count * LSTM_TIME_STEPS * 2);
  Rng.fromSeed(seed).fillNormal(x, 0, 0.3);
  return x;
}

beforeAll(async () => {
  await initBackend();
  model = buildModel('lstm', { seed: 5 });
});

afterAll(() => model.dispose());

describe('LSTM noise-placement diagnostic', () => {
  it('is the zoo LSTM exactly at σ = 0, in every placement', () => {
    const n = 6;
    const x = sequences(n, 1);
    const want = tf.tidy(() => (model.predict(tf.tensor3d(x, [n, LSTM_TIME_STEPS, 2])) as tf.Tensor).dataSync() as Float32Array);
    for (const p of LSTM_NOISE_PLACEMENTS) {
      const got = lstmPlacementLogits(model, x, n, p, 0, Rng.fromSeed(0), 4);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i])));
    }
  });

  it('draws the same noise for a sample whatever the batch size', () => {
    const n = 7;
    const x = sequences(n, 2);
    for (const p of LSTM_NOISE_PLACEMENTS) {
      const a = lstmPlacementLogits(model, x, n, p, 0.4, Rng.fromSeed(9), 7);
      const b = lstmPlacementLogits(model, x, n, p, 0.4, Rng.fromSeed(9), 3);
      expect(Array.from(b)).toEqual(Array.from(a));
      const other = lstmPlacementLogits(model, x, n, p, 0.4, Rng.fromSeed(10), 7);
      expect(Array.from(other)).not.toEqual(Array.from(a));
    }
  });

  it('puts multiplicative noise of std σ on the output and none on zero gate products (gate-mvm)', () => {
    // Zero LSTM kernels, bias 0.5: x·W + h·U = 0, so the gate noise multiplies zero and every sample reaches the same h ≠ 0;
    // only the output layer's noise y(1 + σε) is left: y/exact − 1 has mean 0 and std σ.
    const zeroed = buildModel('lstm', { seed: 5 });
    const w = zeroed.getWeights();
    zeroed.setWeights([tf.zerosLike(w[0]), tf.zerosLike(w[1]), tf.fill(w[2].shape, 0.5), w[3], w[4]]);
    const n = 300;
    const sigma = 0.3;
    const x = sequences(n, 3);
    const exact = lstmPlacementLogits(zeroed, x, n, 'gate-mvm', 0, Rng.fromSeed(0), 100);
    const noisy = lstmPlacementLogits(zeroed, x, n, 'gate-mvm', sigma, Rng.fromSeed(4), 100);
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < noisy.length; i++) {
      expect(Math.abs(exact[i] - exact[i % 10])).toBeLessThan(1e-6);
      const r = noisy[i] / exact[i] - 1;
      sum += r;
      sq += r * r;
    }
    const m = sum / noisy.length;
    const sd = Math.sqrt(sq / noisy.length - m * m);
    // 3,000 draws: the mean's standard error is σ/√3000 ≈ 0.0055 and the std's ≈ σ/√6000 ≈ 0.0039 (4 SE bounds).
    expect(Math.abs(m)).toBeLessThan(0.022);
    expect(Math.abs(sd - sigma)).toBeLessThan(0.016);
    // The pre-activation placement multiplies the bias too, so it moves h itself.
    const pre = lstmPlacementLogits(zeroed, x, n, 'gate-preactivation', sigma, Rng.fromSeed(4), 100);
    let moved = 0;
    for (let i = 0; i < 10; i++) moved = Math.max(moved, Math.abs(pre[i] - noisy[i]));
    expect(moved).toBeGreaterThan(1e-4);
    zeroed.dispose();
  });

  it('rejects an unknown placement and inputs of the wrong size by name', () => {
    expect(() => lstmPlacementLogits(model, sequences(1, 0), 1, 'after-tanh' as never, 0.1, Rng.fromSeed(0))).toThrow(ConfigError);
    expect(() => lstmPlacementLogits(model, new Float32Array(10), 1, 'gate-mvm', 0.1, Rng.fromSeed(0))).toThrow(/x/);
  });
});
