/**
 * The reproduction as tables of text (for the terminal and for
 * `docs/reproduction.md`), plots as vega-lite specs, and the markdown document.
 * Pure functions of a {@link ReproductionReport} and the run's provenance.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ReproductionReport, SweepTable, AccuracySummary, DeviceModelResult, LstmPlacementRow, TargetCheck } from './assemble';
import { LSTM_NOISE_PLACEMENTS, type LstmNoisePlacement } from './lstmNoisePlacement';
import { PAPER_SIGMAS, PAPER_TABLE_11, paperSigmaIndex, snrDb } from './paperTables';
import type { Table11Report } from './table11';
import { CALIBRATION_SAMPLES } from '../calibrationSet';

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
  // A difference that rounds to zero has no sign.
  return Math.abs(d) < 0.05 ? '0.0' : `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)}`;
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
      `${t.examples ?? '—'} test samples; ${o.chips} independently programmed chips per model (single run: mean ± std over chips); passes: V runs of one chip (fresh read noise, same programming; mean over ${o.passChips} chip${o.passChips === 1 ? '' : 's'}); replicas: one run on each of V chips. ` +
        `Each chip's converter (DAC/ADC) ranges are calibrated after programming on the first ${CALIBRATION_SAMPLES} training samples of the data set, never on the scored ones (the presets' default).`,
      'σ_eff layers: the compile report\'s per-MVM rms relative error measured on those calibration samples (mean [min–max] over analog layers). σ≈ output: the signal-level σ whose rms relative logit error on these samples equals the chip\'s (σ_train = 0 model; interpolated on σ ∈ ' +
        `{${o.matchSigmas.join(', ')}}). σ≈ accuracy: the signal-level σ at which the σ_train = 0 model's mean accuracy equals the chip's ("<" : the chip is within the noiseless accuracy).`,
      'The noise-trained model is the σ_train > 0 model best at the table σ nearest to σ≈ output.',
    ],
    headers: ['device', 'σ_eff layers', 'σ≈ output', 'σ≈ accuracy', 'σ_tr=0: 1 run', 'passes', 'replicas', 'noise-trained', '1 run', 'passes', 'replicas'],
    rows: t.rows.map((r) => {
      const base = deviceCells(r.base);
      return [
        r.device,
        r.layerSigma ? `${num(r.layerSigma.mean, 3)} [${num(r.layerSigma.min, 2)}–${num(r.layerSigma.max, 2)}]` : '—',
        r.logitMatchedBound === 'above' ? `> ${Math.max(...o.matchSigmas)}` : num(r.logitMatched, 3),
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
  if (p) rows.push(['paper, Table 2', '0', '100 epochs from scratch', ...sigmas.map((s) => pct(p[paperSigmaIndex(s)])), '0.049']);
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

const pct2 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '—' : (100 * x).toFixed(2));
const diff2 = (ours: number | null | undefined, paper: number | null | undefined) => {
  if (ours === null || ours === undefined || paper === null || paper === undefined) return '—';
  const d = 100 * (ours - paper);
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)}`;
};

/** Table 11 (black-box transfer) and its companions: devices, adversarial training, white-box check. */
export function table11TextTables(t: Table11Report | null): TextTable[] {
  if (!t) return [];
  const tr = t.transfer;
  const a = tr?.attack;
  const runs = Math.max(0, ...t.rows.map((r) => r.runs));
  const out: TextTable[] = [
    {
      id: 'table-11',
      title: `Table 11: black-box transfer, MNIST (PGD on ${tr?.source?.replace(/^zoo:/, '') ?? 'the source'} → ${tr?.target.replace(/^zoo:/, '') ?? 'the target'} with noisy inference)`,
      notes: [
        `Paper: ${t.caption}.`,
        tr
          ? `ohmic: ${tr.count.toLocaleString('en-US')} examples (${tr.testData}), made by PGD ε = ${a ? a.eps : '—'}, step ${a ? a.stepSize : '—'}, ${a ? a.iterations : '—'} iterations, ${a ? a.restarts : '—'} random restarts (strongest kept), seed ${a ? a.seed : tr.seed}, on the source (natural accuracy ${pct2(tr.sourceNaturalAccuracy)} %, ${pct2(tr.sourceAdversarialAccuracy)} % on its own examples; mean L∞ distance ${num(tr.meanLinfDistance, 4)}). ` +
            `The target runs each σ ${runs} times (σ = 0: once): mean ± std over the runs (the paper's "average … with 20 runs"; Δ = ohmic − paper in points), and the majority vote of the runs (no paper value); "natural" is the target on the clean images with the same noise draws. Result file \`${tr.file}\` (${tr.date}), made by \`${tr.command}\`.`
          : 'ohmic: not run (the attack result file is missing; `ohmic reproduce --table 11` without `--report-only` runs it).',
        'The CIFAR-10 column (DenseNet-40 → DenseNet-100, 300 epochs of adversarial training) is not reproduced: the zoo has no adversarially trained DenseNet.',
      ],
      headers: ['σ', 'SNR dB', 'paper MNIST', 'ohmic', 'Δ', `ohmic ${runs} votes`, 'natural images', 'paper CIFAR-10'],
      rows: t.rows.map((r) => [
        r.sigma.toFixed(1),
        db(snrDb(r.sigma)),
        pct2(r.paperMnist),
        r.adversarial ? (r.runs > 1 ? `${pct2(r.adversarial.meanAccuracy)} ± ${pct2(r.adversarial.stdAccuracy)}` : pct2(r.adversarial.meanAccuracy)) : '—',
        diff2(r.adversarial?.meanAccuracy, r.paperMnist),
        pct2(r.adversarial?.votedAccuracy),
        r.natural ? (r.runs > 1 ? `${pct2(r.natural.meanAccuracy)} ± ${pct2(r.natural.stdAccuracy)}` : pct2(r.natural.meanAccuracy)) : '—',
        pct2(r.paperCifar),
      ]),
    },
  ];
  if (t.deviceRows.length) {
    out.push({
      id: 'table-11-devices',
      title: 'Table 11 on the device presets (the same examples and target on programmed chips)',
      notes: [`One programmed chip per device, ${t.deviceRows[0].runs} runs with fresh read noise (mean ± std, and their vote). The device presets are those of the attack run (${tr?.date ?? '—'}); the paper has no device rows.`],
      headers: ['device', 'adversarial: mean ± std', 'voted', 'natural: mean ± std', 'voted'],
      rows: t.deviceRows.map((d) => [d.device, `${pct2(d.adversarial.meanAccuracy)} ± ${pct2(d.adversarial.stdAccuracy)}`, pct2(d.adversarial.votedAccuracy), d.natural ? `${pct2(d.natural.meanAccuracy)} ± ${pct2(d.natural.stdAccuracy)}` : '—', pct2(d.natural?.votedAccuracy)]),
    });
  }
  if (t.training.length) {
    const paperEpochs = PAPER_TABLE_11.epochs.mnist;
    out.push({
      id: 'table-11-training',
      title: 'The adversarially trained networks of Table 11 (zoo manifest `adversarial` records)',
      notes: [`Paper: both networks adversarially trained ${paperEpochs} epochs, minibatches of 32 half natural, half PGD (its ref. [21], Madry et al., trains MNIST with 40 PGD steps of 0.01). White-box PGD accuracy: the network attacked with its own training attack (the manifest's \`pgdTestAccuracy\`).`],
      headers: ['network', 'role', 'adversarial training (ohmic)', 'paper', 'natural accuracy', 'white-box PGD accuracy'],
      rows: t.training.map((m) => [
        m.model,
        m.role,
        `${m.epochs} epoch${m.epochs === 1 ? '' : 's'}${m.fineTunedFrom ? ` fine-tuned from ${m.fineTunedFrom}` : ' from scratch'}; PGD ε ${m.eps}, ${m.iterations} steps of ${m.stepSize}, ${m.restarts} restart`,
        `${paperEpochs} epochs`,
        `${pct2(m.naturalAccuracy)} (${m.naturalTestData})`,
        m.pgdAccuracy === null ? '—' : `${pct2(m.pgdAccuracy)} (${m.pgdTestData})`,
      ]),
    });
  }
  if (t.whiteBox) {
    const w = t.whiteBox;
    out.push({
      id: 'table-11-white-box',
      title: `Gradient-masking check: white-box PGD on the target itself, through its noisy forward pass (σ = ${w.sigma})`,
      notes: [
        `First ${w.limit} test images, ε and step of the transfer attack, ${w.restarts} restart(s); noisy-gradient: one noisy pass per step; EOT: the gradient averaged over ${w.eotSamples} noisy passes per step. Each example set classified by the target noiselessly and at σ = ${w.sigma} (runs and vote). Made by \`${w.command}\`.`,
      ],
      headers: ['white-box attack', 'passes per step', 'noiseless target', `target at σ = ${w.sigma}: mean ± std`, 'voted'],
      rows: w.rows.map((r) => [r.attack, String(r.gradientSamples), pct2(r.noiseless), `${pct2(r.noisyMean)} ± ${pct2(r.noisyStd)}`, pct2(r.noisyVoted)]),
    });
  }
  return out;
}

const PLACEMENT_WORDS: Record<LstmNoisePlacement, string> = {
  'gate-mvm': "on each step's gate MVM output x·W + h·U, the bias added after (this model's noise points)",
  'gate-preactivation': 'on the gate pre-activation x·W + h·U + b, the bias inside the noisy product',
  'input-and-recurrent': 'on x·W and h·U independently',
};

/** What the noise-placement diagnostic measured against Table 6's σ_train = 0 row. */
export function lstmPlacementSentence(rows: readonly LstmPlacementRow[], t6: SweepTable): string {
  if (rows.length === 0) return 'Where the noise sits in an LSTM step is not measured in this run (its diagnostic cells have no results).';
  const sigmas = [...new Set(rows.map((r) => r.sigma))];
  const parts = LSTM_NOISE_PLACEMENTS.filter((p) => rows.some((r) => r.placement === p)).map(
    (p) => `${PLACEMENT_WORDS[p]}: ${rows.filter((r) => r.placement === p).map((r) => `${pct(r.summary.mean)} ± ${pct(r.summary.std)} % at σ = ${r.sigma}`).join(', ')}`,
  );
  const top = Math.max(...sigmas);
  const topIndex = paperSigmaIndex(top);
  const paperTop = topIndex < 0 ? null : t6.family.paper.noiselessTrained[topIndex];
  const worst = rows.filter((r) => r.sigma === top).reduce((a, b) => (b.summary.mean < a.summary.mean ? b : a));
  const runs = rows[0].summary.runs;
  const verdict =
    paperTop === null
      ? ''
      : worst.summary.mean - paperTop > 0.03
        ? `None comes within 3 points of the paper's ${pct(paperTop)} % at σ = ${top}: where the noise sits in a step does not explain the difference. `
        : `Noise ${PLACEMENT_WORDS[worst.placement]} comes within 3 points of the paper's ${pct(paperTop)} % at σ = ${top}. `;
  return (
    `Measured on the σ_train = 0 LSTM's weights with the multiplicative noise in three places of each step (the output layer's noise as in the model; ${runs} runs each on ${rows[0].summary.examples} sequences, src/study/reproduce/lstmNoisePlacement.ts): ${parts.join('; ')}. ${verdict}` +
    'Zero padding after the sequence instead of before it does not train at all with this recipe (src/models/paper/lstm.ts), so it cannot be compared. The LSTM\'s training budget (the paper\'s 100 epochs against the zoo\'s 5) is not measured here: the training-budget sweep covers the CNN-6.'
  );
}

/** Table 11's misses and caveats, each from measured numbers. */
export function table11Explanations(t: Table11Report | null): string[] {
  if (!t || !t.transfer) return [];
  const out: string[] = [];
  const zero = t.rows.find((r) => r.sigma === 0)?.adversarial;
  const target = t.training.find((m) => m.role === 'target');
  const source = t.training.find((m) => m.role === 'source');
  const wbClean = t.whiteBox?.rows.find((r) => r.attack === 'noiseless-gradient');
  if (zero) {
    const d = 100 * (zero.meanAccuracy - PAPER_TABLE_11.mnist[0]);
    out.push(
      `**Table 11, noiseless target.** On the transferred examples the noiseless target keeps ${pct2(zero.meanAccuracy)} % against the paper's ${pct2(PAPER_TABLE_11.mnist[0])} % (${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)} points). ` +
        (target
          ? `The zoo's target is adversarially trained ${target.epochs} epoch${target.epochs === 1 ? '' : 's'} (${target.fineTunedFrom ? `fine-tuned from ${target.fineTunedFrom}, ` : ''}PGD with ${target.iterations} steps of ${target.stepSize}) where the paper trains ${PAPER_TABLE_11.epochs.mnist}; measured, it is weakly robust: ${target.pgdAccuracy === null ? '' : `${pct2(target.pgdAccuracy)} % under its own white-box training attack`}${wbClean ? `, ${pct2(wbClean.noiseless)} % under a ${t.transfer.attack?.iterations ?? 20}-step white-box PGD (first ${t.whiteBox!.limit} images)` : ''}. `
          : '') +
        (t.naturalTarget
          ? `The zoo's noiselessly trained CNN-6 (${t.naturalTarget.model}, no adversarial training) classifies the same examples at ${pct2(t.naturalTarget.adversarial)} %: the ${target ? `${target.epochs}-epoch ` : ''}adversarial training raised the transfer accuracy by ${(100 * (zero.meanAccuracy - t.naturalTarget.adversarial)).toFixed(1)} points: the accuracy on transferred examples follows the target's adversarial training; how far ${PAPER_TABLE_11.epochs.mnist} epochs would raise it is not measured here. `
          : '') +
        (source && t.transfer.sourceAdversarialAccuracy !== null
          ? `The source is adversarially trained ${source.epochs} epoch${source.epochs === 1 ? '' : 's'} too (${pct2(t.transfer.sourceAdversarialAccuracy)} % on its own examples${source.pgdAccuracy === null ? '' : `, ${pct2(source.pgdAccuracy)} % under its training attack`}); the paper gives no white-box accuracy for its source, so whether these examples are stronger or weaker than the paper's is not known.`
          : ''),
    );
  }
  const noisy = t.rows.filter((r) => r.sigma > 0 && r.adversarial);
  if (zero && noisy.length) {
    const se = (r: (typeof noisy)[number]) => r.adversarial!.stdAccuracy / Math.sqrt(Math.max(1, r.runs));
    out.push(
      `**Table 11, the effect of σ.** Change of the mean accuracy on transferred examples from σ = 0 (± the standard error of the mean over the runs): ${noisy
        .map((r) => `σ = ${r.sigma}: ${(100 * (r.adversarial!.meanAccuracy - zero.meanAccuracy)).toFixed(2)} ± ${(100 * se(r)).toFixed(2)}`)
        .join(', ')} points (paper: ${PAPER_TABLE_11.sigmas
        .slice(1)
        .map((s, i) => `${s}: ${(100 * (PAPER_TABLE_11.mnist[i + 1] - PAPER_TABLE_11.mnist[0])).toFixed(2)}`)
        .join(', ')}); of the majority vote: ${noisy.map((r) => `σ = ${r.sigma}: ${(100 * (r.adversarial!.votedAccuracy - zero.meanAccuracy)).toFixed(2)}`).join(', ')}. ` +
        (() => {
          const nat0 = t.rows.find((x) => x.sigma === 0)?.natural?.meanAccuracy;
          if (nat0 === undefined) return '';
          const singleUp = noisy.filter((r) => r.adversarial!.meanAccuracy > zero.meanAccuracy).map((r) => r.sigma);
          const votedUp = noisy.filter((r) => r.adversarial!.votedAccuracy > zero.meanAccuracy).map((r) => r.sigma);
          return (
            `On the natural images the same noise changes the mean accuracy by ${noisy.map((r) => `${(100 * ((r.natural?.meanAccuracy ?? NaN) - nat0)).toFixed(2)}`).join(', ')} points at those σ. ` +
            `A single noisy run ${singleUp.length ? `raises the transferred-example accuracy at σ = ${singleUp.join(', ')}` : 'raises the transferred-example accuracy at no σ'}; the vote of the runs raises it at ${votedUp.length ? `σ = ${votedUp.join(', ')}` : 'no σ'}.`
          );
        })(),
    );
  }
  if (t.whiteBox) {
    const get = (a: string) => t.whiteBox!.rows.find((r) => r.attack === a);
    const ng = get('noisy-gradient');
    const eot = get('eot');
    const nl = get('noiseless-gradient');
    if (ng && eot && nl) {
      out.push(
        `**Gradient masking (the paper's ref. [27], Athalye et al. 2018).** Noisy inference is not claimed here as a white-box defence. Measured on the target at σ = ${t.whiteBox.sigma}: a PGD that follows one noisy pass per step leaves the noisy target at ${pct2(ng.noisyMean)} % (noiseless target ${pct2(ng.noiseless)} %), ` +
          `while averaging ${eot.gradientSamples} noisy passes per step (EOT) brings it to ${pct2(eot.noisyMean)} % (noiseless-gradient PGD: ${pct2(nl.noisyMean)} %). ` +
          `The noisy gradient ${ng.noisyMean > eot.noisyMean ? 'is a weaker attack than EOT: part of the apparent robustness is the stochastic gradient, which an adaptive attacker averages out' : 'is not weaker than EOT here'}. Table 11 measures transfer (black-box) only.`,
      );
    }
  }
  return out;
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
  out.push(...table11TextTables(report.table11));
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
    // One colour per inference σ, the same in every panel; the σ_train of each line is the voting tables' "by σ_tr" column.
    f.series.flatMap((s) => s.curve.map((a, i) => ({ family: f.family.id, votes: i + 1, accuracy: 100 * a, series: `σ = ${s.sigma}`, sigmaTrain: s.sigmaTrain }))),
  );
  if (values.length === 0) return null;
  return {
    $schema: SCHEMA,
    title: 'Accuracy vs votes at each inference σ (each line: the best 20-vote σ_train model there, as in Tables 7–9)',
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
        color: { field: 'series', type: 'nominal', title: 'inference σ', legend: { labelLimit: 400 } },
        tooltip: [{ field: 'series', type: 'nominal' }, { field: 'sigmaTrain', type: 'quantitative', title: 'σ_train' }, { field: 'votes', type: 'quantitative' }, { field: 'accuracy', type: 'quantitative', format: '.1f' }],
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
  const lrDecay = (command: string) => /--lr-decay\s+([0-9.]+)/.exec(command)?.[1];
  if (t2) {
    const r6 = rowAt(t2, 0.6);
    const base = t2.models.find((m) => m.sigmaTrain === 0);
    if (r6?.noiseless && r6.paperIndex >= 0 && base) {
      const d = 100 * (r6.noiseless.mean - t2.family.paper.noiselessTrained[r6.paperIndex]);
      const decay = lrDecay(base.command);
      out.push(
        `**σ_train = 0 under strong noise.** At σ = 0.6 the zoo's noiselessly trained CNN-6 keeps ${pct(r6.noiseless.mean)} % against the paper's ${pct(t2.family.paper.noiselessTrained[r6.paperIndex])} % (${d >= 0 ? '+' : ''}${d.toFixed(1)} points). ` +
          `The paper trains it 100 epochs; the zoo model ${base.epochs} epochs${decay ? ` with the learning rate decayed ${decay} per epoch` : ''} (manifest command). ` +
          (report.sweep.length
            ? 'The training-budget sweep below measures how much this accuracy depends on the training: the same architecture trained from scratch for a few epochs, evaluated on the same digits and seeds.'
            : 'The training-budget sweep (`ohmic reproduce --training-sweep --table sweep`) measures how much this accuracy depends on the training.'),
      );
    }
    const sweep0 = report.sweep.filter((s) => s.sigmaTrain === 0).sort((a, b) => a.epochs - b.epochs);
    const i6 = report.options.sigmas.findIndex((s) => Math.abs(s - 0.6) < 1e-9);
    const paper6 = t2.family.paper.noiselessTrained[3];
    const measured0 = sweep0.filter((s) => s.cells[i6]);
    if (measured0.length > 0 && i6 >= 0) {
      // The trend is read on the sweep's own runs (one recipe, constant learning rate), not across recipes.
      const own = measured0.filter((s) => /-e\d+$/.test(s.model));
      const accs = own.map((s) => s.cells[i6]!.mean);
      const rising = accs.length > 1 && accs.every((a, i) => i === 0 || a >= accs[i - 1]);
      const falling = accs.length > 1 && accs.every((a, i) => i === 0 || a <= accs[i - 1]);
      out.push(
        `Measured at σ = 0.6, σ_train = 0: ${measured0.map((s) => `${s.model} (${s.training}) ${pct(s.cells[i6]!.mean)} ± ${pct(s.cells[i6]!.std)} %${s.meanAbs !== null ? ` (mean |w| ${num(s.meanAbs, 4)})` : ''}`).join('; ')}; paper ${pct(paper6)} % (mean |w| 0.049, Table 4). ` +
          (accs.length > 1
            ? `Over the sweep's ${own.map((s) => s.epochs).join(', ')} epochs (one run of one recipe, constant learning rate) the accuracy at σ = 0.6 ${rising ? 'rises' : falling ? 'falls' : 'moves, not monotonically,'} by ${(100 * (accs[accs.length - 1] - accs[0])).toFixed(1)} points (span ${(100 * (Math.max(...accs) - Math.min(...accs))).toFixed(1)}; run-to-run std ≤ ${pct(Math.max(...own.map((s) => s.cells[i6]!.std)))}). `
            : '') +
          (() => {
            // At every σ > 0 with a paper value: the sweep model closest to the paper's σ_train = 0 row.
            const sig = report.options.sigmas.map((sg, i) => ({ sg, i, j: paperSigmaIndex(sg) })).filter((x) => x.sg > 0 && x.j >= 0);
            const nearest = sig.flatMap(({ sg, i, j }) => {
              const cands = own.filter((s) => s.cells[i]);
              if (!cands.length) return [];
              const paper = t2.family.paper.noiselessTrained[j];
              const best = cands.reduce((a, b) => (Math.abs(b.cells[i]!.mean - paper) < Math.abs(a.cells[i]!.mean - paper) ? b : a));
              return [{ sg, model: best.model, ours: best.cells[i]!.mean, paper }];
            });
            if (!nearest.length) return '';
            const within = nearest.filter((x) => Math.abs(x.ours - x.paper) <= 0.015);
            return (
              `Closest sweep model to the paper's σ_train = 0 row at each σ: ${nearest.map((x) => `σ = ${x.sg}: ${x.model} ${pct(x.ours)} vs ${pct(x.paper)} (${diff(x.ours, x.paper)})`).join('; ')}. ` +
              (within.length
                ? `The same architecture and noise model give the paper's number within 1.5 points at σ = ${within.map((x) => x.sg).join(', ')}${new Set(within.map((x) => x.model)).size > 1 ? ' (a different training budget at each σ: no single sweep model matches the whole row)' : ` (all with ${within[0].model})`}, so the σ_train = 0 gap comes from how fragile the trained network is, not from the simulated noise. `
                : 'No sweep model is within 1.5 points of the paper at any σ. ') +
              (nearest.some((x) => Math.abs(x.ours - x.paper) > 0.015)
                ? `Where none is (σ = ${nearest.filter((x) => Math.abs(x.ours - x.paper) > 0.015).map((x) => x.sg).join(', ')}), the paper's network degrades faster with σ than any of the sweep's networks; what in its 100-epoch training makes it so is not measured here.`
                : '')
            );
          })(),
      );
    }
    const sweepT = report.sweep.filter((s) => s.sigmaTrain > 0);
    if (sweepT.length > 0) {
      const st = sweepT[0].sigmaTrain;
      const idx = report.options.sigmas.map((s, i) => ({ s, i })).filter(({ s }) => s >= 0.6);
      out.push(
        `Noise-injected training (σ_train = ${st}): ` +
          sweepT.map((s) => `${s.model} (${s.training}): ${idx.map(({ s: sg, i }) => `σ=${sg} ${pct(s.cells[i]?.mean)}`).join(', ')}`).join('; ') +
          ` (paper, best σ_train per σ: ${idx.map(({ s: sg }) => { const j = paperSigmaIndex(sg); return j < 0 ? '' : `σ=${sg} ${pct(t2.family.paper.best[j])}`; }).filter(Boolean).join(', ')}). The zoo fine-tunes its σ_train > 0 models for 1–3 epochs from the σ_train = 0 model; the paper trains each from scratch for 100 epochs.`,
      );
    }
    const r0 = rowAt(t2, 0);
    const noisyTrained = t2.models.filter((m) => m.sigmaTrain >= 0.6);
    if (r0?.best && noisyTrained.length) {
      out.push(
        `**Noiseless accuracy of the noise-trained models** (σ = 0 column of the full grid): ${noisyTrained.map((m) => `σ_train ${m.sigmaTrain}: ${pct(m.cells[0]?.single.mean)}`).join(', ')} % (paper: its σ = 0 best is σ_train ${t2.family.paper.bestSigmaTrain[0]} at ${pct(t2.family.paper.best[0])} %; here σ_train ${r0.best.sigmaTrain} at ${pct(r0.best.summary.mean)} %). ` +
          'The zoo README attributes the loss to batch-norm statistics estimated with noise upstream (not measured in this document); the σ_train > 0 models are meant for noisy inference near their σ_train.',
      );
    }
  }
  if (report.weights.length) {
    const zoo = report.weights.filter((w) => !/-e\d+$/.test(w.model) && w.meanAbs !== null);
    const sweep = report.weights.filter((w) => /-e\d+$/.test(w.model) && w.meanAbs !== null);
    if (zoo.length) {
      const vals = zoo.map((w) => w.meanAbs!);
      const epochsOf = (m: string) => Number(/-e(\d+)$/.exec(m)?.[1]);
      const bySigma = new Map<number, typeof sweep>();
      for (const w of sweep) bySigma.set(w.sigmaTrain, [...(bySigma.get(w.sigmaTrain) ?? []), w].sort((a, b) => epochsOf(a.model) - epochsOf(b.model)));
      const trend = [...bySigma.entries()].map(([st, ws]) => {
        const v = ws.map((w) => w.meanAbs!);
        const dir = v.every((x, i) => i === 0 || x > v[i - 1]) ? 'grows with every added epoch' : v.every((x, i) => i === 0 || x < v[i - 1]) ? 'shrinks with every added epoch' : 'is not monotone in the epochs';
        return `σ_train ${st}: ${ws.map((w) => `${epochsOf(w.model)} ep. ${num(w.meanAbs, 4)}`).join(', ')} (${dir})`;
      });
      const pairs = [...new Set(sweep.map((w) => epochsOf(w.model)))].flatMap((e) => {
        const a = sweep.find((w) => w.sigmaTrain === 0 && epochsOf(w.model) === e);
        const b = sweep.find((w) => w.sigmaTrain > 0 && epochsOf(w.model) === e);
        return a && b ? [{ e, larger: b.meanAbs! > a.meanAbs! }] : [];
      });
      const larger = pairs.filter((p) => p.larger).map((p) => p.e);
      out.push(
        `**Table 4 (mean |w|).** The zoo models give ${num(Math.min(...vals), 4)}–${num(Math.max(...vals), 4)} for every σ_train (paper 0.049–0.060): the σ_train > 0 models are fine-tuned 1–3 epochs from the σ_train = 0 model and stay within ${num(Math.max(...vals) - Math.min(...vals), 4)} of its weight scale, so Table 4's trend cannot show in them. ` +
          (sweep.length
            ? `Trained from scratch (the sweep): ${trend.join('; ')}. The paper's "noise-trained weights slightly larger" (σ_train > 0 above σ_train = 0 at equal epochs) holds at ${larger.length} of the ${pairs.length} epoch counts measured (${pairs.map((p) => `${p.e} ep.: ${p.larger ? 'yes' : 'no'}`).join(', ')}).`
            : ''),
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
  // Voting at σ = 1, per voting table: how the best voted model's accuracy grows with V, against its own noiseless accuracy.
  const votingLines = report.tables
    .filter((t) => t.family.paperVoting)
    .flatMap((t) => {
      const i = t.sigmas.findIndex((sg) => Math.abs(sg - 1) < 1e-9);
      const row = t.rows[i];
      if (i < 0 || !row?.bestVoted || !row.best) return [];
      const m = t.models.find((x) => x.sigmaTrain === row.bestVoted!.sigmaTrain);
      const c = m?.cells[i];
      const own = m?.cells[t.sigmas.indexOf(0)]?.single.mean;
      if (!c || own === undefined) return [];
      const v = c.votesCurve;
      const at = (k: number) => v[Math.min(k, v.length) - 1];
      const gain = row.bestVoted.voted.value - row.best.summary.mean;
      const p = t.family.paperVoting!;
      const paperGain = p.bestVoting[PAPER_SIGMAS.length - 1] - p.noVoting[PAPER_SIGMAS.length - 1];
      return [
        `Table ${t.family.votingTable} (σ_train ${m!.sigmaTrain}): 1 vote ${pct(at(1))}, 5 votes ${pct(at(5))}, ${v.length} votes ${pct(at(v.length))} % against its noiseless ${pct(own)} %; gain over the best single run ${diff(row.bestVoted.voted.value, row.best.summary.mean)} (paper ${diff(paperGain, 0)})` +
          (at(v.length) < own - 0.05 && at(v.length) - at(5) < 0.02
            ? `: the votes stop helping by V = 5 and end ${(100 * (own - at(v.length))).toFixed(1)} points below the model's noiseless accuracy, so on those images the runs' labels agree on a wrong class, which more votes cannot average away. The zoo has σ_train ∈ {${t.models.map((x) => x.sigmaTrain).join(', ')}} for this table (the paper's best at σ = 1 is σ_train ${t.family.paper.bestSigmaTrain[PAPER_SIGMAS.length - 1]}, ${pct(t.family.paper.best[PAPER_SIGMAS.length - 1])} % single-run), and ${t.examples ?? '—'} test images give ± ${t.examples ? pct(Math.sqrt((at(v.length) * (1 - at(v.length))) / t.examples)) : '—'} points`
            : ''),
      ];
    });
  if (votingLines.length) out.push(`**Voting at σ = 1** (the best ${report.options.votes}-vote model's votes curve, averaged over rotations of the run order): ${votingLines.join('; ')}.`);
  const t6 = report.tables.find((t) => t.family.table === '6');
  if (t6) {
    const r2 = rowAt(t6, 0.2);
    const lstm0 = t6.models.find((x) => x.sigmaTrain === 0);
    const cnn0 = t2?.models.find((x) => x.sigmaTrain === 0);
    if (r2?.noiseless && r2.paperIndex >= 0 && lstm0) {
      const errs = (m: typeof lstm0, t: SweepTable) => t.rows.filter((r) => r.sigma > 0).map((r) => ({ sigma: r.sigma, e: m.cells[t.sigmas.indexOf(r.sigma)]?.logitError }));
      const le = errs(lstm0, t6);
      const ratio = le.filter((x) => x.e !== undefined).map((x) => x.e! / x.sigma);
      const r4 = rowAt(t6, 0.4);
      const decay = lrDecay(lstm0.command);
      out.push(
        `**LSTM.** The zoo LSTM (128 hidden units, 100 pen offsets, zero padding first) reaches ${pct(rowAt(t6, 0)?.noiseless?.mean)} % noiseless (paper 94.8 %); its σ_train = 0 model keeps ${pct(r2.noiseless.mean)} % at σ = 0.2 (paper ${pct(t6.family.paper.noiselessTrained[r2.paperIndex])} %)${r4?.noiseless && r4.paperIndex >= 0 ? ` and ${pct(r4.noiseless.mean)} % at σ = 0.4 (paper ${pct(t6.family.paper.noiselessTrained[r4.paperIndex])} %)` : ''}, so the σ_train = 0 row misses the 3-point target while the best row (noise-trained) is within ${Math.max(...t6.rows.filter((r) => r.sigma <= 0.4 + 1e-9 && r.best && r.paperIndex >= 0).map((r) => Math.abs(100 * (r.best!.summary.mean - t6.family.paper.best[r.paperIndex])))).toFixed(1)} points for σ ≤ 0.4. ` +
          `Measured output error of this σ_train = 0 LSTM (rms relative logit error over the test set): ${le.map((x) => `${num(x.e, 2)} at σ = ${x.sigma}`).join(', ')}, i.e. ${num(Math.min(...ratio), 2)}–${num(Math.max(...ratio), 2)} × σ: the noise on the 4 gate MVMs of 100 steps reaches the output about as large as one MVM's${cnn0 ? ` (the CNN-6, σ_train = 0: ${errs(cnn0, t2!).map((x) => `${num(x.e, 2)}`).join(', ')} at the same σ)` : ''}. ` +
          `The paper's LSTM loses ${(100 * (t6.family.paper.noiselessTrained[0] - t6.family.paper.noiselessTrained[2])).toFixed(1)} points by σ = 0.4, so its accuracy is far more sensitive to the same per-MVM σ than this model's; the paper trains 100 epochs, the zoo ${lstm0.epochs}${decay ? ` (lr decayed ${decay} per epoch)` : ''}, with σ_train > 0 models fine-tuned from it. ` +
          lstmPlacementSentence(report.lstmPlacement, t6),
      );
    }
  }
  out.push(...table11Explanations(report.table11));
  const o = report.options;
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
              `${r.device} amounts to ${r.logitMatchedBound === 'above' ? `σ > ${Math.max(...o.matchSigmas)} (beyond the matched grid)` : `σ ≈ ${num(r.logitMatched, 2)}`} at the output; one run: σ_train = 0 ${pct(r.base!.single.mean)} %, ` +
              (r.trained ? `noise-trained σ_train ${r.trained.sigmaTrain} ${pct(r.trained.single.mean)} % (${gain! >= 0 ? '+' : '−'}${Math.abs(gain!).toFixed(1)})` : 'noise-trained not run yet') +
              `; σ_train = 0 voted: ${r.base!.passes.votes} passes ${pct(r.base!.passes.mean)} %, ${r.base!.replicas.votes} replicas ${pct(r.base!.replicas.value)} %`
            );
          })
          .join('; ') +
        `. Replicas (one run on each of ${o.chips} chips) beat passes (${o.passes} runs of one chip) on ${better} of ${rows.length} devices; the largest difference is ${(() => {
          const n = d.examples ?? 0;
          const dmax = Math.max(...rows.map((r) => Math.abs(r.base!.replicas.value - r.base!.passes.mean)));
          return `${pct(dmax)} points (${n ? Math.round(dmax * n) : '—'} of ${n} samples)`;
        })()}` +
        (better > rows.length / 2 ? ': passes share one programming draw, which their vote cannot average away; replicas draw it anew.' : '.') +
        (() => {
          const gains = rows.filter((r) => r.trained).map((r) => r.trained!.single.mean - r.base!.single.mean);
          if (!gains.length) return '';
          if (gains.every((g) => g < 0)) {
            const kept = rows.filter((r) => r.trained).map((r) => r.base!.single.mean);
            return ` The noise-trained choice is below the σ_train = 0 model on every device measured (${gains.map((g) => (100 * g).toFixed(1)).join(', ')} points): the σ_train = 0 model already keeps ${pct(Math.min(...kept))}–${pct(Math.max(...kept))} % on these chips, so noise training has nothing to recover and costs its noiseless accuracy (σ = 0 column of the grid).`;
          }
          if (gains.every((g) => g > 0)) return ` The noise-trained choice gains on every device measured (${gains.map((g) => `+${(100 * g).toFixed(1)}`).join(', ')} points).`;
          return '';
        })(),
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
  const t11 = tables.filter((t) => t.id.startsWith('table-11'));
  if (t11.length) {
    lines.push(tableBlock(t11[0], '##'));
    for (const t of t11.slice(1)) lines.push(tableBlock(t));
  }
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

