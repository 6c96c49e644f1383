/**
 * Closed-form latency, energy, power, throughput and area of a voted decision
 * (paper §3.3; design §4 "Scheduler").
 *
 * A compiled network is a chain of L analog stages, stage l taking τ_l ns (one
 * layer's MVM on its own memory arrays). A *decision* is the vote over V noisy
 * inferences of one input. Three ways to run the V votes:
 *
 * - `pipelined`: one chip, every layer's arrays are one pipeline stage; vote v+1
 *   enters layer 1 as soon as vote v has left it. The slowest stage paces the
 *   pipe, so the last vote leaves at `Σ τ_l + (V−1)·max τ_l` (`(L+V−1)·τ` when
 *   all stages take τ, the paper's figure).
 * - `sequential`: one chip, one vote at a time through all layers: `V·Σ τ_l`
 *   (`L·V·τ`).
 * - `parallel`: V replicas of the chip run the V votes at once: `Σ τ_l` (`L·τ`,
 *   no latency overhead), at V× the tiles and area.
 *
 * Energy per decision is V·E in every mode: scheduling moves work in time, it
 * does not remove any. Units make power simple: 1 pJ / 1 ns = 1 mW, so the
 * average power is energy (pJ) over latency (ns) in mW with no factor.
 *
 * Two power figures are reported, because they answer different questions:
 * - `paperPowerMilliwatts = V·P` with `P = E / Σ τ_l` the power of one
 *   inference: the paper's "power consumption of V votes" (§3.3), which holds
 *   when all V inferences run at once.
 * - `averagePowerMilliwatts = V·E / latency`, each mode's own average over the
 *   decision. It equals V·P only for parallel replicas; pipelined and
 *   sequential runs spread the same energy over a longer time, so their
 *   average power is lower (sequential: exactly P).
 *
 * Throughput assumes decisions arrive back to back and every stage's arrays
 * hold one item at a time:
 * - pipelined: the bottleneck stage serves V votes per decision, so one
 *   decision completes every `V·max τ_l` once the pipe is full;
 * - sequential: nothing overlaps, one decision every `V·Σ τ_l`;
 * - parallel: each replica is itself pipelined across decisions (the same
 *   layer-per-stage hardware as `pipelined`, copied V times), and each replica
 *   serves one vote per decision, so one decision every `max τ_l`. Replicas that
 *   were *not* pipelined would give one decision every `Σ τ_l` instead; that
 *   is not what this function reports.
 *
 * `src/compiler/eventSim.ts` simulates the same three schedules event by
 * event; the tests check the two against each other.
 */
import { ConfigError } from '../errors';

/** How the V votes of one decision are laid out in time and hardware. */
export type ScheduleMode = 'pipelined' | 'sequential' | 'parallel';

/** Every mode, in the order reports list them. */
export const SCHEDULE_MODES: readonly ScheduleMode[] = ['pipelined', 'sequential', 'parallel'];

/** What the scheduler needs to know about one compiled network and the vote. */
export interface ScheduleInput {
  /** τ_l in ns for each analog stage, in execution order; L = length (≥ 1). */
  readonly stageTimesNs: readonly number[];
  /** V, the number of noisy inferences voted over per decision (integer ≥ 1). */
  readonly votes: number;
  /** E, the energy of one inference through all L stages, in pJ (> 0). */
  readonly energyPerInferencePicojoules: number;
  /** Tiles of one copy of the network (integer ≥ 1). */
  readonly tiles: number;
  /** Chip area of one copy of the network in µm² (> 0), if known. */
  readonly areaSquareMicrometers?: number;
}

/** Latency, energy, power, throughput and hardware of one schedule. */
export interface ScheduleResult {
  readonly mode: ScheduleMode;
  /** L. */
  readonly stages: number;
  /** V. */
  readonly votes: number;
  /** Time from the first vote entering stage 1 to the last vote leaving stage L, ns. */
  readonly latencyNs: number;
  /** Σ τ_l: latency of a single inference, ns. */
  readonly singleInferenceLatencyNs: number;
  /** `latencyNs − Σ τ_l`: what voting costs in latency, ns. */
  readonly latencyOverheadNs: number;
  /** V·E, pJ (the same in every mode). */
  readonly energyPerDecisionPicojoules: number;
  /** P = E / Σ τ_l, the power of one inference, mW. */
  readonly singleInferencePowerMilliwatts: number;
  /** The paper's V·P, mW (§3.3). Equals `averagePowerMilliwatts` only for `parallel`. */
  readonly paperPowerMilliwatts: number;
  /** This mode's own average: energy per decision / latency, mW. */
  readonly averagePowerMilliwatts: number;
  /** Steady-state time between decision completions with back-to-back decisions, ns. */
  readonly decisionIntervalNs: number;
  /** Steady-state decisions per second: 1e9 / `decisionIntervalNs`. */
  readonly throughputDecisionsPerSecond: number;
  /** Tiles the mode occupies (V× one copy for `parallel`). */
  readonly tiles: number;
  /** Area the mode occupies in µm² (V× for `parallel`); absent when the input gave none. */
  readonly areaSquareMicrometers?: number;
}

/** The paper's equal-stage case: L stages of τ ns each. */
export interface EqualStageSpec {
  /** L, the number of analog stages (integer ≥ 1). */
  readonly stages: number;
  /** τ, the time of every stage in ns (> 0). */
  readonly stageNs: number;
  /** V (integer ≥ 1). */
  readonly votes: number;
  /** E in pJ (> 0). */
  readonly energyPerInferencePicojoules: number;
  /** Tiles of one copy; defaults to L (one memory array per layer, as in §3.3). */
  readonly tiles?: number;
  /** Area of one copy in µm², if known. */
  readonly areaSquareMicrometers?: number;
}

function isRecord(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(field, value, 'a positive integer');
  }
  return value;
}

function positiveFinite(field: string, value: unknown, unit: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(field, value, `a positive finite number (${unit})`);
  }
  return value;
}

/** Checks a raw schedule input once, at the boundary; throws `ConfigError` naming the field. */
export function validateScheduleInput(raw: unknown): ScheduleInput {
  if (!isRecord(raw)) throw new ConfigError('schedule input', raw, 'an object');
  const stages = raw.stageTimesNs;
  if (!Array.isArray(stages) || stages.length === 0) {
    throw new ConfigError('stageTimesNs', stages, 'a non-empty array of stage times in ns');
  }
  const stageTimesNs = stages.map((t, l) => positiveFinite(`stageTimesNs[${l}]`, t, 'ns'));
  const input: ScheduleInput = {
    stageTimesNs,
    votes: positiveInteger('votes', raw.votes),
    energyPerInferencePicojoules: positiveFinite(
      'energyPerInferencePicojoules',
      raw.energyPerInferencePicojoules,
      'pJ',
    ),
    tiles: positiveInteger('tiles', raw.tiles),
  };
  if (raw.areaSquareMicrometers === undefined) return input;
  return {
    ...input,
    areaSquareMicrometers: positiveFinite('areaSquareMicrometers', raw.areaSquareMicrometers, 'µm²'),
  };
}

/** Checks a schedule mode name; throws `ConfigError` listing the modes. */
export function validateScheduleMode(raw: unknown): ScheduleMode {
  if (typeof raw !== 'string' || !(SCHEDULE_MODES as readonly string[]).includes(raw)) {
    throw new ConfigError('mode', raw, `one of ${SCHEDULE_MODES.join(', ')}`);
  }
  return raw as ScheduleMode;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

function max(xs: readonly number[]): number {
  let m = -Infinity;
  for (const x of xs) m = Math.max(m, x);
  return m;
}

interface ModeTiming {
  readonly latencyNs: number;
  readonly decisionIntervalNs: number;
  readonly copies: number;
}

function modeTiming(mode: ScheduleMode, sumNs: number, maxNs: number, votes: number): ModeTiming {
  switch (mode) {
    case 'pipelined':
      return { latencyNs: sumNs + (votes - 1) * maxNs, decisionIntervalNs: votes * maxNs, copies: 1 };
    case 'sequential':
      return { latencyNs: votes * sumNs, decisionIntervalNs: votes * sumNs, copies: 1 };
    case 'parallel':
      return { latencyNs: sumNs, decisionIntervalNs: maxNs, copies: votes };
    default: {
      const unknown: never = mode;
      throw new ConfigError('mode', unknown, `one of ${SCHEDULE_MODES.join(', ')}`);
    }
  }
}

/**
 * Latency, energy, power, throughput and hardware of one decision of V votes
 * run in `mode`. Validates its input.
 *
 * @example
 * ```ts
 * const r = schedule(
 *   { stageTimesNs: [10, 10, 10, 10, 10, 10], votes: 20, energyPerInferencePicojoules: 600, tiles: 6 },
 *   'pipelined',
 * );
 * r.latencyNs; // 250 = (6 + 20 − 1)·10
 * r.averagePowerMilliwatts; // 48 = 20·600 pJ / 250 ns
 * r.paperPowerMilliwatts; // 200 = 20 · (600 pJ / 60 ns)
 * ```
 */
export function schedule(input: ScheduleInput, mode: ScheduleMode): ScheduleResult {
  const valid = validateScheduleInput(input);
  return scheduleValid(valid, validateScheduleMode(mode));
}

function scheduleValid(input: ScheduleInput, mode: ScheduleMode): ScheduleResult {
  const { stageTimesNs, votes, energyPerInferencePicojoules: energyPj, tiles } = input;
  const sumNs = sum(stageTimesNs);
  const timing = modeTiming(mode, sumNs, max(stageTimesNs), votes);
  const energyPerDecisionPicojoules = votes * energyPj;
  // pJ / ns = 1e-12 J / 1e-9 s = 1e-3 W: the quotient is already in mW.
  const singleInferencePowerMilliwatts = energyPj / sumNs;
  const result: ScheduleResult = {
    mode,
    stages: stageTimesNs.length,
    votes,
    latencyNs: timing.latencyNs,
    singleInferenceLatencyNs: sumNs,
    latencyOverheadNs: timing.latencyNs - sumNs,
    energyPerDecisionPicojoules,
    singleInferencePowerMilliwatts,
    paperPowerMilliwatts: votes * singleInferencePowerMilliwatts,
    averagePowerMilliwatts: energyPerDecisionPicojoules / timing.latencyNs,
    decisionIntervalNs: timing.decisionIntervalNs,
    throughputDecisionsPerSecond: 1e9 / timing.decisionIntervalNs,
    tiles: timing.copies * tiles,
  };
  if (input.areaSquareMicrometers === undefined) return result;
  return { ...result, areaSquareMicrometers: timing.copies * input.areaSquareMicrometers };
}

/** All three modes side by side, in `SCHEDULE_MODES` order. Validates its input. */
export function scheduleAll(input: ScheduleInput): ScheduleResult[] {
  const valid = validateScheduleInput(input);
  return SCHEDULE_MODES.map((mode) => scheduleValid(valid, mode));
}

/**
 * Most stages an equal-stage spec may have. The spec is expanded into one stage
 * time per stage, so `stages = 4294967296` would be an allocation, not a network;
 * real networks have tens to hundreds of analog layers.
 */
export const MAX_EQUAL_STAGES = 100_000;

/** Checks an equal-stage spec; throws `ConfigError` naming the field. */
export function validateEqualStageSpec(raw: unknown): EqualStageSpec {
  if (!isRecord(raw)) throw new ConfigError('equal-stage spec', raw, 'an object');
  const stages = positiveInteger('stages', raw.stages);
  if (stages > MAX_EQUAL_STAGES) {
    throw new ConfigError('stages', stages, `a positive integer <= ${MAX_EQUAL_STAGES} (analog stages of one network)`);
  }
  const spec: EqualStageSpec = {
    stages,
    stageNs: positiveFinite('stageNs', raw.stageNs, 'ns'),
    votes: positiveInteger('votes', raw.votes),
    energyPerInferencePicojoules: positiveFinite(
      'energyPerInferencePicojoules',
      raw.energyPerInferencePicojoules,
      'pJ',
    ),
    tiles: raw.tiles === undefined ? stages : positiveInteger('tiles', raw.tiles),
  };
  if (raw.areaSquareMicrometers === undefined) return spec;
  return {
    ...spec,
    areaSquareMicrometers: positiveFinite('areaSquareMicrometers', raw.areaSquareMicrometers, 'µm²'),
  };
}

/** The `ScheduleInput` of L equal stages of τ ns (tiles default to L). Validates its input. */
export function equalStageInput(spec: EqualStageSpec): ScheduleInput {
  const valid = validateEqualStageSpec(spec);
  const input: ScheduleInput = {
    stageTimesNs: new Array<number>(valid.stages).fill(valid.stageNs),
    votes: valid.votes,
    energyPerInferencePicojoules: valid.energyPerInferencePicojoules,
    tiles: valid.tiles ?? valid.stages,
  };
  return valid.areaSquareMicrometers === undefined
    ? input
    : { ...input, areaSquareMicrometers: valid.areaSquareMicrometers };
}

/**
 * The paper's case: L stages of τ each. Latency is `(L+V−1)·τ` pipelined,
 * `L·V·τ` sequential and `L·τ` parallel.
 */
export function scheduleEqualStages(spec: EqualStageSpec, mode: ScheduleMode): ScheduleResult {
  return schedule(equalStageInput(spec), mode);
}

/**
 * E (pJ) of one inference that draws P mW for its whole latency Σ τ_l (ns):
 * `E = P·Σ τ_l`, i.e. `P·L·τ` for equal stages (1 mW · 1 ns = 1 pJ).
 */
export function energyFromPowerPicojoules(
  powerPerInferenceMilliwatts: number,
  stageTimesNs: readonly number[],
): number {
  positiveFinite('powerPerInferenceMilliwatts', powerPerInferenceMilliwatts, 'mW');
  if (stageTimesNs.length === 0) {
    throw new ConfigError('stageTimesNs', stageTimesNs, 'a non-empty array of stage times in ns');
  }
  stageTimesNs.forEach((t, l) => positiveFinite(`stageTimesNs[${l}]`, t, 'ns'));
  return powerPerInferenceMilliwatts * sum(stageTimesNs);
}
