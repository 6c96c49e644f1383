/**
 * IR drop: the PCG nodal solve against an independent dense nodal analysis
 * (Gaussian elimination on a netlist with ideal lines merged into their fixed
 * nodes), closed forms, Kirchhoff's law, and the first-order model against both.
 */
import { Rng } from '../../src/rng';
import {
  TileNodalSolver, solveTileNodal, exactEffectiveConductances, kirchhoffResidual,
} from '../../src/crossbar/irDrop/nodalSolve';
import { firstOrderEffectiveConductances } from '../../src/crossbar/irDrop/firstOrder';
import { idealCurrents, currentsThrough, type CrossbarTile, type WireResistance } from '../../src/crossbar/irDrop/tileNetwork';
import { ConfigError, ShapeError } from '../../src/errors';

function randomTile(rows: number, bitLines: number, gMax: number, seed: number): CrossbarTile {
  const g = new Float64Array(rows * bitLines);
  Rng.fromSeed(seed).fillUniform(g);
  for (let k = 0; k < g.length; k++) g[k] *= gMax;
  return { rows, bitLines, conductanceMicroSiemens: g };
}

function uniformTile(rows: number, bitLines: number, g: number): CrossbarTile {
  return { rows, bitLines, conductanceMicroSiemens: new Float64Array(rows * bitLines).fill(g) };
}

function signedInputs(n: number, seed: number): Float64Array {
  const v = new Float64Array(n);
  Rng.fromSeed(seed).fillUniform(v);
  return v.map((x) => x - 0.5);
}

/** Dense Gaussian elimination with partial pivoting: solves A·x = b (A n×n row-major, overwritten). */
function gaussSolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * n + col]) > Math.abs(a[piv * n + col])) piv = r;
    if (piv !== col) {
      for (let k = 0; k < n; k++) [a[col * n + k], a[piv * n + k]] = [a[piv * n + k], a[col * n + k]];
      [b[col], b[piv]] = [b[piv], b[col]];
    }
    for (let r = col + 1; r < n; r++) {
      const f = a[r * n + col] / a[col * n + col];
      if (f === 0) continue;
      for (let k = col; k < n; k++) a[r * n + k] -= f * a[col * n + k];
      b[r] -= f * b[col];
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r];
    for (let k = r + 1; k < n; k++) s -= a[r * n + k] * x[k];
    x[r] = s / a[r * n + r];
  }
  return x;
}

/**
 * The reference: a netlist of the tile (a node per cell terminal, driver nodes at
 * v_i, a ground node), with an ideal line's nodes merged into its driver or ground,
 * solved by dense nodal analysis. Returns the sense currents (into ground, per bit line).
 */
function denseReference(tile: CrossbarTile, wires: WireResistance, v: ArrayLike<number>): Float64Array {
  const R = tile.rows;
  const C = tile.bitLines;
  const g = tile.conductanceMicroSiemens;
  // Node ids: free nodes 0..F−1; fixed nodes as { volts }.
  type Node = { free: number } | { volts: number };
  let free = 0;
  const wl: Node[] = [];
  const bl: Node[] = [];
  for (let i = 0; i < R; i++) for (let c = 0; c < C; c++) wl.push(wires.wordLineOhmPerCell > 0 ? { free: free++ } : { volts: v[i] });
  for (let i = 0; i < R; i++) for (let c = 0; c < C; c++) bl.push(wires.bitLineOhmPerCell > 0 ? { free: free++ } : { volts: 0 });
  const branches: { a: Node; b: Node; g: number; senseOf: number }[] = [];
  const gw = wires.wordLineOhmPerCell > 0 ? 1e6 / wires.wordLineOhmPerCell : 0;
  const gb = wires.bitLineOhmPerCell > 0 ? 1e6 / wires.bitLineOhmPerCell : 0;
  for (let i = 0; i < R; i++) {
    for (let c = 0; c < C; c++) {
      const k = i * C + c;
      // A cell on an ideal bit line delivers its current straight to the sense amplifier.
      branches.push({ a: wl[k], b: bl[k], g: g[k], senseOf: gb === 0 ? c : -1 });
      if (gw > 0) branches.push({ a: c === 0 ? { volts: v[i] } : wl[k - 1], b: wl[k], g: gw, senseOf: -1 });
      if (gb > 0) branches.push({ a: bl[k], b: i === R - 1 ? { volts: 0 } : bl[k + C], g: gb, senseOf: i === R - 1 ? c : -1 });
    }
  }
  const A = new Float64Array(free * free);
  const rhs = new Float64Array(free);
  for (const br of branches) {
    const fa = 'free' in br.a ? br.a.free : -1;
    const fb = 'free' in br.b ? br.b.free : -1;
    if (fa >= 0) A[fa * free + fa] += br.g;
    if (fb >= 0) A[fb * free + fb] += br.g;
    if (fa >= 0 && fb >= 0) {
      A[fa * free + fb] -= br.g;
      A[fb * free + fa] -= br.g;
    }
    if (fa >= 0 && fb < 0) rhs[fa] += br.g * (br.b as { volts: number }).volts;
    if (fb >= 0 && fa < 0) rhs[fb] += br.g * (br.a as { volts: number }).volts;
  }
  const x = free > 0 ? gaussSolve(A, rhs, free) : new Float64Array(0);
  const volts = (n: Node) => ('free' in n ? x[n.free] : n.volts);
  const sense = new Float64Array(C);
  for (const br of branches) if (br.senseOf >= 0) sense[br.senseOf] += br.g * (volts(br.a) - volts(br.b));
  return sense;
}

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < a.length; k++) {
    num += (a[k] - b[k]) ** 2;
    den += b[k] ** 2;
  }
  return Math.sqrt(num / den);
}

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] ** 2;
  return Math.sqrt(s);
}

const both = (r: number): WireResistance => ({ wordLineOhmPerCell: r, bitLineOhmPerCell: r });

describe('nodal solve against a dense direct solve', () => {
  // Wire values from realistic (2 Ω) to strong (500 Ω: the drop is tens of %), cells up to 40 µS.
  const cases: [number, number, WireResistance][] = [
    [4, 4, both(2)], [4, 4, both(500)], [8, 6, both(2)], [8, 6, { wordLineOhmPerCell: 50, bitLineOhmPerCell: 400 }],
    [8, 6, { wordLineOhmPerCell: 0, bitLineOhmPerCell: 300 }], [8, 6, { wordLineOhmPerCell: 300, bitLineOhmPerCell: 0 }],
    [1, 7, both(100)], [7, 1, both(100)],
  ];
  for (const [R, C, w] of cases) {
    test(`${R}x${C} tile, r_wl = ${w.wordLineOhmPerCell} Ω, r_bl = ${w.bitLineOhmPerCell} Ω: currents within 1e-9`, () => {
      const tile = randomTile(R, C, 40, R * 31 + C);
      const v = signedInputs(R, 5);
      const s = solveTileNodal(tile, w, v);
      expect(relDiff(s.bitLineCurrentsMicroAmps, denseReference(tile, w, v))).toBeLessThan(1e-9);
      expect(kirchhoffResidual(tile, w, v, s)).toBeLessThan(1e-9);
      // And the drop is real (not a vacuous pass): more than 1e-6 away from ideal.
      expect(relDiff(s.bitLineCurrentsMicroAmps, idealCurrents(tile, v))).toBeGreaterThan(1e-6);
    });
  }

  test('the effective matrix reproduces the solve for any input (linearity)', () => {
    const tile = randomTile(8, 6, 40, 3);
    const w = both(200);
    const m = exactEffectiveConductances(tile, w);
    for (const seed of [1, 2, 3]) {
      const v = signedInputs(8, seed);
      expect(relDiff(currentsThrough(m, 8, 6, v), denseReference(tile, w, v))).toBeLessThan(1e-9);
    }
  });
});

describe('closed forms', () => {
  test('zero wire resistance gives exactly the ideal Σ G·v', () => {
    const tile = randomTile(16, 12, 40, 9);
    const v = signedInputs(16, 2);
    const s = solveTileNodal(tile, both(0), v);
    expect(Array.from(s.bitLineCurrentsMicroAmps)).toEqual(Array.from(idealCurrents(tile, v)));
    expect(s.iterations).toBe(0);
    expect(Array.from(firstOrderEffectiveConductances(tile, both(0)))).toEqual(Array.from(tile.conductanceMicroSiemens));
  });

  test('a 1×1 tile is the series circuit r_wl + 1/G + r_bl', () => {
    const g = 25; // µS
    for (const [rw, rb] of [[3, 7], [1000, 0], [0, 2500], [12000, 30000]]) {
      const s = solveTileNodal(uniformTile(1, 1, g), { wordLineOhmPerCell: rw, bitLineOhmPerCell: rb }, [0.3]);
      const expected = 0.3 / (rw + 1e6 / g + rb) * 1e6; // µA
      expect(Math.abs(s.bitLineCurrentsMicroAmps[0] - expected) / expected).toBeLessThan(1e-12);
      // First order: G·(1 − (r_wl + r_bl)·G), the expansion of G/(1 + (r_wl + r_bl)·G).
      const fo = firstOrderEffectiveConductances(uniformTile(1, 1, g), { wordLineOhmPerCell: rw, bitLineOhmPerCell: rb })[0];
      expect(fo).toBeCloseTo(g * (1 - (rw + rb) * g * 1e-6), 10);
    }
  });

  test('one word line with ideal bit lines: the drop at cell c is r·v·G·Σ(min(c,c′)+1) to first order', () => {
    // A uniform line of n cells, r·G·n² = 4e-4: second order is ~1e-7 of the drop's scale.
    const n = 10;
    const tile = uniformTile(1, n, 10);
    const w: WireResistance = { wordLineOhmPerCell: 4, bitLineOhmPerCell: 0 };
    const s = solveTileNodal(tile, w, [1]);
    for (let c = 0; c < n; c++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.min(c, k) + 1;
      const drop = 4 * 10e-6 * sum;
      expect(Math.abs((1 - s.wordLineVolts[c]) - drop) / drop).toBeLessThan(2e-3);
    }
  });
});

describe('more drop on larger tiles and lower cell resistance', () => {
  const dropOf = (n: number, g: number) => {
    const tile = uniformTile(n, n, g);
    const v = new Float64Array(n).fill(1);
    const y = solveTileNodal(tile, both(2), v).bitLineCurrentsMicroAmps;
    return 1 - norm(y) / norm(idealCurrents(tile, v));
  };
  test('drop grows with the tile side at 20 µS', () => {
    const d = [8, 16, 32].map((n) => dropOf(n, 20));
    expect(d[0]).toBeGreaterThan(0);
    expect(d[1]).toBeGreaterThan(2 * d[0]);
    expect(d[2]).toBeGreaterThan(2 * d[1]);
  });
  test('drop grows with the cell conductance (lower cell resistance) on 16×16', () => {
    const d = [5, 20, 80].map((g) => dropOf(16, g));
    expect(d[1]).toBeGreaterThan(2 * d[0]);
    expect(d[2]).toBeGreaterThan(2 * d[1]);
  });
});

describe('first-order model', () => {
  /** Naive O(R·C·(R + C)) sums of the derivation in firstOrder.ts. */
  function naiveFirstOrder(tile: CrossbarTile, w: WireResistance): Float64Array {
    const { rows: R, bitLines: C, conductanceMicroSiemens: g } = tile;
    const out = new Float64Array(R * C);
    for (let i = 0; i < R; i++) {
      for (let c = 0; c < C; c++) {
        let swl = 0;
        for (let k = 0; k < C; k++) swl += g[i * C + k] * (Math.min(c, k) + 1);
        let sbl = 0;
        for (let k = 0; k < R; k++) sbl += g[k * C + c] * (R - Math.max(i, k));
        const gk = g[i * C + c];
        out[i * C + c] = gk - w.wordLineOhmPerCell * 1e-6 * gk * swl - w.bitLineOhmPerCell * 1e-6 * gk * sbl;
      }
    }
    return out;
  }

  test('prefix sums equal the naive double sums', () => {
    const tile = randomTile(5, 7, 40, 4);
    const w: WireResistance = { wordLineOhmPerCell: 3, bitLineOhmPerCell: 11 };
    expect(relDiff(firstOrderEffectiveConductances(tile, w), naiveFirstOrder(tile, w))).toBeLessThan(1e-13);
  });

  test('its error against the exact drop vanishes linearly with r', () => {
    // mismatch = rms(y_fo − y_exact)/rms(y_exact − y_ideal) is O(r·G·n²).
    const tile = randomTile(16, 16, 40, 6);
    const v = signedInputs(16, 8).map((x) => x + 0.5);
    const ideal = idealCurrents(tile, v);
    const mismatch = (r: number) => {
      const exact = solveTileNodal(tile, both(r), v).bitLineCurrentsMicroAmps;
      const fo = currentsThrough(firstOrderEffectiveConductances(tile, both(r)), 16, 16, v);
      const dev = exact.map((e, c) => e - ideal[c]);
      return norm(fo.map((f, c) => f - exact[c])) / norm(dev);
    };
    const m10 = mismatch(10);
    const m1 = mismatch(1);
    expect(m10).toBeLessThan(0.1);
    expect(m1).toBeLessThan(0.012);
    expect(m10 / m1).toBeGreaterThan(7);
    expect(m10 / m1).toBeLessThan(13);
  });

  test('it overstates the drop (the exact currents lie between it and the ideal)', () => {
    const tile = randomTile(12, 12, 40, 10);
    const v = new Float64Array(12).fill(0.5);
    const exact = solveTileNodal(tile, both(50), v).bitLineCurrentsMicroAmps;
    const fo = currentsThrough(firstOrderEffectiveConductances(tile, both(50)), 12, 12, v);
    const ideal = idealCurrents(tile, v);
    for (let c = 0; c < 12; c++) {
      expect(fo[c]).toBeLessThan(exact[c]);
      expect(exact[c]).toBeLessThan(ideal[c]);
    }
  });
});

describe('input checks', () => {
  test('bad tiles and wires are typed errors', () => {
    expect(() => new TileNodalSolver({ rows: 2, bitLines: 2, conductanceMicroSiemens: new Float64Array(3) }, both(1))).toThrow(ShapeError);
    expect(() => new TileNodalSolver({ rows: 1, bitLines: 1, conductanceMicroSiemens: Float64Array.of(-1) }, both(1))).toThrow(ShapeError);
    expect(() => firstOrderEffectiveConductances(uniformTile(2, 2, 1), both(-1))).toThrow(ConfigError);
    expect(() => firstOrderEffectiveConductances(uniformTile(2, 2, 1), both(NaN))).toThrow(ConfigError);
  });
});
