/** `ohmic compile`: a model on a chip, and its per-layer report. */
import type { Command } from 'commander';
import { initBackend } from '../../backend';
import { compile } from '../../compiler/compile';
import type { CompileReport } from '../../compiler/report';
import { formatQuantity } from '../../units';
import { chipFromDeviceArg, loadModelArg } from '../modelArg';
import { parseIntegerOption } from '../options';
import { formatTable } from '../table';

export function formatReport(r: CompileReport): string {
  const rows = r.layers.map((l) => [
    l.name,
    l.op,
    l.device,
    `${l.matrixShape[0]}x${l.matrixShape[1]}${l.groups > 1 ? ` ×${l.groups}` : ''}`,
    String(l.mvmsPerInference),
    String(l.tiles),
    `${(l.utilization * 100).toFixed(1)} %`,
    formatQuantity(l.stageTimeNs, 'ns'),
    formatQuantity(l.energyPerInferencePicojoules, 'pJ'),
    l.effectiveSigma.toFixed(4),
    Number.isFinite(l.snrDb) ? l.snrDb.toFixed(2) : 'inf',
  ]);
  const t = r.totals;
  rows.push([
    'total', '', '', '', '', String(t.tiles), `${(t.utilization * 100).toFixed(1)} %`,
    formatQuantity(t.latencyNs, 'ns'), formatQuantity(t.energyPerInferencePicojoules, 'pJ'), '', '',
  ]);
  return (
    formatTable(['layer', 'op', 'device', 'matrix', 'MVMs/inf', 'tiles', 'util', 'stage time', 'energy/inf', 'σ_eff', 'SNR dB'], rows) +
    `cells ${t.cells}, area ${formatQuantity(t.areaSquareMicrometers * 1e-12, 'm^2')}, slowest stage ${formatQuantity(t.maxStageTimeNs, 'ns')}, ` +
    `batch norms folded ${t.foldedBatchNorms}${t.replicas > 1 ? `, ${t.replicas} copies (tiles, cells and area count all)` : ''}\n`
  );
}

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('Map a model onto crossbar tiles and print per-layer tiles, utilisation, stage time, energy and effective noise.')
    .requiredOption('--model <model>', 'zoo:NAME, a .onnx file, or a tfjs model.json')
    .requiredOption('--device <device>', 'reram | pcm | nand | ideal, or a chip/device .json file')
    .option('--tile <RxC>', 'tile size in weights, rows (inputs) x cols (outputs), e.g. 256x256')
    .option('--replicas <V>', 'copies of the network on the chip, for parallel voting (V× tiles and area)', '1')
    .option('--seed <n>', 'seed of the programming draw used to measure effective noise', '0')
    .option('--json', 'print JSON with "layers" and "totals"')
    .action(async (opts: { model: string; device: string; tile?: string; replicas: string; seed: string; json?: boolean }) => {
      await initBackend();
      const graph = await loadModelArg(opts.model);
      const compiled = compile(graph, {
        chip: chipFromDeviceArg(opts.device, opts.tile),
        replicas: parseIntegerOption('--replicas', opts.replicas, 1),
      });
      const report = compiled.report({ seed: parseIntegerOption('--seed', opts.seed, 0) });
      compiled.dispose();
      process.stdout.write(opts.json ? JSON.stringify(report, (_k, v) => (v === Infinity ? 'Infinity' : v), 2) + '\n' : formatReport(report));
    });
}
