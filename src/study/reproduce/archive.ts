/**
 * The measurements behind a generated reproduction document, kept beside it: the
 * cell files it read (every run's accuracy, the seeds' root and the noise
 * generator) and the attack results of Table 11. A reader can check any number of
 * the document against them, and a later run can resume from them (copy them into
 * its results folder's `cells/`) instead of recomputing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../resultsFile';

/**
 * Makes `toDir` hold exactly `files` of `fromDir` (JSON cell files): copies them,
 * and deletes the cell files no longer read, so the copy never mixes in results of
 * an earlier plan.
 */
export function archiveCells(fromDir: string, files: readonly string[], toDir: string): void {
  fs.mkdirSync(toDir, { recursive: true });
  const keep = new Set(files);
  for (const f of fs.readdirSync(toDir)) if (f.endsWith('.json') && !keep.has(f)) fs.rmSync(path.join(toDir, f));
  for (const f of files) writeFileAtomic(path.join(toDir, f), fs.readFileSync(path.join(fromDir, f), 'utf8'));
}

/** Copies each attack folder's `transfer.json` to `toDir/<folder name>/` (folders without one are skipped). */
export function archiveTransfers(dirs: readonly string[], toDir: string): string[] {
  const copied: string[] = [];
  for (const d of dirs) {
    const file = path.join(d, 'transfer.json');
    if (!fs.existsSync(file)) continue;
    const to = path.join(toDir, path.basename(path.resolve(d)), 'transfer.json');
    fs.mkdirSync(path.dirname(to), { recursive: true });
    writeFileAtomic(to, fs.readFileSync(file, 'utf8'));
    copied.push(to);
  }
  return copied;
}
