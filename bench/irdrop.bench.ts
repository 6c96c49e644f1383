/**
 * IR drop: the first-order model against the exact nodal solve on one tile of
 * N×N weights (N word lines, 2N interleaved bit lines) at each device preset's
 * conductances, for wire resistances from below realistic to well above it.
 *
 * Weights: N(0, 1), mapped through the chip's usual per-layer mapping
 * (`weightsToConductances`, the preset's window and levels). Inputs: 8 vectors
 * uniform in [0, V_read) (post-ReLU-like). Outputs: the differential column currents
 * I(G⁺) − I(G⁻). Reported, over the 8 × N outputs:
 *   exact   = rms(y_exact − y_ideal)/rms(y_ideal)   (the IR drop's output error)
 *   first   = rms(y_first − y_ideal)/rms(y_ideal)
 *   ratio   = first / exact
 *   mismatch = rms(y_first − y_exact)/rms(y_exact − y_ideal): the model's error
 *              relative to the exact error (the target is <= 0.1)
 *   lines mismatch: the same for the line model (lineModel.ts)
 *   ε = r·Ḡ·(2N)²/2: the word line's first-order drop at its far end for the mean
 *       cell Ḡ, the expansion parameter; the model degrades as it approaches 1.
 * Realistic wires (DNN+NeuroSim V1.3 Param.cpp, 40 nm, see irDrop/wireConfig.ts):
 * 2.1 and 6.4 Ω per cell; 0.1 and 0.5 Ω stand for wide upper-metal lines, 25 Ω for
 * a narrow lower-metal line. A second table does the same on the first tile of each
 * analog layer of the zoo CNN-6 (cnn6-mnist-mult-0, real weights), reram and pcm;
 * a third gives the CNN-6's accuracy on MNIST test digits with the drop as its only
 * error, per tile size, wire resistance and model.
 * `npm run bench -- irdrop [--quick]` (--quick: 64 and 128 only).
 */
import { Rng } from '../src/rng';
import { reram, pcm, nand } from '../src/crossbar/presets';
import { weightsToConductances } from '../src/crossbar/mapping';
import type { DeviceSpec } from '../src/crossbar/deviceSpec';
import { TileNodalSolver, exactEffectiveConductances } from '../src/crossbar/irDrop/nodalSolve';
import { firstOrderEffectiveConductances } from '../src/crossbar/irDrop/firstOrder';
import { lineModelEffectiveConductances } from '../src/crossbar/irDrop/lineModel';
import { interleavedTile, idealCurrents, currentsThrough, type CrossbarTile } from '../src/crossbar/irDrop/tileNetwork';
import { printTable } from './timing';
import { initBackend } from '../src/backend';
import { loadZooModel } from '../src/models/zoo';
import { fromTfjsLayersModel } from '../src/compiler/frontends/tfjsLayers';
import { isAnalog } from '../src/compiler/ir/graph';
import { mvmMatrix } from '../src/compiler/ir/mvmMatrix';
import { compile } from '../src/compiler/compile';
import { loadMnist, embeddedMnistDir } from '../src/data';

const INPUTS = 8;
const WIRES_OHM = [0.1, 0.5, 2.1, 6.4, 25];

function differential(i: Float64Array): Float64Array {
  const out = new Float64Array(i.length / 2);
  for (let j = 0; j < out.length; j++) out[j] = i[2 * j] - i[2 * j + 1];
  return out;
}

function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * a[k];
  return Math.sqrt(s / a.length);
}

function presetTile(device: DeviceSpec, n: number, seed: number): CrossbarTile {
  const w = new Float32Array(n * n);
  Rng.fromSeed(seed).fillNormal(w);
  const pair = weightsToConductances({ data: w, fanIn: n, fanOut: n }, device, 'layer');
  return interleavedTile(pair.gPlus, pair.gMinus, n, 0, n, 0, n);
}

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick') || process.env.OHMIC_BENCH_QUICK === '1';
  const sizes = quick ? [64, 128] : [64, 128, 256];
  const presets: [string, DeviceSpec][] = [['reram', reram()], ['pcm', pcm()], ['nand', nand()]];
  const rows: (string | number)[][] = [];
  const worse: string[] = [];
  for (const n of sizes) {
    for (const [name, device] of presets) {
      const tile = presetTile(device, n, 1000 + n);
      const g = tile.conductanceMicroSiemens;
      const gMean = g.reduce((s, x) => s + x, 0) / g.length;
      const v = new Float64Array(n);
      const inputs = Array.from({ length: INPUTS }, (_, b) => {
        Rng.fromSeed(7).fold(b).fillUniform(v);
        return v.map((x) => x * device.readVoltageVolts);
      });
      const ideal = inputs.map((x) => differential(idealCurrents(tile, x)));
      for (const r of WIRES_OHM) {
        const wires = { wordLineOhmPerCell: r, bitLineOhmPerCell: r };
        const t0 = process.hrtime.bigint();
        const solver = new TileNodalSolver(tile, wires, { tolerance: 1e-11 });
        let iterations = 0;
        const exact = inputs.map((x) => {
          const s = solver.solve(x);
          iterations = Math.max(iterations, s.iterations);
          return differential(s.bitLineCurrentsMicroAmps);
        });
        const exactMs = Number(process.hrtime.bigint() - t0) / 1e6 / INPUTS;
        const t1 = process.hrtime.bigint();
        const m = firstOrderEffectiveConductances(tile, wires);
        const firstMs = Number(process.hrtime.bigint() - t1) / 1e6;
        const first = inputs.map((x) => differential(currentsThrough(m, n, 2 * n, x)));
        const lm = lineModelEffectiveConductances(tile, wires);
        const lines = inputs.map((x) => differential(currentsThrough(lm, n, 2 * n, x)));
        const flat = (f: (b: number, j: number) => number) => {
          const out = new Float64Array(INPUTS * n);
          for (let b = 0; b < INPUTS; b++) for (let j = 0; j < n; j++) out[b * n + j] = f(b, j);
          return out;
        };
        const yIdeal = rms(flat((b, j) => ideal[b][j]));
        const eExact = rms(flat((b, j) => exact[b][j] - ideal[b][j])) / yIdeal;
        const eFirst = rms(flat((b, j) => first[b][j] - ideal[b][j])) / yIdeal;
        const mismatch = rms(flat((b, j) => first[b][j] - exact[b][j])) / rms(flat((b, j) => exact[b][j] - ideal[b][j]));
        const linesMismatch = rms(flat((b, j) => lines[b][j] - exact[b][j])) / rms(flat((b, j) => exact[b][j] - ideal[b][j]));
        const eps = r * gMean * 1e-6 * (2 * n) ** 2 / 2;
        rows.push([
          `${n}x${n}`, name, gMean.toFixed(3), r, eps.toPrecision(2), eExact.toExponential(3), eFirst.toExponential(3),
          (eFirst / eExact).toFixed(3), mismatch.toFixed(3), linesMismatch.toFixed(3), iterations, exactMs.toFixed(1), firstMs.toFixed(1),
        ]);
        if (mismatch > 0.1) worse.push(`${n}x${n} ${name} r = ${r} Ω (ε = ${eps.toPrecision(2)}): mismatch ${mismatch.toFixed(2)}`);
      }
    }
  }
  process.stdout.write(`IR drop, first-order model vs exact nodal solve (${INPUTS} inputs uniform in [0, V_read), N(0,1) weights, layer mapping)\n`);
  printTable(
    ['tile', 'device', 'mean G µS', 'r Ω/cell', 'ε', 'err exact', 'err first', 'first/exact', 'mismatch', 'lines mismatch', 'PCG it', 'exact ms/input', 'first ms/tile'],
    rows,
  );
  process.stdout.write(`mismatch = rms(y_first − y_exact)/rms(y_exact − y_ideal); target <= 0.1. Worse than the target:\n${worse.length ? worse.map((w) => `  ${w}`).join('\n') : '  none'}\n`);
  // What the exact model costs per tile on a chip (one solve per word line): the limit in wireConfig.ts.
  const timing: (string | number)[][] = [];
  for (const n of quick ? [32, 64] : [32, 64, 128]) {
    const tile = presetTile(reram(), n, 5);
    const t0 = process.hrtime.bigint();
    exactEffectiveConductances(tile, { wordLineOhmPerCell: 2.1, bitLineOhmPerCell: 2.1 });
    timing.push([`${n}x${n}`, (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)]);
  }
  process.stdout.write('\nexact effective matrix per tile (reram, 2.1 Ω/cell)\n');
  printTable(['tile', 'ms'], timing);
  await zooTable(quick);
  await accuracyTable(quick);
}

/**
 * The zoo CNN-6's accuracy on MNIST test digits with IR drop alone: the presets'
 * conductance windows with their noise switched off (generic noise model, no read or
 * sensing noise) and ideal converters, so the wires are the only error.
 */
async function accuracyTable(quick: boolean): Promise<void> {
  const digits = quick ? 200 : 1000;
  const d = loadMnist(embeddedMnistDir(), 'test', { limit: digits });
  const graph = await loadZooModel('cnn6-mnist-mult-0');
  const rows: (string | number)[][] = [];
  const accuracy = async (chipConfig: Record<string, unknown>): Promise<number> => {
    const model = compile(graph, { chip: chipConfig });
    const chip = model.program(1);
    const runner = await model.runner({ kind: 'chip', chip }, { engine: 'onnxruntime' });
    try {
      const y = await runner.run(d.images, { seed: 1 });
      let ok = 0;
      for (let i = 0; i < d.labels.length; i++) {
        let k = 0;
        for (let c = 1; c < 10; c++) if (y[i * 10 + c] > y[i * 10 + k]) k = c;
        if (k === d.labels[i]) ok++;
      }
      return ok / d.labels.length;
    } finally {
      await runner.dispose();
      chip.dispose();
      model.dispose();
    }
  };
  const pct = (a: number) => (100 * a).toFixed(1);
  for (const preset of ['reram', 'pcm']) {
    const device = { preset, noiseModel: 'generic', readNoiseAddMicroSiemens: 0, senseNoiseRelStd: 0 };
    for (const tile of quick ? ['64x64', '256x256'] : ['64x64', '128x128', '256x256']) {
      const base = { device, tile, dac: { bits: null }, adc: { bits: null } };
      const ideal = pct(await accuracy(base));
      for (const r of [0.1, 0.5, 2.1, 6.4]) {
        const at = async (irDrop: string) => pct(await accuracy({ ...base, wireResistanceOhmPerCell: r, irDrop }));
        // The exact model is accepted up to 64×64 tiles (wireConfig.ts).
        rows.push([preset, tile, r, ideal, await at('firstOrder'), await at('lines'), tile === '64x64' ? await at('exact') : '–']);
      }
    }
  }
  process.stdout.write(`\nzoo CNN-6 (cnn6-mnist-mult-0) accuracy % on ${digits} MNIST test digits, IR drop only (the preset's window, noise off, ideal converters)\n`);
  printTable(['device', 'tile', 'r Ω/cell', 'no wires', 'firstOrder', 'lines', 'exact'], rows);
}

/** The same comparison on the first tile of each analog layer of the zoo CNN-6 (cnn6-mnist-mult-0), real weights. */
async function zooTable(quick: boolean): Promise<void> {
  await initBackend();
  const graph = fromTfjsLayersModel(await loadZooModel('cnn6-mnist-mult-0'));
  const rows: (string | number)[][] = [];
  for (const node of graph.nodes) {
    if (!isAnalog(node)) continue;
    const m = mvmMatrix(node, 0);
    const [fanIn, fanOut] = m.shape as [number, number];
    const seen = new Set<string>();
    for (const n of quick ? [128] : [128, 256]) {
      const rowsN = Math.min(n, fanIn);
      const colsN = Math.min(n, fanOut);
      // A layer smaller than both sizes is one tile: list it once.
      if (seen.has(`${rowsN}x${colsN}`)) continue;
      seen.add(`${rowsN}x${colsN}`);
      for (const [name, device] of [['reram', reram()], ['pcm', pcm()]] as [string, DeviceSpec][]) {
        const pair = weightsToConductances({ data: m.data as Float32Array, fanIn, fanOut }, device, 'layer');
        const tile = interleavedTile(pair.gPlus, pair.gMinus, fanOut, 0, rowsN, 0, colsN);
        const v = new Float64Array(rowsN);
        const inputs = Array.from({ length: INPUTS }, (_, b) => {
          Rng.fromSeed(9).fold(b).fillUniform(v);
          return v.map((x) => x * device.readVoltageVolts);
        });
        for (const r of [0.5, 2.1, 6.4]) {
          const wires = { wordLineOhmPerCell: r, bitLineOhmPerCell: r };
          const solver = new TileNodalSolver(tile, wires, { tolerance: 1e-11 });
          const fo = firstOrderEffectiveConductances(tile, wires);
          const lm = lineModelEffectiveConductances(tile, wires);
          let dev = 0;
          let sig = 0;
          let mf = 0;
          let ml = 0;
          for (const x of inputs) {
            const yi = differential(idealCurrents(tile, x));
            const ye = differential(solver.solve(x).bitLineCurrentsMicroAmps);
            const yf = differential(currentsThrough(fo, rowsN, 2 * colsN, x));
            const yl = differential(currentsThrough(lm, rowsN, 2 * colsN, x));
            for (let j = 0; j < colsN; j++) {
              sig += yi[j] ** 2;
              dev += (ye[j] - yi[j]) ** 2;
              mf += (yf[j] - ye[j]) ** 2;
              ml += (yl[j] - ye[j]) ** 2;
            }
          }
          rows.push([node.name, `${rowsN}x${colsN}`, name, r, Math.sqrt(dev / sig).toExponential(3), Math.sqrt(mf / dev).toFixed(3), Math.sqrt(ml / dev).toFixed(3)]);
        }
      }
    }
  }
  process.stdout.write('\nzoo CNN-6 (cnn6-mnist-mult-0), first tile of each layer (N×N or the layer if smaller), inputs uniform in [0, V_read)\n');
  printTable(['layer', 'tile', 'device', 'r Ω/cell', 'err exact', 'first mismatch', 'lines mismatch'], rows);
}
