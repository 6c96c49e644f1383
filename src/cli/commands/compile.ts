/** `ohmic compile`: a model on a chip, and its per-layer report (or, with `--layers`, its layer names). */
import type { Command } from 'commander';
import { initBackend } from '../../backend';
import { ConfigError } from '../../errors';
import type { CompiledModel } from '../../compiler/compile';
import { compileHardware } from '../../compiler/compileHardware';
import type { CompileReport } from '../../compiler/report';
import { formatQuantity } from '../../units';
import { COMPONENTS } from '../../crossbar/peripherals';
import { calibrationInputs, CALIBRATION_HELP, CALIBRATION_LIMIT_HELP } from '../calibration';
import { hardwareFromFlags, loadModelWithNames } from '../modelArg';
import { parseIntegerOption } from '../options';
import { printGraph } from '../../compiler/ir/print';
import { formatTable } from '../table';

/** At most this many warnings are printed one per line; the rest are counted (all are in --json). */
const MAX_PRINTED_WARNINGS = 8;

function formatWarnings(warnings: CompileReport['warnings']): string {
  const shown = warnings.slice(0, MAX_PRINTED_WARNINGS).map((w) => `warning: ${w.message}\n`).join('');
  const more = warnings.length - MAX_PRINTED_WARNINGS;
  return shown + (more > 0 ? `warning: ${more} more tiles over their bit-line current limit (see --json)\n` : '');
}

export function formatReport(r: CompileReport): string {
  const pj = (v: number | null) => (v === null ? '–' : formatQuantity(v, 'pJ'));
  const rows = r.layers.map((l) => [
    l.name,
    l.op,
    l.device,
    `${l.matrixShape[0]}x${l.matrixShape[1]}${l.groups > 1 ? ` ×${l.groups}` : ''}`,
    String(l.mvmsPerInference),
    String(l.tiles),
    `${(l.utilization * 100).toFixed(1)} %`,
    formatQuantity(l.stageTimeNs, 'ns'),
    pj(l.measuredEnergyPerInferencePicojoules),
    pj(l.boundEnergyPerInferencePicojoules),
    l.effectiveSigma.toFixed(4),
    l.noise.staticSigma.toFixed(4),
    l.noise.dynamicSigma.toFixed(4),
    `${(l.noise.columnShare * 100).toFixed(0)} %`,
    Number.isFinite(l.snrDb) ? l.snrDb.toFixed(2) : 'inf',
  ]);
  const t = r.totals;
  rows.push([
    'total', '', '', '', '', String(t.tiles), `${(t.utilization * 100).toFixed(1)} %`,
    formatQuantity(t.latencyNs, 'ns'), pj(t.measuredEnergyPerInferencePicojoules), pj(t.boundEnergyPerInferencePicojoules),
    t.effectiveSigma.toFixed(4), t.staticSigma.toFixed(4), t.dynamicSigma.toFixed(4), `${(t.equivalence.columnShare * 100).toFixed(0)} %`,
    Number.isFinite(t.snrDb) ? t.snrDb.toFixed(2) : 'inf',
  ]);
  const parts = COMPONENTS.map((k) => [
    k,
    t.measuredEnergyBreakdownPicojoules ? formatQuantity(t.measuredEnergyBreakdownPicojoules[k], 'pJ') : '–',
    formatQuantity(t.energyBreakdownPicojoules[k], 'pJ'),
    formatQuantity(t.areaBreakdownSquareMicrometers[k] * 1e-12, 'm^2'),
  ]);
  const calib = r.calibration.source === 'data'
    ? `effective σ and measured energy on ${r.calibration.samples} calibration inputs (σ: up to ${r.calibration.maxRowsPerMatrix} MVM rows per matrix)`
    : `NO calibration data: effective σ on ${r.calibration.samples} uniform random vectors per matrix (fallback; real activations give 1.1–4× higher σ), no measured energy (pass --calibration)`;
  return (
    formatTable(['layer', 'op', 'device', 'matrix', 'MVMs/inf', 'tiles', 'util', 'stage time', 'energy/inf', 'bound/inf', 'σ_eff', 'σ_static', 'σ_dynamic', 'sense+conv', 'SNR dB'], rows) +
    `cells ${t.cells}, area ${formatQuantity(t.areaSquareMicrometers * 1e-12, 'm^2')}, slowest stage ${formatQuantity(t.maxStageTimeNs, 'ns')}, ` +
    `batch norms folded ${t.foldedBatchNorms}${t.replicas > 1 ? `, ${t.replicas} copies (tiles, cells and area count all)` : ''}\n` +
    `${calib}\n\n` +
    formatTable(['component', 'energy/inf (measured)', 'energy/inf (bound)', 'area'], parts) +
    'bound: every input at full scale, every cell pair at its largest target; sources of every number: src/crossbar/presets.ts and peripherals.ts (PRESET_SOURCES, PERIPHERAL_SOURCES)\n' +
    `signal-level equivalence: ${t.equivalence.verdict} — ${t.equivalence.reason}\n` +
    (r.notes ?? []).map((n) => `note: ${n}\n`).join('') +
    formatWarnings(r.warnings ?? [])
  );
}

/** The analog layers and every name per-layer overrides accept for each (`ohmic compile --layers`). */
export function formatLayerNames(compiled: CompiledModel): string {
  const shapes = new Map(compiled.plan.layers.map((l) => [l.node, l.matrices]));
  const rows = compiled.layerNames.map((l) => {
    const m = shapes.get(l.name) ?? [];
    const shape = m.length === 0 ? '' : `${m[0].fanIn}x${m[0].fanOut}${m.length > 1 ? ` ×${m.length}` : ''}`;
    return [l.name, l.op, shape, l.names.slice(1).join(', ') || '–'];
  });
  return (
    formatTable(['layer', 'op', 'matrix', 'also accepted as'], rows) +
    'Per-layer overrides (a hardware file\'s "layers", a study axis "layers.NAME.FIELD") accept any of these names.\n'
  );
}

interface CompileFlags {
  model: string;
  device?: string;
  hardware?: string;
  tile?: string;
  replicas: string;
  seed: string;
  json?: boolean;
  layers?: boolean;
  printGraph?: string | true;
  calibration?: string;
  calibrationLimit: string;
}

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('Map a model onto crossbar tiles and print per-layer tiles, utilisation, stage time, energy and effective noise.')
    .requiredOption('--model <model>', 'zoo:NAME, a .onnx file, or a tfjs model.json')
    .option('--device <device>', 'reram | pcm | nand | ideal, or a chip/device .json/.yaml file')
    .option('--hardware <file>', 'a chip hardware description (.json/.yaml): { kind: chip, chip, layers } (per-layer overrides by layer name); replaces --device and --tile')
    .option('--tile <RxC>', 'tile size in weights, rows (inputs) x cols (outputs), e.g. 256x256')
    .option('--layers', 'list the analog layers and the names per-layer overrides accept (source and lowered names)')
    .option('--print-graph [stage]', "print the graph after a compiler pass instead of the report: the lowered, placed chip graph (default, 'place'), or 'input', 'stripFinalSoftmax', 'foldBatchNorm', 'lowerToMvm'")
    .option('--replicas <V>', 'copies of the network on the chip, for parallel voting (V× tiles and area)', '1')
    .option('--seed <n>', 'seed of the programming draw used to measure effective noise', '0')
    .option('--calibration <inputs>', `${CALIBRATION_HELP}; without it σ falls back to uniform random vectors and only the energy bound is given`)
    .option('--calibration-limit <N>', CALIBRATION_LIMIT_HELP, '256')
    .option('--json', 'print JSON with "layers" and "totals"')
    .action(async (opts: CompileFlags) => {
      if (opts.device === undefined && opts.hardware === undefined && !opts.layers) {
        throw new ConfigError('--device', undefined, 'a preset (reram, pcm, nand, ideal) or a chip file, or --hardware FILE');
      }
      const hardware = hardwareFromFlags({ device: opts.device, hardware: opts.hardware, tile: opts.tile });
      if (hardware.kind !== 'chip' && !(hardware.kind === 'signal' && hardware.chip)) {
        throw new ConfigError('--hardware', opts.hardware, `a chip to map the model onto (${opts.hardware} describes ${hardware.kind === 'exact' ? 'the exact reference' : 'signal-level noise without a chip'})`);
      }
      await initBackend();
      const { graph, sourceNames } = await loadModelWithNames(opts.model);
      const compiled = compileHardware(graph, hardware, { replicas: parseIntegerOption('--replicas', opts.replicas, 1), ...(sourceNames ? { sourceNames } : {}) });
      if (opts.printGraph !== undefined) {
        const trace = compiled.passTrace();
        const stage = opts.printGraph === true ? 'place' : opts.printGraph;
        const at = trace.find((t) => t.pass === stage);
        compiled.dispose();
        if (!at) throw new ConfigError('--print-graph', stage, `one of ${trace.map((t) => t.pass).join(', ')}`);
        process.stdout.write(`# after pass '${stage}' (passes: ${trace.map((t) => t.pass).join(' → ')})\n${printGraph(at.graph)}\n`);
        return;
      }
      if (opts.layers) {
        const text = opts.json ? JSON.stringify({ layers: compiled.layerNames }, null, 2) + '\n' : formatLayerNames(compiled);
        compiled.dispose();
        process.stdout.write(text);
        return;
      }
      const calibration = calibrationInputs(opts.calibration, opts.calibrationLimit, graph);
      const report = compiled.report({ seed: parseIntegerOption('--seed', opts.seed, 0), ...(calibration ? { calibration } : {}) });
      compiled.dispose();
      process.stdout.write(opts.json ? JSON.stringify(report, (_k, v) => (v === Infinity ? 'Infinity' : v), 2) + '\n' : formatReport(report));
    });
}
