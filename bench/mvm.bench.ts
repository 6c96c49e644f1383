/**
 * MVM throughput on 1024×1024 weights, batch 256, side by side: raw tf.matMul, the
 * paper's signal-level noisy MVM, and the device-level tiled MVM (ReRAM preset with
 * programming + read + sensing noise, 8-bit DAC and ADC, 256×256 tiles); and normal
 * samples/s of the project's generator against tf.randomNormal.
 */
import { initBackend, tf } from '../src/backend';
import { Rng } from '../src/rng';
import { reram, validateChipSpec, programLayer, analogMvm, signalMvm } from '../src/crossbar';
import { medianMs, printTable } from './timing';

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
  const layer = programLayer({ data: w, fanIn: n, fanOut: n }, chip, Rng.fromSeed(3));
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
