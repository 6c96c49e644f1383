/**
 * MVM throughput on 1024×1024 weights, batch 256, side by side: raw tf.matMul, the
 * paper's signal-level noisy MVM, and the device-level tiled MVM (ReRAM preset with
 * programming + read + sensing noise, 8-bit DAC and ADC, 256×256 tiles); and normal
 * samples/s of the project's generator against tf.randomNormal.
 */
import { initBackend, tf } from '../src/backend';
import { Rng } from '../src/rng';
import { reram, validateChipSpec, programLayer, analogMvm, signalMvm } from '../src/crossbar';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { compile, IDEAL_CHIP } from '../src/compiler/compile';
import { calibrateLayer } from '../src/compiler/calibrateRanges';
import { GraphBuilder } from '../src/compiler/ir/builder';
import { medianMs, printTable } from './timing';

/** numpy/OpenBLAS float32 GEMM peak at 1 thread (bench/peers/sgemm_peak.py), or null without the peer. */
function sgemmPeak1(): number | null {
  const python = process.env.OHMIC_BENCH_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, [path.join(__dirname, 'peers', 'sgemm_peak.py'), '--threads', '1'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const row = r.stdout.split('\n').filter((l) => l.includes('peak_gflops')).map((l) => JSON.parse(l) as { peak_gflops: number })[0];
  return row?.peak_gflops ?? null;
}

export async function run(): Promise<void> {
  const backend = await initBackend();
  const n = 1024;
  const batch = 256;
  const flops = 2 * batch * n * n;
  const w = new Float32Array(n * n);
  Rng.fromSeed(1).fillNormal(w, 0, 1 / Math.sqrt(n));
  const xData = new Float32Array(batch * n);
  Rng.fromSeed(2).fillNormal(xData);
  const x = tf.tensor2d(xData, [batch, n]);
  const wt = tf.tensor2d(w, [n, n]);
  const chip = validateChipSpec({ device: reram(), tile: '256x256', dac: { bits: 8 }, adc: { bits: 8 } });
  const layer = calibrateLayer(programLayer({ data: w, fanIn: n, fanOut: n }, chip, Rng.fromSeed(3)), x);
  let k = 0;

  const rawMs = await medianMs(() => tf.matMul(x, wt).dataSync());
  const signalMs = await medianMs(() => {
    const y = signalMvm(x, wt, { kind: 'multiplicative', sigma: 0.4 }, Rng.fromSeed(4).fold(k++));
    y.dataSync();
    y.dispose();
  });
  const deviceMs = await medianMs(() => {
    const y = analogMvm(layer, x, Rng.fromSeed(5).fold(k++));
    y.dataSync();
    y.dispose();
  });
  const gf = (ms: number) => (flops / ms / 1e6).toFixed(1);
  process.stdout.write(`\nMVM 1024x1024, batch 256, backend ${backend} (median of 7 runs)\n`);
  printTable(
    ['path', 'ms', 'GFLOP/s (of the plain product)', 'ratio to raw'],
    [
      ['raw tf.matMul', rawMs.toFixed(2), gf(rawMs), '1.00'],
      ['signal-level mult noise', signalMs.toFixed(2), gf(signalMs), (rawMs / signalMs).toFixed(2)],
      ['device-level ReRAM, 8-bit DAC/ADC, 16 tiles', deviceMs.toFixed(2), gf(deviceMs), (rawMs / deviceMs).toFixed(2)],
    ],
  );
  process.stdout.write(`targets: signal-level >= 0.6x raw, device-level >= 0.35x raw\n`);

  // The same MVM through the onnxruntime engine (one session, one intra-op thread).
  const b = new GraphBuilder();
  b.input('x', [null, n]);
  b.add('dense', 'mvm', ['x'], { weights: { shape: [n, n], data: w } });
  const graph = b.build(['mvm']);
  const ideal = compile(graph, { chip: IDEAL_CHIP });
  const device = compile(graph, { chip: { device: reram(), tile: '256x256', dac: { bits: 8 }, adc: { bits: 8 } } });
  const programmed = device.program(3, { calibration: xData });
  const exactR = await ideal.runner({ kind: 'exact' });
  const signalR = await ideal.runner({ kind: 'signal', noise: { kind: 'multiplicative', sigma: 0.4 } });
  const deviceR = await device.runner({ kind: 'chip', chip: programmed });
  const ortExactMs = await medianMs(() => exactR.run(xData));
  const ortSignalMs = await medianMs(() => signalR.run(xData, { seed: k++ }));
  const ortDeviceMs = await medianMs(() => deviceR.run(xData, { seed: k++ }));
  const peak = sgemmPeak1();
  const ofPeak = (ms: number) => (peak === null ? 'no peer' : `${((100 * flops) / ms / 1e6 / peak).toFixed(1)} %`);
  process.stdout.write(`\nMVM 1024x1024, batch 256, onnxruntime engine, 1 thread (median of 7 runs); sgemm peak ${peak === null ? 'unknown (set up the peer: bench/README.md)' : `${peak.toFixed(1)} GFLOP/s`}\n`);
  printTable(
    ['path', 'ms', 'GFLOP/s (of the plain product)', 'of sgemm peak', 'vs tfjs same path'],
    [
      ['exact MatMul', ortExactMs.toFixed(2), gf(ortExactMs), ofPeak(ortExactMs), `${(rawMs / ortExactMs).toFixed(2)}x`],
      ['signal-level mult noise (noise drawn in JS)', ortSignalMs.toFixed(2), gf(ortSignalMs), ofPeak(ortSignalMs), `${(signalMs / ortSignalMs).toFixed(2)}x`],
      ['device-level ReRAM, 8-bit DAC/ADC, 16 tiles', ortDeviceMs.toFixed(2), gf(ortDeviceMs), ofPeak(ortDeviceMs), `${(deviceMs / ortDeviceMs).toFixed(2)}x`],
    ],
  );
  process.stdout.write(`target: exact MVM >= 50 % of the sgemm peak\n`);
  await Promise.all([exactR.dispose(), signalR.dispose(), deviceR.dispose()]);
  programmed.dispose();
  ideal.dispose();
  device.dispose();

  const samples = 1 << 22;
  const buf = new Float32Array(samples);
  const gen = Rng.fromSeed(6);
  const oursMs = await medianMs(() => gen.fillNormal(buf));
  const tfMs = await medianMs(() => {
    const t = tf.randomNormal([samples], 0, 1, 'float32', 7);
    t.dataSync();
    t.dispose();
  });
  const rate = (ms: number) => (samples / ms / 1e3).toFixed(1);
  process.stdout.write(`\nNormal samples, ${samples} per call, one core (median of 7 runs)\n`);
  printTable(
    ['generator', 'ms', 'M samples/s', 'ratio'],
    [
      ['ohmic Rng (xoshiro128** + ziggurat)', oursMs.toFixed(2), rate(oursMs), (tfMs / oursMs).toFixed(2)],
      ['tf.randomNormal', tfMs.toFixed(2), rate(tfMs), '1.00'],
    ],
  );
  process.stdout.write(`target: >= 100 M samples/s\n`);
  tf.dispose([x, wt]);
  layer.dispose();
}
