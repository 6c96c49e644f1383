/** `ohmic demo`: the crossbar core on the embedded MNIST digits (what `npm start` runs). */
import type { Command } from 'commander';
import { initBackend } from '../../backend';
import { embeddedMnistDir } from '../../data';
import { runCrossbarDemo } from '../../study/crossbarDemo';
import { formatQuantity } from '../../units';
import { parseIntegerOption, parseListOption } from '../options';
import { formatTable } from '../table';
import { ConfigError } from '../../errors';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Train a small MLP on half of the embedded MNIST test digits, program it onto ReRAM, PCM and NAND ' +
        'crossbars and the paper\'s signal-level noise, and print accuracy, latency and energy per inference.',
    )
    .option('--seed <n>', 'root seed for training, programming and every noisy run', '0')
    .option('--train <n>', 'digits used for training (from the start of t10k)', '5000')
    .option('--test <n>', 'digits used for evaluation (after the training digits)', '5000')
    .option('--epochs <n>', 'training epochs', '5')
    .option('--devices <list>', 'comma-separated device presets', 'ideal,reram,pcm,nand')
    .option('--sigmas <list>', 'signal-level multiplicative σ values', '0,0.2,0.4,0.6,0.8,1')
    .option('--data <dir>', 'folder with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (default: embedded)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const backend = await initBackend();
      const train = parseIntegerOption('--train', opts.train, 1);
      const test = parseIntegerOption('--test', opts.test, 1);
      const result = await runCrossbarDemo({
        mnistDir: typeof opts.data === 'string' ? opts.data : embeddedMnistDir(),
        seed: parseIntegerOption('--seed', opts.seed, 0),
        trainCount: train,
        testCount: test,
        epochs: parseIntegerOption('--epochs', opts.epochs, 1),
        devices: parseListOption('--devices', opts.devices),
        sigmas: parseListOption('--sigmas', opts.sigmas).map((s) => {
          const v = Number(s);
          if (!Number.isFinite(v) || v < 0) throw new ConfigError('--sigmas', s, 'numbers >= 0');
          return v;
        }),
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        return;
      }
      const out = process.stdout;
      out.write(`ohmic demo: 784-128-10 MLP trained on ${train} embedded MNIST digits, evaluated on ${test} (backend ${backend})\n`);
      out.write(`digital (float32) accuracy: ${(result.digitalAccuracy * 100).toFixed(2)} %\n\n`);
      const rows = result.rows.map((r) => [
        r.setting,
        `${(r.accuracy * 100).toFixed(2)} %`,
        r.effectiveSigma === null ? '' : r.effectiveSigma.toFixed(3),
        r.latencyNs === null ? '' : formatQuantity(r.latencyNs, 'ns'),
        r.energyPicojoules === null ? '' : formatQuantity(r.energyPicojoules, 'pJ'),
        r.tiles === null ? '' : String(r.tiles),
      ]);
      const headers = ['setting', 'accuracy', 'σ_eff (layer 1)', 'latency', 'energy/inference', 'tiles'];
      out.write(formatTable(headers, rows));
      out.write('\nσ_eff: measured std of the first layer\'s output error relative to its rms output, one draw.\n');
    });
}
