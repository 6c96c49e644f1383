/**
 * A small writer of ONNX models: nodes, float32/int64 initializers, graph inputs
 * and outputs, encoded with protobufjs against the same official `onnx.proto`
 * schema the ONNX frontend decodes with. The inference engine lowers a compiled
 * chip to a model built here and hands the bytes to onnxruntime.
 */
import * as protobuf from 'protobufjs';
import onnxSchema from '../frontends/onnx/onnxSchema.json';

/** The default-domain opset the engine emits (Softmax on one axis, Clip with tensor bounds, ReduceMax with attribute axes). */
export const EMITTED_OPSET = 17;

/** An attribute value, tagged with its ONNX type. */
export type OnnxAttr =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly string: string };

export const int = (v: number): OnnxAttr => ({ int: v });
export const float = (v: number): OnnxAttr => ({ float: v });
export const ints = (v: readonly number[]): OnnxAttr => ({ ints: v });

const FLOAT = 1;
const INT64 = 7;

let modelType: protobuf.Type | undefined;

function attributeProto(name: string, a: OnnxAttr): Record<string, unknown> {
  if ('int' in a) return { name, type: 2, i: a.int };
  if ('float' in a) return { name, type: 1, f: a.float };
  if ('ints' in a) return { name, type: 7, ints: [...a.ints] };
  if ('floats' in a) return { name, type: 6, floats: [...a.floats] };
  return { name, type: 3, s: Buffer.from(a.string, 'utf8') };
}

function valueInfo(name: string, dims: readonly (number | string)[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Builds one ONNX graph. Value names are made unique by a counter. */
export class OnnxGraphBuilder {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly i64Cache = new Map<string, string>();
  private readonly scalarCache = new Map<number, string>();
  private counter = 0;

  /** A fresh value name starting with `prefix`. */
  fresh(prefix: string): string {
    return `${prefix.replace(/[^A-Za-z0-9_.]/g, '_')}__${this.counter++}`;
  }

  /** A float32 initializer. */
  constant(data: Float32Array, dims: readonly number[], prefix = 'c'): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, dims: [...dims], dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
    return name;
  }

  /** A float32 scalar initializer (shared per value). */
  scalar(v: number): string {
    let name = this.scalarCache.get(v);
    if (!name) {
      name = this.constant(Float32Array.of(v), [], 's');
      this.scalarCache.set(v, name);
    }
    return name;
  }

  /** A 1-D int64 initializer (shapes, axes, slice bounds), shared per value. */
  int64(values: readonly number[]): string {
    const key = values.join(',');
    let name = this.i64Cache.get(key);
    if (!name) {
      name = this.fresh('i');
      const data = new BigInt64Array(values.map((v) => BigInt(v)));
      this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer).slice() });
      this.i64Cache.set(key, name);
    }
    return name;
  }

  /** A 0-d int64 initializer (a Gather index). */
  int64Scalar(v: number): string {
    const key = `scalar:${v}`;
    let name = this.i64Cache.get(key);
    if (!name) {
      name = this.fresh('i');
      this.initializers.push({ name, dims: [], dataType: INT64, rawData: new Uint8Array(new BigInt64Array([BigInt(v)]).buffer).slice() });
      this.i64Cache.set(key, name);
    }
    return name;
  }

  /** One node with `count` outputs; returns their names. */
  opMulti(opType: string, inputs: readonly string[], count: number, attrs: Record<string, OnnxAttr> = {}): string[] {
    const outs = Array.from({ length: count }, () => this.fresh(opType));
    this.nodes.push({
      opType,
      name: outs[0],
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    });
    return outs;
  }

  /** One node with a single output; returns the output's name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}, prefix = opType): string {
    const out = this.fresh(prefix);
    this.nodes.push({
      opType,
      name: out,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    });
    return out;
  }

  /** A float32 graph input; `dims` entries that are strings are symbolic (the batch). */
  input(name: string, dims: readonly (number | string)[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** Marks `value` as a graph output called `name` (through an Identity). */
  output(value: string, name: string, dims: readonly (number | string)[]): void {
    this.nodes.push({ opType: 'Identity', name, input: [value], output: [name], attribute: [] });
    this.outputs.push(valueInfo(name, dims));
  }

  /** The serialised ModelProto. */
  encode(graphName = 'ohmic'): Uint8Array {
    modelType ??= protobuf.Root.fromJSON(onnxSchema as protobuf.INamespace).lookupType('onnx.ModelProto');
    const message = modelType.fromObject({
      irVersion: 8,
      producerName: 'ohmic',
      opsetImport: [{ domain: '', version: EMITTED_OPSET }],
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return modelType.encode(message).finish();
  }
}
