import { initBackend, tf } from '../../src/backend';
import { ConfigError } from '../../src/errors';
import { Rng } from '../../src/rng';
import {
  Conv2DGeometry,
  backpropFilterRoute,
  conv2dBackpropFilterIm2col,
  conv2dBackpropFilterViaConv,
  conv3dBackpropFilterDepth1,
  im2colRows,
  registerConv2dBackpropFilterWasm,
} from '../../src/models/training/conv2dBackpropFilterWasm';

function randn(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  Rng.fromSeed(seed).fillNormal(a);
  return a;
}

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: 'same' | 'valid' | number;
}

const CASES: Case[] = [
  { name: '3x3 valid stride 1', x: [2, 9, 8, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: 'valid' },
  { name: '3x3 same stride 1', x: [2, 7, 7, 2], filter: [3, 3, 2, 5], strides: [1, 1], pad: 'same' },
  { name: '5x5 same stride 2', x: [3, 11, 10, 2], filter: [5, 5, 2, 3], strides: [2, 2], pad: 'same' },
  { name: '3x2 valid strides 2x3', x: [2, 10, 12, 3], filter: [3, 2, 3, 2], strides: [2, 3], pad: 'valid' },
  { name: '3x3 explicit pad 2', x: [1, 6, 6, 2], filter: [3, 3, 2, 2], strides: [1, 1], pad: 2 },
  { name: '1x1 (transition layer)', x: [2, 5, 5, 6], filter: [1, 1, 6, 4], strides: [1, 1], pad: 'valid' },
  { name: '2x2 same stride 1 (uneven padding)', x: [2, 7, 6, 3], filter: [2, 2, 3, 4], strides: [1, 1], pad: 'same' },
  { name: '3x1 same stride 1, Cout 12 (DenseNet-like)', x: [3, 8, 8, 5], filter: [3, 1, 5, 12], strides: [1, 1], pad: 'same' },
];

type Route = typeof conv2dBackpropFilterIm2col;

/** One route of the kernel called directly (not through the registry) on x and dy. */
function viaRoute(route: Route, x: tf.Tensor4D, dy: tf.Tensor4D, c: Case): tf.Tensor {
  const info = route({
    inputs: { x, dy } as unknown as tf.NamedTensorInfoMap,
    backend: tf.backend(),
    attrs: { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter } as unknown as tf.NamedAttrMap,
  });
  return tf.engine().makeTensorFromTensorInfo(info);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { maxErr: number; maxRef: number } {
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < b.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return { maxErr, maxRef };
}

/** dL/dW of L = Σ conv2d(x, W) ⊙ U, through tfjs autodiff on the active backend. */
function filterGradient(c: Case, xs: Float32Array, fs: Float32Array, ups: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, c.x);
    const f = tf.tensor4d(fs, c.filter);
    const loss = (w: tf.Tensor) => {
      const y = tf.conv2d(x, w as tf.Tensor4D, c.strides, c.pad);
      return tf.sum(tf.mul(y, tf.tensor(ups, y.shape)));
    };
    return tf.grad(loss)(f).dataSync() as Float32Array;
  });
}

/** The kernel itself, as conv2d's gradient calls it (tfjs exports no public op for it). */
function backpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: number,
  pad: 'same' | 'valid',
): tf.Tensor {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    strides,
    pad,
    dataFormat: 'NHWC',
    filterShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

describe('Conv2DBackpropFilter on wasm (forward-conv route and im2col + matMul)', () => {
  beforeAll(async () => {
    expect(await initBackend()).toBe('wasm');
    registerConv2dBackpropFilterWasm();
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('is registered for wasm and registration is idempotent', () => {
    const first = tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc;
    registerConv2dBackpropFilterWasm();
    expect(first).toBeDefined();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc).toBe(first);
  });

  it.each(CASES)('matches the cpu backend gradient: $name', async (c) => {
    const xs = randn(c.x.reduce((a, b) => a * b), 1);
    const fs = randn(c.filter.reduce((a, b) => a * b), 2);
    const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape);
    const ups = randn(outShape.reduce((a, b) => a * b), 3);
    await tf.setBackend('wasm');
    const got = filterGradient(c, xs, fs, ups);
    await tf.setBackend('cpu');
    const want = filterGradient(c, xs, fs, ups);
    await tf.setBackend('wasm');
    expect(got.length).toBe(want.length);
    const { maxErr, maxRef } = maxAbsDiff(got, want);
    expect(maxRef).toBeGreaterThan(1);
    expect(maxErr).toBeLessThan(1e-4 * maxRef);
  });

  it('takes the forward-conv route exactly for stride-1 filters larger than 1×1', () => {
    const routes = CASES.map((c) => {
      const xShape = c.x;
      const info = tf.backend_util.computeConv2DInfo(xShape, c.filter, c.strides, 1, c.pad);
      return backpropFilterRoute({
        batch: info.batchSize, inHeight: info.inHeight, inWidth: info.inWidth, inChannels: info.inChannels,
        outHeight: info.outHeight, outWidth: info.outWidth, outChannels: info.outChannels,
        filterHeight: info.filterHeight, filterWidth: info.filterWidth, strideHeight: info.strideHeight,
        strideWidth: info.strideWidth, dilationHeight: 1, dilationWidth: 1, padTop: info.padInfo.top, padLeft: info.padInfo.left,
      });
    });
    expect(routes).toEqual(['conv', 'conv', 'im2col', 'im2col', 'conv', 'im2col', 'conv', 'conv']);
  });

  it.each(CASES.filter((c) => c.strides[0] === 1 && c.filter[0] * c.filter[1] > 1))(
    'forward-conv route equals im2col: $name',
    (c) => {
      const xs = randn(c.x.reduce((a, b) => a * b), 11);
      const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape);
      const dys = randn(outShape.reduce((a, b) => a * b), 12);
      const before = tf.engine().backend.numDataIds();
      const [viaConv, viaIm2col] = tf.tidy(() => {
        const x = tf.tensor4d(xs, c.x);
        const dy = tf.tensor4d(dys, outShape as [number, number, number, number]);
        return [viaRoute(conv2dBackpropFilterViaConv, x, dy, c).dataSync(), viaRoute(conv2dBackpropFilterIm2col, x, dy, c).dataSync()];
      });
      expect(tf.engine().backend.numDataIds()).toBe(before);
      const { maxErr, maxRef } = maxAbsDiff(viaConv, viaIm2col);
      expect(maxRef).toBeGreaterThan(1);
      expect(maxErr).toBeLessThan(1e-5 * maxRef);
    },
  );

  it('the forward-conv route refuses a strided convolution', () => {
    const c = CASES[2];
    const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape);
    tf.tidy(() => {
      expect(() => viaRoute(conv2dBackpropFilterViaConv, tf.zeros(c.x), tf.zeros(outShape) as tf.Tensor4D, c)).toThrow(/stride 1/);
    });
  });

  it('chunks large batches without changing the result', () => {
    // A batch whose im2col matrix is > IM2COL_MAX_FLOATS (4 Mi floats) is summed over chunks.
    const shape: [number, number, number, number] = [40, 32, 32, 40];
    const filter: [number, number, number, number] = [3, 3, 40, 2];
    const xs = randn(shape.reduce((a, b) => a * b), 4);
    const dys = randn(40 * 32 * 32 * 2, 5);
    const chunkCase: Case = { name: 'chunked', x: shape, filter, strides: [1, 1], pad: 'same' };
    const got = tf.tidy(() =>
      viaRoute(conv2dBackpropFilterIm2col, tf.tensor4d(xs, shape), tf.tensor4d(dys, [40, 32, 32, 2]), chunkCase).dataSync(),
    );
    // Reference: the same kernel image by image (each chunk alone is tiny), summed.
    const want = new Float64Array(got.length);
    for (let n = 0; n < 40; n++) {
      const part = tf.tidy(() =>
        backpropFilter(
          tf.tensor4d(xs.subarray(n * 32 * 32 * 40, (n + 1) * 32 * 32 * 40), [1, 32, 32, 40]),
          tf.tensor4d(dys.subarray(n * 32 * 32 * 2, (n + 1) * 32 * 32 * 2), [1, 32, 32, 2]),
          filter,
          1,
          'same',
        ).dataSync(),
      );
      for (let i = 0; i < part.length; i++) want[i] += part[i];
    }
    // Float32 sums of 40,960 products in a different order: allow 1e-5 of the largest entry
    // (random-walk rounding error is ~sqrt(40960)·6e-8 ≈ 1.2e-5 relative).
    const { maxErr, maxRef } = maxAbsDiff(got, want);
    expect(maxRef).toBeGreaterThan(100);
    expect(maxErr).toBeLessThan(5e-5 * maxRef);
  });

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const buffersBefore = tf.engine().backend.numDataIds();
    tf.tidy(() => {
      backpropFilter(tf.ones([2, 6, 6, 2]) as tf.Tensor4D, tf.ones([2, 4, 4, 3]) as tf.Tensor4D, [3, 3, 2, 3], 1, 'valid');
    });
    expect(tf.engine().backend.numDataIds()).toBe(buffersBefore);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('equals the Conv3DBackpropFilterV2 depth-1 route', () => {
    const xs = randn(2 * 9 * 9 * 3, 6);
    const dys = randn(2 * 9 * 9 * 4, 7);
    const [a, b] = tf.tidy(() => {
      const x = tf.tensor4d(xs, [2, 9, 9, 3]);
      const dy = tf.tensor4d(dys, [2, 9, 9, 4]);
      return [
        backpropFilter(x, dy, [3, 3, 3, 4], 1, 'same').dataSync(),
        conv3dBackpropFilterDepth1(x, dy, [3, 3, 3, 4], [1, 1], 'same').dataSync(),
      ];
    });
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-3 * (1 + Math.abs(b[i])));
  });

  it('im2col with dilation matches a naive loop (tfjs-core gradients refuse dilation > 1)', () => {
    const g: Conv2DGeometry = {
      batch: 2, inHeight: 9, inWidth: 8, inChannels: 2, outHeight: 0, outWidth: 0, outChannels: 3,
      filterHeight: 3, filterWidth: 2, strideHeight: 2, strideWidth: 1, dilationHeight: 2, dilationWidth: 3,
      padTop: 1, padLeft: 2,
    };
    g.outHeight = Math.floor((9 + 2 * 1 - (2 * 2 + 1)) / 2) + 1;
    g.outWidth = Math.floor((8 + 2 * 2 - (1 * 3 + 1)) / 1) + 1;
    const x = randn(2 * 9 * 8 * 2, 8);
    const dy = randn(2 * g.outHeight * g.outWidth * 3, 9);
    const K = 3 * 2 * 2;
    const M = 2 * g.outHeight * g.outWidth;
    const P = new Float32Array(M * K);
    im2colRows(x, g, 0, 2, P);
    const viaIm2col = new Float64Array(K * 3);
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) for (let o = 0; o < 3; o++) viaIm2col[k * 3 + o] += P[m * K + k] * dy[m * 3 + o];
    const naive = new Float64Array(K * 3);
    for (let n = 0; n < 2; n++)
      for (let oh = 0; oh < g.outHeight; oh++)
        for (let ow = 0; ow < g.outWidth; ow++)
          for (let fh = 0; fh < 3; fh++)
            for (let fw = 0; fw < 2; fw++) {
              const ih = oh * 2 - 1 + fh * 2;
              const iw = ow - 2 + fw * 3;
              if (ih < 0 || ih >= 9 || iw < 0 || iw >= 8) continue;
              for (let c = 0; c < 2; c++)
                for (let o = 0; o < 3; o++)
                  naive[((fh * 2 + fw) * 2 + c) * 3 + o] +=
                    x[((n * 9 + ih) * 8 + iw) * 2 + c] * dy[((n * g.outHeight + oh) * g.outWidth + ow) * 3 + o];
            }
    for (let i = 0; i < naive.length; i++) expect(viaIm2col[i]).toBeCloseTo(naive[i], 4);
  });

  it('rejects NCHW with a typed error', () => {
    const x = tf.zeros([1, 2, 4, 4]);
    const dy = tf.zeros([1, 1, 4, 4]);
    expect(() =>
      conv2dBackpropFilterIm2col({
        inputs: { x, dy } as unknown as tf.NamedTensorInfoMap,
        backend: tf.backend(),
        attrs: { dataFormat: 'NCHW', filterShape: [1, 1, 1, 1], strides: 1, pad: 'valid' } as unknown as tf.NamedAttrMap,
      }),
    ).toThrow(ConfigError);
    expect(() =>
      conv2dBackpropFilterIm2col({
        inputs: { x, dy } as unknown as tf.NamedTensorInfoMap,
        backend: tf.backend(),
        attrs: { dataFormat: 'NCHW', filterShape: [1, 1, 1, 1], strides: 1, pad: 'valid' } as unknown as tf.NamedAttrMap,
      }),
    ).toThrow(/dataFormat = "NCHW": expected "NHWC"/);
    tf.dispose([x, dy]);
  });
});
