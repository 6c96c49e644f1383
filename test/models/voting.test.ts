import { accuracyVsVotes, voteDecision, voteSeeds, VOTING_SEMANTICS } from '../../src/models/voting';
import { Rng } from '../../src/rng';
import { ConfigError, DataError, ShapeError } from '../../src/errors';
import { expectThrows } from '../helpers/expectThrows';

/** Accuracy of V votes when each run predicts label c with probability p[c] and label 0 is true. */
function multinomialVoteAccuracy(p: number[], votes: number, tieBreak: 'fair' | 'lowest'): number {
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  let acc = 0;
  for (let k0 = 0; k0 <= votes; k0++) {
    for (let k1 = 0; k0 + k1 <= votes; k1++) {
      const k2 = votes - k0 - k1;
      const prob =
        (fact(votes) / (fact(k0) * fact(k1) * fact(k2))) * p[0] ** k0 * p[1] ** k1 * p[2] ** k2;
      const top = Math.max(k0, k1, k2);
      if (k0 !== top) continue;
      const tied = [k0, k1, k2].filter((k) => k === top).length;
      acc += tieBreak === 'fair' ? prob / tied : prob;
    }
  }
  return acc;
}

/**
 * V runs of a 3-class batch whose true label is 0: each run predicts c with
 * probability p[c]. The predicted class gets a logit in [2, 3), the others logits
 * in [0, 1), all uniform and drawn the same way whatever the class, so labels tied
 * on count are exchangeable and the softmax tie-break picks each with equal chance.
 */
function syntheticRuns(rng: Rng, p: number[], batch: number, votes: number): Float32Array[] {
  const runs: Float32Array[] = [];
  for (let v = 0; v < votes; v++) {
    const r = rng.fold(v);
    const run = new Float32Array(batch * 3);
    for (let b = 0; b < batch; b++) {
      const u = r.uniform();
      const label = u < p[0] ? 0 : u < p[0] + p[1] ? 1 : 2;
      for (let c = 0; c < 3; c++) run[b * 3 + c] = (c === label ? 2 : 0) + r.uniform();
    }
    runs.push(run);
  }
  return runs;
}

describe('voteDecision and accuracyVsVotes', () => {
  const p = [0.5, 0.3, 0.2];
  const batch = 20000;
  const runs = syntheticRuns(Rng.fromSeed(2024).fold('voting-test'), p, batch, 7);
  const labels = new Int32Array(batch); // true label 0 everywhere
  const curve = accuracyVsVotes(runs, labels, 7, 3);

  test.each([1, 3, 5, 7])('V = %i matches the multinomial closed form within 4 binomial sigma', (votes) => {
    const exact = multinomialVoteAccuracy(p, votes, 'fair');
    const sigma = Math.sqrt((exact * (1 - exact)) / batch);
    expect(Math.abs(curve[votes - 1] - exact)).toBeLessThan(4 * sigma);
    // The test can tell a fair softmax tie-break from "lowest label wins" at every V >= 3.
    if (votes >= 3) {
      expect(multinomialVoteAccuracy(p, votes, 'lowest') - exact).toBeGreaterThan(10 * sigma);
    }
  });

  test('closed form sanity: V = 1 is p0 and V = 3 is known by hand', () => {
    expect(multinomialVoteAccuracy(p, 1, 'fair')).toBeCloseTo(0.5, 12);
    // P(k0 >= 2) + P(1,1,1)/3 = (3*.25*.5 + .125) + 6*.5*.3*.2/3
    expect(multinomialVoteAccuracy(p, 3, 'fair')).toBeCloseTo(0.5 + 0.06, 12);
  });

  test('accuracyVsVotes entry V-1 equals voteDecision over the first V runs', () => {
    for (const votes of [1, 2, 4, 7]) {
      const decided = voteDecision(runs.slice(0, votes), { batch, classes: 3 });
      let correct = 0;
      for (let b = 0; b < batch; b++) if (decided[b] === 0) correct++;
      expect(curve[votes - 1]).toBe(correct / batch);
    }
  });

  test('one [V, batch, classes] buffer gives the same decisions as an array of runs', () => {
    const votes = 5;
    const size = batch * 3;
    const buffer = new Float32Array(votes * size);
    for (let v = 0; v < votes; v++) buffer.set(runs[v], v * size);
    const shape = { batch, classes: 3 };
    expect(voteDecision(buffer, shape)).toEqual(voteDecision(runs.slice(0, votes), shape));
  });
});

describe('voting tie-break on hand-made logits', () => {
  const shape = { batch: 1, classes: 3 };
  test('the mode wins over confidence', () => {
    const runs = [new Float32Array([0.2, 0, 0]), new Float32Array([0.2, 0, 0]), new Float32Array([0, 0, 9])];
    expect(Array.from(voteDecision(runs, shape))).toEqual([0]);
  });
  test('a count tie goes to the larger summed softmax, not the lower label', () => {
    // labels 1 and 2 have one vote each; run 1 is far more confident in 2.
    const runs = [new Float32Array([0, 1, 0]), new Float32Array([0, 0, 6])];
    expect(Array.from(voteDecision(runs, shape))).toEqual([2]);
    const swapped = [new Float32Array([0, 6, 0]), new Float32Array([0, 0, 1])];
    expect(Array.from(voteDecision(swapped, shape))).toEqual([1]);
  });
  test('equal counts and equal summed softmax go to the lowest label', () => {
    const runs = [new Float32Array([0, 1, 0]), new Float32Array([0, 0, 1])];
    expect(Array.from(voteDecision(runs, shape))).toEqual([1]);
  });
  test('within one run an exact logit tie predicts the lower class', () => {
    expect(Array.from(voteDecision([new Float32Array([0, 3, 3])], shape))).toEqual([1]);
  });
  test('batched: each sample decided on its own', () => {
    const run0 = new Float32Array([5, 0, 0, 0, 0, 5]);
    const run1 = new Float32Array([5, 0, 0, 0, 5, 0]);
    const run2 = new Float32Array([0, 5, 0, 0, 0, 5]);
    expect(Array.from(voteDecision([run0, run1, run2], { batch: 2, classes: 3 }))).toEqual([0, 2]);
  });
});

describe('voting input errors', () => {
  test('run of the wrong length', () => {
    expectThrows(
      () => voteDecision([new Float32Array(6), new Float32Array(5)], { batch: 2, classes: 3 }),
      new ShapeError('logits run 1 has length 5; expected batch * classes = 2 * 3 = 6'),
    );
  });
  test('buffer not a whole number of runs', () => {
    expect(() => voteDecision(new Float32Array(7), { batch: 2, classes: 3 })).toThrow(ShapeError);
  });
  test('non-finite logit names run, sample and class', () => {
    const run = new Float32Array([0, 1, NaN]);
    expectThrows(
      () => voteDecision([run], { batch: 1, classes: 3 }),
      new DataError('logits', 'run 0, sample 0, class 2 is NaN; expected a finite number'),
    );
  });
  test('maxVotes beyond the runs given, and bad labels', () => {
    const runs = [new Float32Array(3)];
    expectThrows(
      () => accuracyVsVotes(runs, [0], 2, 3),
      new ConfigError('maxVotes', 2, 'at most the number of runs given (1)'),
    );
    expectThrows(() => accuracyVsVotes(runs, [3], 1, 3), new ConfigError('labels[0]', 3, 'an integer in 0..2'));
  });
});

describe('voteSeeds', () => {
  const root = Rng.fromSeed(11).fold('point');
  const draws = (rng: Rng): number[] => {
    const out = new Float64Array(4);
    rng.fillNormal(out);
    return Array.from(out);
  };

  test("'passes' programs one chip: every vote gets the same programming draws", () => {
    const votes = voteSeeds(root, 'passes', 5);
    const keys = new Set(votes.map((v) => v.program!.keyHex));
    expect(keys.size).toBe(1);
    const first = draws(votes[0].program!);
    // Separate objects: drawing from vote 0 did not advance vote 4's stream.
    expect(draws(votes[4].program!)).toEqual(first);
    expect(new Set(votes.map((v) => v.run.keyHex)).size).toBe(5);
  });

  test("'replicas' programs V chips: programming and run streams all differ", () => {
    const votes = voteSeeds(root, 'replicas', 5);
    expect(new Set(votes.map((v) => v.program!.keyHex)).size).toBe(5);
    expect(new Set(votes.map((v) => v.run.keyHex)).size).toBe(5);
    expect(draws(votes[0].program!)).not.toEqual(draws(votes[1].program!));
    const passes = voteSeeds(root, 'passes', 5);
    expect(votes.some((v) => v.program!.keyHex === passes[0].program!.keyHex)).toBe(false);
  });

  test("'signal' has no programming stream", () => {
    const votes = voteSeeds(root, 'signal', 3);
    expect(votes.map((v) => v.program)).toEqual([null, null, null]);
    expect(new Set(votes.map((v) => v.run.keyHex)).size).toBe(3);
  });

  test('streams come from labels: vote v is the same in every V and every semantics', () => {
    for (const s of VOTING_SEMANTICS) {
      const three = voteSeeds(root, s, 3);
      const seven = voteSeeds(root, s, 7);
      expect(three.map((v) => v.run.keyHex)).toEqual(seven.slice(0, 3).map((v) => v.run.keyHex));
      expect(three.map((v) => v.program?.keyHex)).toEqual(seven.slice(0, 3).map((v) => v.program?.keyHex));
      expect(three[2].run.keyHex).toBe(root.fold('run').fold(2).keyHex);
    }
  });

  test('V must be a positive integer', () => {
    expectThrows(() => voteSeeds(root, 'passes', 0), new ConfigError('votes', 0, 'a positive integer'));
    expect(() => voteSeeds(root, 'passes', 2.5)).toThrow(ConfigError);
  });
});
