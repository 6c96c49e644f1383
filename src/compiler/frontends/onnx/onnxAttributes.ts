/**
 * Typed access to a node's attributes, with the ONNX defaults supplied by the caller
 * and a check that the node carries no attribute the frontend would ignore.
 */
import { DataError, UnsupportedOpError } from '../../../errors';
import type { AttributeProto, NodeProto } from './onnxProto';
import { utf8 } from './onnxProto';
import type { HostTensor } from './onnxTensor';
import { decodeTensor } from './onnxTensor';

const ATTRIBUTE_TYPES: Readonly<Record<number, string>> = {
  0: 'UNDEFINED',
  1: 'FLOAT',
  2: 'INT',
  3: 'STRING',
  4: 'TENSOR',
  5: 'GRAPH',
  6: 'FLOATS',
  7: 'INTS',
  8: 'STRINGS',
  9: 'TENSORS',
  10: 'GRAPHS',
  11: 'SPARSE_TENSOR',
  12: 'SPARSE_TENSORS',
  13: 'TYPE_PROTO',
  14: 'TYPE_PROTOS',
};

/** The attributes of one node, read by name. */
export class NodeAttributes {
  private readonly byName = new Map<string, AttributeProto>();

  constructor(
    private readonly node: NodeProto,
    /** The node's name for messages. */
    private readonly nodeName: string,
    private readonly file: string,
  ) {
    for (const a of node.attribute) this.byName.set(a.name ?? '', a);
  }

  /** Whether the attribute is present. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Throw `UnsupportedOpError` if the node has an attribute not in `known`: an
   * attribute the frontend does not read could change the op's meaning.
   */
  allowOnly(known: readonly string[]): void {
    for (const name of this.byName.keys()) {
      if (!known.includes(name)) {
        const op = this.node.opType ?? '';
        throw new UnsupportedOpError(`${op} attribute '${name}'`, this.nodeName, [`${op} with attributes ${known.join(', ') || '(none)'}`]);
      }
    }
  }

  int(name: string, fallback: number): number {
    const a = this.get(name, 2);
    return a ? (a.i ?? 0) : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.get(name, 1);
    return a ? (a.f ?? 0) : fallback;
  }

  string(name: string, fallback: string): string {
    const a = this.get(name, 3);
    return a ? utf8(a.s) : fallback;
  }

  ints(name: string, fallback: readonly number[]): number[] {
    const a = this.get(name, 7);
    return a ? [...a.ints] : [...fallback];
  }

  floats(name: string, fallback: readonly number[]): number[] {
    const a = this.get(name, 6);
    return a ? [...a.floats] : [...fallback];
  }

  strings(name: string, fallback: readonly string[]): string[] {
    const a = this.get(name, 8);
    return a ? a.strings.map((s) => utf8(s)) : [...fallback];
  }

  /** A tensor-valued attribute (e.g. `Constant.value`), or undefined when absent. */
  tensor(name: string): HostTensor | undefined {
    const a = this.get(name, 4);
    if (!a) return undefined;
    if (!a.t) throw new DataError(this.file, `node '${this.nodeName}': attribute '${name}' of type TENSOR holds no tensor`);
    return decodeTensor(a.t, `tensor of attribute '${name}' of node '${this.nodeName}'`, this.file);
  }

  private get(name: string, type: number): AttributeProto | undefined {
    const a = this.byName.get(name);
    if (!a) return undefined;
    if (a.type !== undefined && a.type !== type) {
      throw new DataError(
        this.file,
        `node '${this.nodeName}' (${this.node.opType}): attribute '${name}' has type ${ATTRIBUTE_TYPES[a.type] ?? a.type}, expected ${ATTRIBUTE_TYPES[type]}`,
      );
    }
    return a;
  }
}
