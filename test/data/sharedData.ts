/**
 * Locating ../shared/datasets for the data tests. Suites that need it run
 * only when it is present; otherwise they are skipped under a title that
 * says why.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The shared datasets folder beside the repository. */
export const SHARED_DATASETS = path.resolve(__dirname, '../../../shared/datasets');

/** True when the shared datasets folder exists. */
export const HAVE_SHARED = fs.existsSync(SHARED_DATASETS);

/**
 * `describe` when ../shared/datasets exists, else `describe.skip` with the
 * reason appended to the title.
 */
export function describeWithShared(title: string, body: () => void): void {
  if (HAVE_SHARED) describe(title, body);
  else describe.skip(`${title} [skipped: ${SHARED_DATASETS} not found]`, body);
}

/** Counts of each value 0..classes-1. */
export function histogram(labels: Uint8Array, classes = 10): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const label of labels) counts[label]++;
  return counts;
}

/** A fresh temporary folder for corrupt-file fixtures. */
export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ohmic-${prefix}-`));
}

/** README label counts of MNIST, digits 0..9. */
export const MNIST_TRAIN_HISTOGRAM = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
export const MNIST_TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];
