/**
 * Builders of small ONNX models in the tests (as plain objects for protobufjs's
 * `fromObject`, field names as in onnx.proto), for what no exporter writes:
 * refused ops, odd attributes, broken graphs.
 */
import * as protobuf from 'protobufjs';
import onnxSchema from '../../src/compiler/frontends/onnx/onnxSchema.json';

const ModelProto = protobuf.Root.fromJSON(onnxSchema as protobuf.INamespace).lookupType('onnx.ModelProto');

/** A protobuf message as a plain object. */
export type Obj = Record<string, unknown>;

/** A float32 TensorProto. */
export const floats = (name: string, dims: number[], values: number[]): Obj => ({ name, dims, dataType: 1, floatData: values });

/** A 1-D int64 TensorProto. */
export const ints = (name: string, values: number[]): Obj => ({ name, dims: [values.length], dataType: 7, int64Data: values });

/** A float32 ValueInfoProto; a string dimension is symbolic (`dimParam`). */
export const valueInfo = (name: string, dims: (number | string)[]): Obj => ({
  name,
  type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

/** A NodeProto; `domain` only when given (the default domain is ai.onnx). */
export const node = (opType: string, input: string[], output: string[], name: string, attribute: Obj[] = [], domain?: string): Obj => ({
  opType,
  input,
  output,
  name,
  attribute,
  ...(domain ? { domain } : {}),
});

/** An INT attribute. */
export const intAttr = (name: string, i: number): Obj => ({ name, type: 2, i });

/** An INTS attribute. */
export const intsAttr = (name: string, v: number[]): Obj => ({ name, type: 7, ints: v });

/** The bytes of a one-graph model at `opset` of the default domain. */
export function encodeModel(nodes: Obj[], inputs: Obj[], outputs: Obj[], initializer: Obj[] = [], opset = 13): Uint8Array {
  const message = ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: { name: 'synthetic', node: nodes, input: inputs, output: outputs, initializer },
  });
  return ModelProto.encode(message).finish();
}
