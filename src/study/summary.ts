/**
 * Tables from result records: Markdown for reading, CSV for spreadsheets and
 * plotting. Both list records in the order given (sort them first, e.g. with
 * {@link mergeResultFiles}) and add one column per metric name found in any record,
 * in ascending name order; a record without that metric gets an empty cell.
 */
import type { MetricValue, ResultRecord } from './resultRecord';
import { axisLabel, axisValueText, metricLabel } from './fieldLabels';

/** The sweep axes of the records (chip paths, `site`), in order of first appearance. */
export function axisNames(records: readonly ResultRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) for (const path of Object.keys(r.point.axes ?? {})) if (!out.includes(path)) out.push(path);
  return out;
}

/** Every metric name in `records`, ascending. */
export function metricNames(records: readonly ResultRecord[]): string[] {
  const names = new Set<string>();
  for (const r of records) for (const name of Object.keys(r.metrics)) names.add(name);
  return [...names].sort();
}

function formatMetricMarkdown(value: MetricValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  return String(value);
}

function escapeMarkdown(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function percent(x: number): string {
  return (100 * x).toFixed(2);
}

/**
 * A Markdown table, one row per record: the point's model, device, the values of
 * its sweep axes (readable titles with units: `ADC bits`, `read time (s)`), noise,
 * σ, voting semantics and votes, the number of seeds, accuracy as a percentage
 * `mean ± std` (std over seeds; omitted for one seed), then the metrics under
 * readable titles (`energy (pJ)`; numbers to 4 significant digits).
 */
export function summaryMarkdown(records: readonly ResultRecord[]): string {
  const metrics = metricNames(records);
  const axes = axisNames(records);
  const header = ['model', 'device', ...axes.map(axisLabel), 'noise', 'σ', 'semantics', 'votes', 'seeds', 'accuracy %', ...metrics.map(metricLabel)];
  const rows = records.map((r) => {
    const acc =
      r.accuracy.std === null ? percent(r.accuracy.mean) : `${percent(r.accuracy.mean)} ± ${percent(r.accuracy.std)}`;
    return [
      r.point.model,
      r.point.device,
      ...axes.map((a) => axisValueText(a, r.point.axes?.[a])),
      r.point.noise,
      String(r.point.sigma),
      r.point.semantics,
      String(r.point.votes),
      String(r.point.seeds.length),
      acc,
      ...metrics.map((m) => formatMetricMarkdown(r.metrics[m])),
    ];
  });
  // Text columns left, numbers right: model, device and the axes' text, noise and semantics are text.
  const numericAxis = axes.map((a) => records.every((r) => r.point.axes?.[a] === undefined || typeof r.point.axes[a] === 'number'));
  const textColumns = new Set([0, 1, ...axes.map((_, k) => (numericAxis[k] ? -1 : 2 + k)), 2 + axes.length, 4 + axes.length]);
  const align = header.map((_, i) => (textColumns.has(i) ? '---' : '---:'));
  const line = (cells: string[]): string => `| ${cells.map(escapeMarkdown).join(' | ')} |`;
  return [line(header), `| ${align.join(' | ')} |`, ...rows.map(line)].join('\n') + '\n';
}

function csvAxisValue(value: unknown): MetricValue | undefined {
  if (value === undefined || value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

function csvCell(value: MetricValue | undefined): string {
  if (value === undefined || value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * CSV (RFC 4180, `\n` line ends) with full-precision numbers: pointId, the point's
 * configuration, dataset, point seed, accuracy mean/std/min/max (fractions, not
 * percent), then the metrics. Seeds are space-separated in one cell.
 */
export function summaryCsv(records: readonly ResultRecord[]): string {
  const metrics = metricNames(records);
  const axes = axisNames(records);
  const header = [
    'pointId',
    'model',
    'device',
    ...axes,
    'noise',
    'sigma',
    'semantics',
    'votes',
    'seeds',
    'dataset',
    'datasetLimit',
    'seed',
    'accuracyMean',
    'accuracyStd',
    'accuracyMin',
    'accuracyMax',
    ...metrics,
  ];
  const rows = records.map((r) => [
    r.pointId,
    r.point.model,
    r.point.device,
    ...axes.map((a) => csvAxisValue(r.point.axes?.[a])),
    r.point.noise,
    r.point.sigma,
    r.point.semantics,
    r.point.votes,
    r.point.seeds.join(' '),
    r.point.dataset.name,
    r.point.dataset.limit,
    r.seed,
    r.accuracy.mean,
    r.accuracy.std,
    r.accuracy.min,
    r.accuracy.max,
    ...metrics.map((m) => r.metrics[m]),
  ]);
  return [header, ...rows].map((cells) => cells.map(csvCell).join(',')).join('\n') + '\n';
}
