import { initBackend, tf } from '../src/backend';
import { Rng } from '../src/rng';
import { reram, validateChipSpec, programLayer, analogMvm } from '../src/crossbar';
(async () => {
  await initBackend();
  const n = 1024, batch = 256;
  const w = new Float32Array(n * n); Rng.fromSeed(1).fillNormal(w);
  const chip = validateChipSpec({ device: reram(), tile: '256x256', dac: { bits: 8 }, adc: { bits: 8 } });
  const layer = programLayer({ data: w, fanIn: n, fanOut: n }, chip, Rng.fromSeed(3));
  const xd = new Float32Array(batch * n); Rng.fromSeed(2).fillNormal(xd);
  const x = tf.tensor2d(xd, [batch, n]);
  for (let k = 0; k < 30; k++) { const t = performance.now(); analogMvm(layer, x, Rng.fromSeed(k)).dispose(); if (k % 5 == 0) console.log(performance.now() - t); }
})();
