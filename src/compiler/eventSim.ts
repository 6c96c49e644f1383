/**
 * Discrete-event simulation of voted decisions flowing through analog stages,
 * the independent check on the closed forms in `scheduler.ts`.
 *
 * The hardware is one or more *lines* (copies of the chip), each a chain of L
 * stages. A stage is one physical resource (a layer's memory arrays plus its
 * output latch) that holds one item at a time: it takes τ_l ns to process an
 * item, then keeps it until the next stage is free (there are no buffers
 * between stages, so a finished item can block its stage). Items are votes;
 * vote v of decision d is the item (d, v). Decisions arrive back to back: every
 * item is ready at t = 0 and enters its line in order as soon as the line
 * admits it.
 *
 * - `pipelined`: one line, items in order (d, v) d-major, any number in flight.
 * - `sequential`: one line, at most one item in flight: the next vote enters
 *   stage 1 only after the previous one has left stage L.
 * - `parallel`: V lines; line v runs vote v of every decision, pipelined.
 *
 * The simulation is a real event queue (a binary heap of stage-finish events
 * ordered by time, ties by insertion order): it knows nothing of the closed
 * forms, so agreement between the two is a genuine cross-check. Energy is E
 * per vote, booked when the vote leaves the last stage.
 */
import { ConfigError } from '../errors';
import type { ScheduleMode } from './scheduler';

/** What to simulate. */
export interface EventSimInput {
  /** τ_l in ns per stage (non-empty, each > 0). */
  readonly stageTimesNs: readonly number[];
  /** V votes per decision (integer ≥ 1). */
  readonly votes: number;
  /** E, energy of one vote through all stages, pJ (> 0). */
  readonly energyPerInferencePicojoules: number;
  /** D decisions run back to back (integer ≥ 1, default 1). */
  readonly decisions?: number;
}

/** Timeline and resource use of one simulation. */
export interface EventSimResult {
  readonly mode: ScheduleMode;
  /** Number of lines (chip copies): V for `parallel`, else 1. */
  readonly lines: number;
  /** `voteCompletionNs[d][v]`: when vote v of decision d left the last stage, ns. */
  readonly voteCompletionNs: number[][];
  /** When the last vote of each decision left the last stage, ns. */
  readonly decisionCompletionNs: number[];
  /** When the last vote of all decisions finished, ns. */
  readonly makespanNs: number;
  /** `stageBusyNs[line][l]`: time stage l of that line spent processing, ns. */
  readonly stageBusyNs: number[][];
  /** `stageBlockedNs[line][l]`: time stage l held a finished item waiting for stage l+1, ns. */
  readonly stageBlockedNs: number[][];
  /** `stageUtilisation[line][l]` = busy / makespan, in [0, 1]. */
  readonly stageUtilisation: number[][];
  /** D·V·E, summed vote by vote, pJ. */
  readonly totalEnergyPicojoules: number;
  /** Total energy / makespan, mW (pJ/ns). */
  readonly averagePowerMilliwatts: number;
  /** Stage-finish events processed (L per vote). */
  readonly eventCount: number;
}

interface Item {
  readonly decision: number;
  readonly vote: number;
}

interface Stage {
  occupant: Item | null;
  done: boolean;
  doneAtNs: number;
  busyNs: number;
  blockedNs: number;
}

interface Line {
  readonly stages: Stage[];
  readonly queue: Item[];
  next: number;
  inFlight: number;
  readonly maxInFlight: number;
}

interface FinishEvent {
  readonly timeNs: number;
  readonly seq: number;
  readonly line: number;
  readonly stage: number;
}

/** Min-heap on (timeNs, seq), so simultaneous events run in the order they were scheduled. */
class EventQueue {
  private readonly heap: FinishEvent[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(timeNs: number, line: number, stage: number): void {
    const h = this.heap;
    h.push({ timeNs, seq: this.seq++, line, stage });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  pop(): FinishEvent {
    const h = this.heap;
    const top = h[0];
    const last = h.pop() as FinishEvent;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: FinishEvent, b: FinishEvent): boolean {
  return a.timeNs < b.timeNs || (a.timeNs === b.timeNs && a.seq < b.seq);
}

function checkPositiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(field, value, 'a positive integer');
  }
  return value;
}

function checkPositiveFinite(field: string, value: unknown, unit: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(field, value, `a positive finite number (${unit})`);
  }
  return value;
}

function checkInput(input: EventSimInput, mode: ScheduleMode): Required<EventSimInput> {
  if (!Array.isArray(input.stageTimesNs) || input.stageTimesNs.length === 0) {
    throw new ConfigError('stageTimesNs', input.stageTimesNs, 'a non-empty array of stage times in ns');
  }
  input.stageTimesNs.forEach((t, l) => checkPositiveFinite(`stageTimesNs[${l}]`, t, 'ns'));
  if (mode !== 'pipelined' && mode !== 'sequential' && mode !== 'parallel') {
    throw new ConfigError('mode', mode, 'one of pipelined, sequential, parallel');
  }
  const checked = {
    stageTimesNs: input.stageTimesNs,
    votes: checkPositiveInteger('votes', input.votes),
    energyPerInferencePicojoules: checkPositiveFinite(
      'energyPerInferencePicojoules',
      input.energyPerInferencePicojoules,
      'pJ',
    ),
    decisions: input.decisions === undefined ? 1 : checkPositiveInteger('decisions', input.decisions),
  };
  // One event per stage per vote, and one record per vote: bound the work before any allocation.
  const events = checked.stageTimesNs.length * checked.votes * checked.decisions;
  if (events > MAX_SIMULATED_EVENTS) {
    throw new ConfigError(
      'stages × votes × decisions',
      events,
      `at most ${MAX_SIMULATED_EVENTS} stage events for the event simulation ` +
        `(${checked.stageTimesNs.length} stages × ${checked.votes} votes × ${checked.decisions} decisions); ` +
        'the closed forms of scheduler.ts give the same figures for any size',
    );
  }
  return checked;
}

/** Most stage-finish events {@link simulateSchedule} will process (stages × votes × decisions). */
export const MAX_SIMULATED_EVENTS = 10_000_000;

function buildLines(mode: ScheduleMode, stageCount: number, votes: number, decisions: number): Line[] {
  const newLine = (queue: Item[], maxInFlight: number): Line => ({
    stages: Array.from({ length: stageCount }, () => ({
      occupant: null,
      done: false,
      doneAtNs: 0,
      busyNs: 0,
      blockedNs: 0,
    })),
    queue,
    next: 0,
    inFlight: 0,
    maxInFlight,
  });
  const allVotes = (): Item[] => {
    const items: Item[] = [];
    for (let decision = 0; decision < decisions; decision++) {
      for (let vote = 0; vote < votes; vote++) items.push({ decision, vote });
    }
    return items;
  };
  switch (mode) {
    case 'pipelined':
      return [newLine(allVotes(), Infinity)];
    case 'sequential':
      return [newLine(allVotes(), 1)];
    case 'parallel':
      return Array.from({ length: votes }, (_, vote) =>
        newLine(
          Array.from({ length: decisions }, (_, decision) => ({ decision, vote })),
          Infinity,
        ),
      );
    default: {
      const unknown: never = mode;
      throw new ConfigError('mode', unknown, 'one of pipelined, sequential, parallel');
    }
  }
}

/**
 * Simulates D decisions of V votes through L stages in `mode`, event by event.
 *
 * @example
 * ```ts
 * const sim = simulateSchedule(
 *   { stageTimesNs: [10, 10, 10, 10, 10, 10], votes: 20, energyPerInferencePicojoules: 600 },
 *   'pipelined',
 * );
 * sim.decisionCompletionNs[0]; // 250
 * ```
 */
export function simulateSchedule(input: EventSimInput, mode: ScheduleMode): EventSimResult {
  const { stageTimesNs, votes, energyPerInferencePicojoules, decisions } = checkInput(input, mode);
  const stageCount = stageTimesNs.length;
  const lines = buildLines(mode, stageCount, votes, decisions);
  const queue = new EventQueue();
  const voteCompletionNs = Array.from({ length: decisions }, () => new Array<number>(votes).fill(NaN));
  let totalEnergyPicojoules = 0;
  let eventCount = 0;

  const start = (lineIndex: number, stageIndex: number, item: Item, nowNs: number): void => {
    const stage = lines[lineIndex].stages[stageIndex];
    stage.occupant = item;
    stage.done = false;
    queue.push(nowNs + stageTimesNs[stageIndex], lineIndex, stageIndex);
  };

  // Moves every finished item that can move, last stage first so a stage freed
  // downstream is seen by the stage behind it in the same sweep, then admits
  // the line's next item into stage 1 if the line allows it.
  const advance = (lineIndex: number, nowNs: number): void => {
    const line = lines[lineIndex];
    for (let l = stageCount - 1; l >= 0; l--) {
      const stage = line.stages[l];
      if (stage.occupant === null || !stage.done) continue;
      const item = stage.occupant;
      if (l === stageCount - 1) {
        voteCompletionNs[item.decision][item.vote] = nowNs;
        totalEnergyPicojoules += energyPerInferencePicojoules;
        line.inFlight--;
      } else if (line.stages[l + 1].occupant === null) {
        start(lineIndex, l + 1, item, nowNs);
      } else {
        continue;
      }
      stage.blockedNs += nowNs - stage.doneAtNs;
      stage.occupant = null;
      stage.done = false;
    }
    if (line.stages[0].occupant === null && line.next < line.queue.length && line.inFlight < line.maxInFlight) {
      line.inFlight++;
      start(lineIndex, 0, line.queue[line.next++], nowNs);
    }
  };

  for (let i = 0; i < lines.length; i++) advance(i, 0);
  while (queue.size > 0) {
    const event = queue.pop();
    eventCount++;
    const stage = lines[event.line].stages[event.stage];
    stage.done = true;
    stage.doneAtNs = event.timeNs;
    stage.busyNs += stageTimesNs[event.stage];
    advance(event.line, event.timeNs);
  }

  const latest = (times: readonly number[]): number => times.reduce((a, b) => Math.max(a, b), -Infinity);
  const decisionCompletionNs = voteCompletionNs.map(latest);
  const makespanNs = latest(decisionCompletionNs);
  const stageBusyNs = lines.map((line) => line.stages.map((s) => s.busyNs));
  return {
    mode,
    lines: lines.length,
    voteCompletionNs,
    decisionCompletionNs,
    makespanNs,
    stageBusyNs,
    stageBlockedNs: lines.map((line) => line.stages.map((s) => s.blockedNs)),
    stageUtilisation: stageBusyNs.map((row) => row.map((busy) => busy / makespanNs)),
    totalEnergyPicojoules,
    averagePowerMilliwatts: totalEnergyPicojoules / makespanNs,
    eventCount,
  };
}
