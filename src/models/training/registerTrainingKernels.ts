import { registerBatchMatMulTransposeWasm } from './batchMatMulTransposeWasm';
import { registerBatchNormGradient } from './batchNormGradient';
import { registerChannelKernelsWasm } from './channelKernelsWasm';
import { registerConv2dBackpropFilterWasm } from './conv2dBackpropFilterWasm';
import { registerConv2dBackpropInputWasm } from './conv2dBackpropInputWasm';

/**
 * Everything training needs from tfjs that 4.22 lacks or does slowly, in one call:
 * the wasm `Conv2DBackpropFilter` (missing: without it `model.fit` of any conv net
 * on wasm stops with "kernel not registered"), a forward-conv `Conv2DBackpropInput`
 * for wasm (the stock one is ~9× slower than Conv2D), a tile-free batch-norm
 * gradient, a wasm `BatchMatMul` whose transpose flags (every matMul gradient sets
 * one) run as explicit transposes, and per-channel `Sum`/`Mean` and last-axis
 * `SplitV` without the stock kernels' transposes and strided slices. Each is tested
 * equal to the cpu backend. Idempotent; `trainModel` calls it, and code that trains
 * with tfjs's own `model.fit` on wasm should call it once after `initBackend()`.
 */
export function registerTrainingKernels(): void {
  registerConv2dBackpropFilterWasm();
  registerConv2dBackpropInputWasm();
  registerBatchNormGradient();
  registerBatchMatMulTransposeWasm();
  registerChannelKernelsWasm();
}
