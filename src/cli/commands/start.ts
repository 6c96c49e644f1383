/** `ohmic start`: the main job behind `npm start` (see src/study/defaultStudy.ts). */
import * as fs from 'fs';
import * as path from 'path';
import type { Command } from 'commander';
import { initBackend } from '../../backend';
import { ConfigError } from '../../errors';
import { expandGrid } from '../../study/grid';
import { resolveWorkers, runStudy } from '../../study/runStudy';
import { StudyWorkerPool } from '../../study/workerPool';
import { normaliseResultsFile, readResults } from '../../study/resultsFile';
import { writeStudyOutputs } from '../../study/studyOutputs';
import { summaryMarkdown } from '../../study/summary';
import { chipEvaluatorModule } from '../../study/chipEvaluatorModule';
import { validateChipPoint, validateChipStudy } from '../../study/chipEvaluator';
import { DEFAULT_STUDY_LIMIT, defaultStudyConfigs, defaultStudyModels } from '../../study/defaultStudy';
import { embeddedMnistDir } from '../../data';
import { parseIntegerOption } from '../options';
import { progressBar, showsProgress } from '../progressBar';
import { formatOutputPaths } from './study';
import { prepareOutputFolder } from '../../study/outputPaths';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'The default study: zoo CNN-6 models on the embedded MNIST test digits, on ReRAM, PCM and NAND chips and under ' +
        "the paper's signal-level noise (σ = 0…1), with 1, 5 and 20 votes; prints the table and where the report and plots are.",
    )
    .option('--limit <n>', `test digits to evaluate (default ${DEFAULT_STUDY_LIMIT})`)
    .option('--full', 'evaluate all 10,000 test digits')
    .option('--out <dir>', 'output folder', path.join('results', 'default-study'))
    .option('--workers <n>', "worker threads, or 'auto' for one per core", 'auto')
    .option('--resume', 'continue an interrupted run in --out (without it, earlier results there are replaced)')
    .action(async (opts: { limit?: string; full?: boolean; out: string; workers: string; resume?: boolean }) => {
      if (opts.full && opts.limit !== undefined) throw new ConfigError('--full', true, 'either --full or --limit, not both');
      const limit = opts.full ? null : opts.limit === undefined ? DEFAULT_STUDY_LIMIT : parseIntegerOption('--limit', opts.limit, 1);
      const workers = opts.workers === 'auto' ? 'auto' : parseIntegerOption('--workers', opts.workers, 1);
      const models = defaultStudyModels();
      if (models.length === 0) {
        throw new ConfigError('zoo', 'no CNN-6 models', 'zoo/manifest.json to list cnn6-mnist-mult-* models (train one with ohmic train)');
      }
      const { chips, signal } = defaultStudyConfigs(models, limit);
      for (const c of [chips, signal]) validateChipStudy(c);
      for (const p of [...expandGrid(chips), ...expandGrid(signal)]) validateChipPoint(p);
      const outDir = prepareOutputFolder('--out', opts.out);
      const files = { chips: path.join(outDir, 'chips.jsonl'), signal: path.join(outDir, 'signal.jsonl') };
      // The default job is deterministic: a new run replaces its earlier results
      // (so `npm start` works twice); --resume continues an interrupted one instead.
      if (!opts.resume) for (const f of Object.values(files)) fs.rmSync(f, { force: true });
      await initBackend();
      const started = performance.now();
      const total = expandGrid(chips).length + expandGrid(signal).length;
      const bar = showsProgress(process.stderr, process.env) ? progressBar(process.stderr) : null;
      const evaluator = chipEvaluatorModule({ dataDir: embeddedMnistDir() });
      // Both grids at once on one pool: the workers start once, and the chips' tail overlaps the signal level.
      const pool = new StudyWorkerPool(evaluator, resolveWorkers(workers));
      const counts = new Map<string, { done: number; computed: number }>();
      const update = (key: string, done: number, computed: number): void => {
        counts.set(key, { done, computed });
        const sum = [...counts.values()].reduce((a, c) => ({ done: a.done + c.done, computed: a.computed + c.computed }), { done: 0, computed: 0 });
        bar?.update({ ...sum, total, elapsedMs: performance.now() - started });
      };
      try {
        await Promise.all(
          ([['chips', chips, files.chips], ['signal', signal, files.signal]] as const).map(async ([key, config, file]) => {
            await runStudy(config, evaluator, { resultsPath: file, pool, onProgress: (p) => update(key, p.skipped + p.computed, p.computed) });
            normaliseResultsFile(file, expandGrid(config).map((p) => p.id));
          }),
        );
      } finally {
        bar?.end();
        await pool.terminate();
      }
      const records = [...readResults(files.chips), ...readResults(files.signal)];
      const outputs = await writeStudyOutputs(records, outDir);
      const out = process.stdout;
      out.write(
        `ohmic start: ${models.join(', ')} on ${limit ?? 10000} MNIST test digits (${limit === null ? 'all' : 'first ' + limit}; --full for all 10,000), ` +
          `${records.length} points in ${((performance.now() - started) / 1000).toFixed(1)} s\n\n`,
      );
      out.write(summaryMarkdown(records));
      out.write(`\nresults: ${files.chips}\n         ${files.signal}\n${formatOutputPaths(outputs)}`);
      for (const w of outputs.warnings) process.stderr.write(`ohmic: plot warning: ${w}\n`);
    });
}
