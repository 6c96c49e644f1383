/**
 * Everything training needs from tfjs that 4.22 lacks or does slowly, in one call:
 * the wasm `Conv2DBackpropFilter` (missing), a forward-conv `Conv2DBackpropInput`
 * for wasm (the stock one is ~9× slower than Conv2D), and a tile-free batch-norm
 * gradient, a wasm `BatchMatMul` whose transpose flags (every matMul
 * gradient sets one) run as explicit transposes, and per-channel `Sum`/`Mean`
 * and last-axis `SplitV` without the stock kernels' transposes and strided
 * slices. Idempotent; the trainer calls it.
 */
import { registerBatchMatMulTransposeWasm } from './batchMatMulTransposeWasm';
import { registerBatchNormGradient } from './batchNormGradient';
import { registerChannelKernelsWasm } from './channelKernelsWasm';
import { registerConv2dBackpropFilterWasm } from './conv2dBackpropFilterWasm';
import { registerConv2dBackpropInputWasm } from './conv2dBackpropInputWasm';

export function registerTrainingKernels(): void {
  registerConv2dBackpropFilterWasm();
  registerConv2dBackpropInputWasm();
  registerBatchNormGradient();
  registerBatchMatMulTransposeWasm();
  registerChannelKernelsWasm();
}
