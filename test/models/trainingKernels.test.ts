import { initBackend, tf } from '../../src/backend';
import { Rng } from '../../src/rng';
import { registerTrainingKernels } from '../../src/models/training/registerTrainingKernels';

function randn(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  Rng.fromSeed(seed).fillNormal(a);
  return a;
}

function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  let ref = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    ref = Math.max(ref, Math.abs(want[i]));
  }
  return err / ref;
}

beforeAll(async () => {
  await initBackend();
  registerTrainingKernels();
});
afterAll(async () => {
  await tf.setBackend('wasm');
});

/** Runs `f` on wasm (with our kernels) and on the cpu backend (tfjs reference). */
async function onBothBackends(f: () => Float32Array[]): Promise<[Float32Array[], Float32Array[]]> {
  await tf.setBackend('wasm');
  const wasm = f();
  await tf.setBackend('cpu');
  const cpu = f();
  await tf.setBackend('wasm');
  return [wasm, cpu];
}

describe('Conv2DBackpropInput on wasm (forward-conv route for stride 1)', () => {
  const cases = [
    { name: '3x3 valid', x: [2, 9, 8, 3], f: [3, 3, 3, 4], s: 1, pad: 'valid' as const },
    { name: '3x3 same', x: [2, 7, 7, 5], f: [3, 3, 5, 2], s: 1, pad: 'same' as const },
    { name: '5x5 same', x: [1, 10, 9, 2], f: [5, 5, 2, 3], s: 1, pad: 'same' as const },
    { name: '2x2 same (asymmetric padding)', x: [2, 6, 6, 2], f: [2, 2, 2, 3], s: 1, pad: 'same' as const },
    { name: '1x1', x: [2, 5, 5, 6], f: [1, 1, 6, 4], s: 1, pad: 'valid' as const },
    { name: 'stride 2 (falls back to the stock kernel)', x: [2, 9, 9, 2], f: [3, 3, 2, 3], s: 2, pad: 'same' as const },
  ];
  it.each(cases)('matches the cpu backend: $name', async (c) => {
    const xs = randn(c.x.reduce((a, b) => a * b), 1);
    const fs = randn(c.f.reduce((a, b) => a * b), 2);
    const [[got], [want]] = await onBothBackends(() => [
      tf.tidy(() => {
        const x = tf.tensor4d(xs, c.x as [number, number, number, number]);
        const w = tf.tensor4d(fs, c.f as [number, number, number, number]);
        const loss = (t: tf.Tensor) => {
          const y = tf.conv2d(t as tf.Tensor4D, w, c.s, c.pad);
          return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
        };
        return tf.grad(loss)(x).dataSync() as Float32Array;
      }),
    ]);
    expect(got.length).toBe(want.length);
    expect(maxRelErr(got, want)).toBeLessThan(1e-5);
  });
});

describe('FusedBatchNorm gradient without tile', () => {
  it('equals autodiff through the elementary formula (x − μ)/√(σ² + ε)·γ + β, for x, γ and β', () => {
    const xs = randn(4 * 5 * 5 * 3, 3);
    const [got, want] = tf.tidy(() => {
      const x = tf.tensor4d(xs, [4, 5, 5, 3]);
      const gamma = tf.tensor1d([1.5, -0.5, 2]);
      const beta = tf.tensor1d([0.1, 0.2, -0.3]);
      const up = tf.cos(tf.range(0, x.size)).reshape(x.shape);
      const fused = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3), up));
      };
      const elementary = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        const normed = tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-3)));
        return tf.sum(tf.mul(tf.add(tf.mul(normed, g), b), up));
      };
      return [
        tf.grads(fused)([x, gamma, beta]).map((g) => g.dataSync() as Float32Array),
        tf.grads(elementary)([x, gamma, beta]).map((g) => g.dataSync() as Float32Array),
      ];
    });
    for (let i = 0; i < 3; i++) expect(maxRelErr(got[i], want[i])).toBeLessThan(1e-4);
    // The x-gradient through batch statistics sums to 0 per channel.
    let s = 0;
    for (let i = 0; i < got[0].length; i += 3) s += got[0][i];
    expect(Math.abs(s)).toBeLessThan(1e-3);
  });
});

describe('BatchMatMul on wasm with transpose flags (explicit transposes)', () => {
  const cases: Array<[string, number[], number[], boolean, boolean]> = [
    ['Aᵀ·B (a weight gradient)', [32, 128], [32, 512], true, false],
    ['A·Bᵀ (an input gradient)', [32, 512], [128, 512], false, true],
    ['Aᵀ·Bᵀ', [7, 5], [3, 7], true, true],
    ['batched Aᵀ·B', [3, 6, 4], [3, 6, 5], true, false],
    ['no flags (passes through)', [4, 6], [6, 3], false, false],
  ];
  it.each(cases)('%s equals the cpu backend within 1e-5', async (_label, aShape, bShape, transposeA, transposeB) => {
    const aValues = randn(aShape.reduce((p, q) => p * q, 1), 1);
    const bValues = randn(bShape.reduce((p, q) => p * q, 1), 2);
    const [wasm, cpu] = await onBothBackends(() =>
      tf.tidy(() => [tf.matMul(tf.tensor(aValues, aShape), tf.tensor(bValues, bShape), transposeA, transposeB).dataSync() as Float32Array]),
    );
    expect(wasm[0].length).toBe(cpu[0].length);
    expect(maxRelErr(wasm[0], cpu[0])).toBeLessThan(1e-5);
  });

  it('gives the matMul gradients of the cpu backend and leaks no tensors', async () => {
    const aValues = randn(32 * 130, 3);
    const bValues = randn(130 * 512, 4);
    const grads = () =>
      tf.tidy(() => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b))));
        return g([tf.tensor2d(aValues, [32, 130]), tf.tensor2d(bValues, [130, 512])]).map((t) => t.dataSync() as Float32Array);
      });
    const before = tf.memory().numTensors;
    const [wasm, cpu] = await onBothBackends(grads);
    expect(tf.memory().numTensors).toBe(before);
    expect(maxRelErr(wasm[0], cpu[0])).toBeLessThan(1e-5);
    expect(maxRelErr(wasm[1], cpu[1])).toBeLessThan(1e-5);
  });
});

describe('Per-channel Sum/Mean and last-axis SplitV on wasm', () => {
  const shape = [3, 5, 4, 7];
  const xs = randn(3 * 5 * 4 * 7, 21).map((v) => v + 2);

  it.each([
    { axis: [0, 1, 2], keepDims: false },
    { axis: [2, 1, 0], keepDims: true },
    { axis: [0], keepDims: false },
    { axis: [0, 1], keepDims: true },
    { axis: [1, 2], keepDims: false }, // not leading: the stock kernel
    { axis: [-1], keepDims: false },
    { axis: [0, 1, 2, 3], keepDims: false }, // every axis: the stock kernel
  ])('sum and mean over $axis (keepDims $keepDims) equal the cpu backend within 1e-6', async ({ axis, keepDims }) => {
    const before = tf.engine().backend.numDataIds();
    const [wasm, cpu] = await onBothBackends(() =>
      tf.tidy(() => {
        const x = tf.tensor(xs, shape);
        const s = tf.sum(x, axis, keepDims);
        const m = tf.mean(x, axis, keepDims);
        return [s.dataSync() as Float32Array, m.dataSync() as Float32Array, new Float32Array(s.shape), new Float32Array(m.shape)];
      }),
    );
    expect(wasm[2]).toEqual(cpu[2]);
    expect(wasm[3]).toEqual(cpu[3]);
    expect(maxRelErr(wasm[0], cpu[0])).toBeLessThan(1e-6);
    expect(maxRelErr(wasm[1], cpu[1])).toBeLessThan(1e-6);
    expect(tf.engine().backend.numDataIds()).toBe(before);
  });

  it('sums the rows exactly as a float64 loop would (per-channel BN statistics)', () => {
    const got = tf.tidy(() => tf.sum(tf.tensor(xs, shape), [0, 1, 2]).dataSync());
    for (let c = 0; c < 7; c++) {
      let want = 0;
      for (let i = c; i < xs.length; i += 7) want += xs[i];
      expect(got[c]).toBe(Math.fround(want));
    }
  });

  it.each([
    { sizes: [4, 3], axis: 3 },
    { sizes: [1, 5, 1], axis: -1 },
    { sizes: [2, 2], axis: 2 }, // not the last axis: the stock kernel
  ])('split $sizes along axis $axis equals the cpu backend exactly', async ({ sizes, axis }) => {
    const [wasm, cpu] = await onBothBackends(() =>
      tf.tidy(() => tf.split(tf.tensor(xs, shape), sizes, axis).flatMap((t) => [t.dataSync() as Float32Array, new Float32Array(t.shape)])),
    );
    expect(wasm).toEqual(cpu);
  });

  it('the concat gradient (a last-axis split) equals the cpu backend', async () => {
    const [wasm, cpu] = await onBothBackends(() =>
      tf.tidy(() => {
        const a = tf.tensor(xs, shape);
        const b = tf.tensor(xs.slice(0, 3 * 5 * 4 * 2), [3, 5, 4, 2]);
        const up = tf.tensor(randn(3 * 5 * 4 * 9, 22), [3, 5, 4, 9]);
        return tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.concat([p, q], 3), up)))([a, b]).map((g) => g.dataSync() as Float32Array);
      }),
    );
    expect(wasm).toEqual(cpu);
  });
});
