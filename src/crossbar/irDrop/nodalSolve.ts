/**
 * Exact IR drop: the nodal solve of one tile's resistive network (layout in
 * tileNetwork.ts).
 *
 * Unknowns: the word-line node W(i,c) and bit-line node B(i,c) at every cell (i,c)
 * of a tile with R word lines and C physical bit lines. With g_w = 1/r_wl, g_b = 1/r_bl
 * and the cell G(i,c), Kirchhoff's current law at each node reads
 *   W(i,c): (g_w·(1 + [c < C−1]) + G)·W(i,c) − g_w·W(i,c−1) − g_w·W(i,c+1) − G·B(i,c) = g_w·v_i·[c = 0]
 *   B(i,c): (g_b·(1 + [i > 0])  + G)·B(i,c) − g_b·B(i−1,c) − g_b·B(i+1,c) − G·W(i,c) = 0
 * (W(i,−1) is the driver at v_i, B(R,c) the sense amplifier's virtual ground at 0 V;
 * terms with indices outside the tile are absent). The matrix is the weighted graph
 * Laplacian of the network with the driver and ground nodes eliminated: symmetric,
 * and positive definite because every line reaches a fixed-voltage node.
 *
 * Solver: conjugate gradient preconditioned by the network's lines: M = the block
 * diagonal of the matrix in which each word line's W nodes and each bit line's B nodes
 * form one tridiagonal block (their wires and their cells' diagonal), inverted exactly
 * by the Thomas algorithm in O(nodes). Plain Jacobi would need ~line-length iterations
 * (a wire's conductance is 10⁴–10⁶ times a cell's, so each line is a stiff 1D chain);
 * with the lines inverted, what is left to iterate is the weak coupling through the
 * cells. M is symmetric positive definite (a principal block of an SPD matrix), so
 * PCG applies. With one line ideal (r = 0) its nodes are fixed and the other lines
 * decouple: that case is solved directly by the same tridiagonal solves.
 *
 * Units: conductances µS, voltages V, currents µA (g_w = 10⁶/r_wl µS for r in Ω).
 */
import { OhmicError } from '../../errors';
import { checkTile, checkWires, type CrossbarTile, type WireResistance } from './tileNetwork';

/** The PCG iteration did not reach its tolerance within its iteration budget. */
export class NodalSolveError extends OhmicError {
  constructor(readonly iterations: number, readonly relativeResidual: number, readonly tolerance: number) {
    super(`IR-drop nodal solve: relative residual ${relativeResidual.toExponential(3)} after ${iterations} iterations, tolerance ${tolerance}`);
  }
}

export interface NodalSolveOptions {
  /** Stop when ‖b − A·x‖₂ <= tolerance·‖b‖₂ (default 1e-13). */
  readonly tolerance?: number;
  /** Most PCG iterations (default 20·(rows + bitLines) + 100). */
  readonly maxIterations?: number;
}

/** The solved network for one input pattern. */
export interface NodalSolution {
  /** Current into each bit line's sense amplifier, µA. */
  readonly bitLineCurrentsMicroAmps: Float64Array;
  /** Word-line node voltages, [rows × bitLines], V. */
  readonly wordLineVolts: Float64Array;
  /** Bit-line node voltages, [rows × bitLines], V. */
  readonly bitLineVolts: Float64Array;
  /** PCG iterations (0 for the direct cases). */
  readonly iterations: number;
  /** ‖b − A·x‖₂ / ‖b‖₂ recomputed from the returned voltages (0 for the ideal case). */
  readonly relativeResidual: number;
}

const DEFAULT_TOLERANCE = 1e-13;
const MICRO_SIEMENS_PER_SIEMENS = 1e6;

/** Thomas factors of constant-off-diagonal (−a) tridiagonal lines, stored per node. */
interface LineFactors {
  /** Modified super-diagonal c'_k. */
  readonly cp: Float64Array;
  /** 1 / the pivot of node k. */
  readonly invPivot: Float64Array;
}

/**
 * One tile's network, prepared once (the preconditioner's factors) and solved for
 * any number of input patterns.
 */
export class TileNodalSolver {
  readonly rows: number;
  readonly bitLines: number;
  private readonly g: Float64Array;
  private readonly gw: number;
  private readonly gb: number;
  private readonly dW: Float64Array;
  private readonly dB: Float64Array;
  private readonly fw: LineFactors | null;
  private readonly fb: LineFactors | null;
  private readonly tolerance: number;
  private readonly maxIterations: number;

  constructor(tile: CrossbarTile, wires: WireResistance, options: NodalSolveOptions = {}) {
    checkTile(tile);
    checkWires(wires);
    this.rows = tile.rows;
    this.bitLines = tile.bitLines;
    this.g = tile.conductanceMicroSiemens;
    this.gw = wires.wordLineOhmPerCell > 0 ? MICRO_SIEMENS_PER_SIEMENS / wires.wordLineOhmPerCell : Infinity;
    this.gb = wires.bitLineOhmPerCell > 0 ? MICRO_SIEMENS_PER_SIEMENS / wires.bitLineOhmPerCell : Infinity;
    this.tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
    this.maxIterations = options.maxIterations ?? 20 * (this.rows + this.bitLines) + 100;
    const R = this.rows;
    const C = this.bitLines;
    const n = R * C;
    this.dW = new Float64Array(n);
    this.dB = new Float64Array(n);
    for (let i = 0; i < R; i++) {
      for (let c = 0; c < C; c++) {
        const k = i * C + c;
        const gk = this.g[k];
        if (Number.isFinite(this.gw)) this.dW[k] = this.gw * (c < C - 1 ? 2 : 1) + gk;
        if (Number.isFinite(this.gb)) this.dB[k] = this.gb * (i > 0 ? 2 : 1) + gk;
      }
    }
    this.fw = Number.isFinite(this.gw) ? this.factor(this.dW, this.gw, R, C, C, 1) : null;
    this.fb = Number.isFinite(this.gb) ? this.factor(this.dB, this.gb, C, R, 1, C) : null;
  }

  /** Thomas factors of `lines` lines of `length` nodes (line l, node k at l·lineStride + k·nodeStride). */
  private factor(d: Float64Array, a: number, lines: number, length: number, lineStride: number, nodeStride: number): LineFactors {
    const cp = new Float64Array(d.length);
    const invPivot = new Float64Array(d.length);
    for (let l = 0; l < lines; l++) {
      let prevCp = 0;
      for (let k = 0; k < length; k++) {
        const idx = l * lineStride + k * nodeStride;
        const pivot = d[idx] + a * prevCp * (k > 0 ? 1 : 0);
        invPivot[idx] = 1 / pivot;
        prevCp = -a / pivot;
        cp[idx] = prevCp;
      }
    }
    return { cp, invPivot };
  }

  /** Solves the lines of `f` in place: x = T⁻¹·y (y overwritten by x). */
  private lineSolve(f: LineFactors, a: number, y: Float64Array, offset: number, lines: number, length: number, lineStride: number, nodeStride: number): void {
    const { cp, invPivot } = f;
    for (let l = 0; l < lines; l++) {
      const base = l * lineStride;
      let prev = 0;
      for (let k = 0; k < length; k++) {
        const idx = base + k * nodeStride;
        prev = (y[offset + idx] + a * prev) * invPivot[idx];
        y[offset + idx] = prev;
      }
      for (let k = length - 2; k >= 0; k--) {
        const idx = base + k * nodeStride;
        y[offset + idx] -= cp[idx] * y[offset + idx + nodeStride];
      }
    }
  }

  /** z = M⁻¹·r for the coupled system (r, z of length 2·R·C: W nodes then B nodes). */
  private precondition(r: Float64Array, z: Float64Array): void {
    z.set(r);
    const R = this.rows;
    const C = this.bitLines;
    this.lineSolve(this.fw!, this.gw, z, 0, R, C, C, 1);
    this.lineSolve(this.fb!, this.gb, z, R * C, C, R, 1, C);
  }

  /** y = A·x for the coupled system. */
  private apply(x: Float64Array, y: Float64Array): void {
    const R = this.rows;
    const C = this.bitLines;
    const n = R * C;
    const { g, gw, gb, dW, dB } = this;
    for (let i = 0; i < R; i++) {
      for (let c = 0; c < C; c++) {
        const k = i * C + c;
        const w = x[k];
        const b = x[n + k];
        let s = dW[k] * w - g[k] * b;
        if (c > 0) s -= gw * x[k - 1];
        if (c < C - 1) s -= gw * x[k + 1];
        y[k] = s;
        let t = dB[k] * b - g[k] * w;
        if (i > 0) t -= gb * x[n + k - C];
        if (i < R - 1) t -= gb * x[n + k + C];
        y[n + k] = t;
      }
    }
  }

  /** The node voltages and sense-amplifier currents for word-line drives `inputVolts` (length rows, V). */
  solve(inputVolts: ArrayLike<number>): NodalSolution {
    const R = this.rows;
    const C = this.bitLines;
    const n = R * C;
    if (inputVolts.length !== R) throw new OhmicError(`IR-drop nodal solve: ${inputVolts.length} input voltages for ${R} word lines`);
    const wl = new Float64Array(n);
    const bl = new Float64Array(n);
    const wlIdeal = this.fw === null;
    const blIdeal = this.fb === null;
    let iterations = 0;
    if (wlIdeal) {
      for (let i = 0; i < R; i++) wl.fill(inputVolts[i], i * C, (i + 1) * C);
    }
    if (wlIdeal && !blIdeal) {
      // Word lines fixed at v_i: each bit line is one tridiagonal system with sources G·v_i.
      for (let k = 0; k < n; k++) bl[k] = this.g[k] * wl[k];
      this.lineSolve(this.fb!, this.gb, bl, 0, C, R, 1, C);
    } else if (!wlIdeal && blIdeal) {
      // Bit lines at 0 V: each word line is one tridiagonal system driven through its first segment.
      for (let i = 0; i < R; i++) wl[i * C] = this.gw * inputVolts[i];
      this.lineSolve(this.fw!, this.gw, wl, 0, R, C, C, 1);
    } else if (!wlIdeal && !blIdeal) {
      iterations = this.pcg(inputVolts, wl, bl);
    }
    const currents = new Float64Array(C);
    if (blIdeal) {
      for (let k = 0; k < n; k++) currents[k % C] += this.g[k] * wl[k];
    } else {
      for (let c = 0; c < C; c++) currents[c] = this.gb * bl[(R - 1) * C + c];
    }
    const relativeResidual = wlIdeal && blIdeal ? 0 : this.residualOf(inputVolts, wl, bl);
    return { bitLineCurrentsMicroAmps: currents, wordLineVolts: wl, bitLineVolts: bl, iterations, relativeResidual };
  }

  /**
   * ‖b − A·x‖₂/‖b‖₂ of the system the voltages solve: the coupled one, or with an
   * ideal line, the other lines' reduced system (its fixed nodes' currents G·W as
   * sources).
   */
  private residualOf(v: ArrayLike<number>, wl: Float64Array, bl: Float64Array): number {
    const R = this.rows;
    const C = this.bitLines;
    const { g, gw, gb, dW, dB } = this;
    const wlIdeal = this.fw === null;
    const blIdeal = this.fb === null;
    let rr = 0;
    let bb = 0;
    for (let i = 0; i < R; i++) {
      for (let c = 0; c < C; c++) {
        const k = i * C + c;
        if (!wlIdeal) {
          // The W rows: a B node at 0 V (ideal bit line) contributes nothing.
          let s = dW[k] * wl[k] - g[k] * bl[k];
          if (c > 0) s -= gw * wl[k - 1];
          if (c < C - 1) s -= gw * wl[k + 1];
          const rhs = c === 0 ? gw * v[i] : 0;
          rr += (rhs - s) ** 2;
          bb += rhs * rhs;
        }
        if (!blIdeal) {
          // The B rows: with fixed word lines, −G·W moves to the right-hand side.
          let t = dB[k] * bl[k];
          if (i > 0) t -= gb * bl[k - C];
          if (i < R - 1) t -= gb * bl[k + C];
          const rhs = g[k] * wl[k];
          rr += (rhs - t) ** 2;
          if (wlIdeal) bb += rhs * rhs;
        }
      }
    }
    return bb > 0 ? Math.sqrt(rr / bb) : 0;
  }

  /** PCG on the coupled system; writes the W and B voltages, returns the iterations. */
  private pcg(v: ArrayLike<number>, wl: Float64Array, bl: Float64Array): number {
    const R = this.rows;
    const C = this.bitLines;
    const n = R * C;
    const b = new Float64Array(2 * n);
    for (let i = 0; i < R; i++) b[i * C] = this.gw * v[i];
    let bNorm = 0;
    for (let k = 0; k < 2 * n; k++) bNorm += b[k] * b[k];
    bNorm = Math.sqrt(bNorm);
    if (bNorm === 0) return 0;
    const x = new Float64Array(2 * n);
    this.precondition(b, x);
    const r = new Float64Array(2 * n);
    const q = new Float64Array(2 * n);
    const z = new Float64Array(2 * n);
    this.apply(x, q);
    for (let k = 0; k < 2 * n; k++) r[k] = b[k] - q[k];
    this.precondition(r, z);
    const p = Float64Array.from(z);
    let rz = 0;
    for (let k = 0; k < 2 * n; k++) rz += r[k] * z[k];
    let it = 0;
    let rel = Infinity;
    for (; it < this.maxIterations; it++) {
      let rr = 0;
      for (let k = 0; k < 2 * n; k++) rr += r[k] * r[k];
      rel = Math.sqrt(rr) / bNorm;
      if (rel <= this.tolerance) break;
      this.apply(p, q);
      let pq = 0;
      for (let k = 0; k < 2 * n; k++) pq += p[k] * q[k];
      const alpha = rz / pq;
      for (let k = 0; k < 2 * n; k++) {
        x[k] += alpha * p[k];
        r[k] -= alpha * q[k];
      }
      this.precondition(r, z);
      let rzNew = 0;
      for (let k = 0; k < 2 * n; k++) rzNew += r[k] * z[k];
      const beta = rzNew / rz;
      rz = rzNew;
      for (let k = 0; k < 2 * n; k++) p[k] = z[k] + beta * p[k];
    }
    if (rel > this.tolerance) throw new NodalSolveError(it, rel, this.tolerance);
    wl.set(x.subarray(0, n));
    bl.set(x.subarray(n));
    return it;
  }

  /**
   * The exact effective conductance matrix M [rows × bitLines], µS: the network is
   * linear in the drives, so the sense currents are y = v·M for every input pattern;
   * row i is the response to v = e_i (1 V on word line i, the others at 0 V). Costs
   * `rows` solves.
   */
  effectiveConductances(): Float64Array {
    const R = this.rows;
    const C = this.bitLines;
    const out = new Float64Array(R * C);
    const v = new Float64Array(R);
    for (let i = 0; i < R; i++) {
      v.fill(0);
      v[i] = 1;
      out.set(this.solve(v).bitLineCurrentsMicroAmps, i * C);
    }
    return out;
  }
}

/** Solves one tile's network for one input pattern (see {@link TileNodalSolver}). */
export function solveTileNodal(tile: CrossbarTile, wires: WireResistance, inputVolts: ArrayLike<number>, options?: NodalSolveOptions): NodalSolution {
  return new TileNodalSolver(tile, wires, options).solve(inputVolts);
}

/** The exact effective conductances of a tile (see {@link TileNodalSolver.effectiveConductances}). */
export function exactEffectiveConductances(tile: CrossbarTile, wires: WireResistance, options?: NodalSolveOptions): Float64Array {
  return new TileNodalSolver(tile, wires, options).effectiveConductances();
}

/**
 * Kirchhoff's current law checked on a solution, independent of the solver's own
 * algebra: at every word-line and bit-line node, the sum of the branch currents
 * (wire segments, cell, driver, sense amplifier) leaving it, each from Ohm's law on
 * the returned voltages. Returns the largest |imbalance| relative to the largest
 * cell current |G·(W − B)| (0 if no current flows). With an ideal line (r = 0) its
 * nodes are fixed by the line, and only the other line's nodes are checked.
 */
export function kirchhoffResidual(tile: CrossbarTile, wires: WireResistance, inputVolts: ArrayLike<number>, s: NodalSolution): number {
  const R = tile.rows;
  const C = tile.bitLines;
  const g = tile.conductanceMicroSiemens;
  const gw = wires.wordLineOhmPerCell > 0 ? MICRO_SIEMENS_PER_SIEMENS / wires.wordLineOhmPerCell : null;
  const gb = wires.bitLineOhmPerCell > 0 ? MICRO_SIEMENS_PER_SIEMENS / wires.bitLineOhmPerCell : null;
  const W = s.wordLineVolts;
  const B = s.bitLineVolts;
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < R; i++) {
    for (let c = 0; c < C; c++) {
      const k = i * C + c;
      const cell = g[k] * (W[k] - B[k]);
      scale = Math.max(scale, Math.abs(cell));
      if (gw !== null) {
        const left = c === 0 ? inputVolts[i] : W[k - 1];
        let out = cell + gw * (W[k] - left);
        if (c < C - 1) out += gw * (W[k] - W[k + 1]);
        worst = Math.max(worst, Math.abs(out));
      }
      if (gb !== null) {
        const down = i === R - 1 ? 0 : B[k + C];
        let out = -cell + gb * (B[k] - down);
        if (i > 0) out += gb * (B[k] - B[k - C]);
        worst = Math.max(worst, Math.abs(out));
      }
    }
  }
  return scale > 0 ? worst / scale : 0;
}
