import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { ConfigError } from '../../src/errors';
import { expandGrid, pointSeed, validateStudyConfig } from '../../src/study/grid';
import { paretoFront } from '../../src/study/pareto';
import {
  accuracyEnergyFront,
  accuracyEnergyParetoSpec,
  accuracyVsAxisSpec,
  accuracyVsSigmaSpec,
  accuracyVsVotesSpec,
  metricVsAxisSpec,
  dimensionsThatMatter,
  METRIC_PLOTS,
  metricVsVotesSpec,
  studyPlots,
  type PlotRow,
} from '../../src/study/plots';
import { renderSvg } from '../../src/study/renderSvg';
import { buildResultRecord, type MetricValue, type ResultRecord } from '../../src/study/resultRecord';
import { writeStudyOutputs } from '../../src/study/studyOutputs';
import { expectThrows } from '../helpers/expectThrows';

// Counts how often vega is loaded, to check that nothing but rendering loads it.
const mockVegaLoads = { count: 0 };
jest.mock('vega', () => {
  mockVegaLoads.count++;
  return jest.requireActual('vega');
});

/**
 * Records of a small grid with accuracies and metrics that are simple functions
 * of the point, so every plotted value is known.
 */
function makeRecords(
  grid: Record<string, unknown>,
  metrics: (p: { model: string; device: string; sigma: number; votes: number }) => Record<string, MetricValue> = () => ({}),
): ResultRecord[] {
  const config = validateStudyConfig(
    { seeds: [0], dataset: { name: 'mnist', limit: 10 }, semantics: ['passes'], ...grid },
    ['reram', 'pcm', 'nand', 'signal'],
  );
  return expandGrid(config).map((p) =>
    buildResultRecord(p, pointSeed(p, 0), 0, {
      accuracyPerSeed: p.seeds.map(() => Math.max(0, 0.95 - (0.5 * p.sigma) / p.votes - (p.model === 'b' ? 0.02 : 0))),
      metrics: metrics(p),
    }),
  );
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;
const POINT = 'aria-roledescription="point"';
const LINE = 'aria-roledescription="line mark"';

describe('paretoFront', () => {
  const pts = [
    { id: 'a', acc: 0.9, e: 10 },
    { id: 'b', acc: 0.8, e: 20 }, // dominated by a
    { id: 'c', acc: 0.95, e: 30 },
    { id: 'd', acc: 0.95, e: 40 }, // same accuracy as c, more energy: dominated
    { id: 'e', acc: 0.5, e: 5 },
    { id: 'f', acc: 0.9, e: 10 }, // exact tie with a: neither dominates
    { id: 'g', acc: 0.85, e: 10 }, // same energy as a, less accuracy: dominated
    { id: 'h', acc: 0.99, e: 100 },
  ];

  test('keeps exactly the non-dominated points, cheapest first, exact ties kept in input order', () => {
    const front = paretoFront(pts, (p) => p.acc, (p) => p.e);
    expect(front.map((p) => p.id)).toEqual(['e', 'a', 'f', 'c', 'h']);
  });

  test('edge cases: empty, one point, all equal', () => {
    expect(paretoFront([], (p: number) => p, (p) => p)).toEqual([]);
    expect(paretoFront([{ acc: 0.3, e: 1 }], (p) => p.acc, (p) => p.e)).toEqual([{ acc: 0.3, e: 1 }]);
    const same = [1, 2, 3].map((id) => ({ id, acc: 0.5, e: 2 }));
    expect(paretoFront(same, (p) => p.acc, (p) => p.e).map((p) => p.id)).toEqual([1, 2, 3]);
  });

  test('agrees with the O(n²) definition on random points', () => {
    const point = fc.record({ acc: fc.integer({ min: 0, max: 20 }), e: fc.integer({ min: 0, max: 20 }) });
    fc.assert(
      fc.property(fc.array(point, { maxLength: 40 }), (items) => {
        const dominated = (p: { acc: number; e: number }): boolean =>
          items.some((q) => q.acc >= p.acc && q.e <= p.e && (q.acc > p.acc || q.e < p.e));
        const expected = items.filter((p) => !dominated(p));
        const front = paretoFront(items, (p) => p.acc, (p) => p.e);
        expect(new Set(front)).toEqual(new Set(expected));
        expect(front).toHaveLength(expected.length);
        for (let i = 1; i < front.length; i++) {
          expect(front[i].e).toBeGreaterThanOrEqual(front[i - 1].e);
          expect(front[i].acc).toBeGreaterThanOrEqual(front[i - 1].acc);
        }
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  test('a non-finite accuracy or cost is an error naming the item', () => {
    expectThrows(
      () => paretoFront([{ a: 1, e: 1 }, { a: NaN, e: 2 }], (p) => p.a, (p) => p.e),
      new ConfigError('items[1].accuracy', NaN, 'a finite number'),
    );
    expectThrows(
      () => paretoFront([{ a: 1, e: Infinity }], (p) => p.a, (p) => p.e),
      new ConfigError('items[0].cost', Infinity, 'a finite number'),
    );
  });
});

describe('plot specs', () => {
  const grid = { models: ['a', 'b'], devices: ['reram', 'pcm'], sigmas: [0, 0.5, 1], votes: [1, 5] };
  const cost = (p: { device: string; votes: number }) => ({
    latencyNs: 10 * (5 + p.votes),
    energyPicojoules: 100 * p.votes * (p.device === 'pcm' ? 0.5 : 1),
    backend: 'fake',
  });
  const records = makeRecords(grid, cost);
  const rowsOf = (spec: unknown): PlotRow[] => (spec as { data: { values: PlotRow[] } }).data.values;

  test('accuracy vs σ: a row per record, lines per model × votes, one panel per device', () => {
    const spec = accuracyVsSigmaSpec(records) as unknown as Record<string, any>;
    const rows = rowsOf(spec);
    expect(rows).toHaveLength(24);
    expect(new Set(rows.map((r) => r.series))).toEqual(new Set(['a · V=1', 'a · V=5', 'b · V=1', 'b · V=5']));
    expect(spec.facet).toMatchObject({ field: 'device', sort: ['reram', 'pcm'] });
    expect(spec.spec.encoding.x).toMatchObject({ field: 'sigma', title: 'σ', axis: { values: [0, 0.5, 1] } });
    expect(spec.spec.encoding.color.title).toBe('model · votes');
    const r = rows.find((x) => x.model === 'b' && x.sigma === 1 && x.votes === 5 && x.device === 'pcm') as PlotRow;
    expect(r.accuracy).toBeCloseTo(0.95 - 0.1 - 0.02, 12);
  });

  test('accuracy vs votes: lines per model × σ', () => {
    const rows = rowsOf(accuracyVsVotesSpec(records));
    expect(new Set(rows.map((r) => r.series)).size).toBe(6);
    expect(rows.find((r) => r.model === 'a' && r.sigma === 0.5)?.series).toBe('a · σ=0.5');
  });

  test('metric plots split series only by the fields the metric depends on', () => {
    // Latency depends on votes only: one line per device panel, one point per (device, votes).
    const latency = rowsOf(metricVsVotesSpec(records, METRIC_PLOTS[0]));
    expect(latency.map((r) => [r.device, r.votes, r.value, r.series])).toEqual([
      ['reram', 1, 60, 'all points'],
      ['reram', 5, 100, 'all points'],
      ['pcm', 1, 60, 'all points'],
      ['pcm', 5, 100, 'all points'],
    ]);
    // A metric that depends on the model keeps the model.
    const byModel = makeRecords(grid, (p) => ({ tiles: p.model === 'a' ? 4 : 9 }));
    const tiles = rowsOf(metricVsVotesSpec(byModel, METRIC_PLOTS[3]));
    expect(tiles).toHaveLength(8);
    expect(new Set(tiles.map((r) => `${r.series}:${r.value}`))).toEqual(new Set(['a:4', 'b:9']));
    // Absent or non-numeric metrics give no plot.
    expect(metricVsVotesSpec(records, METRIC_PLOTS[2])).toBeNull();
    expect(metricVsVotesSpec(records, { ...METRIC_PLOTS[0], metric: 'backend' })).toBeNull();
  });

  test('dimensionsThatMatter drops a field only when the value does not depend on it', () => {
    const byVotesAndSigma = (r: ResultRecord): number => r.point.sigma * 100 + r.point.votes;
    expect(dimensionsThatMatter(records, ['sigma', 'model'], ['device', 'votes'], byVotesAndSigma)).toEqual(['sigma']);
    expect(dimensionsThatMatter(records, ['sigma', 'model'], ['device', 'votes'], (r) => r.point.votes)).toEqual([]);
  });

  test('the Pareto front is taken per noise condition, and the spec marks exactly its records', () => {
    const front = accuracyEnergyFront(records);
    // At σ = 0 every V gives model a its 95 %, so the cheapest (pcm, V = 1, 50 pJ) is the whole front; at
    // σ > 0, V = 5 on pcm (250 pJ) buys accuracy over V = 1 (50 pJ), and reram (twice the energy) never wins.
    expect(front.map((r) => [r.point.model, r.point.device, r.point.sigma, r.point.votes])).toEqual([
      ['a', 'pcm', 0, 1],
      ['a', 'pcm', 0.5, 1],
      ['a', 'pcm', 0.5, 5],
      ['a', 'pcm', 1, 1],
      ['a', 'pcm', 1, 5],
    ]);
    const spec = accuracyEnergyParetoSpec(records) as unknown as Record<string, any>;
    expect(spec.facet).toMatchObject({ field: 'condition', sort: ['σ=0', 'σ=0.5', 'σ=1'] });
    const rows = rowsOf(spec);
    expect(rows).toHaveLength(24);
    expect(rows.filter((r) => r.onFront).map((r) => r.pointId)).toEqual(
      records.filter((r) => front.includes(r)).map((r) => r.pointId),
    );
    expect(accuracyEnergyParetoSpec(makeRecords(grid))).toBeNull();
  });

  test('studyPlots lists the supported plots in a fixed order; none for no records', () => {
    expect(studyPlots(records).map((p) => p.name)).toEqual([
      'accuracy-vs-sigma',
      'accuracy-vs-votes',
      'latency-vs-votes',
      'energy-vs-votes',
      'accuracy-energy-pareto',
    ]);
    expect(studyPlots(makeRecords(grid)).map((p) => p.name)).toEqual(['accuracy-vs-sigma', 'accuracy-vs-votes']);
    expect(studyPlots([])).toEqual([]);
  });
});

describe('SVG rendering', () => {
  // 2 models × 2 devices × 3 σ at V = 1 and 3, energy per decision grows with V.
  const records = makeRecords(
    { models: ['a', 'b'], devices: ['reram', 'pcm'], sigmas: [0, 0.4, 0.8], votes: [1, 3] },
    (p) => ({ energyPicojoules: (p.device === 'pcm' ? 20 : 200) * p.votes, latencyNs: 60 + 10 * (p.votes - 1) }),
  );

  test('building specs does not load vega; rendering does', async () => {
    studyPlots(records);
    expect(mockVegaLoads.count).toBe(0);
    await renderSvg(accuracyVsSigmaSpec(records)!);
    expect(mockVegaLoads.count).toBe(1);
  });

  test('accuracy vs σ: well-formed SVG with its axis titles, a point per record and a line per series and panel', async () => {
    const { svg, warnings } = await renderSvg(accuracyVsSigmaSpec(records)!);
    expect(warnings).toEqual([]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain("X-axis titled 'σ'");
    expect(svg).toContain("Y-axis titled 'accuracy'");
    expect(svg).toContain('>Accuracy vs σ</text>');
    expect(count(svg, POINT)).toBe(24);
    expect(count(svg, LINE)).toBe(8); // (2 models × 2 votes) series × 2 device panels
  });

  test('a grid with many series renders, and vega\'s legend warning is collected as text (it crashed the report)', async () => {
    // 6 models × 6 σ: the accuracy-vs-votes legend has 36 entries, more than vega draws.
    const many = makeRecords({ models: ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'], devices: ['signal'], sigmas: [0, 0.2, 0.4, 0.6, 0.8, 1], votes: [1, 20] }, () => ({}));
    const { svg, warnings } = await renderSvg(accuracyVsVotesSpec(many)!);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(warnings).toEqual(['WARN: Symbol legend count exceeds limit, filtering items.']);
  });

  test('accuracy vs votes and latency vs votes', async () => {
    const votes = await renderSvg(accuracyVsVotesSpec(records)!);
    expect(votes.svg).toContain("X-axis titled 'votes V'");
    expect(count(votes.svg, POINT)).toBe(24);
    expect(count(votes.svg, LINE)).toBe(12); // (2 models × 3 σ) × 2 panels
    const latency = await renderSvg(metricVsVotesSpec(records, METRIC_PLOTS[0])!);
    expect(latency.svg).toContain("Y-axis titled 'latency (ns)'");
    expect(count(latency.svg, POINT)).toBe(4); // one value per device and V
    expect(count(latency.svg, LINE)).toBe(2);
  });

  test('Pareto front: every point drawn, the front ones larger, one staircase per σ panel', async () => {
    const front = accuracyEnergyFront(records);
    // pcm is 10× cheaper at equal accuracy: its V = 1 (and, when σ > 0, its V = 3) make each front.
    expect(front.map((r) => [r.point.device, r.point.sigma, r.point.votes, r.point.model])).toEqual([
      ['pcm', 0, 1, 'a'],
      ['pcm', 0.4, 1, 'a'],
      ['pcm', 0.4, 3, 'a'],
      ['pcm', 0.8, 1, 'a'],
      ['pcm', 0.8, 3, 'a'],
    ]);
    const { svg, warnings } = await renderSvg(accuracyEnergyParetoSpec(records)!);
    expect(warnings).toEqual([]);
    expect(svg).toContain("X-axis titled 'energy (pJ)' for a log scale");
    expect(svg).toContain("Y-axis titled 'accuracy'");
    expect(svg).toContain('>σ=0.4</text>');
    expect(count(svg, POINT)).toBe(24);
    expect(count(svg, LINE)).toBe(3);
    // One model, so every symbol is a circle ("M r,0 A r,r ..."): two radii, the front's and everyone else's.
    const oneModel = records.filter((r) => r.point.model === 'a');
    const single = await renderSvg(accuracyEnergyParetoSpec(oneModel)!);
    const radii = [...single.svg.matchAll(/aria-roledescription="point"[^>]* d="M([\d.]+),0A/g)].map((m) => Number(m[1]));
    expect(radii).toHaveLength(12);
    const large = Math.max(...radii);
    const small = Math.min(...radii);
    expect(large / small).toBeCloseTo(Math.sqrt(140 / 30), 2); // symbol size is area
    expect(radii.filter((r) => r === large)).toHaveLength(5);
    expect(radii.filter((r) => r === small)).toHaveLength(7);
  });
});

describe('writeStudyOutputs', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-plots-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('writes summary.md, results.csv and one SVG per plot, with no temporaries left', async () => {
    const records = makeRecords(
      { models: ['a'], devices: ['pcm', 'nand'], sigmas: [0, 1], votes: [1, 5] },
      (p) => ({ energyPicojoules: (p.device === 'pcm' ? 10 : 30) * p.votes }),
    );
    const out = path.join(dir, 'report');
    const outputs = await writeStudyOutputs(records, out);
    expect(outputs.summaryPath).toBe(path.join(out, 'summary.md'));
    expect(outputs.csvPath).toBe(path.join(out, 'results.csv'));
    expect(outputs.plots.map((p) => path.basename(p.path))).toEqual([
      'accuracy-vs-sigma.svg',
      'accuracy-vs-votes.svg',
      'energy-vs-votes.svg',
      'accuracy-energy-pareto.svg',
    ]);
    expect(outputs.warnings).toEqual([]);
    expect(fs.readdirSync(out).sort()).toEqual(
      ['summary.md', 'results.csv', ...outputs.plots.map((p) => path.basename(p.path))].sort(),
    );
    for (const p of outputs.plots) expect(fs.readFileSync(p.path, 'utf8').startsWith('<svg')).toBe(true);
    const csv = fs.readFileSync(outputs.csvPath, 'utf8').trimEnd().split('\n');
    expect(csv).toHaveLength(1 + 8);
    const md = fs.readFileSync(outputs.summaryPath, 'utf8');
    expect(md).toContain('8 points: models a; devices pcm, nand; σ 0, 1; votes 1, 5.');
    expect(md).toContain('| model | device | noise | σ | semantics | votes | seeds | accuracy % | energy (pJ) |');
    // σ = 0: pcm V=1 (95 %, 10 pJ) beats everything; σ = 1: pcm V=1 (45 %, 10 pJ), then V=5 (85 %, 50 pJ).
    expect(md).toContain(
      '| noise | σ | energy (pJ) | accuracy % | device | model | semantics | votes |\n' +
        '| --- | ---: | ---: | ---: | --- | --- | --- | ---: |\n' +
        '| multiplicative | 0 | 10 | 95.00 | pcm | a | passes | 1 |\n' +
        '| multiplicative | 1 | 10 | 45.00 | pcm | a | passes | 1 |\n' +
        '| multiplicative | 1 | 50 | 85.00 | pcm | a | passes | 5 |\n\n## Plots',
    );
    expect(md).toContain('![Accuracy vs σ](accuracy-vs-sigma.svg)');
    expect(md).toContain('![Accuracy–energy Pareto front](accuracy-energy-pareto.svg)');
  });
});

describe('plots over hardware axes', () => {
  // 2 chips × ADC bits {4, 6, 8} × read time {25 s, 1 h, 1 day}; energy grows with the bits, accuracy with the bits and falls with time.
  const config = validateStudyConfig(
    {
      models: ['a'], devices: ['pcm', 'reram'], noise: ['device'], semantics: ['passes'], seeds: [0], dataset: { name: 'mnist', limit: 10 },
      axes: { 'adc.bits': [4, 6, 8], readTimeSeconds: ['25 s', '1 h', '1 day'] },
    },
    ['reram', 'pcm', 'nand', 'signal'],
  );
  const seconds: Record<string, number> = { '25 s': 25, '1 h': 3600, '1 day': 86400 };
  const records = expandGrid(config).map((p) => {
    const bits = p.axes!['adc.bits'] as number;
    const t = seconds[p.axes!.readTimeSeconds as string];
    return buildResultRecord(p, pointSeed(p, 0), 0, {
      accuracyPerSeed: [Math.min(1, 0.5 + bits / 20 - Math.log10(t) / 20)],
      metrics: { energyPicojoules: (p.device === 'pcm' ? 10 : 20) * 2 ** bits, tiles: 7 },
      hardware: { kind: 'chip', chip: { adc: { bits }, readTimeSeconds: t, tile: { rows: 256, cols: 256 } } },
    });
  });
  const rowsOf = (spec: unknown): PlotRow[] => (spec as { data: { values: PlotRow[] } }).data.values;

  test('each swept field gets its plots; a metric that does not change along it, and single-point panels, get none', () => {
    expect(studyPlots(records).map((p) => p.name)).toEqual([
      'accuracy-vs-adc-bits',
      'energy-vs-adc-bits',
      'accuracy-vs-read-time-seconds',
      'accuracy-energy-pareto',
    ]);
  });

  test('x is the field: linear for ADC bits, log for a read time spanning decades (resolved to seconds)', () => {
    const bits = accuracyVsAxisSpec(records, 'adc.bits') as unknown as Record<string, any>;
    expect(bits.spec.encoding.x).toMatchObject({ field: 'x', type: 'quantitative', title: 'ADC bits', axis: { values: [4, 6, 8] } });
    expect(bits.spec.encoding.color.title).toBe('model · read time (s)');
    expect(new Set(rowsOf(bits).map((r) => r.series))).toEqual(new Set(['a · read time=25 s', 'a · read time=1 h', 'a · read time=1 day']));
    const time = accuracyVsAxisSpec(records, 'readTimeSeconds') as unknown as Record<string, any>;
    expect(time.spec.encoding.x).toMatchObject({ title: 'read time (s)', scale: { type: 'log' } });
    expect(new Set(rowsOf(time).map((r) => r.x))).toEqual(new Set([25, 3600, 86400]));
    // energy does not depend on the read time: one line per device panel
    const energy = metricVsAxisSpec(records, 'adc.bits', METRIC_PLOTS[1]) as unknown as Record<string, any>;
    expect(rowsOf(energy).map((r) => [r.device, r.x, r.value, r.series])).toEqual([
      ['pcm', 4, 160, 'all points'], ['pcm', 6, 640, 'all points'], ['pcm', 8, 2560, 'all points'],
      ['reram', 4, 320, 'all points'], ['reram', 6, 1280, 'all points'], ['reram', 8, 5120, 'all points'],
    ]);
    expect(metricVsAxisSpec(records, 'readTimeSeconds', METRIC_PLOTS[1])).toBeNull();
  });

  test('a categorical field (tile) is an ordinal axis in the order swept', () => {
    const tiles = expandGrid(validateStudyConfig(
      { models: ['a'], devices: ['pcm'], noise: ['device'], semantics: ['passes'], dataset: { name: 'mnist' }, axes: { tile: ['256x256', '64x64', '128x128'] } },
      ['pcm'],
    )).map((p, i) => buildResultRecord(p, pointSeed(p, 0), 0, { accuracyPerSeed: [0.9 - i / 10] }));
    const spec = accuracyVsAxisSpec(tiles, 'tile') as unknown as Record<string, any>;
    expect(spec.spec.encoding.x).toMatchObject({ field: 'x', type: 'ordinal', sort: ['256x256', '64x64', '128x128'] });
  });

  test('the Pareto front compares chips only, coloured per device and chip setting', () => {
    const signal = expandGrid(validateStudyConfig({ models: ['a'], devices: ['signal'], sigmas: [0], semantics: ['signal'], dataset: { name: 'mnist', limit: 10 } }, ['signal']))
      .map((p) => buildResultRecord(p, pointSeed(p, 0), 0, { accuracyPerSeed: [1], metrics: { energyPicojoules: 1 }, hardware: { kind: 'signal', noise: { kind: 'multiplicative', sigma: 0 } } }));
    const front = accuracyEnergyFront([...records, ...signal]);
    expect(front.every((r) => r.point.device !== 'signal')).toBe(true);
    expect(front.length).toBeGreaterThan(0);
    const spec = accuracyEnergyParetoSpec([...records, ...signal]) as unknown as Record<string, any>;
    expect(rowsOf(spec)).toHaveLength(records.length);
    const colour = spec.spec.layer[1].encoding.color;
    expect(colour.title).toBe('device · ADC bits · read time (s)');
    expect(colour.sort).toHaveLength(18);
    expect(colour.scale).toEqual({ scheme: 'tableau20' });
    expect(accuracyEnergyParetoSpec(signal)).toBeNull();
  });
});
