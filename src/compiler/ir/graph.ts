/**
 * The IR graph: a flat list of nodes in topological order (as a jaxpr's equations),
 * each naming its inputs by node name. Graphs are immutable values; passes build
 * new ones.
 */
import type { AnalogOpKind, OpAttrs, OpKind, Shape } from './ops';
import { ANALOG_OP_KINDS } from './ops';

/**
 * One node of kind `K`. `name` is unique in its graph and is also the name of the
 * node's (single) output value.
 */
export interface NodeOf<K extends OpKind> {
  readonly name: string;
  readonly op: K;
  /** Names of the nodes whose outputs feed this one, in argument order. */
  readonly inputs: readonly string[];
  readonly attrs: OpAttrs[K];
  /** Inferred output shape; axis 0 is the batch (`null` when not fixed). */
  readonly outputShape: Shape;
}

/**
 * Any node: a discriminated union on `op`, so `if (n.op === 'dense')` narrows
 * `n.attrs` to `DenseAttrs`.
 */
export type Node = { [K in OpKind]: NodeOf<K> }[OpKind];

/** A node whose work is a matrix–vector product with constant weights. */
export type AnalogNode = { [K in AnalogOpKind]: NodeOf<K> }[AnalogOpKind];

/** A computation graph. */
export interface Graph {
  /** Every node, `input` nodes included, in topological order. */
  readonly nodes: readonly Node[];
  /** Names of the `input` nodes, in the order the executor takes inputs. */
  readonly inputs: readonly string[];
  /** Names of the nodes whose outputs the graph returns, in order. */
  readonly outputs: readonly string[];
}

/**
 * Whether the node's work is a matrix–vector product with constant weights
 * (dense, conv2d, lstm) and so is mapped onto crossbar tiles. Everything else,
 * including `matmul` of two activations, runs digitally.
 */
export function isAnalog(node: Node): node is AnalogNode {
  return (ANALOG_OP_KINDS as readonly OpKind[]).includes(node.op);
}

/** The node called `name`, or `undefined`. Linear; build a map for repeated lookups. */
export function findNode(graph: Graph, name: string): Node | undefined {
  return graph.nodes.find((n) => n.name === name);
}

/**
 * Dims of one sample of the graph's only input (the batch dimension left out), or
 * null when the graph has several inputs or a dynamic dimension past the batch.
 */
export function staticSampleDims(graph: Graph): number[] | null {
  if (graph.inputs.length !== 1) return null;
  const dims = findNode(graph, graph.inputs[0])!.outputShape.slice(1);
  return dims.some((d) => d === null) ? null : (dims as number[]);
}

/** Map from node name to node. */
export function nodeMap(graph: Graph): Map<string, Node> {
  return new Map(graph.nodes.map((n) => [n.name, n]));
}

/** For each node name, the names of the nodes that read its output. */
export function consumers(graph: Graph): Map<string, string[]> {
  const out = new Map<string, string[]>(graph.nodes.map((n) => [n.name, []]));
  for (const n of graph.nodes) {
    for (const i of n.inputs) out.get(i)?.push(n.name);
  }
  return out;
}
