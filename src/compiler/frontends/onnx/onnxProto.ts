/**
 * Decoding `.onnx` bytes: protobufjs with the official ONNX schema (`onnx.proto`
 * from ONNX 1.12.0, committed beside this file, compiled to the protobufjs JSON
 * descriptor `onnxSchema.json` by test/fixtures/onnx/makeOnnxSchema.ts). The
 * interfaces below type the parts of the decoded messages the frontend reads;
 * field names are protobufjs's camelCase forms of the .proto names.
 */
import * as protobuf from 'protobufjs';
import { DataError } from '../../../errors';
import onnxSchema from './onnxSchema.json';

/** `TensorProto` (weights and constants). int64 fields are decoded as JS numbers. */
export interface TensorProto {
  readonly name?: string;
  readonly dims: readonly number[];
  readonly dataType?: number;
  readonly floatData: readonly number[];
  readonly int32Data: readonly number[];
  readonly int64Data: readonly number[];
  readonly doubleData: readonly number[];
  readonly rawData?: Uint8Array;
  readonly dataLocation?: number;
  readonly segment?: unknown;
}

/** `AttributeProto`: one named node attribute; `type` says which field holds it. */
export interface AttributeProto {
  readonly name?: string;
  readonly type?: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: Uint8Array;
  readonly t?: TensorProto;
  readonly floats: readonly number[];
  readonly ints: readonly number[];
  readonly strings: readonly Uint8Array[];
}

/** `NodeProto`: one operator call. An empty input name is an omitted optional input. */
export interface NodeProto {
  readonly name?: string;
  readonly opType?: string;
  readonly domain?: string;
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly attribute: readonly AttributeProto[];
}

/** One dimension of a declared tensor shape: a number, a symbolic name, or neither. */
export interface DimensionProto {
  readonly dimValue?: number;
  readonly dimParam?: string;
}

/** `ValueInfoProto`: a named, typed graph input, output or intermediate value. */
export interface ValueInfoProto {
  readonly name?: string;
  readonly type?: {
    readonly tensorType?: {
      readonly elemType?: number;
      readonly shape?: { readonly dim: readonly DimensionProto[] };
    };
  };
}

/** `GraphProto`: nodes in topological order, weights, inputs and outputs. */
export interface GraphProto {
  readonly name?: string;
  readonly node: readonly NodeProto[];
  readonly initializer: readonly TensorProto[];
  readonly sparseInitializer: readonly unknown[];
  readonly input: readonly ValueInfoProto[];
  readonly output: readonly ValueInfoProto[];
}

/** `OperatorSetIdProto`: an operator set the model imports. */
export interface OperatorSetIdProto {
  readonly domain?: string;
  readonly version?: number;
}

/** `ModelProto`: the top-level message of a `.onnx` file. */
export interface ModelProto {
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly opsetImport: readonly OperatorSetIdProto[];
  readonly graph?: GraphProto;
}

/** ONNX `TensorProto.DataType` values. */
export const ONNX_DATA_TYPES: Readonly<Record<number, string>> = {
  0: 'UNDEFINED',
  1: 'FLOAT',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'STRING',
  9: 'BOOL',
  10: 'FLOAT16',
  11: 'DOUBLE',
  12: 'UINT32',
  13: 'UINT64',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  16: 'BFLOAT16',
};

let modelType: protobuf.Type | undefined;

function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(onnxSchema as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelType;
}

/**
 * Decode the bytes of a `.onnx` file into a {@link ModelProto}.
 *
 * @param file names the source in error messages (a path, or a label for in-memory bytes).
 * @throws DataError when the bytes are not a protobuf `ModelProto` (truncated, garbage)
 *   or hold no graph or no default-domain opset.
 */
export function decodeOnnxModel(bytes: Uint8Array, file: string): ModelProto {
  if (bytes.length === 0) throw new DataError(file, 'empty file: expected an ONNX model (protobuf ModelProto)');
  const type = onnxModelType();
  let model: ModelProto;
  try {
    const message = type.decode(bytes);
    model = type.toObject(message, { longs: Number, arrays: true, defaults: false }) as unknown as ModelProto;
  } catch (err) {
    throw new DataError(
      file,
      `not a valid ONNX model: protobuf decoding of ModelProto failed (${(err as Error).message}); the file may be truncated or not an .onnx file`,
    );
  }
  if (!model.graph) {
    throw new DataError(file, 'not a valid ONNX model: the decoded ModelProto has no graph; the file may be truncated or not an .onnx file');
  }
  if (model.opsetImport.length === 0) {
    throw new DataError(file, 'not a valid ONNX model: no opset_import entry; the file may be truncated or not an .onnx file');
  }
  return model;
}

/** UTF-8 text of a protobuf `bytes` field (attribute strings). */
export function utf8(bytes: Uint8Array | undefined): string {
  return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : '';
}
