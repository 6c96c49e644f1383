/**
 * Vega-lite specs for a study's plots, built by pure functions from result
 * records. The specs are plain JSON (data inlined), so they can be rendered
 * headless to SVG ({@link renderSvg}), opened in the Vega editor, or embedded in a
 * web page as they are.
 *
 * Lines are drawn per *series*: the model, plus every other point field that
 * takes more than one value in the records (noise kind, σ, voting semantics,
 * votes) and is neither the plot's x axis nor its facet, so no two different
 * points are joined into one line. Zoo model names carry the training noise
 * (`cnn6-mnist-mult-0.4`), so one line per model is one line per σ_train.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { PointConfig } from './grid';
import { paretoFront } from './pareto';
import type { ResultRecord } from './resultRecord';

/** One plot of a study. */
export interface StudyPlot {
  /** File stem, e.g. `accuracy-vs-sigma` (written as `accuracy-vs-sigma.svg`). */
  readonly name: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

/** A point field that can split records into series. */
export type PlotDimension = 'model' | 'device' | 'noise' | 'sigma' | 'semantics' | 'votes';

/** A metric plotted against votes, when the records carry it. */
export interface MetricPlotDefinition {
  /** Key in `record.metrics`. */
  readonly metric: string;
  readonly name: string;
  readonly title: string;
  readonly axisTitle: string;
}

/** The metrics plotted against votes, in order; a plot is left out when no record has its metric. */
export const METRIC_PLOTS: readonly MetricPlotDefinition[] = [
  { metric: 'latencyNs', name: 'latency-vs-votes', title: 'Latency vs votes', axisTitle: 'latency (ns)' },
  { metric: 'energyPicojoules', name: 'energy-vs-votes', title: 'Energy vs votes', axisTitle: 'energy (pJ)' },
  { metric: 'powerMilliwatts', name: 'power-vs-votes', title: 'Power vs votes', axisTitle: 'power (mW)' },
  { metric: 'tiles', name: 'tiles-vs-votes', title: 'Tiles vs votes', axisTitle: 'tiles' },
  {
    metric: 'areaSquareMicrometers',
    name: 'area-vs-votes',
    title: 'Area vs votes',
    axisTitle: 'area (µm²)',
  },
];

/** The metric the Pareto front trades accuracy against. */
export const PARETO_COST_METRIC = 'energyPicojoules';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const PANEL_WIDTH = 240;
const PANEL_HEIGHT = 180;
const MAX_FACET_COLUMNS = 4;
/** Legends show whole labels: zoo model names run past vega's default 160 px limit. */
const LEGEND = { labelLimit: 480 };

/** Order in which dimensions appear in a series label. */
const LABEL_ORDER: readonly PlotDimension[] = ['model', 'device', 'noise', 'sigma', 'semantics', 'votes'];

const DIMENSION_TITLE: Readonly<Record<PlotDimension, string>> = {
  model: 'model',
  device: 'device',
  noise: 'noise',
  sigma: 'σ',
  semantics: 'semantics',
  votes: 'votes',
};

/** A data row of a plot: the point's fields, its accuracy, its series and (for metric plots) a value. */
export interface PlotRow {
  readonly pointId: string;
  readonly model: string;
  readonly device: string;
  readonly noise: string;
  readonly sigma: number;
  readonly semantics: string;
  readonly votes: number;
  /** Mean accuracy over the seeds, a fraction. */
  readonly accuracy: number;
  /** Std of accuracy over the seeds; `null` with one seed. */
  readonly accuracyStd: number | null;
  /** Label of the line this row belongs to. */
  readonly series: string;
  readonly value?: number;
  readonly onFront?: boolean;
}

function dimensionValue(point: PointConfig, dim: PlotDimension): string | number {
  return point[dim];
}

function dimensionText(point: PointConfig, dim: PlotDimension): string {
  switch (dim) {
    case 'sigma':
      return `σ=${point.sigma}`;
    case 'votes':
      return `V=${point.votes}`;
    case 'model':
    case 'device':
    case 'noise':
    case 'semantics':
      return point[dim];
    default: {
      const never: never = dim;
      return never;
    }
  }
}

/** The dimensions among `dims` that take more than one value in `records`. */
export function varyingDimensions(records: readonly ResultRecord[], dims: readonly PlotDimension[]): PlotDimension[] {
  return dims.filter((dim) => new Set(records.map((r) => dimensionValue(r.point, dim))).size > 1);
}

/**
 * The series dimensions of a plot: the model always, and every other dimension
 * that varies in `records`, minus those in `exclude` (the x axis and the facet).
 */
export function seriesDimensions(records: readonly ResultRecord[], exclude: readonly PlotDimension[]): PlotDimension[] {
  const varying = varyingDimensions(records, LABEL_ORDER);
  return LABEL_ORDER.filter((dim) => !exclude.includes(dim) && (dim === 'model' || varying.includes(dim)));
}

/**
 * Drops, greedily in the order given, each dimension of `dims` that `value` does
 * not depend on: a dimension goes when the records that agree on `fixed` and on
 * the dimensions still kept all have the same value. Latency does not depend on
 * σ, so latency-vs-votes draws one line where accuracy would need one per σ.
 */
export function dimensionsThatMatter(
  records: readonly ResultRecord[],
  dims: readonly PlotDimension[],
  fixed: readonly PlotDimension[],
  value: (record: ResultRecord) => number,
): PlotDimension[] {
  let kept = [...dims];
  for (const dim of dims) {
    const without = kept.filter((d) => d !== dim);
    const keyDims = [...fixed, ...without];
    const seen = new Map<string, number>();
    let matters = false;
    for (const r of records) {
      const key = JSON.stringify(keyDims.map((d) => dimensionValue(r.point, d)));
      const v = value(r);
      const before = seen.get(key);
      if (before === undefined) seen.set(key, v);
      else if (!Object.is(before, v)) {
        matters = true;
        break;
      }
    }
    if (!matters) kept = without;
  }
  return kept;
}

function seriesLabel(point: PointConfig, dims: readonly PlotDimension[]): string {
  return dims.length === 0 ? 'all points' : dims.map((d) => dimensionText(point, d)).join(' · ');
}

function seriesTitle(dims: readonly PlotDimension[]): string {
  return dims.length === 0 ? 'series' : dims.map((d) => DIMENSION_TITLE[d]).join(' · ');
}

function toRow(record: ResultRecord, series: string, extra: { value?: number; onFront?: boolean } = {}): PlotRow {
  const p = record.point;
  return {
    pointId: record.pointId,
    model: p.model,
    device: p.device,
    noise: p.noise,
    sigma: p.sigma,
    semantics: p.semantics,
    votes: p.votes,
    accuracy: record.accuracy.mean,
    accuracyStd: record.accuracy.std,
    series,
    ...extra,
  };
}

/** The numeric value of `metric` in `record`, or `undefined` when absent or not a finite number. */
export function numericMetric(record: ResultRecord, metric: string): number | undefined {
  const v = record.metrics[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

const TOOLTIP = [
  { field: 'model', type: 'nominal' },
  { field: 'device', type: 'nominal' },
  { field: 'noise', type: 'nominal' },
  { field: 'sigma', type: 'quantitative', title: 'σ' },
  { field: 'semantics', type: 'nominal' },
  { field: 'votes', type: 'quantitative' },
  { field: 'accuracy', type: 'quantitative', format: '.2%' },
] as const;

interface LineSpecInput {
  readonly title: string;
  readonly rows: readonly PlotRow[];
  readonly devices: readonly string[];
  readonly x: { readonly field: 'sigma' | 'votes'; readonly title: string; readonly values: readonly number[] };
  readonly y: { readonly field: 'accuracy' | 'value'; readonly title: string; readonly percent: boolean };
  readonly seriesTitle: string;
  readonly series: readonly string[];
}

/** Lines with a point at each row, x quantitative, one panel per device. */
function facetedLineSpec(input: LineSpecInput): TopLevelSpec {
  const tooltip =
    input.y.field === 'value'
      ? [...TOOLTIP, { field: 'value', type: 'quantitative', title: input.y.title }]
      : [...TOOLTIP];
  return {
    $schema: SCHEMA,
    title: input.title,
    data: { values: input.rows.map((r) => ({ ...r })) },
    facet: { field: 'device', type: 'nominal', title: 'device', sort: [...input.devices] },
    columns: Math.min(MAX_FACET_COLUMNS, input.devices.length),
    spec: {
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: input.x.field,
          type: 'quantitative',
          title: input.x.title,
          axis: { values: [...input.x.values] },
        },
        y: {
          field: input.y.field,
          type: 'quantitative',
          title: input.y.title,
          scale: { zero: !input.y.percent },
          ...(input.y.percent ? { axis: { format: '.0%' } } : {}),
        },
        color: {
          field: 'series',
          type: 'nominal',
          title: input.seriesTitle,
          sort: [...input.series],
          legend: LEGEND,
        },
        tooltip,
      },
    },
  } as TopLevelSpec;
}

function sortedNumbers(values: readonly number[]): number[] {
  return distinct(values).sort((a, b) => a - b);
}

/** Accuracy vs σ, one line per model (and per any other varying field), one panel per device. */
export function accuracyVsSigmaSpec(records: readonly ResultRecord[]): TopLevelSpec | null {
  if (records.length === 0) return null;
  const dims = seriesDimensions(records, ['sigma', 'device']);
  const rows = records.map((r) => toRow(r, seriesLabel(r.point, dims)));
  return facetedLineSpec({
    title: 'Accuracy vs σ',
    rows,
    devices: distinct(records.map((r) => r.point.device)),
    x: { field: 'sigma', title: 'σ', values: sortedNumbers(records.map((r) => r.point.sigma)) },
    y: { field: 'accuracy', title: 'accuracy', percent: true },
    seriesTitle: seriesTitle(dims),
    series: distinct(rows.map((r) => r.series)),
  });
}

/** Accuracy vs votes V, one line per model (and per any other varying field), one panel per device. */
export function accuracyVsVotesSpec(records: readonly ResultRecord[]): TopLevelSpec | null {
  if (records.length === 0) return null;
  const dims = seriesDimensions(records, ['votes', 'device']);
  const rows = records.map((r) => toRow(r, seriesLabel(r.point, dims)));
  return facetedLineSpec({
    title: 'Accuracy vs votes',
    rows,
    devices: distinct(records.map((r) => r.point.device)),
    x: { field: 'votes', title: 'votes V', values: sortedNumbers(records.map((r) => r.point.votes)) },
    y: { field: 'accuracy', title: 'accuracy', percent: true },
    seriesTitle: seriesTitle(dims),
    series: distinct(rows.map((r) => r.series)),
  });
}

/**
 * A metric vs votes V, one panel per device, over the records that carry the
 * metric as a number; `null` when none does. Series are split only by the
 * fields the metric depends on ({@link dimensionsThatMatter}), and points that
 * would coincide are drawn once.
 */
export function metricVsVotesSpec(
  records: readonly ResultRecord[],
  definition: MetricPlotDefinition,
): TopLevelSpec | null {
  const withMetric = records.filter((r) => numericMetric(r, definition.metric) !== undefined);
  if (withMetric.length === 0) return null;
  const value = (r: ResultRecord): number => numericMetric(r, definition.metric) as number;
  const candidates = seriesDimensions(withMetric, ['votes', 'device']);
  // Try σ and noise first: they are the fields a cost metric is least likely to depend on.
  const dropOrder: PlotDimension[] = ['sigma', 'noise', 'semantics', 'model'].filter((d) =>
    candidates.includes(d as PlotDimension),
  ) as PlotDimension[];
  const kept = dimensionsThatMatter(withMetric, dropOrder, ['device', 'votes'], value);
  const dims = LABEL_ORDER.filter((d) => kept.includes(d));
  const seen = new Set<string>();
  const rows: PlotRow[] = [];
  for (const r of withMetric) {
    const series = seriesLabel(r.point, dims);
    const key = JSON.stringify([series, r.point.device, r.point.votes]);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(toRow(r, series, { value: value(r) }));
  }
  return facetedLineSpec({
    title: definition.title,
    rows,
    devices: distinct(withMetric.map((r) => r.point.device)),
    x: { field: 'votes', title: 'votes V', values: sortedNumbers(withMetric.map((r) => r.point.votes)) },
    y: { field: 'value', title: definition.axisTitle, percent: false },
    seriesTitle: seriesTitle(dims),
    series: distinct(rows.map((r) => r.series)),
  });
}

/**
 * The noise condition a point was evaluated under: its σ, prefixed with the noise
 * kind when `withNoise` (when the records mix kinds), e.g. `σ=0.4` or
 * `additive σ=0.4`. Accuracy at different σ is not a design choice but a
 * different question, so Pareto fronts are taken within one condition.
 */
export function noiseCondition(point: PointConfig, withNoise: boolean): string {
  return withNoise ? `${point.noise} σ=${point.sigma}` : `σ=${point.sigma}`;
}

/**
 * The records on the accuracy–energy Pareto front of their noise condition
 * ({@link noiseCondition}): within each condition, the device, model, semantics
 * and vote count that no other beats on both accuracy and `energyPicojoules`
 * (see {@link paretoFront}). Conditions in order of first appearance, each front
 * cheapest first; records without a numeric energy take no part.
 */
export function accuracyEnergyFront(records: readonly ResultRecord[]): ResultRecord[] {
  const withEnergy = records.filter((r) => numericMetric(r, PARETO_COST_METRIC) !== undefined);
  const groups = new Map<string, ResultRecord[]>();
  for (const r of withEnergy) {
    const key = JSON.stringify([r.point.noise, r.point.sigma]);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [r]);
    else group.push(r);
  }
  return [...groups.values()].flatMap((group) =>
    paretoFront(
      group,
      (r) => r.accuracy.mean,
      (r) => numericMetric(r, PARETO_COST_METRIC) as number,
    ),
  );
}

/**
 * Accuracy vs energy of every point that has an energy, one panel per noise
 * condition, coloured by device, with the condition's Pareto front across all
 * devices drawn as a staircase (beyond a front point, more energy buys nothing
 * until the next one) and its points drawn large (the subtitle says so: a size
 * legend for a boolean would need a sorted field). The energy axis is
 * logarithmic when all energies are positive and span at least a factor of 10.
 * `null` when no record has an energy.
 */
export function accuracyEnergyParetoSpec(records: readonly ResultRecord[]): TopLevelSpec | null {
  const withEnergy = records.filter((r) => numericMetric(r, PARETO_COST_METRIC) !== undefined);
  if (withEnergy.length === 0) return null;
  const front = new Set(accuracyEnergyFront(withEnergy).map((r) => r.pointId));
  const withNoise = varyingDimensions(withEnergy, ['noise']).length > 0;
  const rows = withEnergy.map((r) => ({
    ...toRow(r, r.point.device, { value: numericMetric(r, PARETO_COST_METRIC), onFront: front.has(r.pointId) }),
    condition: noiseCondition(r.point, withNoise),
  }));
  const conditions = distinct(rows.map((r) => r.condition));
  const energies = rows.map((r) => r.value as number);
  const min = Math.min(...energies);
  const max = Math.max(...energies);
  const log = min > 0 && max / min >= 10;
  const x = {
    field: 'value',
    type: 'quantitative',
    title: 'energy (pJ)',
    scale: log ? { type: 'log' } : { zero: false },
  };
  const y = { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { zero: false }, axis: { format: '.0%' } };
  const models = distinct(withEnergy.map((r) => r.point.model));
  return {
    $schema: SCHEMA,
    title: {
      text: 'Accuracy–energy Pareto front across devices',
      subtitle: 'large points and the staircase: the front (no point has higher accuracy for less energy)',
    },
    data: { values: rows },
    facet: { field: 'condition', type: 'nominal', title: 'noise', sort: conditions },
    columns: Math.min(3, conditions.length),
    spec: {
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      layer: [
        {
          transform: [{ filter: 'datum.onFront' }],
          mark: { type: 'line', interpolate: 'step-after', color: '#333333', strokeWidth: 1.5 },
          encoding: { x, y, order: { field: 'value', type: 'quantitative' } },
        },
        {
          mark: { type: 'point', filled: true },
          encoding: {
            x,
            y,
            color: {
              field: 'device',
              type: 'nominal',
              title: 'device',
              sort: distinct(withEnergy.map((r) => r.point.device)),
            },
            ...(models.length > 1
              ? { shape: { field: 'model', type: 'nominal', title: 'model', sort: models, legend: LEGEND } }
              : {}),
            size: { condition: { test: 'datum.onFront', value: 140 }, value: 30 },
            tooltip: [...TOOLTIP, { field: 'value', type: 'quantitative', title: 'energy (pJ)' }],
          },
        },
      ],
    },
  } as TopLevelSpec;
}

/**
 * Every plot the records support, in a fixed order: accuracy vs σ, accuracy vs
 * votes, each of {@link METRIC_PLOTS} present, and the accuracy–energy Pareto
 * front (when the records have `energyPicojoules`). Empty for no records.
 */
export function studyPlots(records: readonly ResultRecord[]): StudyPlot[] {
  const plots: StudyPlot[] = [];
  const add = (name: string, title: string, spec: TopLevelSpec | null): void => {
    if (spec !== null) plots.push({ name, title, spec });
  };
  add('accuracy-vs-sigma', 'Accuracy vs σ', accuracyVsSigmaSpec(records));
  add('accuracy-vs-votes', 'Accuracy vs votes', accuracyVsVotesSpec(records));
  for (const def of METRIC_PLOTS) add(def.name, def.title, metricVsVotesSpec(records, def));
  add('accuracy-energy-pareto', 'Accuracy–energy Pareto front', accuracyEnergyParetoSpec(records));
  return plots;
}
