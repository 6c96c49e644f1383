/**
 * What calibrating a chip's converter ranges on data costs next to programming it:
 * the zoo CNN-6 on ReRAM, programmed with the data-free worst-case bound and with
 * ranges calibrated on 64 and 256 MNIST digits (median of 3 runs each).
 */
import { initBackend } from '../src/backend';
import { compile } from '../src/compiler';
import { loadZooModel } from '../src/models/zoo';
import { loadMnist, embeddedMnistDir } from '../src/data';
import { medianMs, printTable } from './timing';

export async function run(): Promise<void> {
  await initBackend();
  const digits = loadMnist(embeddedMnistDir(), 'test', { limit: 256 });
  const graph = await loadZooModel('cnn6-mnist-mult-0');
  const calibrated = compile(graph, { chip: { device: 'reram' } });
  const worstCase = compile(graph, { chip: { device: 'reram', calibration: 'worstCase' } });
  const time = (program: () => { dispose(): void }) => medianMs(() => program().dispose(), 3, 1);
  const programMs = await time(() => worstCase.program(1));
  const rows: Array<Array<string | number>> = [['worst-case bound (no data)', programMs.toFixed(0), '1.00']];
  for (const n of [64, 256]) {
    const ms = await time(() => calibrated.program(1, { calibration: digits.images.subarray(0, n * 784) }));
    rows.push([`calibrated on ${n} digits`, ms.toFixed(0), (ms / programMs).toFixed(2)]);
  }
  process.stdout.write('CNN-6 on ReRAM 256×256: programming one chip (tfjs engine calibration pass)\n');
  printTable(['ranges', 'ms per chip', 'vs worst case'], rows);
  calibrated.dispose();
  worstCase.dispose();
}
