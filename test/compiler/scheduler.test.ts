import { ConfigError } from '../../src/errors';
import { Rng } from '../../src/rng';
import {
  SCHEDULE_MODES,
  energyFromPowerPicojoules,
  equalStageInput,
  schedule,
  scheduleAll,
  scheduleEqualStages,
  validateScheduleMode,
  type ScheduleInput,
  type ScheduleMode,
} from '../../src/compiler/scheduler';
import { simulateSchedule } from '../../src/compiler/eventSim';

/** |a − b| ≤ 1e-9 · max(1, |b|): the two sides sum the same τ's in different orders. */
function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
}

function expectConfigError(fn: () => unknown, field: string, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  expect((caught as ConfigError).field).toBe(field);
  expect((caught as ConfigError).message).toMatch(message);
}

describe('closed forms against the event simulation', () => {
  // Stage times mix continuous draws with small integers so that ties (several
  // stages equal to the maximum) are exercised too.
  function randomCase(rng: Rng): { input: ScheduleInput; decisions: number } {
    const stages = 1 + rng.int(12);
    const votes = 1 + rng.int(25);
    const integerTimes = rng.uniform() < 0.3;
    const stageTimesNs = Array.from({ length: stages }, () =>
      integerTimes ? 1 + rng.int(4) : 0.5 + 49.5 * rng.uniform(),
    );
    return {
      input: {
        stageTimesNs,
        votes,
        energyPerInferencePicojoules: 1 + 999 * rng.uniform(),
        tiles: 1 + rng.int(40),
        areaSquareMicrometers: 1e4 * (1 + rng.uniform()),
      },
      decisions: 1 + rng.int(4),
    };
  }

  const root = Rng.fromSeed(20240601).fold('scheduler-vs-event-sim');
  const cases = Array.from({ length: 200 }, (_, i) => randomCase(root.fold(i)));

  it('draws cases over the whole stated range', () => {
    const ls = cases.map((c) => c.input.stageTimesNs.length);
    const vs = cases.map((c) => c.input.votes);
    expect(Math.min(...ls)).toBe(1);
    expect(Math.max(...ls)).toBe(12);
    expect(Math.min(...vs)).toBe(1);
    expect(Math.max(...vs)).toBe(25);
  });

  for (const mode of SCHEDULE_MODES) {
    it(`${mode}: latency, steady-state interval, energy and power agree on 200 random cases`, () => {
      for (const { input, decisions } of cases) {
        const closed = schedule(input, mode);
        const sim = simulateSchedule({ ...input, decisions }, mode);
        // Decision d finishes at latency + d·interval when decisions run back to back.
        expect(sim.decisionCompletionNs).toHaveLength(decisions);
        sim.decisionCompletionNs.forEach((t, d) => expectClose(t, closed.latencyNs + d * closed.decisionIntervalNs));
        expectClose(sim.totalEnergyPicojoules, decisions * closed.energyPerDecisionPicojoules);
        if (decisions === 1) expectClose(sim.averagePowerMilliwatts, closed.averagePowerMilliwatts);
        // Each line processes each of its items once per stage.
        const itemsPerLine = mode === 'parallel' ? decisions : decisions * input.votes;
        expect(sim.lines).toBe(closed.tiles / input.tiles);
        for (const row of sim.stageBusyNs) {
          row.forEach((busy, l) => expectClose(busy, itemsPerLine * input.stageTimesNs[l]));
        }
        expect(sim.eventCount).toBe(decisions * input.votes * input.stageTimesNs.length);
      }
    });
  }
});

describe('event simulation on hand-worked timelines', () => {
  it('a short fast–slow–fast pipe blocks the first stage while the slow one works', () => {
    // Votes leave at 12, 22, 32; votes 2 and 3 each wait 9 ns in stage 1 for stage 2.
    const sim = simulateSchedule({ stageTimesNs: [1, 10, 1], votes: 3, energyPerInferencePicojoules: 5 }, 'pipelined');
    expect(sim.voteCompletionNs).toEqual([[12, 22, 32]]);
    expect(sim.stageBusyNs).toEqual([[3, 30, 3]]);
    expect(sim.stageBlockedNs).toEqual([[18, 0, 0]]);
    expect(sim.stageUtilisation[0][1]).toBeCloseTo(30 / 32, 12);
    expect(sim.totalEnergyPicojoules).toBe(15);
  });

  it('unequal stages, three decisions, all modes', () => {
    const input = { stageTimesNs: [3, 7, 2, 7, 1], votes: 4, energyPerInferencePicojoules: 10, decisions: 3 };
    expect(simulateSchedule(input, 'pipelined').decisionCompletionNs).toEqual([41, 69, 97]);
    expect(simulateSchedule(input, 'sequential').decisionCompletionNs).toEqual([80, 160, 240]);
    const parallel = simulateSchedule(input, 'parallel');
    expect(parallel.decisionCompletionNs).toEqual([20, 27, 34]);
    expect(parallel.lines).toBe(4);
    expect(parallel.voteCompletionNs[1]).toEqual([27, 27, 27, 27]);
  });

  it('rejects bad input with its own ConfigError', () => {
    const ok = { stageTimesNs: [1, 2], votes: 2, energyPerInferencePicojoules: 1 };
    expectConfigError(() => simulateSchedule({ ...ok, decisions: 0 }, 'pipelined'), 'decisions', /positive integer/);
    expectConfigError(() => simulateSchedule({ ...ok, votes: 0 }, 'pipelined'), 'votes', /positive integer/);
    expectConfigError(() => simulateSchedule({ ...ok, stageTimesNs: [] }, 'pipelined'), 'stageTimesNs', /non-empty/);
    expectConfigError(
      () => simulateSchedule(ok, 'overlapped' as ScheduleMode),
      'mode',
      /"overlapped": expected one of pipelined, sequential, parallel/,
    );
  });
});

describe('the paper’s equal-stage figures (§3.3)', () => {
  const tau = 7.5;
  const spec = { stages: 6, votes: 20, stageNs: tau, energyPerInferencePicojoules: 900, areaSquareMicrometers: 2.5e5 };

  it('pipelined (L+V−1)·τ = 25τ, sequential L·V·τ = 120τ, parallel L·τ = 6τ', () => {
    expect(scheduleEqualStages(spec, 'pipelined').latencyNs).toBe(25 * tau);
    expect(scheduleEqualStages(spec, 'sequential').latencyNs).toBe(120 * tau);
    expect(scheduleEqualStages(spec, 'parallel').latencyNs).toBe(6 * tau);
    expect(scheduleEqualStages(spec, 'pipelined').latencyOverheadNs).toBe(19 * tau);
    expect(scheduleEqualStages(spec, 'parallel').latencyOverheadNs).toBe(0);
  });

  it('energy V·E in every mode; power = energy / latency; paper V·P; parallel takes V× tiles and area', () => {
    const results = scheduleAll(equalStageInput(spec));
    expect(results.map((r) => r.mode)).toEqual(['pipelined', 'sequential', 'parallel']);
    const singlePower = 900 / (6 * tau); // pJ / ns = mW
    for (const r of results) {
      expect(r.energyPerDecisionPicojoules).toBe(20 * 900);
      expectClose(r.averagePowerMilliwatts, (20 * 900) / r.latencyNs);
      expectClose(r.singleInferencePowerMilliwatts, singlePower);
      expectClose(r.paperPowerMilliwatts, 20 * singlePower);
    }
    const [pipelined, sequential, parallel] = results;
    expectClose(parallel.averagePowerMilliwatts, parallel.paperPowerMilliwatts);
    expectClose(sequential.averagePowerMilliwatts, singlePower);
    expectClose(pipelined.averagePowerMilliwatts, (20 * 900) / (25 * tau));
    expect(pipelined.tiles).toBe(6); // default: one tile per stage
    expect(sequential.tiles).toBe(6);
    expect(parallel.tiles).toBe(120);
    expect(pipelined.areaSquareMicrometers).toBe(2.5e5);
    expect(parallel.areaSquareMicrometers).toBe(20 * 2.5e5);
  });

  it('steady-state throughput: V·τ, L·V·τ and τ between decisions', () => {
    const [pipelined, sequential, parallel] = scheduleAll(equalStageInput(spec));
    expect(pipelined.decisionIntervalNs).toBe(20 * tau);
    expect(sequential.decisionIntervalNs).toBe(120 * tau);
    expect(parallel.decisionIntervalNs).toBe(tau);
    expectClose(pipelined.throughputDecisionsPerSecond, 1e9 / (20 * tau));
    expectClose(parallel.throughputDecisionsPerSecond, 1e9 / tau);
  });

  it('one vote costs no overhead in any mode', () => {
    for (const r of scheduleAll(equalStageInput({ ...spec, votes: 1 }))) {
      expect(r.latencyNs).toBe(6 * tau);
      expect(r.tiles).toBe(6);
      expectClose(r.averagePowerMilliwatts, r.paperPowerMilliwatts);
    }
  });

  it('area is absent when the input gives none', () => {
    const { areaSquareMicrometers: _omit, ...noArea } = spec;
    expect(scheduleEqualStages(noArea, 'parallel')).not.toHaveProperty('areaSquareMicrometers');
  });

  it('E = P·L·τ (mW·ns = pJ)', () => {
    expect(energyFromPowerPicojoules(10, [10, 10, 10, 10, 10, 10])).toBe(600);
    expectConfigError(() => energyFromPowerPicojoules(-1, [10]), 'powerPerInferenceMilliwatts', /-1: expected a positive/);
  });
});

describe('input validation', () => {
  const ok: ScheduleInput = { stageTimesNs: [10, 20], votes: 3, energyPerInferencePicojoules: 50, tiles: 2 };

  it.each([
    ['votes 0', { ...ok, votes: 0 }, 'votes', /votes = 0: expected a positive integer/],
    ['votes 1.5', { ...ok, votes: 1.5 }, 'votes', /votes = 1.5: expected a positive integer/],
    ['negative stage time', { ...ok, stageTimesNs: [10, -2] }, 'stageTimesNs[1]', /= -2: expected a positive finite number \(ns\)/],
    ['infinite stage time', { ...ok, stageTimesNs: [Infinity] }, 'stageTimesNs[0]', /Infinity: expected a positive finite/],
    ['empty stages', { ...ok, stageTimesNs: [] }, 'stageTimesNs', /expected a non-empty array/],
    ['zero energy', { ...ok, energyPerInferencePicojoules: 0 }, 'energyPerInferencePicojoules', /\(pJ\)/],
    ['tiles 0', { ...ok, tiles: 0 }, 'tiles', /positive integer/],
    ['NaN area', { ...ok, areaSquareMicrometers: NaN }, 'areaSquareMicrometers', /NaN: expected a positive finite number \(µm²\)/],
  ])('%s', (_name, input, field, message) => {
    expectConfigError(() => schedule(input as ScheduleInput, 'pipelined'), field, message);
    expectConfigError(() => scheduleAll(input as ScheduleInput), field, message);
  });

  it('unknown mode', () => {
    expectConfigError(() => schedule(ok, 'overlapped' as ScheduleMode), 'mode', /"overlapped": expected one of pipelined, sequential, parallel/);
    expectConfigError(() => validateScheduleMode(3), 'mode', /3: expected one of/);
  });

  it('equal-stage spec names its own fields', () => {
    expectConfigError(() => equalStageInput({ stages: 0, stageNs: 1, votes: 1, energyPerInferencePicojoules: 1 }), 'stages', /positive integer/);
    expectConfigError(() => equalStageInput({ stages: 2, stageNs: 0, votes: 1, energyPerInferencePicojoules: 1 }), 'stageNs', /\(ns\)/);
  });
});
