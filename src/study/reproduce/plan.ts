/**
 * What `ohmic reproduce` measures: the paper's tables as lists of cells
 * ({@link CellSpec} plus the chip-information and weight cells below), over the
 * zoo's model families, and where their results live.
 *
 * Results are one JSON file per cell in `<out>/cells/`, written atomically, so a
 * killed run resumes where it stopped, and shards (`shard i/n`, by a hash of the
 * cell's file name) split the cells of one plan between processes or machines
 * that share the folder. Some cells depend on others' results (the noise-trained
 * model run on each device is chosen from the σ_train = 0 model's device
 * results), so the plan is recomputed after each round until nothing is missing.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, DataError } from '../../errors';
import { readZooManifest, type ZooEntry } from '../../models/zoo';
import { PRESET_NAMES } from '../../crossbar/presets';
import { writeFileAtomic } from '../resultsFile';
import { LEGACY_NOISE_GENERATOR, NOISE_GENERATOR } from '../../rng';
import { cellFileName, modelId, type CellResult, type CellSpec, type ReproDataset, type SignalNoiseKind } from './cells';
import type { Table11Dirs } from './table11';
import { LSTM_NOISE_PLACEMENTS, LSTM_PLACEMENT_SIGMAS, type LstmNoisePlacement } from './lstmNoisePlacement';
import { PAPER_SIGMAS, PAPER_TABLE_2, PAPER_TABLE_3, PAPER_TABLE_5, PAPER_TABLE_6, PAPER_TABLE_7, PAPER_TABLE_8, PAPER_TABLE_9, type PaperSweepTable, type PaperVotingTable } from './paperTables';

/** What can be asked for: a paper table or figure, or one of ohmic's extra sections. */
export const REPRO_SECTIONS = ['2', '3', '4', '5', '6', '7', '8', '9', '11', 'fig2', 'fig11', 'devices', 'schedule', 'sweep'] as const;
export type ReproSection = (typeof REPRO_SECTIONS)[number];

export type FamilyId = 'cnn6-mult' | 'cnn6-add' | 'densenet' | 'lstm';

/** A σ_train sweep of the zoo: one paper table (and its voting table). */
export interface Family {
  readonly id: FamilyId;
  readonly title: string;
  readonly dataset: ReproDataset;
  readonly noise: SignalNoiseKind;
  /** Zoo names of the sweep. */
  readonly pattern: RegExp;
  readonly table: '2' | '3' | '5' | '6';
  readonly votingTable: '7' | '8' | '9' | null;
  readonly paper: PaperSweepTable;
  readonly paperVoting: PaperVotingTable | null;
  /**
   * Whether device cells are planned for it. DenseNet-40's are not: one ReRAM chip of it took 358 s to compile
   * with 100 calibration images (4.58 GB RSS) and 164 s for 100 images × 5 votes (2026-12-02, 2 cores), so a
   * device cell of 20 chips would be about 3 h, per device.
   */
  readonly onDevices: boolean;
}

export const FAMILIES: readonly Family[] = [
  { id: 'cnn6-mult', title: 'CNN-6, MNIST, multiplicative noise', dataset: 'mnist', noise: 'multiplicative', pattern: /^cnn6-mnist-mult-[0-9.]+$/, table: '2', votingTable: '7', paper: PAPER_TABLE_2, paperVoting: PAPER_TABLE_7, onDevices: true },
  { id: 'cnn6-add', title: 'CNN-6, MNIST, additive noise (fixed batch norm)', dataset: 'mnist', noise: 'additive', pattern: /^cnn6-mnist-add-[0-9.]+$/, table: '3', votingTable: null, paper: PAPER_TABLE_3, paperVoting: null, onDevices: true },
  { id: 'densenet', title: 'DenseNet-40, CIFAR-10 (reduced: 3,500 training images, 500 held out)', dataset: 'cifar10-heldout', noise: 'multiplicative', pattern: /^densenet40-cifar-mult-[0-9.]+$/, table: '5', votingTable: '8', paper: PAPER_TABLE_5, paperVoting: PAPER_TABLE_8, onDevices: false },
  { id: 'lstm', title: 'LSTM, MNIST stroke sequences, multiplicative noise', dataset: 'mnist-strokes', noise: 'multiplicative', pattern: /^lstm-strokes-mult-[0-9.]+$/, table: '6', votingTable: '9', paper: PAPER_TABLE_6, paperVoting: PAPER_TABLE_9, onDevices: true },
];

export interface ReproduceOptions {
  readonly sections: readonly ReproSection[];
  /** MNIST digits and stroke sequences per cell (null: all 10,000). */
  readonly limit: number | null;
  /** Held-out CIFAR-10 images per DenseNet cell (null: all 500). */
  readonly cifarLimit: number | null;
  /** Samples per device cell and per cell of the curve the devices are matched on. */
  readonly deviceLimit: number | null;
  /** R: independent noisy runs per signal cell. */
  readonly runs: number;
  /** V of the voting tables (runs voted over; at most R). */
  readonly votes: number;
  readonly sigmas: readonly number[];
  /** The σ grid of the σ_train = 0 curve that device accuracies and output errors are matched on. */
  readonly matchSigmas: readonly number[];
  readonly devices: readonly string[];
  /** Programmed chips per device cell, and how many of them run `passes` times. */
  readonly chips: number;
  readonly passChips: number;
  readonly passes: number;
  readonly rootSeed: number;
  /** Noisy runs per cell of the training-budget sweep's models (a diagnostic: fewer than `runs`). */
  readonly sweepRuns: number;
  /** Folder of the training-budget sweep's zoo folders (`sigma-S/…`), or null. */
  readonly sweepDir: string | null;
  /** Zoo folder (default: the repository's `zoo/`). */
  readonly zooDir?: string;
  /** Table 11: the `ohmic attack` result folders it reads (see ./table11.ts); absent: Table 11 shows as not run. */
  readonly table11?: Table11Dirs;
}

export const FULL_DEFAULTS: Omit<ReproduceOptions, 'sections' | 'sweepDir'> = {
  limit: null,
  cifarLimit: null,
  deviceLimit: 1000,
  runs: 20,
  votes: 20,
  sigmas: PAPER_SIGMAS,
  matchSigmas: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
  devices: ['reram', 'pcm', 'nand'],
  chips: 20,
  passChips: 1,
  passes: 20,
  rootSeed: 0,
  sweepRuns: 5,
};

/** `--quick`: a few minutes on 2 cores; shapes only. */
export const QUICK_DEFAULTS: Omit<ReproduceOptions, 'sections' | 'sweepDir'> = {
  ...FULL_DEFAULTS,
  limit: 200,
  cifarLimit: 40,
  deviceLimit: 200,
  runs: 20,
  chips: 5,
  passChips: 1,
  passes: 20,
};

/** Options checked once, at the boundary. */
export function validateReproduceOptions(o: ReproduceOptions): ReproduceOptions {
  const posInt = (field: string, v: unknown) => {
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw new ConfigError(field, v, 'an integer >= 1');
  };
  for (const s of o.sections) if (!(REPRO_SECTIONS as readonly string[]).includes(s)) throw new ConfigError('table', s, `one of ${REPRO_SECTIONS.join(', ')}`);
  for (const f of ['limit', 'cifarLimit', 'deviceLimit'] as const) if (o[f] !== null) posInt(f, o[f]);
  for (const f of ['runs', 'votes', 'chips', 'passChips', 'passes', 'sweepRuns'] as const) posInt(f, o[f]);
  if (o.votes > o.runs) throw new ConfigError('votes', o.votes, `at most the runs per cell (${o.runs})`);
  if (o.passChips > o.chips) throw new ConfigError('passChips', o.passChips, `at most the chips per device cell (${o.chips})`);
  for (const s of [...o.sigmas, ...o.matchSigmas]) if (typeof s !== 'number' || !(s >= 0) || !Number.isFinite(s)) throw new ConfigError('sigmas', s, 'numbers >= 0');
  if (!o.sigmas.includes(0)) throw new ConfigError('sigmas', o.sigmas, 'a list that includes 0 (the noiseless column)');
  for (const d of o.devices) if (!(PRESET_NAMES as readonly string[]).includes(d)) throw new ConfigError('devices', d, `presets among ${PRESET_NAMES.join(', ')}`);
  return o;
}

/** The test set of a zoo model reference, from the family its name belongs to (undefined for a model of no family). */
export function datasetOfModel(model: string): ReproDataset | undefined {
  const name = modelId(model);
  return FAMILIES.find((f) => f.pattern.test(name))?.dataset;
}

/** Families a set of sections needs. */
export function familiesFor(sections: readonly ReproSection[]): Family[] {
  const want = new Set<FamilyId>();
  for (const s of sections) {
    if (s === '2' || s === '7' || s === 'fig2' || s === 'fig11') want.add('cnn6-mult');
    if (s === '3') want.add('cnn6-add');
    if (s === '5' || s === '8') want.add('densenet');
    if (s === '6' || s === '9') want.add('lstm');
    if (s === 'fig11') want.add('lstm').add('densenet');
  }
  if (sections.includes('devices') || sections.includes('schedule')) {
    if (want.size === 0) ['cnn6-mult', 'cnn6-add', 'lstm'].forEach((f) => want.add(f as FamilyId));
  }
  return FAMILIES.filter((f) => want.has(f.id));
}

/** The zoo models of a family, by σ_train. */
export function familyModels(family: Family, zooDir?: string): ZooEntry[] {
  return readZooManifest(zooDir)
    .models.filter((m) => family.pattern.test(m.name))
    .sort((a, b) => a.sigmaTrain - b.sigmaTrain);
}

/** Reference of a zoo model for cells: its bare name in the default zoo, else `ZOO_DIR/NAME`. */
export function modelRef(entry: ZooEntry, zooDir?: string): string {
  return zooDir === undefined ? entry.name : `${zooDir}/${entry.name}`;
}

/** Samples of a family's cells. */
export function limitOf(family: Family, o: ReproduceOptions): number | null {
  return family.dataset === 'cifar10-heldout' ? o.cifarLimit : o.limit;
}

/** Chip information of a model on a device: per-layer effective σ and the schedules of 1 and V votes. */
export interface ChipInfoSpec {
  readonly kind: 'chip-info';
  readonly model: string;
  readonly device: string;
  readonly votes: number;
}

/** Mean |w| of a model (Table 4). */
export interface WeightsSpec {
  readonly kind: 'weights';
  readonly model: string;
}

/** Table 6's noise-placement diagnostic (./lstmNoisePlacement.ts): one LSTM, one placement, one σ, `runs` runs. */
export interface LstmPlacementSpec {
  readonly kind: 'lstm-placement';
  readonly model: string;
  readonly placement: LstmNoisePlacement;
  readonly sigma: number;
  readonly runs: number;
}

export type PlannedSpec = CellSpec | ChipInfoSpec | WeightsSpec | LstmPlacementSpec;

/** One planned measurement: a spec and the sample count it runs on. */
export interface PlannedCell {
  readonly spec: PlannedSpec;
  readonly limit: number | null;
  readonly file: string;
}

export interface ChipInfoResult {
  readonly spec: ChipInfoSpec;
  readonly layers: ReadonlyArray<{ name: string; effectiveSigma: number; snrDb: number }>;
  readonly tiles: number;
  readonly areaSquareMicrometers: number;
  readonly energyPerInferencePicojoules: number;
  readonly latencyNs: number;
  /** `scheduleAll` for V = 1 and V = votes. */
  readonly schedules: ReadonlyArray<{ votes: number; mode: string; latencyNs: number; energyPicojoules: number; averagePowerMilliwatts: number; paperPowerMilliwatts: number; tiles: number; areaSquareMicrometers: number | null }>;
}

export interface WeightsResult {
  readonly spec: WeightsSpec;
  readonly meanAbs: number;
  readonly count: number;
}

export interface LstmPlacementResult {
  readonly spec: LstmPlacementSpec;
  readonly examples: number;
  readonly rootSeed: number;
  /** Accuracy of each run. */
  readonly runAccuracy: number[];
  readonly seconds: number;
}

export type StoredResult = CellResult | ChipInfoResult | WeightsResult | LstmPlacementResult;

export function plannedFile(spec: PlannedSpec, examples: number | null): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
  if (spec.kind === 'chip-info') return `chip-info__${safe(modelId(spec.model))}__${spec.device}__v${spec.votes}.json`;
  if (spec.kind === 'weights') return `weights__${safe(modelId(spec.model))}.json`;
  if (spec.kind === 'lstm-placement') return `lstm-placement__${safe(modelId(spec.model))}__${spec.placement}__${spec.sigma}__n${examples ?? 'all'}__r${spec.runs}.json`;
  return cellFileName(spec, examples);
}

function planned(spec: PlannedSpec, limit: number | null): PlannedCell {
  return { spec, limit, file: plannedFile(spec, limit) };
}

/**
 * Results found in a cells folder, by file name. A result drawn with noise records
 * the noise generator it drew with; one from another generator (or from before
 * generators were recorded) is stale: a run recomputes it, and only a report from
 * stored results (`acceptStale`) reads it, and says so.
 */
export class ResultStore {
  private readonly results = new Map<string, StoredResult>();
  private readonly stale = new Map<string, StoredResult>();
  constructor(
    readonly dir: string,
    private readonly options: { readonly acceptStale?: boolean } = {},
  ) {
    if (!fs.existsSync(dir)) return;
    for (const f of fs.readdirSync(dir)) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      let r: StoredResult & { generator?: string };
      try {
        r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as StoredResult & { generator?: string };
      } catch (err) {
        throw new DataError(path.join(dir, f), `not a reproduce result (${(err as Error).message}); delete it to recompute`);
      }
      const drawn = r.spec?.kind !== 'weights';
      (drawn && r.generator !== NOISE_GENERATOR ? this.stale : this.results).set(f, r);
    }
  }
  get(file: string): StoredResult | undefined {
    return this.results.get(file) ?? (this.options.acceptStale ? this.stale.get(file) : undefined);
  }
  has(file: string): boolean {
    return this.get(file) !== undefined;
  }
  /** Stale results a report reads (`acceptStale`), by the generator they were drawn with. */
  staleGenerators(): Map<string, number> {
    const out = new Map<string, number>();
    if (!this.options.acceptStale) return out;
    for (const [f, r] of this.stale) {
      if (this.results.has(f)) continue;
      const g = (r as { generator?: string }).generator ?? LEGACY_NOISE_GENERATOR;
      out.set(g, (out.get(g) ?? 0) + 1);
    }
    return out;
  }
  put(file: string, result: StoredResult): void {
    const stamped = result.spec.kind === 'weights' ? result : { ...result, generator: NOISE_GENERATOR };
    writeFileAtomic(path.join(this.dir, file), JSON.stringify(stamped) + '\n');
    this.results.set(file, stamped);
    this.stale.delete(file);
  }
}

/** Shard of a cell: a stable hash of its file name, so shards never depend on plan order. */
export function shardOf(file: string, shards: number): number {
  return createHash('sha256').update(file).digest().readUInt32BE(0) % shards;
}

/** σ_train models of the training-budget sweep: `<sweepDir>/sigma-S/<name>` with a manifest each. */
export function sweepModels(sweepDir: string | null): Array<{ ref: string; entry: ZooEntry }> {
  if (sweepDir === null || !fs.existsSync(sweepDir)) return [];
  const out: Array<{ ref: string; entry: ZooEntry }> = [];
  for (const d of fs.readdirSync(sweepDir).sort()) {
    const dir = path.join(sweepDir, d);
    if (!d.startsWith('sigma-') || !fs.existsSync(path.join(dir, 'manifest.json'))) continue;
    for (const entry of readZooManifest(dir).models) out.push({ ref: `${dir}/${entry.name}`, entry });
  }
  return out.sort((a, b) => a.entry.sigmaTrain - b.entry.sigmaTrain || a.entry.epochs - b.entry.epochs);
}

/**
 * The device cells' noise-trained model: the σ_train > 0 model of the family whose
 * signal-level accuracy is best at the table σ nearest to what the σ_train = 0
 * model's output error on the chip amounts to. Null until those results exist.
 */
export function noiseTrainedChoice(
  family: Family,
  o: ReproduceOptions,
  store: ResultStore,
  device: string,
  matchedSigma: (family: Family, device: string) => number | null,
): string | null {
  const sigma = matchedSigma(family, device);
  if (sigma === null) return null;
  const grid = o.sigmas.filter((s) => s > 0);
  const nearest = grid.reduce((a, b) => (Math.abs(b - sigma) < Math.abs(a - sigma) ? b : a), grid[0]);
  let best: { ref: string; acc: number } | null = null;
  for (const m of familyModels(family, o.zooDir)) {
    if (m.sigmaTrain === 0) continue;
    const ref = modelRef(m, o.zooDir);
    const spec: CellSpec = { kind: 'signal', model: ref, dataset: family.dataset, noise: family.noise, sigma: nearest, runs: o.runs };
    const r = store.get(plannedFile(spec, limitOf(family, o))) as CellResult | undefined;
    if (!r || r.spec.kind !== 'signal') return null;
    const acc = mean((r as { runAccuracy: number[] }).runAccuracy);
    if (best === null || acc > best.acc) best = { ref, acc };
  }
  return best?.ref ?? null;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The signal cells of a model over a σ grid. */
export function signalCells(ref: string, family: Family, sigmas: readonly number[], runs: number, limit: number | null): PlannedCell[] {
  return sigmas.map((sigma) => planned({ kind: 'signal', model: ref, dataset: family.dataset, noise: family.noise, sigma, runs: sigma === 0 ? 1 : runs }, limit));
}

/** Every cell the options need, given the results so far (cells that depend on missing results are left out). */
export function planCells(o: ReproduceOptions, store: ResultStore, matchedSigma: (family: Family, device: string) => number | null): PlannedCell[] {
  const cells: PlannedCell[] = [];
  const families = familiesFor(o.sections);
  const want = (s: ReproSection) => o.sections.includes(s);
  for (const family of families) {
    const models = familyModels(family, o.zooDir);
    const tableSections: ReproSection[] = [family.table, ...(family.votingTable ? [family.votingTable] : []), 'fig2', 'fig11'];
    if (tableSections.some(want) || want('devices')) {
      for (const m of models) cells.push(...signalCells(modelRef(m, o.zooDir), family, o.sigmas, o.runs, limitOf(family, o)));
    }
    const base = models.find((m) => m.sigmaTrain === 0);
    if (want('devices') && family.onDevices && base) {
      const ref = modelRef(base, o.zooDir);
      cells.push(...signalCells(ref, family, o.matchSigmas, o.runs, o.deviceLimit));
      for (const device of o.devices) {
        cells.push(planned({ kind: 'chip-info', model: ref, device, votes: o.votes }, null));
        cells.push(planned(deviceSpec(ref, family, device, o), o.deviceLimit));
        const trained = noiseTrainedChoice(family, o, store, device, matchedSigma);
        if (trained !== null) cells.push(planned(deviceSpec(trained, family, device, o), o.deviceLimit));
      }
    }
    if (family.id === 'lstm' && want(family.table) && base) {
      for (const placement of LSTM_NOISE_PLACEMENTS) {
        for (const sigma of LSTM_PLACEMENT_SIGMAS) cells.push(planned(lstmPlacementSpec(modelRef(base, o.zooDir), placement, sigma, o), o.limit));
      }
    }
    // DenseNet-40 is not compiled onto the device presets (see `onDevices`), so it has no chip report either.
    if (want('schedule') && base && family.onDevices) {
      for (const device of o.devices) cells.push(planned({ kind: 'chip-info', model: modelRef(base, o.zooDir), device, votes: o.votes }, null));
    }
  }
  if (want('4')) {
    for (const m of familyModels(FAMILIES[0], o.zooDir)) cells.push(planned({ kind: 'weights', model: modelRef(m, o.zooDir) }, null));
    for (const s of sweepModels(o.sweepDir)) cells.push(planned({ kind: 'weights', model: s.ref }, null));
  }
  if (want('sweep')) {
    const family = FAMILIES[0];
    for (const s of sweepModels(o.sweepDir)) {
      cells.push(...signalCells(s.ref, family, o.sigmas, o.sweepRuns, o.limit));
      cells.push(planned({ kind: 'weights', model: s.ref }, null));
    }
    // The zoo models the sweep is compared with.
    for (const m of familyModels(family, o.zooDir)) {
      if (sweepModels(o.sweepDir).some((s) => s.entry.sigmaTrain === m.sigmaTrain)) {
        cells.push(...signalCells(modelRef(m, o.zooDir), family, o.sigmas, o.runs, o.limit));
        cells.push(planned({ kind: 'weights', model: modelRef(m, o.zooDir) }, null));
      }
    }
  }
  const seen = new Set<string>();
  return cells.filter((c) => (seen.has(c.file) ? false : (seen.add(c.file), true)));
}

/** The noise-placement diagnostic's cell: a diagnostic, so it runs the training-budget sweep's fewer runs. */
export function lstmPlacementSpec(model: string, placement: LstmNoisePlacement, sigma: number, o: ReproduceOptions): LstmPlacementSpec {
  return { kind: 'lstm-placement', model, placement, sigma, runs: o.sweepRuns };
}

export function deviceSpec(model: string, family: Family, device: string, o: ReproduceOptions): CellSpec {
  return { kind: 'device', model, dataset: family.dataset, device, chips: o.chips, passChips: o.passChips, passes: o.passes };
}
