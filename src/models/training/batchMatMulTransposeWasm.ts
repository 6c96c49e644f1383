/**
 * tfjs-wasm 4.22's `BatchMatMul` with `transposeA` or `transposeB` is an order of
 * magnitude slower than the plain product (XNNPACK runs it through a strided
 * path). Every matMul gradient asks for one: dA = dy·Bᵀ, dB = Aᵀ·dy. Measured
 * on this machine (one thread, microseconds per call):
 *
 * | product                         | transpose flag | explicit Transpose + plain |
 * |---------------------------------|---------------:|---------------------------:|
 * | [32,128]ᵀ × [32,512] (dU, LSTM) |          2,501 |                        204 |
 * | [32,512] × [128,512]ᵀ (dh)      |          1,234 |                 (see bench) |
 * | [3200,128]ᵀ × [3200,512]        |        255,662 |                     13,687 |
 *
 * This re-registers the wasm `BatchMatMul` so that a transposed operand is first
 * transposed by the backend's own `Transpose` kernel (a copy in the wasm heap)
 * and the product then runs untransposed. The result is the same product
 * (summation order inside XNNPACK may differ in the last bit). Idempotent.
 */
import * as tf from '@tensorflow/tfjs';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type KernelFn = (args: KernelArgs) => tf.TensorInfo;

const WRAPPED = Symbol.for('ohmic.batchMatMulTransposeWasm');

/** Swap the last two axes of `x` with the backend's Transpose kernel. */
function transposeLastTwo(transpose: KernelFn, x: tf.TensorInfo, backend: tf.KernelBackend): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return transpose({ inputs: { x }, backend, attrs: { perm } });
}

/** The wrapped kernel: explicit transposes, then the stock untransposed product. */
export function makeBatchMatMulWithoutTransposeFlags(original: KernelFn, transpose: KernelFn): KernelFn {
  return (args) => {
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return original(args);
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const temporaries: tf.TensorInfo[] = [];
    const aPlain = attrs.transposeA ? transposeLastTwo(transpose, a, args.backend) : a;
    if (aPlain !== a) temporaries.push(aPlain);
    const bPlain = attrs.transposeB ? transposeLastTwo(transpose, b, args.backend) : b;
    if (bPlain !== b) temporaries.push(bPlain);
    try {
      return original({ ...args, inputs: { a: aPlain, b: bPlain }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of temporaries) args.backend.disposeData(t.dataId);
    }
  };
}

/** Replace the wasm `BatchMatMul` by the wrapper (no-op when wasm is not registered or already wrapped). */
export function registerBatchMatMulTransposeWasm(): void {
  const config = tf.getKernel('BatchMatMul', 'wasm');
  const transposeConfig = tf.getKernel('Transpose', 'wasm');
  if (config === undefined || transposeConfig === undefined) return;
  if ((config as unknown as Record<symbol, boolean>)[WRAPPED]) return;
  const wrapped = makeBatchMatMulWithoutTransposeFlags(
    config.kernelFunc as unknown as KernelFn,
    transposeConfig.kernelFunc as unknown as KernelFn,
  );
  tf.unregisterKernel('BatchMatMul', 'wasm');
  const replacement: tf.KernelConfig = { ...config, kernelFunc: wrapped as unknown as tf.KernelFunc };
  (replacement as unknown as Record<symbol, boolean>)[WRAPPED] = true;
  tf.registerKernel(replacement);
}
