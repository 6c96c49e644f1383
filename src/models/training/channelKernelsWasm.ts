/**
 * Per-channel reductions and channel splits for the tfjs wasm backend, the two
 * NHWC patterns that batch norm and DenseNet's concatenations put in every
 * training step.
 *
 * - `Sum` / `Mean` over the leading axes (per-channel statistics: BN's batch
 *   moments forward, its γ/β gradients backward). tfjs-wasm 4.22 first transposes
 *   the reduced axes to the end (a full copy), then reduces. Here the input is
 *   read once in place, as a [rows, C] matrix, into float64 accumulators. (A
 *   `1ᵀ·X` XNNPACK product looked 5× faster in a loop over one tensor, but only
 *   because XNNPACK caches the packed right operand: on fresh activations it was
 *   slower than the stock kernel.)
 * - `SplitV` along the last axis (the gradient of a channel concat). tfjs-wasm
 *   slices each part with a generic strided kernel; here each part is a row-wise
 *   `copyWithin` inside the wasm heap.
 *
 * `npm run bench -- train` (quiet 2-core machine, ms per call, stock vs these):
 * `Sum` over N,H,W of [16,32,32,148] 4.43 vs 3.81; `SplitV` of [16,32,32,148] into
 * 136 + 12 channels 6.30 vs 1.32.
 *
 * Any other axis pattern or dtype goes to the stock kernel. Values equal the stock
 * kernels' up to float32 summation order (tests compare them). Idempotent.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type KernelFn = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

const WRAPPED = Symbol.for('ohmic.channelKernelsWasm');

/** Number of leading axes `axis` names when it is exactly 0…k−1 with k < rank, else 0. */
export function leadingAxesCount(axis: number | number[], shape: number[]): number {
  const axes = tf.util.parseAxisParam(axis, shape).slice().sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

/** Sum (scale 1) or mean (scale 1/rows) over the leading axes: one pass over x as [rows, C], float64 accumulators. */
function reduceLeading(backend: BackendWasm, x: tf.TensorInfo, leading: number, keepDims: boolean, mean: boolean): tf.TensorInfo {
  const rows = x.shape.slice(0, leading).reduce((a, b) => a * b, 1);
  const cols = x.shape.slice(leading).reduce((a, b) => a * b, 1);
  const outShape = keepDims ? [...x.shape.slice(0, leading).map(() => 1), ...x.shape.slice(leading)] : x.shape.slice(leading);
  const out = backend.makeOutput(outShape, 'float32');
  const v = backend.typedArrayFromHeap(x) as Float32Array;
  const acc = new Float64Array(cols);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    for (let c = 0; c < cols; c++) acc[c] += v[base + c];
  }
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const scale = mean ? 1 / rows : 1;
  for (let c = 0; c < cols; c++) o[c] = acc[c] * scale;
  return out;
}

function makeReduction(original: KernelFn, mean: boolean): KernelFn {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const leading = x.dtype === 'float32' && x.shape.every((d) => d > 0) ? leadingAxesCount(axis, x.shape) : 0;
    if (leading === 0) return original(args);
    return reduceLeading(args.backend as BackendWasm, x, leading, keepDims, mean);
  };
}

/** `SplitV` along the last axis by row-wise copies inside the wasm heap; other axes go to the stock kernel. */
function makeSplitLastAxis(original: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const rank = x.shape.length;
    const splitAxis = tf.util.parseAxisParam(axis, x.shape)[0];
    if (splitAxis !== rank - 1 || rank < 2 || x.dtype !== 'float32') return original(args);
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, splitAxis);
    const C = x.shape[rank - 1];
    const rows = x.shape.slice(0, rank - 1).reduce((a, b) => a * b, 1);
    const outs = sizes.map((s) => backend.makeOutput([...x.shape.slice(0, rank - 1), s], 'float32'));
    // Views are taken after every allocation: a growing wasm memory detaches older ones.
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const heap = new Float32Array(src.buffer);
    const srcBase = src.byteOffset / 4;
    let offset = 0;
    outs.forEach((out, j) => {
      const size = sizes[j];
      const dstBase = (backend.typedArrayFromHeap(out) as Float32Array).byteOffset / 4;
      for (let r = 0; r < rows; r++) {
        const from = srcBase + r * C + offset;
        heap.copyWithin(dstBase + r * size, from, from + size);
      }
      offset += size;
    });
    return outs;
  };
}

function replace(kernelName: string, make: (original: KernelFn) => KernelFn): void {
  const config = tf.getKernel(kernelName, 'wasm');
  if (config === undefined || (config as unknown as Record<symbol, boolean>)[WRAPPED]) return;
  const replacement: tf.KernelConfig = { ...config, kernelFunc: make(config.kernelFunc as unknown as KernelFn) as unknown as tf.KernelFunc };
  (replacement as unknown as Record<symbol, boolean>)[WRAPPED] = true;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel(replacement);
}

/**
 * Replaces the wasm `Sum`, `Mean` and `SplitV` kernels by the channel fast paths
 * (no-op when wasm is not registered; idempotent).
 */
export function registerChannelKernelsWasm(): void {
  replace('Sum', (original) => makeReduction(original, false));
  replace('Mean', (original) => makeReduction(original, true));
  replace('SplitV', makeSplitLastAxis);
}
