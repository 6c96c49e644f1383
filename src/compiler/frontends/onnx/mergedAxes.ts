/**
 * ONNX values whose batch a Reshape merged with other axes. PyTorch's
 * `nn.MultiheadAttention` (and so `nn.TransformerEncoderLayer`) reshapes its
 * `[seq, batch, d]` projections to `[seq, batch·heads, d/heads]`, runs the attention
 * products over `batch·heads`, and reshapes `[seq·batch, d]` back to
 * `[seq, batch, d]` around its output projection. The IR never merges the batch,
 * but it does not need to: such a value is an IR tensor whose axes are the factors
 * (`[batch, heads, seq, d/heads]`), and each ONNX axis is a row-major group of IR
 * axes (`ActValue.merged`). The ops between the two reshapes (Transpose, MatMul,
 * Softmax, Gemm, a scalar Div) work on the groups; every other op refuses the value
 * (`Converter.act`), so nothing misreads it.
 *
 * Reshape on groups: the ONNX elements are in row-major order of the group atoms
 * (IR axes), so a Reshape regroups the atom sequence, splitting an atom where a
 * target size falls inside it (an IR reshape, which moves no data). The one target
 * entry that depends on the batch (the batch itself, a size computed from it, or
 * -1) takes the batch atom and whatever atoms the other entries leave next to it,
 * which in a valid model is exactly what its size must be.
 */
import { UnsupportedOpError } from '../../../errors';
import type { ConstTensor } from '../../ir/ops';
import { formatShape } from '../../ir/shapes';
import type { ActValue, Converter, Op } from './converter';
import { mergedRefusal } from './converter';
import { dependsOnBatch, isBatchSize } from './constFold';

type Groups = number[][];

/** Each ONNX axis's IR axes, in row-major order (none for a size-1 axis the IR lacks). */
export function atomsOf(v: ActValue): Groups {
  return v.merged ? v.merged.map((g) => [...g]) : v.axes.map((a) => (a === null ? [] : [a]));
}

/**
 * The value held by IR tensor `ir` whose ONNX axes are `groups`. It stays merged
 * while the batch shares a group with other axes; otherwise groups of several IR
 * axes become one IR axis each (a transpose if needed, then a reshape) and the
 * value is an ordinary one.
 */
export function fromAtoms(c: Converter, ir: string, groups: Groups, label: string): ActValue {
  const batchGroup = groups.find((g) => g.includes(0));
  if (!batchGroup) throw new Error(`internal: no batch among the groups ${JSON.stringify(groups)}`);
  if (batchGroup.length > 1) {
    return { kind: 'act', ir, axes: groups.map((g) => (g.length === 0 ? null : g.includes(0) ? 0 : g[0])), merged: groups };
  }
  if (groups.every((g) => g.length <= 1)) return { kind: 'act', ir, axes: groups.map((g) => (g.length === 0 ? null : g[0])) };
  // Each group's IR axes next to each other, groups in the order of their first IR axis.
  const order = groups.map((_, i) => i).filter((i) => groups[i].length > 0).sort((p, q) => Math.min(...groups[p]) - Math.min(...groups[q]));
  const perm = order.flatMap((i) => groups[i]);
  const shape = c.b.shapeOf(ir);
  let out = ir;
  if (perm.some((a, k) => a !== k)) out = c.addNode('transpose', `${label}/group`, [out], { perm });
  const sizes = order.map((i) => groups[i].reduce((p, a) => p * (shape[a] as number), 1));
  out = c.addNode('reshape', `${label}/merge`, [out], { shape: sizes.slice(1) });
  const at = new Map(order.map((i, k) => [i, k]));
  return { kind: 'act', ir: out, axes: groups.map((g, i) => (g.length === 0 ? null : at.get(i)!)) };
}

interface Piece {
  readonly atom: number;
  readonly index: number;
}

/**
 * Atoms (with sizes) consumed by `targets` from the front: each target takes whole
 * atoms or row-major parts of them (recorded in `pieces`). Returns the pieces of
 * each target and the pieces left over (the last atom's remaining part, then the
 * atoms no target took), or undefined when a target size does not divide.
 */
function consume(atoms: readonly { id: number; size: number }[], targets: readonly number[], pieces: Map<number, number[]>, fromEnd: boolean): { taken: Piece[][]; rest: Piece[] } | undefined {
  const push = (atom: number, size: number): Piece => {
    const list = pieces.get(atom) ?? [];
    list.push(size);
    pieces.set(atom, list);
    return { atom, index: list.length - 1 };
  };
  let ai = 0;
  let used = 1;
  const taken: Piece[][] = [];
  for (const t of targets) {
    let prod = 1;
    const group: Piece[] = [];
    while (prod < t) {
      if (ai >= atoms.length) return undefined;
      const a = atoms[ai];
      const avail = a.size / used;
      const need = t / prod;
      if (avail <= need) {
        if (need % avail !== 0) return undefined;
        group.push(push(a.id, avail));
        prod *= avail;
        ai++;
        used = 1;
      } else {
        if (avail % need !== 0) return undefined;
        group.push(push(a.id, need));
        used *= need;
        prod *= need;
      }
    }
    if (prod !== t) return undefined;
    taken.push(group);
  }
  const rest: Piece[] = [];
  if (ai < atoms.length && used > 1) rest.push(push(atoms[ai].id, atoms[ai].size / used)), ai++;
  for (; ai < atoms.length; ai++) rest.push(push(atoms[ai].id, atoms[ai].size));
  // From the end, pieces were taken right to left: each group (and the rest) reads left to right.
  if (fromEnd) {
    taken.forEach((g) => g.reverse());
    rest.reverse();
  }
  return { taken, rest };
}

/**
 * Reshape of `v` to `want` (ONNX Reshape entries; the batch as NaN, sizes computed
 * from it as Infinity) by regrouping its IR axes. Returns the reason when it
 * cannot: the batch would split, or sizes do not divide.
 */
export function reshapeByGroups(c: Converter, v: ActValue, want: readonly number[], allowZero: boolean, label: string): ActValue | string {
  const shape = c.irShape(v);
  const groups = atomsOf(v);
  const sizeOf = (a: number) => shape[a] as number;
  // Entries that copy an input axis (0) keep its size, or its batch.
  const entries = want.map((d, i) => {
    if (d !== 0 || allowZero) return d;
    if (i >= groups.length) return NaN;
    const g = groups[i];
    if (g.includes(0)) return g.length === 1 ? NaN : Infinity;
    return g.reduce((p, a) => p * sizeOf(a), 1);
  });
  const batchEntries = entries.flatMap((d, i) => (dependsOnBatch(d) ? [i] : []));
  const minus = entries.flatMap((d, i) => (d === -1 ? [i] : []));
  if (batchEntries.length + minus.length !== 1) return 'exactly one target entry must hold the batch (the batch, a size computed from it, or -1)';
  const b = batchEntries.length === 1 ? batchEntries[0] : minus[0];
  if (entries.some((d, i) => i !== b && (!Number.isInteger(d) || d < 1))) return `target [${want.join(', ')}] has an invalid entry`;
  const atoms = groups.flat();
  const at = atoms.indexOf(0);
  const withSize = (ids: number[]) => ids.map((id) => ({ id, size: sizeOf(id) }));
  const pieces = new Map<number, number[]>();
  const left = consume(withSize(atoms.slice(0, at)), entries.slice(0, b), pieces, false);
  const right = consume(withSize(atoms.slice(at + 1).reverse()), entries.slice(b + 1).reverse(), pieces, true);
  if (!left || !right) return `the sizes of ${formatShape(c.onnxShape(v))} do not divide into [${want.join(', ')}]`;
  // A right-side atom's pieces were recorded last-first: flip them into row-major order.
  const flipped = new Set(atoms.slice(at + 1));
  for (const [atom, list] of pieces) if (flipped.has(atom)) list.reverse();
  const fix = (p: Piece): Piece => (flipped.has(p.atom) ? { atom: p.atom, index: pieces.get(p.atom)!.length - 1 - p.index } : p);
  const batchPieces = [...left.rest, { atom: 0, index: 0 }, ...right.rest.map(fix)];
  if (isBatchSize(entries[b]) && batchPieces.some((p) => p.atom !== 0 && pieces.get(p.atom)![p.index] !== 1)) {
    return 'the entry that is the batch size would also hold other axes';
  }
  // Split the atoms that broke into pieces (an IR reshape: no data moves).
  const newIndex = new Map<string, number>();
  const newShape: number[] = [];
  shape.forEach((d, a) => {
    const list = a === 0 ? [1] : (pieces.get(a) ?? [d as number]);
    list.forEach((size, k) => {
      newIndex.set(`${a}/${k}`, newShape.length);
      newShape.push(size);
    });
  });
  const split = newShape.length !== shape.length;
  const ir = split ? c.addNode('reshape', `${label}/split`, [v.ir], { shape: newShape.slice(1) }) : v.ir;
  const ids = (ps: readonly Piece[]) => ps.map((p) => newIndex.get(`${p.atom}/${p.index}`)!);
  const out: Groups = [...left.taken.map(ids), ids(batchPieces), ...right.taken.reverse().map((g) => ids(g.map(fix)))];
  return fromAtoms(c, ir, out, label);
}

/** Transpose of a merged value: its groups permuted. */
export function transposeMerged(v: ActValue, perm: readonly number[]): ActValue {
  const groups = atomsOf(v);
  return { kind: 'act', ir: v.ir, axes: perm.map((p) => v.axes[p]), merged: perm.map((p) => groups[p]) };
}

/** The single IR axis of ONNX axis `axis` of a merged value, or a refusal naming the op. */
export function singleAtom(v: ActValue, axis: number, op: Op): number {
  const g = atomsOf(v)[axis];
  if (g.length !== 1 || g[0] === 0) throw mergedRefusal(`${op.type} over axis ${axis}`, op.name);
  return g[0];
}

/** MatMul of two activations, one or both merged: IR operands `[leading atoms..., m, k]`, `[leading atoms..., k, n]`. */
export function matmulMerged(c: Converter, op: Op, x: ActValue, y: ActValue): ActValue {
  const gx = atomsOf(x);
  const gy = atomsOf(y);
  const r = gx.length;
  const sizes = (v: ActValue, g: readonly number[]) => g.map((a) => c.irShape(v)[a]);
  const lead = (g: Groups) => g.slice(0, r - 2).flat();
  const sameLead = gy.length === r && r >= 3 && gx.slice(0, r - 2).every((g, i) => JSON.stringify(sizes(x, g)) === JSON.stringify(sizes(y, gy[i])));
  if (!sameLead || lead(gx)[0] !== 0 || lead(gy)[0] !== 0) {
    throw new UnsupportedOpError(`MatMul of ${formatShape(c.onnxShape(x))} and ${formatShape(c.onnxShape(y))} with merged batch axes`, op.name, [
      'MatMul of two activations whose leading axes match and start with the batch',
    ]);
  }
  const arranged = (v: ActValue, g: Groups): string => {
    const perm = [...lead(g), singleAtom(v, r - 2, op), singleAtom(v, r - 1, op)];
    return perm.some((a, k) => a !== k) ? c.addNode('transpose', `${op.name}/operand`, [v.ir], { perm }) : v.ir;
  };
  const ir = c.addNode('matmul', op.name, [arranged(x, gx), arranged(y, gy)], {});
  let next = 0;
  const groups = gx.slice(0, r - 2).map((g) => g.map(() => next++));
  return fromAtoms(c, ir, [...groups, [next], [next + 1]], op.name);
}

/** A dense layer on the last ONNX axis of a merged value (its IR axes made the last IR axis). */
export function denseMerged(c: Converter, op: Op, x: ActValue, weights: ConstTensor, bias: ConstTensor | undefined): ActValue {
  const g = atomsOf(x);
  const last = g[g.length - 1];
  if (last.length === 0 || last.includes(0)) throw mergedRefusal(`${op.type} over the batch axis`, op.name);
  const shape = c.irShape(x);
  const others = shape.map((_, a) => a).filter((a) => !last.includes(a));
  const perm = [...others, ...last];
  let ir = perm.some((a, k) => a !== k) ? c.addNode('transpose', `${op.name}/features_last`, [x.ir], { perm }) : x.ir;
  const fanIn = last.reduce((p, a) => p * (shape[a] as number), 1);
  if (fanIn !== weights.shape[0]) {
    throw new UnsupportedOpError(`${op.type} of ${formatShape(c.onnxShape(x))} by a weight of fanIn ${weights.shape[0]}`, op.name, ['a weight whose fanIn is the last axis']);
  }
  if (last.length > 1) ir = c.addNode('reshape', `${op.name}/features`, [ir], { shape: [...others.slice(1).map((a) => shape[a] as number), fanIn] });
  ir = c.addNode('dense', op.name, [ir], bias ? { weights, bias } : { weights });
  const position = new Map(others.map((a, k) => [a, k]));
  return fromAtoms(c, ir, [...g.slice(0, -1).map((grp) => grp.map((a) => position.get(a)!)), [others.length]], op.name);
}
