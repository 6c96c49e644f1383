/**
 * IR drop on a chip: the chip and hardware fields, the per-tile application in the
 * programmed layer's effective conductances, the line model, the bit-line current
 * bound, and the compile report's warnings and note.
 */
import { Rng } from '../../src/rng';
import { validateChipSpec } from '../../src/crossbar/chipSpec';
import { programLayer } from '../../src/crossbar/programmedLayer';
import { irDropDifferential } from '../../src/crossbar/irDrop/tileApplication';
import { worstBitLineCurrents, DEFAULT_MAX_BIT_LINE_CURRENT_MICRO_AMPS } from '../../src/crossbar/irDrop/bitLineCurrent';
import { lineModelEffectiveConductances } from '../../src/crossbar/irDrop/lineModel';
import { firstOrderEffectiveConductances } from '../../src/crossbar/irDrop/firstOrder';
import { solveTileNodal, exactEffectiveConductances } from '../../src/crossbar/irDrop/nodalSolve';
import { currentsThrough, idealCurrents, interleavedTile, type CrossbarTile } from '../../src/crossbar/irDrop/tileNetwork';
import { reram, pcm, nand } from '../../src/crossbar/presets';
import { weightsToConductances } from '../../src/crossbar/mapping';
import { validateHardware } from '../../src/compiler/hardware';
import { ConfigError } from '../../src/errors';
import type { WeightMatrix } from '../../src/crossbar/mapping';

const IDEAL_CONVERTERS = { dac: { bits: null }, adc: { bits: null } };

function weights(fanIn: number, fanOut: number, seed: number): WeightMatrix {
  const data = new Float32Array(fanIn * fanOut);
  Rng.fromSeed(seed).fillNormal(data);
  return { data, fanIn, fanOut };
}

function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] ** 2;
  return Math.sqrt(s / a.length);
}

describe('chip fields', () => {
  test('a number sets both lines, an object each; stored as { wordLine, bitLine }', () => {
    expect(validateChipSpec({ device: 'ideal', wireResistanceOhmPerCell: 2.1 }).wireResistanceOhmPerCell).toEqual({ wordLine: 2.1, bitLine: 2.1 });
    expect(validateChipSpec({ device: 'ideal', wireResistanceOhmPerCell: { bitLine: 6.4 } }).wireResistanceOhmPerCell).toEqual({ wordLine: 0, bitLine: 6.4 });
  });

  test('a default chip carries none of the wire fields, and a wired chip round-trips through JSON', () => {
    const plain = validateChipSpec({ device: 'reram' });
    for (const k of ['wireResistanceOhmPerCell', 'irDrop', 'maxBitLineCurrentMicroAmps']) expect(k in plain).toBe(false);
    const wired = validateChipSpec({ device: 'pcm', tile: '64x32', wireResistanceOhmPerCell: { wordLine: 1, bitLine: 3 }, irDrop: 'exact', maxBitLineCurrentMicroAmps: 250 });
    expect(validateChipSpec(JSON.parse(JSON.stringify(wired)))).toEqual(wired);
  });

  test('bad values and unknown keys are ConfigErrors naming the field', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ wireResistanceOhmPerCell: -1 }, 'chip.wireResistanceOhmPerCell'],
      [{ wireResistanceOhmPerCell: '2 ohm' }, 'chip.wireResistanceOhmPerCell'],
      [{ wireResistanceOhmPerCell: { wordLine: 1, row: 2 } }, 'chip.wireResistanceOhmPerCell.row'],
      [{ wireResistanceOhmPerCell: { wordLine: Infinity } }, 'chip.wireResistanceOhmPerCell.wordLine'],
      [{ irDrop: 'second' }, 'chip.irDrop'],
      [{ irDrop: 'exact' }, 'chip.irDrop'], // the default 256×256 tile is too large for it
      [{ maxBitLineCurrentMicroAmps: 0 }, 'chip.maxBitLineCurrentMicroAmps'],
      [{ wireResistance: 1 }, 'chip.wireResistance'],
    ];
    for (const [fields, field] of bad) {
      let err: unknown;
      try {
        validateChipSpec({ device: 'ideal', ...fields });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe(field);
    }
    expect(validateChipSpec({ device: 'ideal', tile: '64x64', irDrop: 'exact' }).irDrop).toBe('exact');
  });

  test('the hardware config accepts the wire fields, in per-layer overrides too', () => {
    const hw = validateHardware({ kind: 'chip', chip: { device: 'ideal', wireResistanceOhmPerCell: 2, irDrop: 'lines', maxBitLineCurrentMicroAmps: 100 }, layers: { fc: { wireResistanceOhmPerCell: 5 } } });
    expect(hw.kind).toBe('chip');
    if (hw.kind !== 'chip') return;
    expect(hw.chip.irDrop).toBe('lines');
    expect(hw.layers!.fc.wireResistanceOhmPerCell).toEqual({ wordLine: 5, bitLine: 5 });
    expect(() => validateHardware({ kind: 'chip', chip: { device: 'ideal', wireOhms: 2 } })).toThrow(ConfigError);
  });
});

describe('the programmed layer carries the drop', () => {
  const w = weights(70, 20, 1);
  const chipWith = (extra: Record<string, unknown>) => validateChipSpec({ device: 'ideal', tile: '32x8', ...IDEAL_CONVERTERS, ...extra });

  test('0 Ω wires leave the layer exactly as without the field', () => {
    const a = programLayer(w, chipWith({}), Rng.fromSeed(2));
    const b = programLayer(w, chipWith({ wireResistanceOhmPerCell: 0 }), Rng.fromSeed(2));
    expect(Array.from(b.effectiveWeights!)).toEqual(Array.from(a.effectiveWeights!));
    expect(Array.from(b.rowBlocks[1].gDiff)).toEqual(Array.from(a.rowBlocks[1].gDiff));
  });

  test('each row block × column block is one tile: the layer holds irDropDifferential per tile, partial tiles included', () => {
    const chip = chipWith({ wireResistanceOhmPerCell: 20 });
    const layer = programLayer(w, chip, Rng.fromSeed(2));
    const diff = irDropDifferential(layer)!;
    expect(layer.rowBlocks.length).toBe(3); // 32 + 32 + 6 rows
    for (const rb of layer.rowBlocks) {
      for (let i = 0; i < rb.rows; i++) {
        for (let j = 0; j < 20; j++) expect(rb.gDiff[i * 20 + j]).toBeCloseTo(diff[(rb.row0 + i) * 20 + j], 3);
      }
    }
    // A weight's drop depends only on its own tile: the 6-row last block drops less than a full one.
    const lossOf = (r0: number, r1: number) => {
      let s = 0;
      for (let i = r0; i < r1; i++) for (let j = 0; j < 8; j++) s += Math.abs(layer.gPlus[i * 20 + j] - layer.gMinus[i * 20 + j]) - Math.abs(diff[i * 20 + j]);
      return s / ((r1 - r0) * 8);
    };
    expect(lossOf(64, 70)).toBeLessThan(lossOf(0, 32));
  });

  test('outputs shrink in magnitude, every weight keeps its sign, for each model', () => {
    const x = new Float32Array(70);
    Rng.fromSeed(4).fillUniform(x);
    const ideal = programLayer(w, chipWith({}), Rng.fromSeed(2)).effectiveWeights!;
    const y = (m: Float32Array) => {
      const out = new Float64Array(20);
      for (let i = 0; i < 70; i++) for (let j = 0; j < 20; j++) out[j] += x[i] * m[i * 20 + j];
      return out;
    };
    for (const irDrop of ['firstOrder', 'lines', 'exact']) {
      const eff = programLayer(w, chipWith({ wireResistanceOhmPerCell: 20, irDrop }), Rng.fromSeed(2)).effectiveWeights!;
      const big = 0.05 * Math.max(...Array.from(ideal, Math.abs));
      for (let k = 0; k < eff.length; k++) {
        // The ideal device's gMin is 0: every weight is one attenuated cell. (The exact
        // network also couples cells through the lines, so a weight near 0 may move
        // either way by a tiny amount: checked on the others.)
        if (Math.abs(ideal[k]) > big) {
          expect(Math.sign(eff[k])).toBe(Math.sign(ideal[k]));
          expect(Math.abs(eff[k])).toBeLessThan(Math.abs(ideal[k]));
        }
      }
      const shrink = rms(y(eff)) / rms(y(ideal));
      // 32×8 tiles of up to 100 µS cells at 20 Ω: a drop of ~15 % (ε = r·Ḡ·16²/2 ≈ 0.1–0.2).
      expect(shrink).toBeLessThan(0.95);
      expect(shrink).toBeGreaterThan(0.75);
    }
  });
});

describe('line model', () => {
  const tile = (seed: number): CrossbarTile => {
    const g = new Float64Array(12 * 16);
    Rng.fromSeed(seed).fillUniform(g);
    return { rows: 12, bitLines: 16, conductanceMicroSiemens: g.map((v) => 40 * v) };
  };
  test('exact when one line kind is ideal', () => {
    for (const wires of [{ wordLineOhmPerCell: 300, bitLineOhmPerCell: 0 }, { wordLineOhmPerCell: 0, bitLineOhmPerCell: 300 }]) {
      const m = lineModelEffectiveConductances(tile(1), wires);
      const e = exactEffectiveConductances(tile(1), wires);
      for (let k = 0; k < m.length; k++) expect(Math.abs(m[k] - e[k])).toBeLessThan(1e-9 * 40);
    }
  });
  test('within 7 % of the exact drop where first order is off by more than 30 %', () => {
    // A dense tile (G uniform in [0, 40) µS) at 100 Ω: the exact drop is 24 %, ε = r·Ḡ·C²/2 ≈ 0.26.
    const t = tile(2);
    const wires = { wordLineOhmPerCell: 100, bitLineOhmPerCell: 100 };
    const v = new Float64Array(12).fill(0.5);
    const ideal = idealCurrents(t, v);
    const exact = solveTileNodal(t, wires, v).bitLineCurrentsMicroAmps;
    const mismatch = (m: Float64Array) => {
      const y = currentsThrough(m, 12, 16, v);
      return rms(y.map((a, c) => a - exact[c])) / rms(exact.map((a, c) => a - ideal[c]));
    };
    expect(mismatch(lineModelEffectiveConductances(t, wires))).toBeLessThan(0.07);
    expect(mismatch(firstOrderEffectiveConductances(t, wires))).toBeGreaterThan(0.3);
  });
});

describe('bit-line current', () => {
  test('worst case V_read·Σ G per tile against the limit', () => {
    // Ideal device: gMax 100 µS, V_read 0.5 V; every weight at max → G⁺ = 100 µS.
    const w: WeightMatrix = { data: new Float32Array(300 * 4).fill(1), fanIn: 300, fanOut: 4 };
    const chip = validateChipSpec({ device: 'ideal', tile: '256x4', ...IDEAL_CONVERTERS, maxBitLineCurrentMicroAmps: 5000 });
    const t = worstBitLineCurrents(programLayer(w, chip, Rng.fromSeed(1)));
    expect(t.length).toBe(2);
    expect(t[0].currentMicroAmps).toBeCloseTo(256 * 100 * 0.5, 6);
    expect(t[0].line).toBe('G+');
    expect(t[0].exceeds).toBe(true);
    expect(t[1].currentMicroAmps).toBeCloseTo(44 * 100 * 0.5, 6);
    expect(t[1].exceeds).toBe(false);
    expect(t[1].row0).toBe(256);
    // Negative weights load the G⁻ bit line.
    const neg = worstBitLineCurrents(programLayer({ ...w, data: w.data.map(() => -1) }, chip, Rng.fromSeed(1)));
    expect(neg[0].line).toBe('G-');
    expect(DEFAULT_MAX_BIT_LINE_CURRENT_MICRO_AMPS).toBe(1000);
  });
});

describe('the bench, test-sized: one 24×24 tile at each preset\'s conductances', () => {
  // N(0,1) weights through the layer mapping; inputs uniform in [0, V_read). The bench
  // (bench/irdrop.bench.ts) found first order's mismatch ≈ ε = r·Ḡ·(2N)²/2 and the
  // line model within 5 % on 64…256 tiles; checked here on small tiles with bounds.
  const n = 24;
  for (const [name, device] of [['reram', reram()], ['pcm', pcm()], ['nand', nand()]] as const) {
    test(`${name}: exact error grows with r; first order's mismatch ≈ ε; lines within 5 %`, () => {
      const w = weights(n, n, 3);
      const pair = weightsToConductances(w, device, 'layer');
      const t = interleavedTile(pair.gPlus, pair.gMinus, n, 0, n, 0, n);
      const gMean = t.conductanceMicroSiemens.reduce((s, g) => s + g, 0) / t.conductanceMicroSiemens.length;
      const v = new Float64Array(n);
      Rng.fromSeed(7).fillUniform(v);
      v.forEach((x, i) => (v[i] = x * device.readVoltageVolts));
      const diffOf = (i: Float64Array) => Float64Array.from({ length: n }, (_, j) => i[2 * j] - i[2 * j + 1]);
      const ideal = diffOf(idealCurrents(t, v));
      let last = 0;
      // r large enough for a measurable drop on a small tile: ε from ~1e-4 (nand) to ~0.3 (reram).
      for (const r of [10, 40]) {
        const wires = { wordLineOhmPerCell: r, bitLineOhmPerCell: r };
        const exact = diffOf(solveTileNodal(t, wires, v).bitLineCurrentsMicroAmps);
        const dev = exact.map((e, j) => e - ideal[j]);
        const err = rms(dev) / rms(ideal);
        expect(err).toBeGreaterThan(last);
        last = err;
        const eps = (r * gMean * 1e-6 * (2 * n) ** 2) / 2;
        const mismatch = (m: Float64Array) => rms(diffOf(currentsThrough(m, n, 2 * n, v)).map((y, j) => y - exact[j])) / rms(dev);
        const first = mismatch(firstOrderEffectiveConductances(t, wires));
        expect(first).toBeGreaterThan(0.5 * eps);
        expect(first).toBeLessThan(1.5 * eps + 1e-6);
        expect(mismatch(lineModelEffectiveConductances(t, wires))).toBeLessThan(0.05);
      }
    });
  }
});
