/**
 * `ohmic merge`: join the results files of a sharded study into one, the same
 * bytes one unsharded run writes (with `--config`, in grid order, and naming the
 * points no shard holds); optionally write the report and plots.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { DataError } from '../../errors';
import { describePoint } from '../../study/evaluator';
import { prepareOutputFile, prepareOutputFolder } from '../../study/outputPaths';
import { expandGrid, type StudyPoint } from '../../study/grid';
import { studyFingerprint } from '../../study/pointIdentity';
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
  allowMissing?: boolean;
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

/** `results-shard-2-of-4.jsonl` → `{ index: 2, count: 4 }` (1-based), else undefined. */
function shardOfFileName(file: string): { index: number; count: number } | undefined {
  const m = /^results-shard-(\d+)-of-(\d+)\.jsonl$/.exec(path.basename(file));
  return m === null ? undefined : { index: Number(m[1]), count: Number(m[2]) };
}

/**
 * Without `--config` the grid is unknown, but shard files name their place in it:
 * every `results-shard-i-of-n.jsonl` of one count n must be there.
 */
function checkShardFiles(files: readonly string[]): void {
  const shards = files.map((f) => ({ file: f, shard: shardOfFileName(f) })).filter((s) => s.shard !== undefined);
  if (shards.length === 0) return;
  const count = shards[0].shard!.count;
  const other = shards.find((s) => s.shard!.count !== count);
  if (other !== undefined) {
    throw new DataError(other.file, `is a shard of ${other.shard!.count}, but ${shards[0].file} is a shard of ${count}: these are two different splits`);
  }
  const bad = shards.find((s) => s.shard!.index < 1 || s.shard!.index > count);
  if (bad !== undefined) throw new DataError(bad.file, `is not a shard file name ohmic writes (shard index outside 1..${count})`);
  const present = new Set(shards.map((s) => s.shard!.index));
  const absentCount = count - present.size;
  if (absentCount > 0) {
    // The count comes from a file name: list the first few gaps without walking all of 1..count.
    const absent: number[] = [];
    for (let i = 1; i <= count && absent.length < 10; i++) if (!present.has(i)) absent.push(i);
    const dir = path.dirname(shards[0].file);
    throw new DataError(
      path.join(dir, `results-shard-${absent[0]}-of-${count}.jsonl`),
      `not among the inputs: ${absentCount} of the ${count} shards are missing ` +
        `(${absent.join(', ')}${absentCount > absent.length ? ', …' : ''}); pass every shard, or --allow-missing to merge the others`,
    );
  }
}

/** Merges `files` into `flags.out`; prints what was merged, what is missing and where the report is. */
export async function mergeCommand(files: readonly string[], flags: MergeFlags): Promise<MergeCommandResult> {
  const config = flags.config === undefined ? null : readStudyConfigFile(flags.config, STUDY_DEVICES);
  const points = config === null ? null : expandGrid(config);
  if (points === null && flags.allowMissing !== true) checkShardFiles(files);
  // Both outputs are checked before anything is written: a --report folder that
  // cannot be written must not leave a merged file behind.
  const out = prepareOutputFile('--out', flags.out);
  if (flags.report !== undefined) prepareOutputFolder('--report', flags.report);
  const configFile = flags.config as string;
  // Every input must be of one study (and, with --config, of that one): checked by content, see pointIdentity.ts.
  const merge = mergeResultFiles(files, out, points === null ? { requireIdentity: true } : {
    requireIdentity: true,
    study: { id: studyFingerprint(config!), file: configFile },
    order: points.map((p) => p.id),
    beforeWrite: (report) => {
      if (report.outsideOrder.length > 0) {
        throw new DataError(
          configFile,
          `the inputs hold ${report.outsideOrder.length} points that are not in this study's grid ` +
            `(e.g. ${report.outsideOrder[0]}): they belong to another study; merge them with that study's --config, or without --config`,
        );
      }
      if (report.missing.length > 0 && flags.allowMissing !== true) {
        const byId = new Map(points.map((p) => [p.id, p]));
        const listed = report.missing.slice(0, 3).map((id) => `${id} (${describePoint(byId.get(id)!)})`);
        throw new DataError(
          configFile,
          `${report.missing.length} of the study's ${points.length} points are in no input: ${listed.join('; ')}` +
            `${report.missing.length > 3 ? '; …' : ''}; rerun their shards (or the study with --resume), or pass --allow-missing to merge what is there`,
        );
      }
    },
  });
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
    .option('--allow-missing', 'merge even when shards (by file name) or, with --config, points of the study are missing; exits 0')
    .action(async (files: string[], flags: MergeFlags) => {
      await mergeCommand(files, flags);
    });
}
