/**
 * Bit-slicing on the zoo CNN-6 (cnn6-mnist-mult-0) on the ReRAM preset: accuracy and
 * measured energy, conversions and read cycles of the default chip (one analog cell
 * pair per weight, amplitude-coded 8-bit inputs) against 4 × 2-bit weight slices,
 * 8-bit bit-serial inputs, and both. Every chip's converter ranges are calibrated on
 * the first 256 MNIST training digits (never the scored ones); the scored digits are
 * the first N of the test set (default 500). Energy is counted on the data (both
 * engines count the same events; onnxruntime here) and priced by the peripheral
 * model; latency is the plan's: Σ over layers of the stage time (layers one after
 * another, no pipelining). Programming seeds 0…S−1 (default 2), run seed 1.
 *
 * `npm run bench -- bitSlicing [--n=500] [--seeds=2] [--chips=0,1,2,3]`
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { loadZooModel } from '../src/models/zoo';
import { loadMnist } from '../src/data';
import { compile, type CompiledModel } from '../src/compiler/compile';
import { energyFromStats } from '../src/compiler/report';
import type { LayerStats } from '../src/compiler/engine/modelRunner';
import { printTable } from './timing';
import { COMPONENTS } from '../src/crossbar/peripherals';

const DATA_DIR = '/work/shared/datasets/mnist';

const CHIPS: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ['default (1 analog pair, 8-bit amplitude DAC)', { device: 'reram' }],
  ['4 × 2-bit slices', { device: 'reram', slicing: { cellsPerWeight: 4, bitsPerCell: 2 } }],
  ['8-bit bit-serial inputs', { device: 'reram', inputEncoding: { kind: 'bitSerial', bits: 8 } }],
  ['4 × 2-bit slices + 8-bit bit-serial', { device: 'reram', slicing: { cellsPerWeight: 4, bitsPerCell: 2 }, inputEncoding: { kind: 'bitSerial', bits: 8 } }],
];

function argOf(args: string[], name: string, fallback: number): number {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : fallback;
}

function accuracy(y: Float32Array, labels: Uint8Array, n: number): number {
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let c = 1; c < 10; c++) if (y[i * 10 + c] > y[i * 10 + k]) k = c;
    if (k === labels[i]) correct++;
  }
  return correct / n;
}

function inputShape(model: CompiledModel): number[] {
  return model.graph.nodes.find((n) => n.op === 'input')!.outputShape.slice(1) as number[];
}

export async function run(args: string[]): Promise<void> {
  await initBackend();
  const n = argOf(args, 'n', 500);
  const seeds = argOf(args, 'seeds', 2);
  const test = loadMnist(DATA_DIR, 'test', { limit: n });
  const train = loadMnist(DATA_DIR, 'train', { limit: 256 });
  const source = await loadZooModel('cnn6-mnist-mult-0');
  const rows: Array<Array<string | number>> = [];
  const parts: Array<Array<string | number>> = [];
  const reference = compile(source, { chip: { device: 'ideal', dac: { bits: null }, adc: { bits: null }, calibration: { method: 'worstCase' } } });
  const exact = await reference.runner({ kind: 'exact' });
  const floatAccuracy = accuracy(await exact.runAll(test.images), test.labels, n);
  await exact.dispose();
  reference.dispose();
  const only = args.find((a) => a.startsWith('--chips='));
  const picked = only ? only.slice(8).split(',').map(Number) : CHIPS.map((_, i) => i);
  for (const [name, chipConfig] of CHIPS.filter((_, i) => picked.includes(i))) {
    process.stderr.write(`${name}…\n`);
    const model = compile(source, { chip: chipConfig });
    const calibration = tf.tensor(train.images, [256, ...inputShape(model)]);
    const accs: number[] = [];
    let energy = 0;
    let conversions = 0;
    let cycles = 0;
    let shiftAdds = 0;
    let adcClipped = 0;
    const breakdown: Record<string, number> = {};
    for (let seed = 0; seed < seeds; seed++) {
      const chip = model.program(seed, { calibration });
      const runner = await model.runner({ kind: 'chip', chip });
      const stats: LayerStats = {};
      const y = await runner.runAll(test.images, { seed: 1, stats });
      await runner.dispose();
      accs.push(accuracy(y, test.labels, n));
      const e = energyFromStats(model, stats, n);
      energy += e.perInferencePicojoules / seeds;
      for (const [k, v] of Object.entries(e.breakdownPicojoules)) breakdown[k] = (breakdown[k] ?? 0) + v / seeds;
      for (const s of Object.values(stats)) {
        conversions += s.adcConversions / n / seeds;
        cycles += s.inputCycles / n / seeds;
        shiftAdds += s.shiftAdds / n / seeds;
        adcClipped += s.adcClipped / seeds;
      }
      chip.dispose();
    }
    calibration.dispose();
    const latencyNs = model.plan.layers.reduce((s, l) => s + l.stageTimeNs, 0);
    const area = model.plan.layers.reduce((s, l) => s + l.areaSquareMicrometers, 0);
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    rows.push([
      name,
      `${(100 * mean).toFixed(1)} % (${accs.map((a) => (100 * a).toFixed(1)).join(', ')})`,
      (energy / 1e6).toFixed(3),
      (latencyNs / 1e3).toFixed(2),
      Math.round(conversions),
      Math.round(cycles),
      Math.round(shiftAdds),
      Math.round(adcClipped),
      model.plan.tilesPerCopy,
      (area / 1e6).toFixed(3),
    ]);
    parts.push([name, ...COMPONENTS.map((k) => (breakdown[k] / 1e6).toFixed(4))]);
    model.dispose();
  }
  process.stdout.write(`zoo cnn6-mnist-mult-0, ReRAM preset, first ${n} MNIST test digits, programming seeds 0..${seeds - 1}, float accuracy ${(100 * floatAccuracy).toFixed(1)} %\n`);
  printTable(
    ['chip', 'accuracy (per seed)', 'energy µJ/inf (measured)', 'latency µs/inf (plan)', 'ADC conv./inf', 'read cycles/inf', 'shift-adds/inf', 'ADC clipped (run)', 'tiles', 'area mm²'],
    rows,
  );
  process.stdout.write('\nmeasured energy per inference by component, µJ\n');
  printTable(['chip', ...COMPONENTS], parts);
}
