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
import { SIGNAL_DEVICE } from './studyHardware';
import { axisLabel, axisValueText } from './fieldLabels';
import { paretoFront } from './pareto';
import type { ResultRecord } from './resultRecord';

/** One plot of a study. */
export interface StudyPlot {
  /** File stem, e.g. `accuracy-vs-sigma` (written as `accuracy-vs-sigma.svg`). */
  readonly name: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

/**
 * A point field that can split records into series or be a plot's x axis: a grid
 * field, or `axis:PATH` for a sweep axis (a chip path such as `adc.bits`, or `site`).
 */
export type PlotDimension = 'model' | 'device' | 'noise' | 'sigma' | 'semantics' | 'votes' | `axis:${string}`;

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
/** A log x axis when every value is positive and they span at least this factor (two decades). */
const LOG_SPAN = 100;

/** Order in which the grid dimensions appear in a series label (axis dimensions follow). */
const GRID_ORDER: readonly PlotDimension[] = ['model', 'device', 'noise', 'sigma', 'semantics', 'votes'];

const DIMENSION_TITLE: Readonly<Record<string, string>> = {
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
  /** The x value of a plot over a sweep axis. */
  readonly x?: number | string;
}

function axisPath(dim: PlotDimension): string | undefined {
  return dim.startsWith('axis:') ? dim.slice(5) : undefined;
}

function dimensionValue(point: PointConfig, dim: PlotDimension): string | number {
  const path = axisPath(dim);
  if (path !== undefined) return JSON.stringify(point.axes?.[path] ?? null);
  return point[dim as Exclude<PlotDimension, `axis:${string}`>];
}

function dimensionText(point: PointConfig, dim: PlotDimension): string {
  const path = axisPath(dim);
  if (path !== undefined) {
    const value = point.axes?.[path];
    // A value written with its unit ("1 h") needs no unit in the label.
    const label = typeof value === 'string' ? axisLabel(path).replace(/ \([^)]*\)$/, '') : axisLabel(path);
    return `${label}=${point.axes && path in point.axes ? axisValueText(path, value) : '–'}`;
  }
  switch (dim) {
    case 'sigma':
      return `σ=${point.sigma}`;
    case 'votes':
      return `V=${point.votes}`;
    default:
      return String(point[dim as 'model' | 'device' | 'noise' | 'semantics']);
  }
}

function dimensionTitle(dim: PlotDimension): string {
  const path = axisPath(dim);
  return path !== undefined ? axisLabel(path) : DIMENSION_TITLE[dim];
}

/** The sweep axes of the records (chip paths, `site`), in order of first appearance. */
export function recordAxes(records: readonly ResultRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) for (const path of Object.keys(r.point.axes ?? {})) if (!out.includes(path)) out.push(path);
  return out;
}

/** Every dimension of the records: the grid fields, then their axes. */
function labelOrder(records: readonly ResultRecord[]): PlotDimension[] {
  return [...GRID_ORDER, ...recordAxes(records).map((p) => `axis:${p}` as PlotDimension)];
}

/** The dimensions among `dims` that take more than one value in `records`. */
export function varyingDimensions(records: readonly ResultRecord[], dims: readonly PlotDimension[]): PlotDimension[] {
  return dims.filter((dim) => new Set(records.map((r) => dimensionValue(r.point, dim))).size > 1);
}

/**
 * The series dimensions of a plot: the model always, and every other dimension
 * (axes included) that varies in `records`, minus those in `exclude` (the x axis and the facet).
 */
export function seriesDimensions(records: readonly ResultRecord[], exclude: readonly PlotDimension[]): PlotDimension[] {
  const order = labelOrder(records);
  const varying = varyingDimensions(records, order);
  return order.filter((dim) => !exclude.includes(dim) && (dim === 'model' || varying.includes(dim)));
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
  return dims.length === 0 ? 'series' : dims.map(dimensionTitle).join(' · ');
}

function toRow(record: ResultRecord, series: string, extra: { value?: number; onFront?: boolean; x?: number | string } = {}): PlotRow {
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
  { field: 'series', type: 'nominal' },
  { field: 'accuracy', type: 'quantitative', format: '.2%' },
] as const;

/** A colour scale whose colours stay distinct for up to 20 series. */
function colourScale(series: number): { scheme: string } {
  return { scheme: series > 10 ? 'tableau20' : 'tableau10' };
}

/** How a plot reads its x value from a record. */
interface XAxis {
  readonly dim: PlotDimension;
  readonly title: string;
  /** The row field holding x: a grid field, or `x` for an axis. */
  readonly field: 'sigma' | 'votes' | 'x';
  readonly value: (r: ResultRecord) => number | string | undefined;
}

const SIGMA_X: XAxis = { dim: 'sigma', title: 'σ', field: 'sigma', value: (r) => r.point.sigma };
const VOTES_X: XAxis = { dim: 'votes', title: 'votes V', field: 'votes', value: (r) => r.point.votes };

/** The value at a dotted path of a resolved chip (`adc.bits`, `tile`), or of a layer's (`layers.conv1.adc.bits`). */
function resolvedValue(hardware: ResultRecord['hardware'], path: string): unknown {
  if (!hardware) return undefined;
  const parts = (path === 'device.readTimeSeconds' ? 'readTimeSeconds' : path).split('.');
  let cur: unknown = parts[0] === 'layers' ? hardware.layers : hardware.chip;
  if (parts[0] === 'layers') {
    cur = (cur as Record<string, unknown> | undefined)?.[parts[1]];
    parts.splice(0, 2);
  }
  for (const part of parts) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part === 'preset' ? 'kind' : part];
  }
  return cur;
}

/**
 * The x axis of a sweep over `path`: the resolved number where the record's
 * hardware has one (so "1 h" plots at 3600 s), else the value as given (numbers,
 * or text such as `128x128`).
 */
function axisX(path: string): XAxis {
  return {
    dim: `axis:${path}`,
    title: axisLabel(path),
    field: 'x',
    value: (r) => {
      if (!r.point.axes || !(path in r.point.axes)) return undefined;
      const given = r.point.axes[path];
      const resolved = path === 'site' ? undefined : resolvedValue(r.hardware, path);
      if (typeof resolved === 'number') return resolved;
      if (typeof given === 'number') return given;
      return axisValueText(path, given);
    },
  };
}

/** The x encoding: quantitative for numbers (log when they span two decades), else ordinal in order of appearance. */
function xEncoding(x: XAxis, values: readonly (number | string)[]): Record<string, unknown> {
  const distinctValues = distinct(values);
  if (distinctValues.every((v) => typeof v === 'number')) {
    const nums = (distinctValues as number[]).sort((a, b) => a - b);
    const log = nums[0] > 0 && nums[nums.length - 1] / nums[0] >= LOG_SPAN;
    return {
      field: x.field,
      type: 'quantitative',
      title: x.title,
      ...(log ? { scale: { type: 'log' } } : { axis: { values: nums } }),
      ...(log && nums.length <= 12 ? { axis: { values: nums } } : {}),
    };
  }
  return { field: x.field, type: 'ordinal', title: x.title, sort: distinctValues.map(String) };
}

/**
 * The records of the device panels where x takes at least two values: a panel of
 * one point per series says nothing about x, so it is left out.
 */
function multiPointPanels(records: readonly ResultRecord[], x: XAxis): ResultRecord[] {
  const xs = new Map<string, Set<string>>();
  for (const r of records) {
    const v = x.value(r);
    if (v === undefined) continue;
    const set = xs.get(r.point.device) ?? new Set<string>();
    set.add(String(v));
    xs.set(r.point.device, set);
  }
  return records.filter((r) => x.value(r) !== undefined && (xs.get(r.point.device)?.size ?? 0) >= 2);
}

interface LineSpecInput {
  readonly title: string;
  readonly rows: readonly PlotRow[];
  readonly devices: readonly string[];
  readonly x: Record<string, unknown>;
  readonly y: { readonly field: 'accuracy' | 'value'; readonly title: string; readonly percent: boolean };
  readonly seriesTitle: string;
  readonly series: readonly string[];
  readonly xTooltip?: { readonly title: string };
}

/** Lines with a point at each row, one panel per device. */
function facetedLineSpec(input: LineSpecInput): TopLevelSpec {
  const tooltip: unknown[] = [...TOOLTIP];
  if (input.y.field === 'value') tooltip.push({ field: 'value', type: 'quantitative', title: input.y.title });
  if (input.xTooltip) tooltip.push({ field: 'x', type: 'nominal', title: input.xTooltip.title });
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
        x: input.x,
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
          scale: colourScale(input.series.length),
          legend: LEGEND,
        },
        tooltip,
      },
    },
  } as TopLevelSpec;
}

/** Accuracy vs `x`, one line per model and any other varying field, one panel per device with two or more x values. */
function accuracyLines(records: readonly ResultRecord[], x: XAxis, title: string): TopLevelSpec | null {
  const kept = multiPointPanels(records, x);
  if (kept.length === 0) return null;
  const dims = seriesDimensions(kept, [x.dim, 'device']);
  const rows = kept.map((r) => toRow(r, seriesLabel(r.point, dims), x.field === 'x' ? { x: x.value(r) } : {}));
  return facetedLineSpec({
    title,
    rows,
    devices: distinct(kept.map((r) => r.point.device)),
    x: xEncoding(x, kept.map((r) => x.value(r)!)),
    y: { field: 'accuracy', title: 'accuracy', percent: true },
    seriesTitle: seriesTitle(dims),
    series: distinct(rows.map((r) => r.series)),
    ...(x.field === 'x' ? { xTooltip: { title: x.title } } : {}),
  });
}

/** A metric vs `x`, series split only by the fields it depends on; `null` without the metric or x values. */
function metricLines(records: readonly ResultRecord[], x: XAxis, definition: MetricPlotDefinition, title: string): TopLevelSpec | null {
  const withMetric = multiPointPanels(records.filter((r) => numericMetric(r, definition.metric) !== undefined), x);
  if (withMetric.length === 0) return null;
  const value = (r: ResultRecord): number => numericMetric(r, definition.metric) as number;
  const candidates = seriesDimensions(withMetric, [x.dim, 'device']);
  // Try σ and noise first: they are the fields a cost metric is least likely to depend on.
  const first: PlotDimension[] = ['sigma', 'noise', 'semantics', 'model'];
  const dropOrder = [...first, ...candidates.filter((d) => !first.includes(d))].filter((d) => candidates.includes(d));
  const kept = dimensionsThatMatter(withMetric, dropOrder, ['device', x.dim], value);
  const dims = labelOrder(withMetric).filter((d) => kept.includes(d));
  const seen = new Set<string>();
  const rows: PlotRow[] = [];
  for (const r of withMetric) {
    const series = seriesLabel(r.point, dims);
    const key = JSON.stringify([series, r.point.device, x.value(r)]);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(toRow(r, series, { value: value(r), ...(x.field === 'x' ? { x: x.value(r) } : {}) }));
  }
  return facetedLineSpec({
    title,
    rows,
    devices: distinct(withMetric.map((r) => r.point.device)),
    x: xEncoding(x, withMetric.map((r) => x.value(r)!)),
    y: { field: 'value', title: definition.axisTitle, percent: false },
    seriesTitle: seriesTitle(dims),
    series: distinct(rows.map((r) => r.series)),
    ...(x.field === 'x' ? { xTooltip: { title: x.title } } : {}),
  });
}

/** Accuracy vs σ, one line per model (and per any other varying field), one panel per device. */
export function accuracyVsSigmaSpec(records: readonly ResultRecord[]): TopLevelSpec | null {
  return accuracyLines(records, SIGMA_X, 'Accuracy vs σ');
}

/** Accuracy vs votes V, one line per model (and per any other varying field), one panel per device. */
export function accuracyVsVotesSpec(records: readonly ResultRecord[]): TopLevelSpec | null {
  return accuracyLines(records, VOTES_X, 'Accuracy vs votes');
}

/**
 * A metric vs votes V, one panel per device, over the records that carry the
 * metric as a number; `null` when none does. Series are split only by the
 * fields the metric depends on ({@link dimensionsThatMatter}), and points that
 * would coincide are drawn once.
 */
export function metricVsVotesSpec(records: readonly ResultRecord[], definition: MetricPlotDefinition): TopLevelSpec | null {
  return metricLines(records, VOTES_X, definition, definition.title);
}

/** Accuracy vs a sweep axis (`adc.bits`, `tile`, `readTimeSeconds`, `site`): the axis on x, one panel per device. */
export function accuracyVsAxisSpec(records: readonly ResultRecord[], path: string): TopLevelSpec | null {
  return accuracyLines(records, axisX(path), `Accuracy vs ${axisLabel(path)}`);
}

/** A metric vs a sweep axis; `null` when the metric is absent or does not depend on the axis. */
export function metricVsAxisSpec(records: readonly ResultRecord[], path: string, definition: MetricPlotDefinition): TopLevelSpec | null {
  const withMetric = records.filter((r) => r.point.axes && path in r.point.axes && numericMetric(r, definition.metric) !== undefined);
  // Plotted only where the metric changes along the axis, every other field held fixed.
  const others = labelOrder(withMetric).filter((d) => d !== `axis:${path}`);
  const byRest = new Map<string, Set<number>>();
  for (const r of withMetric) {
    const key = JSON.stringify(others.map((d) => dimensionValue(r.point, d)));
    const set = byRest.get(key) ?? new Set<number>();
    set.add(numericMetric(r, definition.metric) as number);
    byRest.set(key, set);
  }
  if (![...byRest.values()].some((set) => set.size > 1)) return null;
  const noun = definition.title.replace(/ vs votes$/, '');
  return metricLines(records, axisX(path), definition, `${noun} vs ${axisLabel(path)}`);
}

/** A file-name part for an axis: `adc.bits` → `adc-bits`. */
export function axisSlug(path: string): string {
  return path.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'axis';
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
 * Whether a record ran on a chip (so its costs are a chip's): its resolved
 * hardware is a chip, or signal-level noise costed on a named chip. A record
 * without hardware (another evaluator, or written before hardware was recorded)
 * counts as a chip unless its device is the signal-level model, whose costs were
 * those of an imaginary ideal chip.
 */
export function hasChip(record: ResultRecord): boolean {
  const h = record.hardware;
  if (h !== undefined) return h.kind === 'chip' || (h.kind === 'signal' && h.chip !== undefined);
  return record.point.device !== SIGNAL_DEVICE;
}

/** The records that take part in a Pareto front: a chip's, with a numeric energy. */
function paretoCandidates(records: readonly ResultRecord[]): ResultRecord[] {
  return records.filter((r) => hasChip(r) && numericMetric(r, PARETO_COST_METRIC) !== undefined);
}

/**
 * The records on the accuracy–energy Pareto front of their noise condition
 * ({@link noiseCondition}): within each condition, the device, chip settings,
 * model, semantics and vote count that no other beats on both accuracy and
 * `energyPicojoules` (see {@link paretoFront}). Only records with a chip take
 * part ({@link hasChip}), and only those with a numeric energy. Conditions in
 * order of first appearance, each front cheapest first.
 */
export function accuracyEnergyFront(records: readonly ResultRecord[]): ResultRecord[] {
  const groups = new Map<string, ResultRecord[]>();
  for (const r of paretoCandidates(records)) {
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
 * Accuracy vs energy of every chip point that has an energy, one panel per
 * noise condition, coloured by device and chip settings (the axis values), with
 * the condition's Pareto front drawn as a staircase (beyond a front point, more
 * energy buys nothing until the next one) and its points drawn large (the
 * subtitle says so: a size legend for a boolean would need a sorted field). The
 * energy axis is logarithmic when all energies are positive and span at least a
 * factor of 10. `null` when no such record exists.
 */
export function accuracyEnergyParetoSpec(records: readonly ResultRecord[]): TopLevelSpec | null {
  const withEnergy = paretoCandidates(records);
  if (withEnergy.length === 0) return null;
  const front = new Set(accuracyEnergyFront(withEnergy).map((r) => r.pointId));
  const withNoise = varyingDimensions(withEnergy, ['noise']).length > 0;
  const hardwareDims: PlotDimension[] = ['device', ...varyingDimensions(withEnergy, recordAxes(withEnergy).map((p) => `axis:${p}` as PlotDimension))];
  const rows = withEnergy.map((r) => ({
    ...toRow(r, seriesLabel(r.point, hardwareDims), { value: numericMetric(r, PARETO_COST_METRIC), onFront: front.has(r.pointId) }),
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
  const series = distinct(rows.map((r) => r.series));
  return {
    $schema: SCHEMA,
    title: {
      text: 'Accuracy–energy Pareto front across chips',
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
              field: 'series',
              type: 'nominal',
              title: seriesTitle(hardwareDims),
              sort: series,
              scale: colourScale(series.length),
              legend: LEGEND,
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
 * votes, each of {@link METRIC_PLOTS} present, then for each sweep axis accuracy
 * vs the axis and each metric that changes along it, and the accuracy–energy
 * Pareto front (when chip records have `energyPicojoules`). A plot whose every
 * panel would hold a single x value is left out. Empty for no records.
 */
export function studyPlots(records: readonly ResultRecord[]): StudyPlot[] {
  const plots: StudyPlot[] = [];
  const add = (name: string, title: string, spec: TopLevelSpec | null): void => {
    if (spec !== null) plots.push({ name, title, spec });
  };
  add('accuracy-vs-sigma', 'Accuracy vs σ', accuracyVsSigmaSpec(records));
  add('accuracy-vs-votes', 'Accuracy vs votes', accuracyVsVotesSpec(records));
  for (const def of METRIC_PLOTS) add(def.name, def.title, metricVsVotesSpec(records, def));
  for (const path of recordAxes(records)) {
    const slug = axisSlug(path);
    add(`accuracy-vs-${slug}`, `Accuracy vs ${axisLabel(path)}`, accuracyVsAxisSpec(records, path));
    for (const def of METRIC_PLOTS) {
      const noun = def.name.replace(/-vs-votes$/, '');
      add(`${noun}-vs-${slug}`, `${def.title.replace(/ vs votes$/, '')} vs ${axisLabel(path)}`, metricVsAxisSpec(records, path, def));
    }
  }
  add('accuracy-energy-pareto', 'Accuracy–energy Pareto front', accuracyEnergyParetoSpec(records));
  return plots;
}
