/**
 * Runs the cells a reproduction needs that are not in its results folder yet
 * (this shard's share of them), one at a time, saving each as it finishes.
 */
import * as path from 'path';
import { initBackend } from '../../backend';
import { CellEvaluator, type CellResult } from './cells';
import { assembleReport, logitMatchedSigma, type ReproductionReport } from './assemble';
import { datasetOfModel, planCells, shardOf, ResultStore, type PlannedCell, type ReproduceOptions, type StoredResult } from './plan';

export interface ReproProgress {
  /** Cells done by this process, and the cells it has left in the current round. */
  readonly done: number;
  readonly total: number;
  readonly cell: PlannedCell;
  /** Runs of the current cell done, of its total. */
  readonly runsDone: number;
  readonly runsTotal: number;
  readonly elapsedMs: number;
  /** Set once, when the cell's result is saved. */
  readonly finished: boolean;
}

export interface RunReproductionOptions {
  /** Results folder; cells go to `<outDir>/cells/`. */
  readonly outDir: string;
  readonly dataDir?: string;
  /** This process's shard `index` of `count` (default: all cells). */
  readonly shard?: { readonly index: number; readonly count: number };
  readonly workers?: number;
  readonly onProgress?: (p: ReproProgress) => void;
  /** False: compute nothing, only assemble what the folder holds (default true). */
  readonly compute?: boolean;
  /** Polled between cells: true stops after the cell in progress (it is saved). */
  readonly shouldStop?: () => boolean;
}

export interface ReproductionRun {
  /** Cells this process computed. */
  readonly computed: number;
  /** Planned cells with no result yet (other shards', or ones waiting on them). */
  readonly missing: number;
  /** File names of the planned cells with no result yet. */
  readonly missingFiles: readonly string[];
  /** File names of the planned cells with a result: what the report reads. */
  readonly resultFiles: readonly string[];
  readonly planned: number;
  /** Stored results the report read that another noise generator drew, by generator (reports from stored results only). */
  readonly staleGenerators: ReadonlyMap<string, number>;
  readonly report: ReproductionReport;
  readonly seconds: number;
}

/** The results folder's cells, opened; `acceptStale` for a report from stored results (see `ResultStore`). */
export function openResults(outDir: string, acceptStale = false): ResultStore {
  return new ResultStore(path.join(outDir, 'cells'), { acceptStale });
}

/** Cell order within a round: by model, so each model is loaded once. */
function byModel(a: PlannedCell, b: PlannedCell): number {
  return a.spec.model.localeCompare(b.spec.model) || a.file.localeCompare(b.file);
}

export async function runReproduction(o: ReproduceOptions, run: RunReproductionOptions): Promise<ReproductionRun> {
  await initBackend();
  const t0 = Date.now();
  const store = openResults(run.outDir, run.compute === false);
  const evaluator = new CellEvaluator({ dataDir: run.dataDir, rootSeed: o.rootSeed, workers: run.workers, maxVotes: o.votes });
  const matched = (f: Parameters<typeof logitMatchedSigma>[0], d: string) => logitMatchedSigma(f, d, o, store);
  const mine = (c: PlannedCell) => !run.shard || shardOf(c.file, run.shard.count) === run.shard.index;
  let computed = 0;
  let stopped = run.compute === false;
  try {
    while (!stopped) {
      const todo = planCells(o, store, matched).filter((c) => !store.has(c.file) && mine(c)).sort(byModel);
      if (todo.length === 0) break;
      for (let i = 0; i < todo.length; i++) {
        const cell = todo[i];
        const progress = (runsDone: number, runsTotal: number, finished = false) =>
          run.onProgress?.({ done: i + (finished ? 1 : 0), total: todo.length, cell, runsDone, runsTotal, elapsedMs: Date.now() - t0, finished });
        progress(0, 1);
        let result: StoredResult;
        const spec = cell.spec;
        if (spec.kind === 'chip-info') result = { spec, ...(await evaluator.chipInfo(spec.model, spec.device, spec.votes, datasetOfModel(spec.model))) };
        else if (spec.kind === 'weights') result = { spec, ...(await evaluator.weightStats(spec.model)) };
        else if (spec.kind === 'lstm-placement') result = await evaluator.lstmPlacement(spec, cell.limit);
        else result = (await evaluator.evaluate(spec, cell.limit, progress)) as CellResult;
        store.put(cell.file, result);
        computed++;
        progress(1, 1, true);
        if (run.shouldStop?.()) {
          stopped = true;
          break;
        }
      }
    }
  } finally {
    evaluator.release();
  }
  const plan = planCells(o, store, matched);
  const missingFiles = plan.filter((c) => !store.has(c.file)).map((c) => c.file);
  return {
    computed,
    missing: missingFiles.length,
    missingFiles,
    resultFiles: plan.filter((c) => store.has(c.file)).map((c) => c.file),
    planned: plan.length,
    staleGenerators: store.staleGenerators(),
    report: assembleReport(o, store),
    seconds: (Date.now() - t0) / 1000,
  };
}
