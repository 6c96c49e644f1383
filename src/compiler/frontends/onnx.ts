/**
 * ONNX → IR. The `.onnx` bytes are decoded with protobufjs and the official ONNX
 * schema (see `onnx/onnxProto.ts`); then only the nodes the graph outputs depend on
 * are converted (`onnx/converter.ts`, one rule per op in `onnx/opHandlers.ts`), so
 * nodes no output needs (the shape arithmetic PyTorch emits to build an LSTM's zero
 * initial state, say) cannot fail the import.
 *
 * Layouts: ONNX images are NCHW, the IR's are NHWC. Every ONNX value records where
 * its axes sit in the IR tensor that holds it (`onnx/layout.ts`), and a transpose is
 * emitted only where an op needs a particular arrangement: convolutions and pools
 * read NHWC, while Flatten, Reshape, MatMul of two activations and the graph outputs
 * read ONNX's own order. A Flatten after conv features therefore flattens in ONNX's
 * (C, H, W) order, as the following Gemm's weights expect.
 *
 * Analog marking: a Gemm or MatMul whose weight operand is a constant becomes a
 * `dense` node (analog, on crossbar tiles); a MatMul of two activations (attention
 * scores, attention · values) becomes a digital `matmul` node.
 */
import * as fs from 'fs';
import { DataError } from '../../errors';
import type { Graph } from '../ir/graph';
import type { OnnxImportOptions } from './onnx/converter';
import { Converter } from './onnx/converter';
import { decodeOnnxModel } from './onnx/onnxProto';
import { ONNX_HANDLERS } from './onnx/handlers';

export { ONNX_OPSET_RANGE } from './onnx/converter';
export type { OnnxImportOptions } from './onnx/converter';
export { SUPPORTED_ONNX_OPS } from './onnx/handlers';

/**
 * Convert an ONNX model (the bytes of a `.onnx` file) to an IR graph. Graph inputs
 * and outputs keep the ONNX model's names, order and layout (rank-4 inputs NCHW
 * unless `imageInputLayout: 'nhwc'`); axis 0 of every input is the batch, of any
 * size. Gemm/MatMul with constant weights become analog `dense` nodes (a MatMul
 * followed by an Add of a constant bias is one dense node); MatMul of two
 * activations is a digital `matmul` node.
 *
 * Supports {@link SUPPORTED_ONNX_OPS} at default-domain opsets
 * {@link ONNX_OPSET_RANGE} (the attribute-to-input moves of opset 18, e.g.
 * ReduceMean's axes and Split's num_outputs, included); LSTMs and GRUs may be
 * forward, reverse or bidirectional, layout 0, with zero initial state. Shape
 * arithmetic (Shape, Gather, Concat, Cast, …) is folded to constants; a Reshape
 * whose target depends on the batch size other than by copying it (batch × heads)
 * is refused. A model with several unsupported ops names them all.
 *
 * @throws DataError naming the file when the bytes are not an ONNX model
 *   (truncated, garbage), use an opset outside the range, or reference undefined values.
 * @throws UnsupportedOpError naming the op, the node and the supported ops.
 * @throws ShapeError naming the node (or tensor) when shapes do not fit or a weight
 *   is NaN or infinite.
 *
 * @example
 * const graph = fromOnnx(fs.readFileSync('model.onnx'), { fileName: 'model.onnx' });
 * const y = execute(graph, tf.tensor(data, [1, 3, 32, 32]));
 */
export function fromOnnx(bytes: Uint8Array, options: OnnxImportOptions = {}): Graph {
  const file = options.fileName ?? '<onnx bytes>';
  const model = decodeOnnxModel(bytes, file);
  return new Converter(model, file, options, ONNX_HANDLERS).convert();
}

/**
 * Read a `.onnx` file and convert it with {@link fromOnnx}; errors name the file.
 *
 * @throws DataError when the file cannot be read or is not an ONNX model.
 */
export function loadOnnxFile(path: string, options: Omit<OnnxImportOptions, 'fileName'> = {}): Graph {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    throw new DataError(path, `cannot read the ONNX model (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return fromOnnx(bytes, { ...options, fileName: path });
}
