/**
 * ONNX constant tensors (initializers, `Constant` nodes, tensor attributes) as host
 * arrays: floats as float32 (the IR's weight type), integers as JS numbers (shapes,
 * axes, pads, indices).
 */
import { DataError, ShapeError } from '../../../errors';
import { sizeOf } from '../../ir/ops';
import type { TensorProto } from './onnxProto';
import { ONNX_DATA_TYPES } from './onnxProto';

/** A constant floating-point tensor (FLOAT or DOUBLE in the file), row-major. */
export interface FloatTensor {
  readonly kind: 'float';
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/** A constant integer tensor (INT32, INT64 or BOOL in the file), row-major. */
export interface IntTensor {
  readonly kind: 'int';
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: readonly number[];
}

/** A decoded constant tensor. */
export type HostTensor = FloatTensor | IntTensor;

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const BOOL = 9;
const DOUBLE = 11;
const EXTERNAL = 1;

function typeName(code: number | undefined): string {
  return code === undefined ? 'UNDEFINED' : (ONNX_DATA_TYPES[code] ?? `unknown (${code})`);
}

/**
 * Decode a `TensorProto`.
 *
 * @param what describes the tensor in messages, e.g. `initializer 'fc.weight'`.
 * @throws DataError for external data, unsupported data types, or a data length
 *   that does not match the dims.
 * @throws ShapeError naming the tensor when a float value is NaN or infinite.
 */
export function decodeTensor(t: TensorProto, what: string, file: string): HostTensor {
  const name = t.name ?? '';
  const dims = [...t.dims];
  // int64 dims arrive as doubles: anything past 2^53 (or negative) is not a size.
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new DataError(file, `${what}: invalid dims [${dims.join(', ')}]; expected non-negative integers below 2^53`);
  }
  if (t.dataLocation === EXTERNAL) {
    throw new DataError(file, `${what}: weights stored in an external file are not supported; save the model with its weights inside the .onnx file`);
  }
  if (t.segment !== undefined) throw new DataError(file, `${what}: segmented tensors are not supported`);
  const n = sizeOf(dims);
  if (!Number.isSafeInteger(n)) {
    throw new DataError(file, `${what}: dims [${dims.join(', ')}] describe ${n} elements, more than any file holds; the file may be corrupt`);
  }
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const expectLength = (have: number, want: number, field: string) => {
    if (have !== want) {
      throw new DataError(file, `${what}: ${field} holds ${have} values, but dims [${dims.join(', ')}] need ${want}; the file may be corrupt`);
    }
  };
  // Every length is checked against the dims before anything of size n is allocated:
  // dims of 1e12 elements over a few bytes of data are a corrupt file, not a RangeError.
  const width = t.dataType === DOUBLE || t.dataType === INT64 ? 8 : t.dataType === BOOL ? 1 : 4;
  if (view) {
    expectLength(view.byteLength / width, n, 'raw_data');
  } else if (t.dataType === FLOAT) {
    expectLength(t.floatData.length, n, 'float_data');
  } else if (t.dataType === DOUBLE) {
    expectLength(t.doubleData.length, n, 'double_data');
  } else if (t.dataType === INT64) {
    expectLength(t.int64Data.length, n, 'int64_data');
  } else if (t.dataType === INT32 || t.dataType === BOOL) {
    expectLength(t.int32Data.length, n, 'int32_data');
  }
  switch (t.dataType) {
    case FLOAT:
    case DOUBLE: {
      const data = new Float32Array(n);
      if (view) {
        const bytes = t.dataType === FLOAT ? 4 : 8;
        expectLength(view.byteLength / bytes, n, 'raw_data');
        for (let i = 0; i < n; i++) data[i] = bytes === 4 ? view.getFloat32(4 * i, true) : view.getFloat64(8 * i, true);
      } else {
        const src = t.dataType === FLOAT ? t.floatData : t.doubleData;
        expectLength(src.length, n, t.dataType === FLOAT ? 'float_data' : 'double_data');
        for (let i = 0; i < n; i++) data[i] = src[i];
      }
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(data[i])) {
          throw new ShapeError(`ONNX ${what}: non-finite value ${data[i]} at flat index ${i} (dims [${dims.join(', ')}]); weights must be finite`);
        }
      }
      return { kind: 'float', name, dims, data };
    }
    case INT32:
    case INT64:
    case BOOL: {
      const data: number[] = new Array<number>(n);
      const bytes = t.dataType === INT64 ? 8 : t.dataType === INT32 ? 4 : 1;
      if (view) {
        expectLength(view.byteLength / bytes, n, 'raw_data');
        for (let i = 0; i < n; i++) {
          data[i] = bytes === 8 ? Number(view.getBigInt64(8 * i, true)) : bytes === 4 ? view.getInt32(4 * i, true) : view.getUint8(i);
        }
      } else {
        // BOOL values travel in int32_data too.
        const src = t.dataType === INT64 ? t.int64Data : t.int32Data;
        expectLength(src.length, n, t.dataType === INT64 ? 'int64_data' : 'int32_data');
        for (let i = 0; i < n; i++) data[i] = src[i];
      }
      return { kind: 'int', name, dims, data };
    }
    default:
      throw new DataError(file, `${what}: data type ${typeName(t.dataType)} is not supported; supported: FLOAT, DOUBLE, INT32, INT64, BOOL`);
  }
}

/** The tensor's values as numbers (for integer-valued inputs such as shapes or pads). */
export function tensorValues(t: HostTensor): number[] {
  return Array.from(t.data);
}

/** Whether every value of the tensor is zero. */
export function isAllZero(t: HostTensor): boolean {
  for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0) return false;
  return true;
}
