/**
 * `ohmic reproduce` on a small scale: two zoo models (σ_train 0 and 1) of Table 2
 * on 300 embedded test digits at σ ∈ {0, 0.6}, through the library the command
 * calls. Checks the table's paper and ohmic columns, sane accuracies, the
 * σ_train = 0 model losing accuracy with σ, resuming, and that the generated
 * document names the command and the seeds.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { embeddedMnistDir } from '../src/data';
import { defaultZooDir, readZooManifest } from '../src/models/zoo';
import { FULL_DEFAULTS, planCells, shardOf, validateReproduceOptions, type ReproduceOptions } from '../src/study/reproduce/plan';
import { openResults, runReproduction } from '../src/study/reproduce/run';
import { invertCurve, logitMatchedSigma } from '../src/study/reproduce/assemble';
import { reportTextTables, reproPlots, reproductionMarkdown, sweepTextTable } from '../src/study/reproduce/document';
import { PAPER_TABLE_2, snrDb } from '../src/study/reproduce/paperTables';
import { votesCurve } from '../src/study/reproduce/cells';
import { accuracyVsVotes } from '../src/models/voting';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-reproduce-'));
const zooDir = path.join(dir, 'zoo');
const LIMIT = 300;

/** A zoo folder holding only the σ_train 0 and 1 multiplicative CNN-6 models (copied, hashes unchanged). */
function smallZoo(): void {
  const manifest = readZooManifest();
  const keep = manifest.models.filter((m) => m.name === 'cnn6-mnist-mult-0' || m.name === 'cnn6-mnist-mult-1');
  for (const m of keep) fs.cpSync(path.join(defaultZooDir(), m.name), path.join(zooDir, m.name), { recursive: true });
  fs.writeFileSync(path.join(zooDir, 'manifest.json'), JSON.stringify({ version: 1, models: keep }, null, 2));
}

const options: ReproduceOptions = validateReproduceOptions({
  ...FULL_DEFAULTS,
  sections: ['2', '7'],
  limit: LIMIT,
  deviceLimit: LIMIT,
  runs: 3,
  votes: 3,
  sigmas: [0, 0.6],
  sweepDir: null,
  zooDir,
});

beforeAll(() => smallZoo());
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ohmic reproduce (small scale)', () => {
  let run: Awaited<ReturnType<typeof runReproduction>>;

  beforeAll(async () => {
    run = await runReproduction(options, { outDir: path.join(dir, 'out'), dataDir: embeddedMnistDir() });
  });

  it('computes Table 2 with paper and ohmic columns and sane accuracies', () => {
    expect(run.missing).toBe(0);
    // 2 models × (σ = 0, σ = 0.6) signal cells.
    expect(run.computed).toBe(4);
    const t2 = run.report.tables.find((t) => t.family.table === '2')!;
    expect(t2.examples).toBe(LIMIT);
    expect(t2.models.map((m) => m.sigmaTrain)).toEqual([0, 1]);
    for (const m of t2.models) {
      for (const c of m.cells) {
        expect(c).not.toBeNull();
        for (const a of [c!.single.mean, c!.single.min, c!.single.max, c!.voted.value]) {
          expect(a).toBeGreaterThanOrEqual(0);
          expect(a).toBeLessThanOrEqual(1);
        }
      }
    }
    const [atZero, atNoisy] = t2.rows.map((r) => r.noiseless!.mean);
    expect(atNoisy).toBeLessThan(atZero);
    expect(t2.rows[1].noiseless!.runs).toBe(3);
    expect(t2.rows[0].noiseless!.runs).toBe(1);

    const text = sweepTextTable(t2, options.runs);
    expect(text.headers).toEqual(expect.arrayContaining(['σ_tr=0 paper', 'ohmic', 'Δ', 'best paper']));
    const row6 = text.rows.find((r) => r[0] === '0.6')!;
    expect(row6[1]).toBe(snrDb(0.6).toFixed(2));
    expect(row6[2]).toBe((100 * PAPER_TABLE_2.noiselessTrained[3]).toFixed(1));
    expect(row6[3]).toMatch(/^\d+\.\d ± \d+\.\d$/);
  });

  it('resumes: a second run computes nothing and gives the same report', async () => {
    const again = await runReproduction(options, { outDir: path.join(dir, 'out'), dataDir: embeddedMnistDir() });
    expect(again.computed).toBe(0);
    expect(again.report.tables).toEqual(run.report.tables);
  });

  it('writes a document that names the command, the seeds and the model hashes', async () => {
    const plots = reproPlots(run.report);
    expect(plots.map((p) => p.name)).toEqual(expect.arrayContaining(['figure2-cnn6-mult', 'figure11-votes']));
    const command = 'ohmic reproduce --table 2,7 --limit 300 --runs 3 --votes 3';
    const md = reproductionMarkdown(
      run.report,
      {
        command,
        date: '2026-01-01',
        seconds: run.seconds,
        machine: 'test',
        dataDir: 'data/mnist',
        computed: run.computed,
        missing: run.missing,
        planned: run.planned,
        models: readZooManifest(zooDir).models.map((m) => ({ name: m.name, sha256: m.weightsSha256, command: m.command, testAccuracy: m.testAccuracy })),
        testSets: ['MNIST t10k'],
      },
      plots.map((p) => ({ name: p.name, file: `reproduction/${p.name}.svg`, title: p.title })),
    );
    expect(md).toContain(command);
    expect(md).toMatch(/Seeds: root seed 0/);
    expect(md).toContain(readZooManifest(zooDir).models[0].weightsSha256);
    expect(md).toContain('## Table 2');
    expect(md).toContain('## Voting');
    expect(md).toContain('reproduction/figure2-cnn6-mult.svg');
    expect(reportTextTables(run.report).map((t) => t.id)).toEqual(expect.arrayContaining(['targets', 'table-2', 'grid-2', 'table-7']));
  });
});

describe('reproduce helpers', () => {
  it('averages the votes curve over rotations: V = 1 is the mean run accuracy, V = R uses every run', () => {
    const labels = new Uint8Array([0, 1, 1, 0]);
    const run = (preds: number[]) => Float32Array.from(preds.flatMap((p) => (p === 0 ? [1, 0] : [0, 1])));
    const runs = [run([0, 1, 0, 0]), run([0, 0, 1, 0]), run([1, 1, 1, 0])];
    const curve = votesCurve(runs, labels, 2, 3);
    const single = runs.map((r) => accuracyVsVotes([r], labels, 1, 2)[0]);
    expect(curve[0]).toBeCloseTo(single.reduce((a, b) => a + b, 0) / 3, 12);
    expect(curve[2]).toBeCloseTo(accuracyVsVotes(runs, labels, 3, 2)[2], 12);
  });

  it('inverts a noisy decreasing accuracy curve monotonically, with bounds outside its range', () => {
    const xs = [0, 0.1, 0.2, 0.3];
    const ys = [0.99, 0.995, 0.9, 0.5];
    expect(invertCurve(xs, ys, 0.995, false)).toEqual({ sigma: 0, bound: 'below' });
    expect(invertCurve(xs, ys, 0.7, false).sigma).toBeCloseTo(0.25, 12);
    expect(invertCurve(xs, ys, 0.1, false).bound).toBe('above');
    expect(invertCurve([0, 0.5, 1], [0, 0.2, 0.4], 0.3, true).sigma).toBeCloseTo(0.75, 12);
  });

  it('splits cells between shards by file name, each cell in exactly one shard', () => {
    const files = Array.from({ length: 200 }, (_, i) => `cell-${i}.json`);
    const counts = [0, 0, 0];
    for (const f of files) counts[shardOf(f, 3)]++;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(200);
    expect(Math.min(...counts)).toBeGreaterThan(30);
  });

  it('plans device cells for the noise-trained model only once the σ_train = 0 chip results exist', () => {
    const o = { ...options, sections: ['devices' as const], devices: ['reram'], chips: 2, passChips: 1, passes: 2, matchSigmas: [0, 0.6] };
    const store = openResults(path.join(dir, 'empty'));
    const cells = planCells(o, store, (f, d) => logitMatchedSigma(f, d, o, store));
    const devices = cells.filter((c) => c.spec.kind === 'device').map((c) => c.spec.model);
    expect(devices).toEqual([`${zooDir}/cnn6-mnist-mult-0`]);
    // cnn6 add and LSTM families have no models in this zoo: only the CNN-6 (mult) cells.
    expect(cells.every((c) => c.spec.model.includes('cnn6-mnist-mult'))).toBe(true);
  });
});
