/**
 * Compile time of DenseNet-100 (k = 12) and the ideal compiled model's inference
 * throughput against running the same tfjs model directly, side by side.
 */
import { initBackend, tf } from '../src/backend';
import { Rng } from '../src/rng';
import { compile, IDEAL_CHIP, fromTfjsLayersModel } from '../src/compiler';
import { buildModel } from '../src/models/paper/buildModel';
import { medianMs, printTable } from './timing';

export async function run(): Promise<void> {
  const backend = await initBackend();
  const model = buildModel('densenet100', { noise: 'multiplicative', sigma: 0, seed: 1 });
  const batch = 32;
  const xData = new Float32Array(batch * 32 * 32 * 3);
  Rng.fromSeed(1).fillUniform(xData);
  const x = tf.tensor4d(xData, [batch, 32, 32, 3]);

  let t0 = process.hrtime.bigint();
  const graph = fromTfjsLayersModel(model);
  const importMs = Number(process.hrtime.bigint() - t0) / 1e6;
  t0 = process.hrtime.bigint();
  const compiled = compile(graph, { chip: { ...IDEAL_CHIP } });
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  t0 = process.hrtime.bigint();
  const chip = compiled.program(1);
  const programMs = Number(process.hrtime.bigint() - t0) / 1e6;

  const tfjsMs = await medianMs(() => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()), 3, 1);
  const chipMs = await medianMs(() => {
    const y = chip.run(x, { seed: 2 });
    y.dataSync();
    y.dispose();
  }, 3, 1);
  const idealMs = await medianMs(() => {
    const y = compiled.runIdeal(x);
    y.dataSync();
    y.dispose();
  }, 3, 1);
  const report = compiled.plan;
  process.stdout.write(`\nDenseNet-100 (k=12), ${report.layers.length} analog layers, ${report.totalTiles} tiles of 256x256; backend ${backend}\n`);
  printTable(
    ['step', 'ms'],
    [
      ['tfjs LayersModel → IR', importMs.toFixed(0)],
      ['compile (fold BN, plan, tile)', compileMs.toFixed(0)],
      ['program (ideal device)', programMs.toFixed(0)],
    ],
  );
  process.stdout.write(`\nInference, batch ${batch} CIFAR-10-sized images (median of 3)\n`);
  printTable(
    ['path', 'ms/batch', 'images/s', 'ratio to tfjs'],
    [
      ['tfjs model.predict', tfjsMs.toFixed(0), (batch / tfjsMs * 1e3).toFixed(1), '1.00'],
      ['compiled ideal chip (program + run)', chipMs.toFixed(0), (batch / chipMs * 1e3).toFixed(1), (tfjsMs / chipMs).toFixed(2)],
      ['compiled, exact reference (runIdeal)', idealMs.toFixed(0), (batch / idealMs * 1e3).toFixed(1), (tfjsMs / idealMs).toFixed(2)],
    ],
  );
  process.stdout.write('target: compiled ideal chip >= 0.8x tfjs\n');
  chip.dispose();
  compiled.dispose();
  tf.dispose(x);
}
