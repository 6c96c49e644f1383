/**
 * The default study (`ohmic start`'s grids) on a small digit subset, with 1 and 2
 * worker threads side by side: points/s and images/s (digits classified per second,
 * each point classifying LIMIT digits by V votes; a worker reuses the runs of
 * larger V for smaller V, so the noisy inferences actually run are fewer than Σ V·LIMIT).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../src/backend';
import { expandGrid } from '../src/study/grid';
import { runStudy } from '../src/study/runStudy';
import { chipEvaluatorModule } from '../src/study/chipEvaluatorModule';
import { defaultStudyConfigs, defaultStudyModels } from '../src/study/defaultStudy';
import { embeddedMnistDir } from '../src/data';
import { printTable } from './timing';

const LIMIT = 100;

export async function run(): Promise<void> {
  const backend = await initBackend();
  const models = defaultStudyModels();
  if (models.length === 0) throw new Error('bench study: the zoo has no CNN-6 models (zoo/manifest.json)');
  const { chips, signal } = defaultStudyConfigs(models, LIMIT);
  const points = [...expandGrid(chips), ...expandGrid(signal)];
  const images = points.length * LIMIT;
  const rows: string[][] = [];
  for (const workers of [1, 2]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-bench-study-'));
    const t0 = performance.now();
    for (const [config, name] of [[chips, 'chips'], [signal, 'signal']] as const) {
      await runStudy(config, chipEvaluatorModule({ dataDir: embeddedMnistDir() }), { resultsPath: path.join(dir, `${name}.jsonl`), workers });
    }
    const s = (performance.now() - t0) / 1000;
    fs.rmSync(dir, { recursive: true, force: true });
    rows.push([`${workers}`, s.toFixed(1), (points.length / s).toFixed(2), (images / s).toFixed(0)]);
  }
  process.stdout.write(`\nDefault study (${models.join(', ')}), ${points.length} points, first ${LIMIT} digits; backend ${backend}\n`);
  printTable(['workers', 's', 'points/s', 'images/s'], rows);
  process.stdout.write(`speed-up 2 vs 1 workers: ${(Number(rows[0][1]) / Number(rows[1][1])).toFixed(2)}x\n`);
}
