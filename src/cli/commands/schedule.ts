/**
 * `ohmic schedule`: latency, energy, power and throughput of a voted decision
 * for the paper's equal-stage case (§3.3): L stages of τ ns each, V votes.
 *
 * The energy of one inference comes from exactly one of `--energy-pj E` or
 * `--power-mw P`; they are tied by `E = P·L·τ` (1 mW · 1 ns = 1 pJ), P being
 * the power one inference draws over its latency L·τ.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../errors';
import { initBackend } from '../../backend';
import { compile } from '../../compiler/compile';
import { measureEnergyOnData } from '../../compiler/report';
import { calibrationInputs, CALIBRATION_HELP, CALIBRATION_LIMIT_HELP } from '../calibration';
import { chipFromDeviceArg, loadModelArg } from '../modelArg';
import { parseNumberOption } from '../options';
import {
  equalStageInput,
  energyFromPowerPicojoules,
  schedule,
  scheduleAll,
  validateScheduleMode,
  type ScheduleInput,
  type ScheduleMode,
  type ScheduleResult,
} from '../../compiler/scheduler';

interface ScheduleOptions {
  stages?: string;
  votes?: string;
  stageNs?: string;
  powerMw?: string;
  energyPj?: string;
  tiles?: string;
  areaUm2?: string;
  mode: string;
  json?: boolean;
  model?: string;
  device: string;
  tile?: string;
  calibration?: string;
  calibrationLimit?: string;
}

/** Library field names → the flags that set them, so errors name what the user typed. */
const FLAG_OF: Readonly<Record<string, string>> = {
  stages: '--stages',
  votes: '--votes',
  stageNs: '--stage-ns',
  energyPerInferencePicojoules: '--energy-pj',
  powerPerInferenceMilliwatts: '--power-mw',
  tiles: '--tiles',
  areaSquareMicrometers: '--area-um2',
  mode: '--mode',
};

function parseNumber(flag: string, raw: string | undefined): number | undefined {
  // Decimal only: `0x10` is not 16 mW, and `1e999` is not a number of anything.
  return raw === undefined ? undefined : parseNumberOption(flag, raw);
}

function required(flag: string, value: number | undefined, expected: string): number {
  if (value === undefined) throw new ConfigError(flag, undefined, expected);
  return value;
}

function withFlagNames<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof ConfigError && FLAG_OF[err.field] !== undefined) {
      throw new ConfigError(FLAG_OF[err.field], err.value, err.expected);
    }
    throw err;
  }
}

function buildInput(opts: ScheduleOptions): ScheduleInput {
  const stages = required('--stages', parseNumber('--stages', opts.stages), 'a positive integer (analog stages L)');
  const votes = required('--votes', parseNumber('--votes', opts.votes), 'a positive integer (votes V)');
  const stageNs = required('--stage-ns', parseNumber('--stage-ns', opts.stageNs), 'a positive number (ns per stage)');
  const powerMw = parseNumber('--power-mw', opts.powerMw);
  const energyPj = parseNumber('--energy-pj', opts.energyPj);
  if (powerMw !== undefined && energyPj !== undefined) {
    throw new ConfigError('--power-mw', opts.powerMw, `to be omitted when --energy-pj is given (E = P·L·τ ties them)`);
  }
  if (powerMw === undefined && energyPj === undefined) {
    throw new ConfigError('--energy-pj', undefined, 'one of --energy-pj (pJ per inference) or --power-mw (mW per inference)');
  }
  return withFlagNames(() => {
    // Validate L and τ before using them to turn P into E.
    const shape = equalStageInput({ stages, stageNs, votes, energyPerInferencePicojoules: 1 });
    const energy = energyPj ?? energyFromPowerPicojoules(powerMw as number, shape.stageTimesNs);
    return equalStageInput({
      stages,
      stageNs,
      votes,
      energyPerInferencePicojoules: energy,
      tiles: parseNumber('--tiles', opts.tiles),
      areaSquareMicrometers: parseNumber('--area-um2', opts.areaUm2),
    });
  });
}

function formatNumber(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  return String(Number(x.toPrecision(6)));
}

const ROWS: ReadonlyArray<readonly [string, (r: ScheduleResult) => number | undefined]> = [
  ['latency (ns)', (r) => r.latencyNs],
  ['latency overhead (ns)', (r) => r.latencyOverheadNs],
  ['energy per decision (pJ)', (r) => r.energyPerDecisionPicojoules],
  ['average power (mW)', (r) => r.averagePowerMilliwatts],
  ['paper power V·P (mW)', (r) => r.paperPowerMilliwatts],
  ['decision interval (ns)', (r) => r.decisionIntervalNs],
  ['throughput (decisions/s)', (r) => r.throughputDecisionsPerSecond],
  ['tiles', (r) => r.tiles],
  ['area (µm²)', (r) => r.areaSquareMicrometers],
];

/** The results as an aligned text table, one column per mode. */
export function formatScheduleTable(input: ScheduleInput, results: readonly ScheduleResult[]): string {
  const first = results[0];
  const header = ['quantity', ...results.map((r) => r.mode)];
  const body = ROWS.filter(([, get]) => get(first) !== undefined).map(([label, get]) => [
    label,
    ...results.map((r) => formatNumber(get(r) as number)),
  ]);
  const table = [header, ...body];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const lines = table.map((row) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '),
  );
  const taus = input.stageTimesNs;
  const equal = taus.every((t) => t === taus[0]);
  const stagesText = equal
    ? `${first.stages} stages × ${formatNumber(taus[0])} ns`
    : `${first.stages} stages, Σ τ = ${formatNumber(taus.reduce((a, b) => a + b, 0))} ns, max τ = ${formatNumber(Math.max(...taus))} ns`;
  return [
    `L = ${stagesText}, V = ${first.votes} votes, ` +
      `E = ${formatNumber(input.energyPerInferencePicojoules)} pJ per inference ` +
      `(P = ${formatNumber(first.singleInferencePowerMilliwatts)} mW)`,
    '',
    ...lines,
    '',
    'average power = energy per decision / latency; the paper quotes V·P, which only parallel copies draw.',
    'throughput assumes back-to-back decisions; parallel copies are each pipelined across decisions.',
    '',
  ].join('\n');
}

/** The schedule input of `--model` compiled on `--device`: one stage per analog layer. */
async function inputFromModel(opts: ScheduleOptions): Promise<ScheduleInput> {
  for (const [flag, value] of [['--stages', opts.stages], ['--stage-ns', opts.stageNs], ['--energy-pj', opts.energyPj], ['--power-mw', opts.powerMw]] as const) {
    if (value !== undefined) throw new ConfigError(flag, value, 'to be omitted with --model (the compiled model gives it)');
  }
  const votes = required('--votes', parseNumber('--votes', opts.votes), 'a positive integer (votes V)');
  await initBackend();
  const graph = await loadModelArg(opts.model);
  const compiled = compile(graph, { chip: chipFromDeviceArg(opts.device, opts.tile) });
  try {
    // With calibration data the energy per inference is measured on it; else the plan's worst-case bound.
    const calibration = calibrationInputs(opts.calibration, opts.calibrationLimit ?? '256', graph);
    const measured = calibration ? (await measureEnergyOnData(compiled, calibration)).perInferencePicojoules : undefined;
    return withFlagNames(() => compiled.scheduleInput(votes, measured === undefined ? {} : { energyPerInferencePicojoules: measured }));
  } finally {
    compiled.dispose();
  }
}

/** Registers `ohmic schedule`. */
export function registerSchedule(program: Command): void {
  program
    .command('schedule')
    .description(
      'Latency, energy, power and throughput of one decision of V votes over L equal analog stages ' +
        '(pipelined: (L+V−1)·τ, sequential: L·V·τ, parallel copies: L·τ; energy V·E in every mode).',
    )
    .option('--stages <L>', 'number of analog stages (layers) L, a positive integer')
    .option('--votes <V>', 'votes per decision V, a positive integer')
    .option('--stage-ns <T>', 'time of each stage τ in nanoseconds (ns)')
    .option('--energy-pj <E>', 'energy of one inference E in picojoules (pJ); give this or --power-mw')
    .option('--power-mw <P>', 'power of one inference P in milliwatts (mW); sets E = P·L·τ (mW·ns = pJ)')
    .option('--tiles <N>', 'tiles of one copy of the network (default: L, one array per layer)')
    .option('--area-um2 <A>', 'area of one copy of the network in square micrometres (µm²), optional')
    .option('--model <model>', 'take the stages, stage times, energy, tiles and area from this model compiled on --device (zoo:NAME, .onnx, model.json) instead of --stages/--stage-ns/--energy-pj')
    .option('--device <device>', 'with --model: reram | pcm | nand | ideal, or a chip/device .json file', 'reram')
    .option('--tile <RxC>', 'with --model: tile size, e.g. 256x256')
    .option('--calibration <inputs>', `with --model: take the energy per inference measured on ${CALIBRATION_HELP.replace("the model's own inputs to measure effective σ and energy on: ", '')} (default: the worst-case bound)`)
    .option('--calibration-limit <N>', `with --calibration: ${CALIBRATION_LIMIT_HELP}`, '256')
    .option('--mode <mode>', 'pipelined | sequential | parallel | all', 'all')
    .option('--json', 'print JSON ({input, results}) instead of a table')
    .action(async (opts: ScheduleOptions) => {
      const input = opts.model === undefined ? buildInput(opts) : await inputFromModel(opts);
      const results: ScheduleResult[] =
        opts.mode === 'all'
          ? scheduleAll(input)
          : [schedule(input, withFlagNames<ScheduleMode>(() => validateScheduleModeOrAll(opts.mode)))];
      process.stdout.write(
        opts.json ? `${JSON.stringify({ input, results }, null, 2)}\n` : formatScheduleTable(input, results),
      );
    });
}

function validateScheduleModeOrAll(raw: string): ScheduleMode {
  try {
    return validateScheduleMode(raw);
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new ConfigError('mode', raw, `one of pipelined, sequential, parallel, all`);
    }
    throw err;
  }
}
