/**
 * Tables from result records: Markdown for reading, CSV for spreadsheets and
 * plotting. Both list records in the order given (sort them first, e.g. with
 * {@link mergeResultFiles}) and add one column per metric name found in any record,
 * in ascending name order; a record without that metric gets an empty cell.
 */
import type { MetricValue, ResultRecord } from './resultRecord';

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
 * A Markdown table, one row per record: the point's model, device, noise, σ,
 * voting semantics and votes, the number of seeds, accuracy as a percentage
 * `mean ± std` (std over seeds; omitted for one seed), then the metrics (numbers
 * to 4 significant digits).
 */
export function summaryMarkdown(records: readonly ResultRecord[]): string {
  const metrics = metricNames(records);
  const header = ['model', 'device', 'noise', 'σ', 'semantics', 'votes', 'seeds', 'accuracy %', ...metrics];
  const rows = records.map((r) => {
    const acc =
      r.accuracy.std === null ? percent(r.accuracy.mean) : `${percent(r.accuracy.mean)} ± ${percent(r.accuracy.std)}`;
    return [
      r.point.model,
      r.point.device,
      r.point.noise,
      String(r.point.sigma),
      r.point.semantics,
      String(r.point.votes),
      String(r.point.seeds.length),
      acc,
      ...metrics.map((m) => formatMetricMarkdown(r.metrics[m])),
    ];
  });
  const align = header.map((_, i) => (i >= 3 && i !== 4 ? '---:' : '---'));
  const line = (cells: string[]): string => `| ${cells.map(escapeMarkdown).join(' | ')} |`;
  return [line(header), `| ${align.join(' | ')} |`, ...rows.map(line)].join('\n') + '\n';
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
  const header = [
    'pointId',
    'model',
    'device',
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
