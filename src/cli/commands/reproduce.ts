/**
 * `ohmic reproduce`: the paper's tables recomputed from the zoo, side by side with
 * the published numbers, in the terminal and in `docs/reproduction.md`.
 *
 *   ohmic reproduce --all --limit 1000
 *   ohmic reproduce --table 2,7 --quick
 *   ohmic reproduce --all --shard 0/2 &  ohmic reproduce --all --shard 1/2   # then once more without --shard
 *
 * Table 11 (black-box transfer) is not a cell table: it reads the results of three
 * `ohmic attack` runs (--attack-dir, --white-box-dir, --natural-target-dir) and runs
 * the missing ones first, through the same command (src/study/reproduce/table11.ts).
 */
import { NOISE_GENERATOR } from '../../rng';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Command } from 'commander';
import { ConfigError } from '../../errors';
import { defaultDataDir, packageRoot } from '../../data';
import { readZooManifest } from '../../models/zoo';
import { renderSvg } from '../../study/renderSvg';
import { writeFileAtomic } from '../../study/resultsFile';
import {
  FULL_DEFAULTS,
  QUICK_DEFAULTS,
  REPRO_SECTIONS,
  familiesFor,
  familyModels,
  sweepModels,
  validateReproduceOptions,
  type ReproSection,
  type ReproduceOptions,
} from '../../study/reproduce/plan';
import { runReproduction } from '../../study/reproduce/run';
import { reportTextTables, reproPlots, reproductionMarkdown, type TextTable } from '../../study/reproduce/document';
import { trainingSweepChains, type SweepTraining } from '../../study/reproduce/trainingSweep';
import { readTransferFile, table11Commands, TABLE11_SOURCE, TABLE11_TARGET, type Table11Dirs } from '../../study/reproduce/table11';
import { archiveCells, archiveTransfers } from '../../study/reproduce/archive';
import { formatTable } from '../table';
import { decimalNumber, parseIntegerOption, parseListOption } from '../options';

interface ReproduceFlags {
  table?: string;
  all?: boolean;
  limit?: string;
  quick?: boolean;
  data?: string;
  out: string;
  doc?: string;
  runs?: string;
  votes?: string;
  cifarLimit?: string;
  deviceLimit?: string;
  devices?: string;
  chips?: string;
  seed: string;
  shard?: string;
  workers: string;
  trainingSweep?: boolean;
  zoo?: string;
  sigmas?: string;
  sweepEpochs: string;
  sweepSigmas: string;
  sweepRuns?: string;
  reportOnly?: boolean;
  attackDir: string;
  whiteBoxDir: string;
  naturalTargetDir: string;
}

function parseShard(raw: string | undefined): { index: number; count: number } | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(raw.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count)) throw new ConfigError('--shard', raw, 'i/n with 0 <= i < n, e.g. 0/2');
  return { index, count };
}

function parseSections(flags: ReproduceFlags): ReproSection[] {
  if (flags.all && flags.table !== undefined) throw new ConfigError('--table', flags.table, 'either --table or --all, not both');
  if (flags.table === undefined) return [...REPRO_SECTIONS];
  const out: ReproSection[] = [];
  for (const t of parseListOption('--table', flags.table)) {
    const s = t.replace(/^table/i, '').replace(/^figure/i, 'fig');
    if (!(REPRO_SECTIONS as readonly string[]).includes(s)) throw new ConfigError('--table', t, `tables/sections among ${REPRO_SECTIONS.join(', ')}`);
    out.push(s as ReproSection);
  }
  return out;
}

function numberList(flag: string, raw: string): number[] {
  return parseListOption(flag, raw).map((t) => {
    const v = decimalNumber(t);
    if (v === undefined || v < 0) throw new ConfigError(flag, t, 'non-negative numbers');
    return v;
  });
}

function printTable(t: TextTable): void {
  const out = process.stdout;
  out.write(`\n${t.title}\n`);
  for (const n of t.notes) out.write(`  ${n}\n`);
  out.write(formatTable(t.headers, t.rows));
}

/** Runs `ohmic ARGS` as a child process (the same code as the command typed by hand); rejects on a non-zero exit. */
function runOhmic(flag: string, args: readonly string[]): Promise<void> {
  const bin = path.join(packageRoot(), 'bin', 'ohmic.js');
  return new Promise<void>((resolve, reject) => {
    process.stderr.write(`ohmic reproduce: running ohmic ${args.join(' ')}\n`);
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new ConfigError(flag, args.join(' '), `a run that succeeds (exit code ${code})`))));
  });
}

/** Runs the chains side by side (one process per σ_train: tfjs trains on one core), each in epoch order. */
async function runSweepTraining(chains: SweepTraining[][]): Promise<void> {
  const bin = path.join(packageRoot(), 'bin', 'ohmic.js');
  const runOne = (t: SweepTraining) =>
    new Promise<void>((resolve, reject) => {
      process.stderr.write(`ohmic reproduce: training ${path.basename(t.out)} (ohmic ${t.args.join(' ')})\n`);
      const child = spawn(process.execPath, [bin, ...t.args], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new ConfigError('--training-sweep', t.args.join(' '), `a training run that succeeds (exit code ${code})`))));
    });
  await Promise.all(
    chains.map(async (chain) => {
      for (const t of chain) if (!t.done) await runOne(t);
    }),
  );
}

export function registerReproduce(program: Command): void {
  program
    .command('reproduce')
    .description(
      "recompute the paper's Tables 2–9 and 11 and Figures 2 and 11 from the zoo, with device-preset columns, vote schedules and a " +
        'training-budget sweep; prints paper vs ohmic side by side and writes docs/reproduction.md (resumable, shardable)',
    )
    .option('--table <list>', `tables or sections, comma-separated: ${REPRO_SECTIONS.join(', ')} (default: all)`)
    .option('--all', 'every table and section (the default)')
    .option('--limit <n>', 'MNIST test digits and stroke sequences per cell (default: all 10,000)')
    .option('--quick', 'a small run for shapes: 200 samples, 40 CIFAR images, 5 chips per device cell')
    .option('--data <dir>', 'datasets folder (default ../shared/datasets)')
    .option('--out <dir>', 'results folder (one JSON file per cell; a rerun resumes)', path.join('results', 'reproduce'))
    .option('--doc <file>', 'the document to write (default docs/reproduction.md; its SVG plots go to <doc name>/ beside it)')
    .option('--runs <r>', `independent noisy runs per cell (default ${FULL_DEFAULTS.runs})`)
    .option('--votes <v>', `votes of the voting tables, at most --runs (default ${FULL_DEFAULTS.votes})`)
    .option('--cifar-limit <n>', 'held-out CIFAR-10 images per DenseNet cell (default: all 500; --quick 40)')
    .option('--device-limit <n>', `samples per device cell (default ${FULL_DEFAULTS.deviceLimit}, or --limit if smaller)`)
    .option('--devices <list>', `device presets for the device columns and schedules (default ${FULL_DEFAULTS.devices.join(',')})`)
    .option('--chips <n>', `programmed chips per device cell (default ${FULL_DEFAULTS.chips}; --quick ${QUICK_DEFAULTS.chips})`)
    .option('--sigmas <list>', 'inference σ of the tables (default 0,0.2,0.4,0.6,0.8,1; must include 0)')
    .option('--zoo <dir>', 'zoo folder with the models and manifest.json (default: the repository\'s zoo/)')
    .option('--seed <n>', 'root seed of every noisy run', '0')
    .option('--shard <i/n>', 'compute only shard i of n of the missing cells (shards share --out; run once more without --shard to write the document)')
    .option('--workers <n>', 'onnxruntime worker threads per signal-level cell', '1')
    .option('--report-only', 'compute nothing: print and write the document from the results already in --out')
    .option('--training-sweep', 'first train the training-budget sweep models that are missing (ohmic train, one process per σ_train)')
    .option('--sweep-epochs <list>', 'epoch counts of the training-budget sweep', '1,2,4')
    .option('--sweep-sigmas <list>', 'σ_train of the training-budget sweep', '0,0.6')
    .option('--sweep-runs <r>', `noisy runs per cell of the sweep's models (default ${FULL_DEFAULTS.sweepRuns})`)
    .option('--attack-dir <dir>', 'Table 11: the `ohmic attack` transfer results (transfer.json; run when missing, on --limit images)', path.join('results', 'attack-table11'))
    .option('--white-box-dir <dir>', 'Table 11: the white-box gradient-masking check of the target (run when missing, on 200 images)', path.join('results', 'attack-whitebox'))
    .option('--natural-target-dir <dir>', 'Table 11: the same examples on the noiselessly trained CNN-6 (run when missing)', path.join('results', 'attack-table11-natural-target'))
    .action(async (flags: ReproduceFlags) => {
      const sections = parseSections(flags);
      const base = flags.quick ? QUICK_DEFAULTS : FULL_DEFAULTS;
      const intOr = (flag: string, raw: string | undefined, dflt: number | null) => (raw === undefined ? dflt : parseIntegerOption(flag, raw, 1));
      const limit = intOr('--limit', flags.limit, base.limit);
      const runs = intOr('--runs', flags.runs, base.runs)!;
      const deviceLimit = intOr('--device-limit', flags.deviceLimit, limit === null ? base.deviceLimit : Math.min(limit, base.deviceLimit ?? limit));
      const outDir = path.resolve(flags.out);
      const dataDir = defaultDataDir(flags.data);
      const sweepDir = path.join(outDir, 'training-sweep');
      const options = validateReproduceOptions({
        ...base,
        sections,
        limit,
        cifarLimit: intOr('--cifar-limit', flags.cifarLimit, base.cifarLimit),
        deviceLimit,
        runs,
        votes: intOr('--votes', flags.votes, Math.min(base.votes, runs))!,
        devices: flags.devices === undefined ? base.devices : parseListOption('--devices', flags.devices),
        chips: intOr('--chips', flags.chips, base.chips)!,
        passChips: Math.min(base.passChips, intOr('--chips', flags.chips, base.chips)!),
        rootSeed: parseIntegerOption('--seed', flags.seed, 0),
        sweepDir,
        sweepRuns: intOr('--sweep-runs', flags.sweepRuns, base.sweepRuns)!,
        ...(flags.sigmas === undefined ? {} : { sigmas: numberList('--sigmas', flags.sigmas) }),
        ...(flags.zoo === undefined ? {} : { zooDir: path.resolve(flags.zoo) }),
        table11: { attackDir: flags.attackDir, whiteBoxDir: flags.whiteBoxDir, naturalTargetDir: flags.naturalTargetDir } satisfies Table11Dirs,
      } satisfies ReproduceOptions);
      const shard = parseShard(flags.shard);
      const workers = parseIntegerOption('--workers', flags.workers, 1);
      const t11 = options.table11!;
      const t11Commands = table11Commands(t11, { limit: options.limit ?? 10000, seed: options.rootSeed, devices: options.devices });

      if (sections.includes('11') && !flags.reportOnly && !shard) {
        // The attacks are `ohmic attack` runs: their results are read, never recomputed, once they exist.
        if (readTransferFile(t11.attackDir) === null) await runOhmic('--table 11', t11Commands.transfer);
        if (t11Commands.whiteBox && readTransferFile(t11.whiteBoxDir) === null) await runOhmic('--table 11', t11Commands.whiteBox);
        if (t11Commands.naturalTarget && readTransferFile(t11.naturalTargetDir) === null) await runOhmic('--table 11', t11Commands.naturalTarget);
      }

      if (flags.trainingSweep) {
        const chains = trainingSweepChains({
          sweepDir,
          sigmaTrains: numberList('--sweep-sigmas', flags.sweepSigmas),
          epochs: numberList('--sweep-epochs', flags.sweepEpochs).map((e) => parseIntegerOption('--sweep-epochs', String(e), 1)),
          mnistDir: fs.existsSync(path.join(dataDir, 'mnist')) ? path.join(dataDir, 'mnist') : dataDir,
          seed: options.rootSeed,
        });
        await runSweepTraining(chains);
      }

      const tty = process.stderr.isTTY === true;
      let stop = false;
      const onSignal = () => {
        stop = true;
        process.stderr.write('\nohmic reproduce: stopping after the cell in progress (rerun the same command to resume)\n');
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const run = await runReproduction(options, {
        outDir,
        dataDir,
        shard,
        workers,
        compute: !flags.reportOnly,
        shouldStop: () => stop,
        onProgress: (p) => {
          const s = p.cell.spec;
          const what =
            s.kind === 'signal'
              ? `${s.model.replace(/^.*\//, '')} ${s.noise} σ=${s.sigma}`
              : s.kind === 'device'
                ? `${s.model.replace(/^.*\//, '')} on ${s.device}`
                : `${s.kind} ${s.model.replace(/^.*\//, '')}${'device' in s ? ` ${s.device}` : ''}${'placement' in s ? ` ${s.placement} σ=${s.sigma}` : ''}`;
          const line = p.finished
            ? `[${p.done}/${p.total}] ${what} done  ${(p.elapsedMs / 1000).toFixed(0)} s`
            : `[${p.done}/${p.total}] ${what} run ${p.runsDone}/${p.runsTotal}  ${(p.elapsedMs / 1000).toFixed(0)} s`;
          if (tty) process.stderr.write(`\r${line}\x1b[K`);
          else if (p.finished) process.stderr.write(line + '\n');
        },
      });
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      if (tty) process.stderr.write('\n');

      // The command that computes these results: --report-only (and where the document goes) only change how it is written.
      const argv = process.argv.slice(process.argv.indexOf('reproduce') + 1);
      const kept = argv.filter((a, i) => a !== '--report-only' && a !== '--doc' && argv[i - 1] !== '--doc');
      const command = `ohmic reproduce ${kept.join(' ')}`.trim();
      for (const t of reportTextTables(run.report)) printTable(t);
      process.stdout.write(
        `\n${run.computed} cells computed in ${(run.seconds / 60).toFixed(1)} min; ${run.planned - run.missing} of ${run.planned} planned cells have results in ${outDir}/cells` +
          (run.missing ? ` (${run.missing} missing: ${shard ? 'other shards\' or ' : ''}rerun to continue)` : '') +
          '\n',
      );
      if (shard && flags.doc === undefined) return;

      const docFile = path.resolve(flags.doc ?? path.join(packageRoot(), 'docs', 'reproduction.md'));
      const plotDir = path.join(path.dirname(docFile), path.basename(docFile, '.md'));
      const plots = reproPlots(run.report);
      const plotFiles: Array<{ name: string; file: string; title: string }> = [];
      for (const p of plots) {
        const rendered = await renderSvg(p.spec);
        const file = path.join(plotDir, `${p.name}.svg`);
        writeFileAtomic(file, rendered.svg);
        plotFiles.push({ name: p.name, file: path.relative(path.dirname(docFile), file).split(path.sep).join('/'), title: p.title });
        for (const w of rendered.warnings) process.stderr.write(`ohmic: plot warning (${p.name}): ${w}\n`);
      }
      const models = [
        ...familiesFor(options.sections).flatMap((f) => familyModels(f, options.zooDir)),
        ...(options.sections.includes('sweep') ? sweepModels(sweepDir).map((s) => s.entry) : []),
        ...(options.sections.includes('11') ? readZooManifest(options.zooDir).models.filter((m) => m.name === TABLE11_SOURCE || m.name === TABLE11_TARGET) : []),
      ];
      const manifest = new Map(readZooManifest(options.zooDir).models.map((m) => [m.name, m]));
      const seen = new Set<string>();
      const testSets = [...new Set(familiesFor(options.sections).map((f) =>
        f.dataset === 'mnist' ? `MNIST t10k (${dataDir}/mnist)` : f.dataset === 'mnist-strokes' ? 'MNIST stroke test sequences (mnist-stroke/sequences.tar.gz), 100 steps, zero padding first' : 'CIFAR-10 data_batch_1 images 3500..3999 (held out from DenseNet training)',
      ))];
      const sweepChains = trainingSweepChains({ sweepDir, sigmaTrains: numberList('--sweep-sigmas', flags.sweepSigmas), epochs: numberList('--sweep-epochs', flags.sweepEpochs), mnistDir: path.join(dataDir, 'mnist') }).flat();
      const pendingSweep = sweepChains.filter((t) => !t.done);
      const remarks: string[] = [];
      if (flags.reportOnly) remarks.push(`This document was regenerated from the stored results in \`${path.relative(packageRoot(), outDir) || outDir}/cells\` (\`--report-only\`): the command above computes them, and resumes where they stop.`);
      if (run.staleGenerators.size > 0) {
        const which = [...run.staleGenerators].map(([g, n]) => `${n} with ${g}`).join(', ');
        remarks.push(
          `Noise generator: of the stored cells this document reads, ${which} (an earlier ohmic's generator); this ohmic draws with ${NOISE_GENERATOR}. ` +
            'Rerunning the command (without `--report-only`) redraws them: the numbers move within their spread, not bit for bit.',
        );
      }
      if (run.missing > 0) {
        remarks.push(`Cells without a result yet (${run.missing}; their rows show —): ${run.missingFiles.map((f) => `\`${f.replace(/\.json$/, '')}\``).join(', ')}.`);
      }
      if (options.sections.includes('sweep') && pendingSweep.length > 0) {
        remarks.push(
          `Training-budget sweep: ${sweepChains.length - pendingSweep.length} of ${sweepChains.length} models trained (${pendingSweep.map((t) => path.basename(t.out)).join(', ')} still to train: \`ohmic reproduce --training-sweep\` runs them, about 250 s per epoch per process on an idle core).`,
        );
      }
      // The measurements travel with the document (./study/reproduce/archive.ts).
      const archiveDir = path.join(plotDir, 'cells');
      archiveCells(path.join(outDir, 'cells'), run.resultFiles, archiveDir);
      const attackCopies = options.sections.includes('11') ? archiveTransfers([t11.attackDir, t11.whiteBoxDir, t11.naturalTargetDir].filter((d): d is string => d !== null), path.join(plotDir, 'attacks')) : [];
      const rel = (p: string) => path.relative(path.dirname(docFile), p).split(path.sep).join('/');
      remarks.push(
        `The ${run.resultFiles.length} cell files this document reads (every run's accuracy, one JSON per cell) are copied to \`${rel(archiveDir)}/\`` +
          (attackCopies.length ? `, and the attack results to ${attackCopies.map((f) => `\`${rel(f)}\``).join(', ')}` : '') +
          `. Copied back (the cells into \`<--out>/cells/\`, each attack result into its \`--attack-dir\`, \`--white-box-dir\` or \`--natural-target-dir\` folder), they let a rerun resume instead of recomputing.`,
      );
      const md = reproductionMarkdown(
        run.report,
        {
          command,
          date: new Date().toISOString().slice(0, 10),
          seconds: run.seconds,
          machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.versions.node}`,
          dataDir: path.relative(packageRoot(), dataDir) || dataDir,
          computed: run.computed,
          missing: run.missing,
          planned: run.planned,
          models: models
            .filter((m) => (seen.has(m.name) ? false : (seen.add(m.name), true)))
            .map((m) => ({ name: m.name, sha256: (manifest.get(m.name) ?? m).weightsSha256, command: m.command, testAccuracy: m.testAccuracy })),
          testSets,
          remarks,
        },
        plotFiles,
      );
      writeFileAtomic(docFile, md);
      process.stdout.write(`document: ${docFile}\nplots: ${plotFiles.map((p) => p.file).join(', ') || '(none)'}\n`);
    });
}
