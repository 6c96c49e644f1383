/**
 * A study's report on disk: `summary.md` (the table, the accuracy–energy Pareto
 * front and links to the plots), `results.csv`, and one `.svg` per plot. Every
 * file is written through a temporary and a rename, so a reader never sees half
 * a file and an interrupted write leaves the previous version in place.
 */
import * as path from 'node:path';
import { writeFileAtomic } from './resultsFile';
import { accuracyEnergyFront, numericMetric, PARETO_COST_METRIC, studyPlots } from './plots';
import type { ResultRecord } from './resultRecord';
import { renderSvg } from './renderSvg';
import { axisNames, summaryCsv, summaryMarkdown } from './summary';
import { axisLabel, axisValueText } from './fieldLabels';

/** Where {@link writeStudyOutputs} wrote each file (absolute paths). */
export interface StudyOutputs {
  readonly summaryPath: string;
  readonly csvPath: string;
  readonly plots: ReadonlyArray<{ readonly name: string; readonly title: string; readonly path: string }>;
  /** What vega-lite and vega warned about while rendering, prefixed with the plot's name. */
  readonly warnings: readonly string[];
}

/** File names inside the output folder. */
export const SUMMARY_FILE = 'summary.md';
export const CSV_FILE = 'results.csv';

function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function paretoTable(records: readonly ResultRecord[]): string {
  const front = accuracyEnergyFront(records);
  const axes = axisNames(front);
  const axisHead = axes.map((a) => ` ${axisLabel(a)} |`).join('');
  const header = `| noise | σ | energy (pJ) | accuracy % | device |${axisHead} model | semantics | votes |`;
  const align = `| --- | ---: | ---: | ---: | --- |${axes.map(() => ' --- |').join('')} --- | --- | ---: |`;
  const rows = front.map((r) => {
    const energy = numericMetric(r, PARETO_COST_METRIC) as number;
    const p = r.point;
    const axisCells = axes.map((a) => ` ${axisValueText(a, p.axes?.[a]).replace(/\|/g, '\\|')} |`).join('');
    return (
      `| ${p.noise} | ${p.sigma} | ${Number(energy.toPrecision(4))} | ${(100 * r.accuracy.mean).toFixed(2)} | ` +
      `${p.device} |${axisCells} ${p.model.replace(/\|/g, '\\|')} | ${p.semantics} | ${p.votes} |`
    );
  });
  return [header, align, ...rows].join('\n') + '\n';
}

/**
 * The Markdown report: a one-line description of the grid, the table of
 * {@link summaryMarkdown}, the Pareto front (when the records carry
 * `energyPicojoules`) and an image link per plot file name in `plotFiles`.
 */
export function studyReportMarkdown(
  records: readonly ResultRecord[],
  plotFiles: ReadonlyArray<{ readonly title: string; readonly file: string }>,
): string {
  const list = (values: readonly (string | number)[]): string => values.join(', ');
  const seeds = distinct(records.map((r) => r.point.seeds.length));
  const parts = [
    '# Study results',
    '',
    `${records.length} points: models ${list(distinct(records.map((r) => r.point.model)))}; ` +
      `devices ${list(distinct(records.map((r) => r.point.device)))}; ` +
      axisNames(records).map((a) => `${axisLabel(a)} ${list(distinct(records.filter((r) => r.point.axes && a in r.point.axes).map((r) => axisValueText(a, r.point.axes![a]))))}; `).join('') +
      `σ ${list(distinct(records.map((r) => r.point.sigma)))}; ` +
      `votes ${list(distinct(records.map((r) => r.point.votes)))}. ` +
      `Accuracy is the mean ± sample std over ${list(seeds)} seed${seeds.length === 1 && seeds[0] === 1 ? '' : 's'} per point.`,
    '',
    summaryMarkdown(records).trimEnd(),
  ];
  if (accuracyEnergyFront(records).length > 0) {
    parts.push(
      '',
      '## Accuracy–energy Pareto front',
      '',
      'For each noise condition (noise kind and σ), the points that no other point under the same condition ' +
        'beats on both accuracy and energy, across all chips (devices and their settings), models and vote counts; ' +
        'cheapest first. Only points on a chip take part: signal-level points have no chip cost unless they name a chip.',
      '',
      paretoTable(records).trimEnd(),
    );
  }
  if (plotFiles.length > 0) {
    parts.push('', '## Plots', '');
    for (const p of plotFiles) parts.push(`![${p.title}](${encodeURI(p.file)})`, '');
    parts.pop();
  }
  return parts.join('\n') + '\n';
}

/**
 * Renders every plot of {@link studyPlots} to SVG, then writes `summary.md`,
 * `results.csv` and the SVGs into `outDir` (created if needed), each atomically.
 * Records are reported in the order given.
 */
export async function writeStudyOutputs(records: readonly ResultRecord[], outDir: string): Promise<StudyOutputs> {
  const dir = path.resolve(outDir);
  const plots = studyPlots(records);
  // Render everything before writing anything, so a rendering failure leaves the folder as it was.
  const rendered = await Promise.all(plots.map((p) => renderSvg(p.spec)));
  const plotFiles = plots.map((p) => ({ name: p.name, title: p.title, file: `${p.name}.svg` }));
  const summaryPath = path.join(dir, SUMMARY_FILE);
  const csvPath = path.join(dir, CSV_FILE);
  const written = plotFiles.map((p, i) => {
    const file = path.join(dir, p.file);
    writeFileAtomic(file, rendered[i].svg);
    return { name: p.name, title: p.title, path: file };
  });
  writeFileAtomic(csvPath, summaryCsv(records));
  writeFileAtomic(summaryPath, studyReportMarkdown(records, plotFiles));
  const warnings = plots.flatMap((p, i) => rendered[i].warnings.map((w) => `${p.name}: ${w}`));
  return { summaryPath, csvPath, plots: written, warnings };
}
