/**
 * ONNX weight tensors re-laid out as the IR's constants: conv kernels from
 * `[cOut, cIn/groups, kh, kw]` to `[kh, kw, cIn/groups, cOut]`, Gemm/MatMul weights to
 * `[fanIn, fanOut]`, LSTM gates from ONNX's `i, o, f, c` to the IR's `i, f, c, o`.
 */
import type { ConstTensor } from '../../ir/ops';
import type { FloatTensor } from './onnxTensor';

/** ONNX Conv weight `[M, C/group, kh, kw]` → IR kernel `[kh, kw, C/group, M]` (same group split). */
export function convKernelFromOnnx(w: FloatTensor): ConstTensor {
  const [m, cg, kh, kw] = w.dims;
  const data = new Float32Array(w.data.length);
  for (let o = 0; o < m; o++) {
    for (let c = 0; c < cg; c++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          data[((i * kw + j) * cg + c) * m + o] = w.data[((o * cg + c) * kh + i) * kw + j];
        }
      }
    }
  }
  return { shape: [kh, kw, cg, m], data };
}

/**
 * Gemm's `B` (or MatMul's constant right operand) as a `[K, M]` dense weight:
 * `alpha · B` or `alpha · Bᵀ` (for `transB = 1`, where `B` is `[M, K]`).
 */
export function denseWeightsFromOnnx(b: FloatTensor, transB: boolean, alpha: number): ConstTensor {
  const [r, c] = b.dims;
  const [k, m] = transB ? [c, r] : [r, c];
  const data = new Float32Array(k * m);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < m; j++) data[i * m + j] = alpha * (transB ? b.data[j * c + i] : b.data[i * c + j]);
  }
  return { shape: [k, m], data };
}

/** For IR gate `g` (order i, f, c, o), the ONNX gate index (ONNX order i, o, f, c). */
const ONNX_GATE_OF_IR_GATE = [0, 2, 3, 1] as const;

/**
 * One ONNX LSTM gate matrix `[4H, fanIn]` (direction axis already dropped) as the
 * IR's `[fanIn, 4H]`, gate blocks permuted from i, o, f, c to i, f, c, o.
 */
function lstmMatrix(data: Float32Array, hidden: number, fanIn: number): ConstTensor {
  const out = new Float32Array(fanIn * 4 * hidden);
  for (let g = 0; g < 4; g++) {
    const src = ONNX_GATE_OF_IR_GATE[g];
    for (let u = 0; u < hidden; u++) {
      const row = (src * hidden + u) * fanIn;
      for (let f = 0; f < fanIn; f++) out[f * 4 * hidden + g * hidden + u] = data[row + f];
    }
  }
  return { shape: [fanIn, 4 * hidden], data: out };
}

/**
 * ONNX LSTM weights of one (forward) direction as IR `lstm` constants:
 * `W [1, 4H, F]` → kernel `[F, 4H]`, `R [1, 4H, H]` → recurrent kernel `[H, 4H]`,
 * `B [1, 8H]` (input bias then recurrent bias) → their sum `[4H]`, zeros when absent.
 */
export function lstmWeightsFromOnnx(
  w: FloatTensor,
  r: FloatTensor,
  b: FloatTensor | undefined,
  hidden: number,
): { kernel: ConstTensor; recurrentKernel: ConstTensor; bias: ConstTensor } {
  const bias = new Float32Array(4 * hidden);
  if (b) {
    for (let g = 0; g < 4; g++) {
      const src = ONNX_GATE_OF_IR_GATE[g];
      for (let u = 0; u < hidden; u++) {
        // Summed in double precision, then rounded once to float32.
        bias[g * hidden + u] = b.data[src * hidden + u] + b.data[4 * hidden + src * hidden + u];
      }
    }
  }
  return {
    kernel: lstmMatrix(w.data, hidden, w.dims[2]),
    recurrentKernel: lstmMatrix(r.data, hidden, r.dims[2]),
    bias: { shape: [4 * hidden], data: bias },
  };
}

/** Direction `d` of a recurrent weight `[directions, rows, cols]` as a `[1, rows, cols]` tensor. */
export function directionOf(t: FloatTensor, d: number): FloatTensor {
  const per = t.data.length / t.dims[0];
  return { kind: 'float', name: t.name, dims: [1, ...t.dims.slice(1)], data: t.data.subarray(d * per, (d + 1) * per) };
}

/** `[rows, cols]` row-major → `[cols, rows]`. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * ONNX GRU weights of one direction as IR `gru` constants. The gate order is z, r, h
 * in ONNX and z, r, n in the IR, so no permutation: `W [1, 3H, F]` → kernel `[F, 3H]`,
 * `R [1, 3H, H]` → recurrent kernel `[H, 3H]`; `B [1, 6H]` (Wb then Rb) → bias
 * `Wb + Rb` for z and r, `Wb_h` (plus `Rb_h` without `linear_before_reset`) for n,
 * and with `linear_before_reset` the recurrent bias `Rb_h` inside the reset gate.
 */
export function gruWeightsFromOnnx(
  w: FloatTensor,
  r: FloatTensor,
  b: FloatTensor | undefined,
  hidden: number,
  linearBeforeReset: boolean,
): { kernel: ConstTensor; recurrentKernel: ConstTensor; bias: ConstTensor; recurrentBias?: ConstTensor } {
  const features = w.dims[2];
  const bias = new Float32Array(3 * hidden);
  const recurrentBias = new Float32Array(hidden);
  if (b) {
    for (let j = 0; j < 3 * hidden; j++) {
      const wb = b.data[j];
      const rb = b.data[3 * hidden + j];
      if (j >= 2 * hidden && linearBeforeReset) {
        bias[j] = wb;
        recurrentBias[j - 2 * hidden] = rb;
      } else {
        // Summed in double precision, then rounded once to float32.
        bias[j] = wb + rb;
      }
    }
  }
  return {
    kernel: { shape: [features, 3 * hidden], data: transposed(w.data, 3 * hidden, features) },
    recurrentKernel: { shape: [hidden, 3 * hidden], data: transposed(r.data, 3 * hidden, hidden) },
    bias: { shape: [3 * hidden], data: bias },
    ...(linearBeforeReset ? { recurrentBias: { shape: [hidden], data: recurrentBias } } : {}),
  };
}
