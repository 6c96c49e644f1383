/**
 * Incremental graph construction for frontends and passes: each `add` infers the
 * node's output shape at once, so a frontend learns about a misfit at the layer
 * that causes it, and `build` runs the full `verifyGraph`.
 */
import { ShapeError } from '../../errors';
import type { Graph, Node, NodeOf } from './graph';
import type { OpAttrs, OpKind, Shape } from './ops';
import { inferShape } from './shapes';
import { verifyGraph } from './verify';

/** Builds a {@link Graph} node by node, in topological order. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly shapes = new Map<string, Shape>();
  private readonly inputNames: string[] = [];

  /** Whether a node called `name` exists. */
  has(name: string): boolean {
    return this.shapes.has(name);
  }

  /** `base` if unused, else `base_1`, `base_2`, ... */
  uniqueName(base: string): string {
    if (!this.has(base)) return base;
    for (let i = 1; ; i++) {
      const candidate = `${base}_${i}`;
      if (!this.has(candidate)) return candidate;
    }
  }

  /** The output shape of node `name`; throws `ShapeError` if there is none. */
  shapeOf(name: string): Shape {
    const s = this.shapes.get(name);
    if (!s) throw new ShapeError(`unknown value '%${name}'`);
    return s;
  }

  /** Add a graph input (shape includes the batch axis, normally `null`). Returns its name. */
  input(name: string, shape: Shape): string {
    this.inputNames.push(name);
    return this.add('input', name, [], { shape });
  }

  /**
   * Append a node and return its name. Throws `ShapeError` naming the node if the
   * name is taken, an input is unknown, or the shapes do not fit.
   */
  add<K extends OpKind>(op: K, name: string, inputs: readonly string[], attrs: OpAttrs[K]): string {
    if (this.has(name)) throw new ShapeError(`node '${name}' (${op}): name already used`);
    const inputShapes = inputs.map((i) => {
      const s = this.shapes.get(i);
      if (!s) throw new ShapeError(`node '${name}' (${op}): reads unknown value '%${i}'`);
      return s;
    });
    let outputShape: Shape;
    try {
      outputShape = inferShape(op, attrs, inputShapes);
    } catch (err) {
      if (err instanceof ShapeError) throw new ShapeError(`node '${name}' (${op}): ${err.message}`);
      throw err;
    }
    const node: NodeOf<K> = { name, op, inputs: [...inputs], attrs, outputShape };
    this.nodes.push(node as unknown as Node);
    this.shapes.set(name, outputShape);
    return name;
  }

  /** Finish: the graph with the given outputs, checked by `verifyGraph`. */
  build(outputs: readonly string[]): Graph {
    return verifyGraph({ nodes: [...this.nodes], inputs: [...this.inputNames], outputs: [...outputs] });
  }
}
