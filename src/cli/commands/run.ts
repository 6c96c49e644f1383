/** `ohmic run`: a batch of inputs through a programmed chip (or the paper's signal-level noise). */
import type { Command } from 'commander';
import { initBackend, backendName, tf } from '../../backend';
import { ConfigError } from '../../errors';
import { compile } from '../../compiler/compile';
import { validateSignalNoise } from '../../crossbar/noise/signalNoise';
import type { Graph } from '../../compiler/ir/graph';
import { chipFromDeviceArg, loadModelArg } from '../modelArg';
import { parseIntegerOption } from '../options';
import { readJsonFile } from '../jsonFile';

/**
 * Read `{ "shape": [...], "data": [[...], ...] }`: one flattened input per row;
 * `shape` is one input's shape (with or without a leading batch dimension).
 */
export function readInputsFile(file: string, graph: Graph): tf.Tensor {
  const raw = readJsonFile(file, 'inputs');
  const { shape, data } = (raw ?? {}) as { shape?: unknown; data?: unknown };
  const input = graph.nodes.find((n) => n.name === graph.inputs[0])!;
  const want = input.outputShape.slice(1);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ConfigError(`${file}: shape`, shape, `an array of positive integers, e.g. [${want.join(', ')}]`);
  }
  if (!Array.isArray(data) || data.length === 0) throw new ConfigError(`${file}: data`, data, 'a non-empty array of rows');
  const sample = shape.length === want.length + 1 && shape[0] === data.length ? shape.slice(1) : shape;
  if (sample.length !== want.length || sample.some((d, i) => want[i] !== null && d !== want[i])) {
    throw new ConfigError(`${file}: shape`, shape, `one input of shape [${want.join(', ')}] (the model's input '${input.name}')`);
  }
  const size = sample.reduce((a: number, b: number) => a * b, 1);
  const flat = new Float32Array(data.length * size);
  data.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== size) {
      throw new ConfigError(`${file}: data[${i}]`, Array.isArray(row) ? `${row.length} values` : row, `${size} numbers (product of shape)`);
    }
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${file}: data[${i}][${j}]`, v, 'a finite number');
      flat[i * size + j] = v;
    });
  });
  return tf.tensor(flat, [data.length, ...sample]);
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run inputs through a programmed chip (device noise) or with the paper\'s signal-level noise after every MVM.')
    .requiredOption('--model <model>', 'zoo:NAME, a .onnx file, or a tfjs model.json')
    .requiredOption('--inputs <file.json>', '{ "shape": [...], "data": [[...], ...] }, one flattened input per row')
    .option('--device <device>', 'reram | pcm | nand | ideal, or a chip/device .json file', 'ideal')
    .option('--tile <RxC>', 'tile size, e.g. 256x256')
    .option('--noise <kind:sigma>', 'signal-level noise instead of the device: mult:0.4 or add:0.4')
    .option('--seed <n>', 'seed of the programming draw and of the run\'s dynamic noise', '0')
    .option('--json', 'print JSON { outputs, outputKind, ... }')
    .action(async (opts: { model: string; inputs: string; device: string; tile?: string; noise?: string; seed: string; json?: boolean }) => {
      await initBackend();
      const seed = parseIntegerOption('--seed', opts.seed, 0);
      const noise = opts.noise === undefined ? undefined : validateSignalNoise(opts.noise, '--noise');
      const graph = await loadModelArg(opts.model);
      const compiled = compile(graph, { chip: chipFromDeviceArg(opts.device, opts.tile) });
      const x = readInputsFile(opts.inputs, compiled.graph);
      let y: tf.Tensor;
      if (noise) {
        y = compiled.runSignal(x, noise, { seed });
      } else {
        const chip = compiled.program(seed);
        y = chip.run(x, { seed });
        chip.dispose();
      }
      const rows = (await y.array()) as number[][];
      const outputKind = compiled.endsInSoftmax ? 'logits (the model ends in softmax; values before it)' : 'outputs';
      tf.dispose([x, y]);
      compiled.dispose();
      const result = {
        outputs: rows,
        outputKind,
        mode: noise ? `signal-level ${noise.kind} σ=${noise.sigma}` : `device ${opts.device}`,
        seed,
        backend: backendName(),
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(result) + '\n');
        return;
      }
      process.stdout.write(`${result.mode}, seed ${seed}, ${outputKind}\n`);
      for (const r of rows) process.stdout.write(r.map((v) => (Array.isArray(v) ? JSON.stringify(v) : v.toFixed(5))).join(' ') + '\n');
    });
}
