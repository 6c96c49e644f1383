/**
 * The reproduction as tables of text (for the terminal and for
 * `docs/reproduction.md`), plots as vega-lite specs, and the markdown document.
 * Pure functions of a {@link ReproductionReport} and the run's provenance.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ReproductionReport, SweepTable, AccuracySummary, DeviceModelResult, TargetCheck } from './assemble';
import { PAPER_SIGMAS } from './paperTables';

/** A table as text cells: what both the terminal and the document print. */
export interface TextTable {
  readonly id: string;
  readonly title: string;
  readonly notes: readonly string[];
  readonly headers: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '—' : (100 * x).toFixed(digits));
const pm = (s: AccuracySummary | null | undefined) => (s ? (s.runs > 1 ? `${pct(s.mean)} ± ${pct(s.std)}` : pct(s.mean)) : '—');
const diff = (ours: number | null | undefined, paper: number | null | undefined) => {
  if (ours === null || ours === undefined || paper === null || paper === undefined) return '—';
  const d = 100 * (ours - paper);
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)}`;
};
const db = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '∞');
const num = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits));

function scaleNote(t: SweepTable, runs: number): string {
  const n = t.examples === null ? '—' : t.examples.toLocaleString('en-US');
  return `ohmic: mean ± std over R = ${runs} independent noisy runs (σ = 0: one exact run) on ${n} test samples; paper: its Table as printed; Δ = ohmic − paper in points.`;
}

/** Tables 2, 3, 5, 6: the σ_train = 0 row, the best accuracy and the σ_train giving it. */
export function sweepTextTable(t: SweepTable, runs: number): TextTable {
  const p = t.family.paper;
  const at = (i: number, xs: readonly number[]) => (i < 0 ? null : xs[i]);
  return {
    id: `table-${t.family.table}`,
    title: `Table ${t.family.table}: ${t.family.title}`,
    notes: [scaleNote(t, runs), `spread of the best: min–max over the runs is in the full grid below.`],
    headers: ['σ', 'SNR dB', 'σ_tr=0 paper', 'ohmic', 'Δ', 'best paper', 'ohmic', 'Δ', 'by σ_tr paper', 'ohmic'],
    rows: t.rows.map((r) => [
      r.sigma.toFixed(1),
      db(r.snrDb),
      pct(at(r.paperIndex, p.noiselessTrained)),
      pm(r.noiseless),
      diff(r.noiseless?.mean, at(r.paperIndex, p.noiselessTrained)),
      pct(at(r.paperIndex, p.best)),
      pm(r.best?.summary),
      diff(r.best?.summary.mean, at(r.paperIndex, p.best)),
      r.paperIndex < 0 ? '—' : String(p.bestSigmaTrain[r.paperIndex]),
      r.best ? String(r.best.sigmaTrain) : '—',
    ]),
  };
}

/** Figure 2 (and 6, 7) as numbers: every σ_train model at every σ. */
export function gridTextTable(t: SweepTable): TextTable {
  return {
    id: `grid-${t.family.table}`,
    title: `Full grid behind Table ${t.family.table}: accuracy % (mean ± std over runs, [min–max]) per σ_train (rows) and inference σ (columns)`,
    notes: [],
    headers: ['σ_train', 'training', ...t.sigmas.map((s) => `σ=${s}`)],
    rows: t.models.map((m) => [
      String(m.sigmaTrain),
      m.fineTunedFrom ? `${m.epochs} ep. fine-tuned` : `${m.epochs} ep. scratch`,
      ...m.cells.map((c) => (c ? `${pm(c.single)}${c.single.runs > 1 ? ` [${pct(c.single.min)}–${pct(c.single.max)}]` : ''}` : '—')),
    ]),
  };
}

/** Tables 7, 8, 9: best accuracy without and with votes. */
export function votingTextTable(t: SweepTable, votes: number): TextTable | null {
  const p = t.family.paperVoting;
  if (!p) return null;
  const at = (i: number, xs: readonly number[]) => (i < 0 ? null : xs[i]);
  return {
    id: `table-${t.family.votingTable}`,
    title: `Table ${t.family.votingTable}: ${t.family.title}, ${votes} votes`,
    notes: [
      `No voting: Table ${t.family.table}'s best row. Voting: the mode of ${votes} runs' labels (ties: larger summed softmax), averaged over the ${votes} cyclic rotations of the run order; ± is the binomial standard error over the test samples.`,
    ],
    headers: ['σ', 'SNR dB', 'no vote paper', 'ohmic', 'Δ', `${votes} votes paper`, 'ohmic', 'Δ', 'by σ_tr paper', 'ohmic'],
    rows: t.rows.map((r) => [
      r.sigma.toFixed(1),
      db(r.snrDb),
      pct(at(r.paperIndex, p.noVoting)),
      pm(r.best?.summary),
      diff(r.best?.summary.mean, at(r.paperIndex, p.noVoting)),
      pct(at(r.paperIndex, p.bestVoting)),
      r.bestVoted ? `${pct(r.bestVoted.voted.value)} ± ${pct(r.bestVoted.voted.se)}` : '—',
      diff(r.bestVoted?.voted.value, at(r.paperIndex, p.bestVoting)),
      r.paperIndex < 0 ? '—' : String(p.bestVotingSigmaTrain[r.paperIndex]),
      r.bestVoted ? String(r.bestVoted.sigmaTrain) : '—',
    ]),
  };
}

function deviceCells(d: DeviceModelResult | null): string[] {
  if (!d) return ['—', '—', '—', '—'];
  return [
    `${d.model.replace(/^.*-/, 'σ_tr ')}`,
    `${pct(d.single.mean)} ± ${pct(d.single.std)}`,
    d.passes.votes ? `${pct(d.passes.mean)} (V=${d.passes.votes})` : '—',
    `${pct(d.replicas.value)} (V=${d.replicas.votes})`,
  ];
}

export function deviceTextTables(report: ReproductionReport): TextTable[] {
  const o = report.options;
  return report.devices.map((t) => ({
    id: `devices-${t.family.id}`,
    title: `Device presets at their defaults: ${t.family.title} (Table ${t.family.table}'s models on chips)`,
    notes: [
      `${t.examples ?? '—'} test samples; ${o.chips} independently programmed chips per model (single run: mean ± std over chips); passes: V runs of one chip (fresh read noise, same programming; mean over ${o.passChips} chip${o.passChips === 1 ? '' : 's'}); replicas: one run on each of V chips.`,
      'σ_eff layers: the compile report\'s per-MVM rms relative error on seeded inputs (mean [min–max] over analog layers). σ≈ output: the signal-level σ whose rms relative logit error on these samples equals the chip\'s (σ_train = 0 model; interpolated on σ ∈ ' +
        `{${o.matchSigmas.join(', ')}}). σ≈ accuracy: the signal-level σ at which the σ_train = 0 model's mean accuracy equals the chip's ("<" : the chip is within the noiseless accuracy).`,
      'The noise-trained model is the σ_train > 0 model best at the table σ nearest to σ≈ output.',
    ],
    headers: ['device', 'σ_eff layers', 'σ≈ output', 'σ≈ accuracy', 'σ_tr=0: 1 run', 'passes', 'replicas', 'noise-trained', '1 run', 'passes', 'replicas'],
    rows: t.rows.map((r) => {
      const base = deviceCells(r.base);
      return [
        r.device,
        r.layerSigma ? `${num(r.layerSigma.mean, 3)} [${num(r.layerSigma.min, 2)}–${num(r.layerSigma.max, 2)}]` : '—',
        num(r.logitMatched, 3),
        r.accuracyMatched ? (r.accuracyMatched.bound === 'below' ? `< ${o.matchSigmas.filter((s) => s > 0)[0] ?? '—'}` : r.accuracyMatched.bound === 'above' ? `> ${Math.max(...o.matchSigmas)}` : num(r.accuracyMatched.sigma, 3)) : '—',
        base[1],
        base[2],
        base[3],
        ...deviceCells(r.trained),
      ];
    }),
  }));
}

export function scheduleTextTable(report: ReproductionReport): TextTable | null {
  if (report.schedules.length === 0) return null;
  const v = report.options.votes;
  const rows: string[][] = [];
  for (const s of report.schedules) {
    for (const mode of ['pipelined', 'sequential', 'parallel']) {
      const one = s.info.schedules.find((x) => x.votes === 1 && x.mode === mode)!;
      const many = s.info.schedules.find((x) => x.votes === v && x.mode === mode)!;
      rows.push([
        s.family.id,
        s.device,
        mode,
        (one.latencyNs / 1000).toPrecision(4),
        (many.latencyNs / 1000).toPrecision(4),
        (one.energyPicojoules / 1e6).toPrecision(4),
        (many.energyPicojoules / 1e6).toPrecision(4),
        one.averagePowerMilliwatts.toPrecision(4),
        many.averagePowerMilliwatts.toPrecision(4),
        many.paperPowerMilliwatts.toPrecision(4),
        String(many.tiles),
      ]);
    }
  }
  return {
    id: 'schedule',
    title: `Latency, energy and power of 1 vs ${v} votes on each preset chip (σ_train = 0 models; §3.3)`,
    notes: [
      `From the compiled chip (each analog layer one pipeline stage): pipelined Σ τ + (V−1)·max τ, sequential V·Σ τ, parallel Σ τ on V copies. Energy per decision V·E in every mode. Power: each mode's average (energy / latency); "paper P" is the paper's V·P.`,
    ],
    headers: ['model', 'chip', 'mode', 'latency µs V=1', `V=${v}`, 'energy µJ V=1', `V=${v}`, 'power mW V=1', `V=${v}`, `paper P V=${v}`, `tiles V=${v}`],
    rows,
  };
}

export function weightsTextTable(report: ReproductionReport): TextTable | null {
  if (report.weights.length === 0) return null;
  return {
    id: 'table-4',
    title: 'Table 4: mean |w| of the CNN-6 (multiplicative) per σ_train',
    notes: ['Mean absolute value over every convolution and dense kernel (biases and batch-norm parameters excluded).'],
    headers: ['model', 'σ_train', 'training', 'paper', 'ohmic', 'Δ'],
    rows: report.weights.map((w) => [w.model, String(w.sigmaTrain), w.training, num(w.paper, 3), num(w.meanAbs, 4), w.paper === null || w.meanAbs === null ? '—' : (w.meanAbs - w.paper >= 0 ? '+' : '−') + Math.abs(w.meanAbs - w.paper).toFixed(4)]),
  };
}

export function sweepTextTableOfBudget(report: ReproductionReport): TextTable | null {
  if (report.sweep.length === 0) return null;
  const sigmas = report.options.sigmas;
  const paperRow = (st: number) => (st === 0 ? report.tables.find((t) => t.family.table === '2')?.family.paper.noiselessTrained ?? null : null);
  const rows: string[][] = report.sweep.map((s) => [s.model, String(s.sigmaTrain), s.training, ...s.cells.map(pm), num(s.meanAbs, 4)]);
  const p = paperRow(0);
  if (p) rows.push(['paper, Table 2', '0', '100 epochs from scratch', ...sigmas.map((s) => pct(p[PAPER_SIGMAS.findIndex((x) => Math.abs(x - s) < 1e-9)])), '0.049']);
  return {
    id: 'training-sweep',
    title: 'Training-budget sweep: CNN-6 (multiplicative) trained from scratch for several epoch counts, accuracy % at each inference σ',
    notes: [
      `Each row is one model (Adam, lr 1e-3, batch 32, seed 0, all 60,000 training digits; the e(k) models are the same run stopped after k epochs), evaluated like Table 2 on ${report.tables[0]?.examples ?? '—'} test digits with R = ${report.options.sweepRuns} runs (the zoo models of the same σ_train, listed for comparison: R = ${report.options.runs}).`,
    ],
    headers: ['model', 'σ_train', 'training', ...sigmas.map((s) => `σ=${s}`), 'mean |w|'],
    rows,
  };
}

export function targetsTextTable(targets: readonly TargetCheck[]): TextTable {
  return {
    id: 'targets',
    title: 'Targets',
    notes: [],
    headers: ['target', 'met', 'measured'],
    rows: targets.map((t) => [t.target, t.met === null ? '—' : t.met ? 'yes' : 'no', t.detail]),
  };
}

/** Every table of the report, in document order. */
export function reportTextTables(report: ReproductionReport): TextTable[] {
  const out: TextTable[] = [targetsTextTable(report.targets)];
  const o = report.options;
  const want = (s: string) => (o.sections as readonly string[]).includes(s);
  for (const t of report.tables) {
    if (want(t.family.table)) out.push(sweepTextTable(t, o.runs), gridTextTable(t));
  }
  for (const t of report.tables) {
    const v = t.family.votingTable && want(t.family.votingTable) ? votingTextTable(t, o.votes) : null;
    if (v) out.push(v);
  }
  const w = weightsTextTable(report);
  if (w) out.push(w);
  out.push(...deviceTextTables(report));
  const s = scheduleTextTable(report);
  if (s) out.push(s);
  const b = sweepTextTableOfBudget(report);
  if (b) out.push(b);
  return out;
}

// ---------------------------------------------------------------- plots

export interface ReproPlot {
  readonly name: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Figure 2 (6, 7): accuracy of every σ_train model at every inference σ, as a heat map. */
export function heatmapSpec(t: SweepTable): TopLevelSpec {
  const values = t.models.flatMap((m) =>
    m.cells.map((c, i) => (c ? { sigmaTrain: String(m.sigmaTrain), sigma: String(t.sigmas[i]), accuracy: 100 * c.single.mean, label: pct(c.single.mean) } : null)).filter((v) => v !== null),
  );
  const order = t.models.map((m) => String(m.sigmaTrain)).reverse();
  return {
    $schema: SCHEMA,
    title: `${t.family.title}: accuracy % (mean of runs)`,
    data: { values },
    width: 40 * t.sigmas.length,
    height: 24 * t.models.length,
    encoding: {
      x: { field: 'sigma', type: 'ordinal', title: 'σ inference', sort: t.sigmas.map(String) },
      y: { field: 'sigmaTrain', type: 'ordinal', title: 'σ train', sort: order },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'accuracy', type: 'quantitative', title: 'accuracy %', scale: { scheme: 'viridis', domain: [0, 100] } } } },
      { mark: { type: 'text', fontSize: 9 }, encoding: { text: { field: 'label', type: 'nominal' }, color: { condition: { test: 'datum.accuracy < 60', value: 'white' }, value: 'black' } } },
    ],
  } as TopLevelSpec;
}

/** Figure 11: accuracy vs votes. */
export function votesSpec(report: ReproductionReport): TopLevelSpec | null {
  const values = report.votesFigures.flatMap((f) =>
    f.series.flatMap((s) => s.curve.map((a, i) => ({ family: f.family.id, votes: i + 1, accuracy: 100 * a, series: `σ=${s.sigma} (σ_train ${s.sigmaTrain})` }))),
  );
  if (values.length === 0) return null;
  return {
    $schema: SCHEMA,
    title: 'Accuracy vs votes (best 20-vote σ_train model at each σ)',
    data: { values },
    facet: { field: 'family', type: 'nominal', title: null },
    columns: 3,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 240,
      height: 180,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'votes', type: 'quantitative', title: 'votes V' },
        y: { field: 'accuracy', type: 'quantitative', title: 'accuracy %', scale: { zero: false } },
        color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 400 } },
      },
    },
  } as TopLevelSpec;
}

/** The training-budget sweep: accuracy vs σ, one line per model. */
export function budgetSpec(report: ReproductionReport): TopLevelSpec | null {
  const sigmas = report.options.sigmas;
  const values = report.sweep.flatMap((s) => s.cells.map((c, i) => (c ? { sigma: sigmas[i], accuracy: 100 * c.mean, model: `${s.model} (${s.training})`, sigmaTrain: `σ_train ${s.sigmaTrain}` } : null)).filter((v) => v !== null));
  if (values.length === 0) return null;
  const paper = report.tables.find((t) => t.family.table === '2')?.family.paper;
  if (paper) PAPER_SIGMAS.forEach((s, i) => values.push({ sigma: s, accuracy: 100 * paper.noiselessTrained[i], model: 'paper σ_train 0 (100 epochs)', sigmaTrain: 'σ_train 0' }));
  return {
    $schema: SCHEMA,
    title: 'Training budget: accuracy vs inference σ',
    data: { values },
    facet: { field: 'sigmaTrain', type: 'nominal', title: null },
    spec: {
      width: 280,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'sigma', type: 'quantitative', title: 'σ inference' },
        y: { field: 'accuracy', type: 'quantitative', title: 'accuracy %' },
        color: { field: 'model', type: 'nominal', title: null, legend: { labelLimit: 480, orient: 'bottom', columns: 1 } },
      },
    },
  } as TopLevelSpec;
}

export function reproPlots(report: ReproductionReport): ReproPlot[] {
  const plots: ReproPlot[] = [];
  const figure: Record<string, string> = { '2': 'figure2-cnn6-mult', '3': 'figure2-cnn6-add', '5': 'figure6-densenet40', '6': 'figure7-lstm' };
  for (const t of report.tables) {
    if (t.models.some((m) => m.cells.some((c) => c))) plots.push({ name: figure[t.family.table], title: `Heat map behind Table ${t.family.table}`, spec: heatmapSpec(t) });
  }
  const v = votesSpec(report);
  if (v) plots.push({ name: 'figure11-votes', title: 'Figure 11: accuracy vs votes', spec: v });
  const b = budgetSpec(report);
  if (b) plots.push({ name: 'training-budget', title: 'Training-budget sweep', spec: b });
  return plots;
}

// ---------------------------------------------------------------- document

/** What the document records about how it was made. */
export interface Provenance {
  /** The exact command line. */
  readonly command: string;
  readonly date: string;
  readonly seconds: number;
  readonly machine: string;
  readonly dataDir: string;
  readonly computed: number;
  readonly missing: number;
  readonly planned: number;
  /** Zoo models used, with their manifest hashes and commands. */
  readonly models: ReadonlyArray<{ name: string; sha256: string; command: string; testAccuracy: number }>;
  readonly testSets: readonly string[];
  /** Extra prose to insert before the tables (e.g. the training-sweep status). */
  readonly remarks?: readonly string[];
}

function mdTable(t: TextTable): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`| ${t.headers.map(esc).join(' | ')} |`, `|${t.headers.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)];
  return lines.join('\n');
}

function tableBlock(t: TextTable, level = '###'): string {
  return [`${level} ${t.title}`, '', ...t.notes.flatMap((n) => [n, '']), mdTable(t), ''].join('\n');
}

/** Why the measured numbers differ where they do: statements computed from the report. */
export function explanations(report: ReproductionReport): string[] {
  const out: string[] = [];
  const t2 = report.tables.find((t) => t.family.table === '2');
  const rowAt = (t: SweepTable | undefined, s: number) => t?.rows.find((r) => Math.abs(r.sigma - s) < 1e-9);
  if (t2) {
    const r6 = rowAt(t2, 0.6);
    if (r6?.noiseless && r6.paperIndex >= 0) {
      const d = 100 * (r6.noiseless.mean - t2.family.paper.noiselessTrained[r6.paperIndex]);
      out.push(
        `**σ_train = 0 under strong noise.** At σ = 0.6 the zoo's noiselessly trained CNN-6 keeps ${pct(r6.noiseless.mean)} % against the paper's ${pct(t2.family.paper.noiselessTrained[r6.paperIndex])} % (${d >= 0 ? '+' : ''}${d.toFixed(1)} points). ` +
          `How fragile a noiselessly trained network is depends on how long and how it was trained (the paper: 100 epochs; the zoo model: 15 epochs with the learning rate decayed 0.85 per epoch). ` +
          (report.sweep.length
            ? 'The training-budget sweep below measures it: the same architecture trained from scratch for a few epochs, evaluated on the same digits and seeds.'
            : 'The training-budget sweep (`ohmic reproduce --training-sweep --table sweep`) measures it.'),
      );
    }
    const sweep0 = report.sweep.filter((s) => s.sigmaTrain === 0);
    const i6 = report.options.sigmas.findIndex((s) => Math.abs(s - 0.6) < 1e-9);
    if (sweep0.length > 0 && i6 >= 0) {
      out.push(
        `Measured at σ = 0.6, σ_train = 0: ${sweep0.map((s) => `${s.model} (${s.training}) ${pct(s.cells[i6]?.mean)} %`).join('; ')}; paper ${pct(t2.family.paper.noiselessTrained[3])} %.`,
      );
    }
    const sweepT = report.sweep.filter((s) => s.sigmaTrain > 0);
    if (sweepT.length > 0) {
      const st = sweepT[0].sigmaTrain;
      const idx = report.options.sigmas.map((s, i) => ({ s, i })).filter(({ s }) => s >= 0.6);
      out.push(
        `Noise-injected training (σ_train = ${st}): ` +
          sweepT.map((s) => `${s.model} (${s.training}): ${idx.map(({ s: sg, i }) => `σ=${sg} ${pct(s.cells[i]?.mean)}`).join(', ')}`).join('; ') +
          '. The zoo fine-tunes its σ_train > 0 models for 1–3 epochs from the σ_train = 0 model; the paper trains each from scratch for 100 epochs.',
      );
    }
    const r0 = rowAt(t2, 0);
    const noisyTrained = t2.models.filter((m) => m.sigmaTrain >= 0.6);
    if (r0 && noisyTrained.length) {
      out.push(
        `**Noiseless accuracy of the noise-trained models** (σ = 0 column of the full grid): ${noisyTrained.map((m) => `σ_train ${m.sigmaTrain}: ${pct(m.cells[0]?.single.mean)}`).join(', ')} %. ` +
          'Their batch-norm statistics were estimated with noise upstream, so a noiseless input arrives with less spread than they assume (the zoo README); this is why the best σ_train at σ = 0 is a small one.',
      );
    }
  }
  const t5 = report.tables.find((t) => t.family.table === '5');
  if (t5) {
    const r0 = rowAt(t5, 0);
    out.push(
      `**Table 5 / 8 are reduced.** No CIFAR-10 test set exists here: the DenseNet-40 models are trained on 3,500 images of the 4,000-image sample and scored on the other 500 (binomial standard error ≈ ${r0?.noiseless ? pct(Math.sqrt((r0.noiseless.mean * (1 - r0.noiseless.mean)) / (t5.examples ?? 500))) : '2'} points on ${t5.examples ?? 500} images), so their noiseless accuracy is ${pct(r0?.noiseless?.mean)} % against the paper's 92.5 %. Compare the shape: how fast accuracy falls with σ, and what σ_train and votes buy back. The zoo has σ_train ∈ {${t5.models.map((m) => m.sigmaTrain).join(', ')}} only, so the "by σ_train" row can only choose among those.`,
    );
  }
  const t6 = report.tables.find((t) => t.family.table === '6');
  if (t6) {
    const r2 = rowAt(t6, 0.2);
    if (r2?.noiseless && r2.paperIndex >= 0) {
      out.push(
        `**LSTM.** The zoo LSTM (128 hidden units, 100 pen offsets, zero padding first) reaches ${pct(rowAt(t6, 0)?.noiseless?.mean)} % noiseless (paper 94.8 %); at σ = 0.2 its σ_train = 0 model keeps ${pct(r2.noiseless.mean)} % (paper ${pct(t6.family.paper.noiselessTrained[r2.paperIndex])} %). Its noise-trained models are fine-tuned 2 epochs from it. ` +
          `Measured output error of the σ_train = 0 model (rms relative logit error): ${t6.rows
            .filter((r) => r.sigma > 0)
            .map((r) => {
              const m = t6.models.find((x) => x.sigmaTrain === 0);
              const c = m?.cells[t6.sigmas.indexOf(r.sigma)];
              return `${num(c?.logitError, 2)} at σ = ${r.sigma}`;
            })
            .join(', ')}: the 100-step recurrence does not amplify the per-MVM noise, so this model degrades far more slowly than the paper's. ` +
          'The paper trains 100 epochs, the zoo 5 (lr decayed 0.85 per epoch); the training-budget sweep measures the CNN-6 only, so for the LSTM the budget is the likely, not the measured, cause.',
      );
    }
  }
  for (const d of report.devices) {
    const rows = d.rows.filter((r) => r.base && r.logitMatched !== null);
    if (rows.length === 0) continue;
    const better = rows.filter((r) => r.base!.replicas.value > r.base!.passes.mean).length;
    out.push(
      `**${d.family.title} on devices** (measured, not a miss: the paper has no device numbers). ` +
        rows
          .map((r) => {
            const gain = r.trained && r.base ? 100 * (r.trained.single.mean - r.base.single.mean) : null;
            return (
              `${r.device} amounts to σ ≈ ${num(r.logitMatched, 2)} at the output; one run: σ_train = 0 ${pct(r.base!.single.mean)} %, ` +
              (r.trained ? `noise-trained σ_train ${r.trained.sigmaTrain} ${pct(r.trained.single.mean)} % (${gain! >= 0 ? '+' : '−'}${Math.abs(gain!).toFixed(1)})` : 'noise-trained not run yet') +
              `; σ_train = 0 voted: ${r.base!.passes.votes} passes ${pct(r.base!.passes.mean)} %, ${r.base!.replicas.votes} replicas ${pct(r.base!.replicas.value)} %`
            );
          })
          .join('; ') +
        `. Replicas beat passes on ${better} of ${rows.length} devices: passes share one programming draw, which votes cannot average away.`,
    );
  }
  return out;
}

export function reproductionMarkdown(report: ReproductionReport, prov: Provenance, plotFiles: ReadonlyArray<{ name: string; file: string; title: string }>): string {
  const o = report.options;
  const tables = reportTextTables(report);
  const byId = new Map(tables.map((t) => [t.id, t]));
  const plot = (name: string) => {
    const p = plotFiles.find((f) => f.name === name);
    return p ? `![${p.title}](${p.file})\n` : '';
  };
  const lines: string[] = [];
  lines.push('# Reproduction of *Noisy Computations during Inference: Harmful or Helpful?*', '');
  lines.push(`Generated by \`${prov.command}\` on ${prov.date} (${(prov.seconds / 60).toFixed(1)} min of this run on ${prov.machine}; ${prov.computed} cells computed now, ${prov.planned - prov.missing - prov.computed} read from earlier runs${prov.missing ? `, **${prov.missing} still missing**` : ''}). Do not edit: rerun the command.`, '');
  const datasets = new Set(report.tables.map((t) => t.family.dataset).concat(report.devices.map((d) => d.family.dataset)));
  const parts: string[] = [];
  if (datasets.has('mnist') || datasets.has('mnist-strokes')) {
    parts.push(o.limit === null ? 'all 10,000 MNIST test digits / stroke sequences' : `the first ${o.limit.toLocaleString('en-US')} MNIST test digits / stroke sequences (**reduced: --limit ${o.limit}**)`);
  }
  if (datasets.has('cifar10-heldout')) parts.push(o.cifarLimit === null ? 'all 500 held-out CIFAR-10 images' : `the first ${o.cifarLimit} of the 500 held-out CIFAR-10 images (**reduced**)`);
  if (report.devices.length) parts.push(`device cells and the curve they are matched on: ${o.deviceLimit === null ? 'all' : `the first ${o.deviceLimit}`} samples`);
  lines.push(
    `Scale: ${parts.join('; ') || 'no accuracy cells'}. ` +
      `Every signal-level accuracy is the mean over R = ${o.runs} independent noisy runs (σ = 0: one exact run), shown as mean ± std over the runs; votes use ${o.votes} of the runs. Root seed ${o.rootSeed}.`,
    '',
  );
  lines.push(
    'How to read: *paper* is the value printed in the paper, *ohmic* what this run measured, Δ = ohmic − paper in percentage points. ' +
      'The signal-level model is the paper\'s: fresh Gaussian noise after every matrix–vector product (multiplicative `y(1+σε)` or additive `y+σε`), at the noise points the zoo models were trained with.',
    '',
  );
  for (const r of prov.remarks ?? []) lines.push(r, '');
  lines.push(tableBlock(byId.get('targets')!, '##'));
  for (const t of report.tables) {
    const main = byId.get(`table-${t.family.table}`);
    if (!main) continue;
    lines.push(tableBlock(main, '##'));
    const fig = { '2': 'figure2-cnn6-mult', '3': 'figure2-cnn6-add', '5': 'figure6-densenet40', '6': 'figure7-lstm' }[t.family.table]!;
    lines.push(plot(fig));
    const grid = byId.get(`grid-${t.family.table}`)!;
    lines.push('<details><summary>' + grid.title + '</summary>', '', mdTable(grid), '', '</details>', '');
  }
  const voting = tables.filter((t) => /^table-[789]$/.test(t.id));
  if (voting.length) {
    lines.push('## Voting (Tables 7–9, Figure 11)', '');
    for (const t of voting) lines.push(tableBlock(t));
    lines.push(plot('figure11-votes'));
  }
  const w = byId.get('table-4');
  if (w) lines.push(tableBlock(w, '##'));
  const dev = tables.filter((t) => t.id.startsWith('devices-'));
  if (dev.length) {
    lines.push('## What the conclusions mean on real devices', '');
    for (const t of dev) lines.push(tableBlock(t));
  }
  const s = byId.get('schedule');
  if (s) lines.push(tableBlock(s, '##'));
  lines.push('## Where numbers miss, and why', '');
  for (const e of explanations(report)) lines.push(`- ${e}`);
  lines.push('');
  const b = byId.get('training-sweep');
  if (b) {
    lines.push(tableBlock(b));
    lines.push(plot('training-budget'));
    const cmds = report.sweep.filter((x) => /-e\d+$/.test(x.model)).map((x) => x.command);
    if (cmds.length) lines.push('Training commands (each resumes the previous one\'s checkpoint):', '', '```sh', ...cmds, '```', '');
  }
  lines.push('## Provenance', '');
  lines.push('Command:', '', '```sh', prov.command, '```', '');
  lines.push(
    `Seeds: root seed ${o.rootSeed}. A cell's stream is \`Rng.fromSeed(${o.rootSeed}).fold('reproduce').fold(key)\`, key = \`signal|MODEL|DATASET|NOISE|σ\` or \`device|MODEL|DATASET|DEVICE\`; signal run r uses \`stream/run/r\`, device chip c is programmed from \`stream/program/c\` and read with \`stream/run/c/p\` on pass p. Noise is keyed by sample index, so results do not depend on batch size, workers or shards, and a cell on N samples is a prefix of the same cell on more.`,
    '',
  );
  lines.push(`Data: ${prov.dataDir}; ${prov.testSets.join('; ')}.`, '');
  lines.push('Zoo models (sha256 of the weights as checked by `loadZooModel`):', '');
  lines.push('| model | sha256 | noiseless accuracy (manifest) | trained by |', '|---|---|---:|---|');
  for (const m of prov.models) lines.push(`| ${m.name} | \`${m.sha256}\` | ${pct(m.testAccuracy, 2)} | \`${m.command}\` |`);
  lines.push('');
  return lines.join('\n');
}

/** The report's mean single-run accuracy of a family's σ_train = 0 model at σ (for tests and summaries). */
export function noiselessRow(t: SweepTable): Array<number | null> {
  return t.rows.map((r) => (r.noiseless ? r.noiseless.mean : null));
}

