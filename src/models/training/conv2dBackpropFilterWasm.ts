/**
 * `Conv2DBackpropFilter` for the tfjs wasm backend, which (4.22) has the forward
 * `Conv2D` and `Conv2DBackpropInput` but not the filter gradient, so training any
 * conv net on wasm otherwise fails with "kernel not registered".
 *
 * Method: im2col + one matrix product. With P the patch matrix
 * (rows: output positions n·Ho·Wo, columns: kh·kw·Cin, in the filter's own
 * [kh, kw, Cin] order) and dY the output gradient as an (n·Ho·Wo) × Cout matrix,
 * `dW = Pᵀ · dY`, reshaped to [kh, kw, Cin, Cout]. Pᵀ is written straight into the
 * wasm heap (already transposed: XNNPACK's `transposeA` product is ~10× slower)
 * and the product runs in the backend's own XNNPACK `BatchMatMul`.
 * The batch is processed in chunks so P stays under `IM2COL_MAX_FLOATS`
 * (DenseNet layers on 32×32 inputs would otherwise need ~190 MB per batch).
 *
 * Measured against the alternative the design note names (the wasm backend's own
 * `Conv3DBackpropFilterV2` with a depth of 1), batch 32, CNN-6 layer shapes, 2-core
 * machine (ms per call, im2col vs Conv3D): conv1 1.1 vs 8.4, conv2 24 vs 259,
 * conv3 5.2 vs 80, conv4 6.3 vs 110. im2col + matMul is 8–16× faster, and also
 * handles explicit padding (Conv3D takes only 'same'/'valid'); `conv3dBackpropFilterDepth1`
 * stays exported for that comparison.
 *
 * For stride 1 and a filter larger than 1×1 a second route is faster still: the
 * filter gradient is itself a forward convolution,
 * `dW[fh,fw,ci,co] = Σ_{n,oh,ow} x[n, oh+fh−pT, ow+fw−pL, ci]·dy[n,oh,ow,co]`, i.e.
 * `conv2d(xᵀ, dyᵀ)` with xᵀ = x as [Cin, H, W, N] (channels become the batch, the
 * batch becomes the channels), dyᵀ = dy as an [Ho, Wo, N, Cout] filter and the
 * forward padding, giving [Cin, kh, kw, Cout]. XNNPACK's convolution never
 * materialises the patch matrix, which dominates im2col when Cout is small
 * (DenseNet's growth rate, 12). `npm run bench -- train` (ms per call, im2col vs
 * conv route, batch 16): DenseNet-40 3×3 148→12 on 32×32 71.6 vs 27.5, 292→12 on
 * 16×16 34.6 vs 12.5, 436→12 on 8×8 12.4 vs 4.3, CNN-6 3×3 32→32 on 28×28 (batch
 * 32) 29.4 vs 19.5. For a 1×1 filter im2col is only a transpose and the conv route
 * measured ~3× slower (1×1 160→160 on 32×32: 29 vs 84 ms, one-off run), so 1×1
 * filters and strided convolutions stay on im2col. `conv2dBackpropFilterWasm`
 * picks the route.
 * tfjs-core's Conv2DBackpropFilter carries no dilation attribute (conv2d's
 * gradient refuses dilation > 1), so the kernel sees dilation 1; `im2colRows` /
 * `im2colColumns` themselves handle dilation and are tested with it.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ConfigError, ShapeError } from '../../errors';

/** Largest im2col chunk, in float32 elements (16 MiB). */
export const IM2COL_MAX_FLOATS = 4 * 1024 * 1024;

/** Geometry of one 2-D convolution (NHWC input, HWIO filter). */
export interface Conv2DGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * Writes the im2col patch rows of images `[n0, n1)` into `out`
 * (row = (n − n0)·Ho·Wo + oh·Wo + ow, column = (fh·kw + fw)·Cin + ci); padding reads 0.
 */
export function im2colRows(x: Float32Array, g: Conv2DGeometry, n0: number, n1: number, out: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = g;
  const kh = g.filterHeight;
  const kw = g.filterWidth;
  const K = kh * kw * C;
  let row = 0;
  for (let n = n0; n < n1; n++) {
    const xImage = n * H * W * C;
    for (let oh = 0; oh < Ho; oh++) {
      const ihBase = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < Wo; ow++) {
        const iwBase = ow * g.strideWidth - g.padLeft;
        let col = row * K;
        for (let fh = 0; fh < kh; fh++) {
          const ih = ihBase + fh * g.dilationHeight;
          const rowInside = ih >= 0 && ih < H;
          for (let fw = 0; fw < kw; fw++) {
            const iw = iwBase + fw * g.dilationWidth;
            if (rowInside && iw >= 0 && iw < W) {
              const src = xImage + (ih * W + iw) * C;
              for (let c = 0; c < C; c++) out[col + c] = x[src + c];
            } else {
              out.fill(0, col, col + C);
            }
            col += C;
          }
        }
        row++;
      }
    }
  }
}

/**
 * The same patches transposed: `out[k·M + m]` with k the filter-tap column of
 * `im2colRows` and m its row, for images `[n0, n1)` (M = (n1 − n0)·Ho·Wo). The
 * kernel uses this layout because XNNPACK's matMul with `transposeA` measured
 * ~10× slower than the plain product on these shapes.
 */
export function im2colColumns(x: Float32Array, g: Conv2DGeometry, n0: number, n1: number, out: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = g;
  const M = (n1 - n0) * Ho * Wo;
  for (let fh = 0; fh < g.filterHeight; fh++) {
    for (let fw = 0; fw < g.filterWidth; fw++) {
      for (let c = 0; c < C; c++) {
        const k = (fh * g.filterWidth + fw) * C + c;
        let m = k * M;
        for (let n = n0; n < n1; n++) {
          const xImage = n * H * W * C + c;
          for (let oh = 0; oh < Ho; oh++) {
            const ih = oh * g.strideHeight - g.padTop + fh * g.dilationHeight;
            if (ih < 0 || ih >= H) {
              out.fill(0, m, m + Wo);
              m += Wo;
              continue;
            }
            const xRow = xImage + ih * W * C;
            for (let ow = 0; ow < Wo; ow++) {
              const iw = ow * g.strideWidth - g.padLeft + fw * g.dilationWidth;
              out[m++] = iw >= 0 && iw < W ? x[xRow + iw * C] : 0;
            }
          }
        }
      }
    }
  }
}

function geometryFromAttrs(
  xShape: number[],
  dyShape: number[],
  attrs: tf.Conv2DBackpropFilterAttrs,
): Conv2DGeometry {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new ConfigError('Conv2DBackpropFilter.dataFormat', attrs.dataFormat, '"NHWC" (the wasm backend layout)');
  }
  if (xShape.length !== 4 || dyShape.length !== 4) {
    throw new ShapeError(`Conv2DBackpropFilter: x ${JSON.stringify(xShape)} and dy ${JSON.stringify(dyShape)} must be rank 4 (NHWC)`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (info.outHeight !== dyShape[1] || info.outWidth !== dyShape[2] || info.outChannels !== dyShape[3]) {
    throw new ShapeError(
      `Conv2DBackpropFilter: dy ${JSON.stringify(dyShape)} does not match the conv output ` +
        `[${info.batchSize}, ${info.outHeight}, ${info.outWidth}, ${info.outChannels}]`,
    );
  }
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

type BatchMatMulFunc = (args: {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  backend: BackendWasm;
  attrs: { transposeA: boolean; transposeB: boolean };
}) => tf.TensorInfo;

/** The wasm kernel: im2col chunks + XNNPACK BatchMatMul, summed over chunks. */
export function conv2dBackpropFilterIm2col(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new ConfigError('Conv2DBackpropFilter.dataFormat', attrs.dataFormat, '"NHWC" (the wasm backend layout)');
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new ConfigError('Conv2DBackpropFilter dtype', `${x.dtype}/${dy.dtype}`, 'float32 x and dy');
  }
  const g = geometryFromAttrs(x.shape, dy.shape, attrs);
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const rowsPerImage = g.outHeight * g.outWidth;
  const imagesPerChunk = Math.max(1, Math.min(g.batch, Math.floor(IM2COL_MAX_FLOATS / Math.max(1, rowsPerImage * K))));
  const matMul = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc as unknown as BatchMatMulFunc;
  const dySize = g.batch * rowsPerImage * g.outChannels;

  const dw = backend.makeOutput(attrs.filterShape, 'float32');
  let first = true;
  for (let n0 = 0; n0 < g.batch; n0 += imagesPerChunk) {
    const n1 = Math.min(g.batch, n0 + imagesPerChunk);
    const rows = (n1 - n0) * rowsPerImage;
    const cols = backend.makeOutput([1, K, rows], 'float32');
    // Heap views are taken after every allocation: a growing wasm memory detaches older ones.
    im2colColumns(
      backend.typedArrayFromHeap(x) as Float32Array,
      g,
      n0,
      n1,
      backend.typedArrayFromHeap(cols) as Float32Array,
    );
    let dyChunk: tf.TensorInfo;
    if (n0 === 0 && n1 === g.batch) {
      dyChunk = { dataId: dy.dataId, shape: [1, rows, g.outChannels], dtype: 'float32' };
    } else {
      const dyAll = backend.typedArrayFromHeap(dy) as Float32Array;
      const values = dyAll.slice(n0 * rowsPerImage * g.outChannels, n1 * rowsPerImage * g.outChannels);
      dyChunk = backend.makeOutput([1, rows, g.outChannels], 'float32', undefined, values);
    }
    const part = matMul({ inputs: { a: cols, b: dyChunk }, backend, attrs: { transposeA: false, transposeB: false } });
    const partValues = backend.typedArrayFromHeap(part) as Float32Array;
    const dwValues = backend.typedArrayFromHeap(dw) as Float32Array;
    if (first) dwValues.set(partValues);
    else for (let i = 0; i < dwValues.length; i++) dwValues[i] += partValues[i];
    first = false;
    backend.disposeData(part.dataId);
    backend.disposeData(cols.dataId);
    if (dyChunk.dataId !== dy.dataId) backend.disposeData(dyChunk.dataId);
  }
  if (dySize === 0) (backend.typedArrayFromHeap(dw) as Float32Array).fill(0);
  return dw;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type KernelFn = (args: KernelArgs) => tf.TensorInfo;

function wasmKernel(name: string): KernelFn {
  const config = tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`Conv2DBackpropFilter: the wasm backend has no ${name} kernel`);
  return config.kernelFunc as unknown as KernelFn;
}

/**
 * Bottom and right padding of the gradient convolution that make its output kh×kw
 * (top and left are the forward's); equal to the forward's own for stride 1.
 */
function gradientConvPadding(g: Conv2DGeometry): { bottom: number; right: number } {
  return {
    bottom: g.filterHeight - 1 + g.outHeight - g.inHeight - g.padTop,
    right: g.filterWidth - 1 + g.outWidth - g.inWidth - g.padLeft,
  };
}

/**
 * Which route `conv2dBackpropFilterWasm` takes: the forward-convolution route for
 * stride 1 and filters larger than 1×1 (padding that keeps the gradient conv's
 * output kh×kw, which stride 1 always does), im2col otherwise.
 */
export function backpropFilterRoute(g: Conv2DGeometry): 'conv' | 'im2col' {
  const { bottom, right } = gradientConvPadding(g);
  const strideOne = g.strideHeight === 1 && g.strideWidth === 1 && g.dilationHeight === 1 && g.dilationWidth === 1;
  return strideOne && g.filterHeight * g.filterWidth > 1 && bottom >= 0 && right >= 0 && g.padTop >= 0 && g.padLeft >= 0
    ? 'conv'
    : 'im2col';
}

/** The forward-convolution route (module comment) for a geometry `backpropFilterRoute` sends there. */
function viaConv(args: KernelArgs, g: Conv2DGeometry): tf.TensorInfo {
  const backend = args.backend;
  const { x, dy } = args.inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const transpose = wasmKernel('Transpose');
  const conv = wasmKernel('Conv2D');
  const { bottom, right } = gradientConvPadding(g);
  const xT = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } });
  const dyT = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } });
  try {
    const grad = conv({
      inputs: { x: xT, filter: dyT } as unknown as tf.NamedTensorInfoMap,
      backend,
      attrs: {
        strides: 1,
        pad: [[0, 0], [g.padTop, bottom], [g.padLeft, right], [0, 0]],
        dataFormat: 'NHWC',
        dilations: 1,
      } as unknown as tf.NamedAttrMap,
    });
    try {
      return transpose({ inputs: { x: grad }, backend, attrs: { perm: [1, 2, 0, 3] } });
    } finally {
      backend.disposeData(grad.dataId);
    }
  } finally {
    backend.disposeData(xT.dataId);
    backend.disposeData(dyT.dataId);
  }
}

/** The forward-convolution route alone (transposes + XNNPACK `Conv2D`); refuses what it cannot compute. */
export function conv2dBackpropFilterViaConv(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const g = geometryFromAttrs(x.shape, dy.shape, args.attrs as unknown as tf.Conv2DBackpropFilterAttrs);
  if (backpropFilterRoute(g) !== 'conv') {
    throw new ShapeError(`Conv2DBackpropFilter: the forward-convolution route needs stride 1 and a filter larger than 1×1`);
  }
  return viaConv(args, g);
}

/** The registered kernel: `backpropFilterRoute` picks the forward-conv route or im2col. */
export function conv2dBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
  // geometryFromAttrs refuses NCHW with a ConfigError before any route runs.
  const g = geometryFromAttrs(x.shape, dy.shape, args.attrs as unknown as tf.Conv2DBackpropFilterAttrs);
  const direct = x.dtype === 'float32' && dy.dtype === 'float32' && backpropFilterRoute(g) === 'conv';
  return direct ? viaConv(args, g) : conv2dBackpropFilterIm2col(args);
}

/**
 * The alternative measured against im2col: the wasm backend's own
 * `Conv3DBackpropFilterV2` on a depth-1 volume. Handles only string padding
 * ('same' | 'valid'), as Conv3D does. Runs through public ops, for benchmarks.
 */
export function conv3dBackpropFilterDepth1(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number],
  pad: 'same' | 'valid',
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [, ho, wo, co] = dy.shape;
    const [kh, kw, ci, cout] = filterShape;
    const dw5 = tf.engine().runKernel('Conv3DBackpropFilterV2', { x: x.reshape([n, 1, h, w, c]), dy: dy.reshape([n, 1, ho, wo, co]) }, {
      strides: [1, strides[0], strides[1]],
      pad,
      filterShape: [1, kh, kw, ci, cout],
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return dw5.reshape(filterShape) as tf.Tensor4D;
  });
}

/**
 * Registers `conv2dBackpropFilterWasm` as the wasm `Conv2DBackpropFilter`. Idempotent;
 * call it before training on wasm (the trainer does).
 */
export function registerConv2dBackpropFilterWasm(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: conv2dBackpropFilterWasm as unknown as tf.KernelFunc,
  });
}
