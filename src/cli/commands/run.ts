/**
 * `ohmic run`: inputs through a programmed chip (or the paper's signal-level noise),
 * streamed in batches on the onnxruntime engine, optionally voting over V runs.
 */
import * as fs from 'fs';
import * as os from 'os';
import type { Command } from 'commander';
import { initBackend, backendName } from '../../backend';
import { ConfigError, DataError } from '../../errors';
import { Rng } from '../../rng';
import { compileHardware, hardwareExecution } from '../../compiler/compileHardware';
import { describeHardware } from '../../compiler/hardware';
import type { Graph } from '../../compiler/ir/graph';
import { decodeNpyFloat32 } from '../../compiler/npy';
import { ENGINE_NAMES, type EngineName, type LayerStats, type ModelRunner } from '../../compiler/engine/modelRunner';
import { voteDecision, voteSeeds } from '../../models/voting';
import { hardwareFromFlags, loadModelWithNames } from '../modelArg';
import { parseIntegerOption } from '../options';
import { readInputsFile } from '../inputsFile';
import { CALIBRATION_SAMPLES } from '../../study/calibrationSet';
import { progressBar, showsProgress } from '../progressBar';

/** Inputs of a run: `count` samples of `dims`, batch first. */
export interface RunInputs {
  readonly data: Float32Array;
  readonly count: number;
  readonly dims: readonly number[];
}

function modelInputDims(graph: Graph): (number | null)[] {
  const input = graph.nodes.find((n) => n.name === graph.inputs[0])!;
  return input.outputShape.slice(1);
}

/**
 * Read `--inputs`: a `.npy` float32 array `[N, ...input shape]` (batch first), or
 * JSON `{ "shape": [...], "data": [[...], ...] }` with one flattened input per row.
 */
export function readRunInputs(file: string, graph: Graph): RunInputs {
  const want = modelInputDims(graph);
  if (!file.toLowerCase().endsWith('.npy')) {
    const t = readInputsFile(file, graph);
    const data = t.dataSync() as Float32Array;
    const dims = t.shape.slice(1);
    const count = t.shape[0];
    t.dispose();
    return { data, count, dims };
  }
  if (!fs.existsSync(file)) throw new DataError(file, 'no such file');
  const npy = decodeNpyFloat32(fs.readFileSync(file), file);
  const sample = npy.shape.slice(1);
  if (npy.shape.length !== want.length + 1 || sample.some((d, i) => want[i] !== null && d !== want[i])) {
    throw new ConfigError(`${file}: shape`, `[${npy.shape.join(', ')}]`, `[N, ${want.map((d) => d ?? 'any').join(', ')}] (batch first, the model's input)`);
  }
  if (npy.shape[0] === 0) throw new ConfigError(`${file}: shape`, `[${npy.shape.join(', ')}]`, 'at least one input (N >= 1)');
  const per = sample.reduce((a, b) => a * b, 1);
  for (let i = 0; i < npy.data.length; i++) {
    if (!Number.isFinite(npy.data[i])) {
      throw new ConfigError(`${file}: data[${Math.floor(i / per)}][${i % per}]`, npy.data[i], 'a finite number');
    }
  }
  return { data: npy.data, count: npy.shape[0], dims: sample };
}

/** The first `count` of the inputs as the calibration batch (without `--calibration`). */
function firstInputs(inputs: RunInputs, count: number, per: number): { data: Float32Array; count: number; source: string } {
  return { data: inputs.data.subarray(0, count * per), count, source: `the first ${count} inputs` };
}

/** Per layer, the clipping counts of a run with statistics (what `--stats` prints). */
function clippingTable(stats: LayerStats, samples: number) {
  const layers: Record<string, { dacClipped: number; adcClipped: number; adcConversions: number; adcClippedFraction: number }> = {};
  for (const [node, s] of Object.entries(stats)) {
    layers[node] = { dacClipped: s.dacClipped, adcClipped: s.adcClipped, adcConversions: s.adcConversions, adcClippedFraction: s.adcConversions ? s.adcClipped / s.adcConversions : 0 };
  }
  return { samples, layers };
}

/** Per-sample nested rows of a flat output (`dims` per sample), for JSON. */
function rowsOf(y: Float32Array, count: number, dims: readonly number[]): unknown[] {
  const per = dims.reduce((a, b) => a * b, 1);
  const nest = (flat: Float32Array, d: readonly number[]): unknown => {
    if (d.length <= 1) return Array.from(flat);
    const step = flat.length / d[0];
    return Array.from({ length: d[0] }, (_, k) => nest(flat.subarray(k * step, (k + 1) * step), d.slice(1)));
  };
  return Array.from({ length: count }, (_, i) => nest(y.subarray(i * per, (i + 1) * per), dims));
}

interface RunOpts {
  model: string;
  inputs: string;
  device?: string;
  hardware?: string;
  tile?: string;
  noise?: string;
  noiseSite?: string;
  seed: string;
  batch: string;
  threads?: string;
  votes: string;
  engine: string;
  calibration?: string;
  stats?: boolean;
  json?: boolean;
}


export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run inputs through a programmed chip (device noise) or with the paper\'s signal-level noise after every MVM.')
    .requiredOption('--model <model>', 'zoo:NAME, a .onnx file, or a tfjs model.json')
    .requiredOption('--inputs <file>', 'a .npy float32 array [N, ...input shape], or JSON { "shape": [...], "data": [[...], ...] }')
    .option('--device <device>', 'reram | pcm | nand | ideal, or a chip/device .json/.yaml file (default ideal)')
    .option('--tile <RxC>', 'tile size, e.g. 256x256')
    .option('--hardware <file>', 'a hardware description (.json/.yaml): { kind: chip, chip, layers } | { kind: signal, noise, site } | { kind: exact }, e.g. a study record\'s "hardware"; replaces --device, --tile, --noise')
    .option('--noise <kind:sigma>', 'signal-level noise instead of the device: mult:0.4 or add:0.4')
    .option('--noise-site <site>', 'where --noise goes: mvm (the raw product), bias (after the bias add), norm (after the batch norm); default: the model\'s own noise layers, else mvm')
    .option('--seed <n>', 'seed of the programming draw and of the runs\' dynamic noise', '0')
    .option('--batch <n>', 'inputs per batch (memory stays bounded by it)', '256')
    .option('--threads <n>', 'onnxruntime threads (default: every core)')
    .option('--votes <V>', 'noisy runs per input; the label is the mode of the V runs\' labels', '1')
    .option('--engine <name>', `inference engine: ${ENGINE_NAMES.join(' | ')}`, 'onnxruntime')
    .option('--calibration <file>', `inputs the chip's converter ranges are calibrated on (same formats as --inputs; default: the first ${CALIBRATION_SAMPLES} inputs)`)
    .option('--stats', 'count converter clipping per layer (DAC inputs beyond range, ADC conversions beyond full scale) over the first run')
    .option('--json', 'print JSON { outputs, labels, outputKind, ... }')
    .action(async (opts: RunOpts) => {
      await initBackend();
      const seed = parseIntegerOption('--seed', opts.seed, 0);
      const batchSize = parseIntegerOption('--batch', opts.batch, 1);
      const votes = parseIntegerOption('--votes', opts.votes, 1);
      if (votes > 1000) throw new ConfigError('--votes', votes, 'at most 1000 runs per input');
      const threads = opts.threads === undefined ? Math.max(1, os.availableParallelism?.() ?? os.cpus().length) : parseIntegerOption('--threads', opts.threads, 1);
      if (!(ENGINE_NAMES as readonly string[]).includes(opts.engine)) throw new ConfigError('--engine', opts.engine, `one of ${ENGINE_NAMES.join(', ')}`);
      const engine = opts.engine as EngineName;
      const hardware = hardwareFromFlags(opts);
      const noise = hardware.kind === 'signal' ? hardware.noise : undefined;
      const { graph, sourceNames } = await loadModelWithNames(opts.model);
      const compiled = compileHardware(graph, hardware, sourceNames ? { sourceNames } : {});
      const inputs = readRunInputs(opts.inputs, compiled.graph);
      const per = inputs.dims.reduce((a, b) => a * b, 1);
      const calibration = opts.calibration !== undefined
        ? { ...readRunInputs(opts.calibration, compiled.graph), source: opts.calibration }
        : firstInputs(inputs, Math.min(inputs.count, CALIBRATION_SAMPLES), per);
      if (opts.stats && hardware.kind !== 'chip') throw new ConfigError('--stats', true, 'a chip (--device or a chip --hardware): signal-level and exact runs have no converters');
      const layerStats: LayerStats = {};
      const streams = voteSeeds(Rng.fromSeed(seed), hardware.kind === 'chip' ? 'passes' : 'signal', votes);
      const bar = showsProgress(process.stderr, process.env) && inputs.count * votes >= 2048 ? progressBar(process.stderr) : null;
      const started = Date.now();
      const runs: Float32Array[] = [];
      let runner: ModelRunner | null = null;
      const exec = hardwareExecution(compiled, hardware, hardware.kind === 'chip' ? streams[0].program! : seed, calibration.data);
      try {
        runner = await compiled.runner(exec.execution, { engine, threads });
        for (let v = 0; v < votes; v++) {
          runs.push(
            await runner.runAll(inputs.data, {
              seed: streams[v].run,
              batchSize,
              ...(opts.stats && v === 0 ? { stats: layerStats } : {}),
              onBatch: (done) => {
                const total = inputs.count * votes;
                const now = v * inputs.count + done;
                bar?.update({ done: now, total, computed: now, elapsedMs: Date.now() - started });
              },
            }),
          );
        }
      } finally {
        bar?.end();
        await runner?.dispose();
        exec.release();
      }
      const outDims = runner.outputDims;
      const labels = outDims.length === 1 && outDims[0] > 1 ? Array.from(voteDecision(runs, { batch: inputs.count, classes: outDims[0] })) : undefined;
      const outputKind = compiled.endsInSoftmax ? 'logits (the model ends in softmax; values before it)' : 'outputs';
      compiled.dispose();
      const rows = rowsOf(runs[0], inputs.count, outDims);
      const result = {
        outputs: rows,
        ...(labels ? { labels } : {}),
        outputKind,
        mode: opts.hardware !== undefined ? `${describeHardware(hardware)} (${opts.hardware})` : noise || hardware.kind === 'exact' ? describeHardware(hardware) : `device ${opts.device ?? 'ideal'}`,
        hardware,
        seed,
        votes,
        engine,
        backend: engine === 'tfjs' ? backendName() : 'onnxruntime-node (cpu)',
        ...(hardware.kind === 'chip' ? { calibration: { source: calibration.source, samples: calibration.count } } : {}),
        ...(opts.stats ? { stats: clippingTable(layerStats, inputs.count) } : {}),
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(result) + '\n');
        return;
      }
      process.stdout.write(`${result.mode}, seed ${seed}, ${votes} run(s), ${outputKind}${votes > 1 ? ' of the first run' : ''}\n`);
      rows.forEach((r, i) => {
        const text = Array.isArray(r) && r.every((v) => typeof v === 'number') ? (r as number[]).map((v) => v.toFixed(5)).join(' ') : JSON.stringify(r);
        process.stdout.write(labels ? `${text}  label ${labels[i]}\n` : `${text}\n`);
      });
      if (result.stats) {
        process.stdout.write(`converter clipping over the first run of ${inputs.count} inputs (ranges calibrated on ${calibration.source}):\n`);
        for (const [node, c] of Object.entries(result.stats.layers)) {
          process.stdout.write(`  ${node}: DAC clipped ${c.dacClipped} inputs; ADC clipped ${c.adcClipped} of ${c.adcConversions} conversions (${(100 * c.adcClippedFraction).toFixed(3)} %)\n`);
        }
      }
    });
}
