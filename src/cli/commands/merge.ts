/**
 * `ohmic merge`: join the results files of a sharded study into one, the same
 * bytes one unsharded run writes (with `--config`, in grid order, and naming the
 * points no shard holds); optionally write the report and plots.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { describePoint } from '../../study/evaluator';
import { expandGrid, type StudyPoint } from '../../study/grid';
import { mergeResultFiles, readResults, type MergeReport } from '../../study/resultsFile';
import { readStudyConfigFile } from '../../study/studyConfigFile';
import { writeStudyOutputs, type StudyOutputs } from '../../study/studyOutputs';
import { summaryMarkdown } from '../../study/summary';
import { STUDY_DEVICES } from '../studyDevices';

export interface MergeFlags {
  out: string;
  config?: string;
  report?: string;
  json?: boolean;
}

/** What `ohmic merge` did, as `--json` prints it. */
export interface MergeCommandResult {
  readonly out: string;
  readonly inputs: readonly string[];
  readonly merge: MergeReport;
  /** Points of the study (from `--config`); `null` without it. */
  readonly studyPoints: number | null;
  /** The missing points' configurations (with `--config`). */
  readonly missingPoints: readonly StudyPoint[];
  readonly outputs: StudyOutputs | null;
}

/** How many missing points are listed one per line before the rest are counted. */
const MISSING_LISTED = 20;

/** Merges `files` into `flags.out`; prints what was merged, what is missing and where the report is. */
export async function mergeCommand(files: readonly string[], flags: MergeFlags): Promise<MergeCommandResult> {
  const points = flags.config === undefined ? null : expandGrid(readStudyConfigFile(flags.config, STUDY_DEVICES));
  const out = path.resolve(flags.out);
  const merge = mergeResultFiles(files, out, points === null ? {} : { order: points.map((p) => p.id) });
  const missing = new Set(merge.missing);
  const missingPoints = points === null ? [] : points.filter((p) => missing.has(p.id));
  const records = flags.report === undefined ? null : readResults(out);
  const outputs = records === null ? null : await writeStudyOutputs(records, flags.report as string);
  const result: MergeCommandResult = {
    out,
    inputs: [...files],
    merge,
    studyPoints: points === null ? null : points.length,
    missingPoints,
    outputs,
  };
  for (const file of merge.tornTails) {
    process.stderr.write(`ohmic: ${file} ends in an unfinished line (an interrupted run); its point is left out\n`);
  }
  for (const w of outputs?.warnings ?? []) process.stderr.write(`ohmic: plot warning: ${w}\n`);
  if (flags.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return result;
  }
  const o = process.stdout;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  o.write(`ohmic merge: ${plural(merge.written, 'point')} from ${plural(files.length, 'file')} into ${out}`);
  o.write(merge.duplicatesDropped > 0 ? ` (${merge.duplicatesDropped} identical duplicates dropped)\n` : '\n');
  if (points !== null) {
    o.write(`${points.length - missingPoints.length} of the study's ${points.length} points present\n`);
    if (missingPoints.length > 0) {
      o.write(`missing ${missingPoints.length} points (rerun their shards, or the study with --resume):\n`);
      for (const p of missingPoints.slice(0, MISSING_LISTED)) o.write(`  ${p.id}  ${describePoint(p)}\n`);
      if (missingPoints.length > MISSING_LISTED) o.write(`  … and ${missingPoints.length - MISSING_LISTED} more\n`);
    }
    if (merge.outsideOrder.length > 0) {
      o.write(`${merge.outsideOrder.length} points are not in the study's grid (written after it)\n`);
    }
  }
  if (records !== null && outputs !== null) {
    o.write('\n');
    o.write(summaryMarkdown(records));
    o.write('\n');
    o.write(`report:  ${outputs.summaryPath}\n`);
    o.write(`table:   ${outputs.csvPath}\n`);
    outputs.plots.forEach((p, i) => o.write(`${i === 0 ? 'plots:   ' : '         '}${p.path}\n`));
  }
  return result;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description(
      'Join the results files of a sharded study into one (the bytes of an unsharded run when --config is given) ' +
        'and optionally write its report and plots.',
    )
    .argument('<files...>', 'results files to join (JSON lines, e.g. results-shard-*.jsonl)')
    .requiredOption('--out <file>', 'merged results file (written atomically; may be one of the inputs)')
    .option('--config <file>', 'the study config: merge in grid order and list points no input holds')
    .option('--report <dir>', 'also write summary.md, results.csv and SVG plots of the merged results here')
    .option('--json', 'print what was merged as JSON')
    .action(async (files: string[], flags: MergeFlags) => {
      await mergeCommand(files, flags);
    });
}
