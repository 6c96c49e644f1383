import { Rng, ZIGGURAT_TAIL_RADIUS } from '../src/rng';
import { ConfigError } from '../src/errors';
import { mean, variance, ksStatistic, normalCdf } from './helpers/stats';

describe('Rng', () => {
  it('draws standard normals: mean, variance, kurtosis and KS against N(0,1)', () => {
    const n = 200_000;
    const a = new Float64Array(n);
    Rng.fromSeed(12345).fillNormal(a);
    // mean ~ N(0, 1/n): 5σ = 0.011; variance ~ 1 ± sqrt(2/n): 5σ = 0.016
    expect(Math.abs(mean(a))).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(variance(a) - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    let k4 = 0;
    for (const x of a) k4 += x ** 4;
    expect(Math.abs(k4 / n - 3)).toBeLessThan(0.1); // 4th moment std ≈ sqrt(96/n) = 0.022
    // KS critical value at α = 0.001 is 1.95/sqrt(n) = 0.0044
    expect(ksStatistic(a.subarray(0, 50_000), normalCdf)).toBeLessThan(1.95 / Math.sqrt(50_000));
  });

  it('draws the tails: P(|x| > R) (the ziggurat tail) and P(|x| > 4) match the normal', () => {
    const n = 1_000_000;
    const a = new Float32Array(n);
    Rng.fromSeed(3).fillNormal(a);
    for (const r of [ZIGGURAT_TAIL_RADIUS, 4]) {
      let tail = 0;
      for (const x of a) if (Math.abs(x) > r) tail++;
      const p = 2 * (1 - normalCdf(r)); // R = 3.654…: 2.58e-4; 4: 6.33e-5
      expect(Math.abs(tail / n - p)).toBeLessThan(5 * Math.sqrt(p / n));
    }
    expect(ZIGGURAT_TAIL_RADIUS).toBeCloseTo(3.6541528853610088, 12);
  });

  it('draws the wedges: the histogram of |x| in 64 bins over [0, 4] matches the normal (χ²)', () => {
    const n = 1_000_000;
    const a = new Float64Array(n);
    Rng.fromSeed(17).fillNormal(a);
    const bins = 64;
    const counts = new Float64Array(bins);
    for (const x of a) {
      const b = Math.floor((Math.abs(x) / 4) * bins);
      if (b < bins) counts[b]++;
    }
    let chi2 = 0;
    for (let b = 0; b < bins; b++) {
      const p = 2 * (normalCdf(((b + 1) * 4) / bins) - normalCdf((b * 4) / bins));
      chi2 += (counts[b] - n * p) ** 2 / (n * p);
    }
    // χ² with 64 degrees of freedom (63 plus the tail left out): 99.9th percentile ≈ 110.
    expect(chi2).toBeLessThan(110);
  });

  it('gives the same draws however the output is split across calls', () => {
    const whole = new Float32Array(50_000);
    Rng.fromSeed(8).fold('x').fillNormal(whole, 1, 0.4);
    const parts = new Float32Array(50_000);
    const r = Rng.fromSeed(8).fold('x');
    for (const [a, b] of [[0, 7], [7, 20_000], [20_000, 20_001], [20_001, 50_000]]) r.fillNormal(parts.subarray(a, b), 1, 0.4);
    expect(Array.from(parts)).toEqual(Array.from(whole));
  });

  it('gives the same bits for the same seed and path, and different streams otherwise', () => {
    const draw = (r: Rng) => {
      const a = new Float32Array(64);
      r.fillNormal(a);
      return Array.from(a);
    };
    expect(draw(Rng.fromSeed(0).fold('a').fold(3))).toEqual(draw(Rng.fromSeed(0).fold('a').fold(3)));
    expect(draw(Rng.fromSeed(0))).not.toEqual(draw(Rng.fromSeed(1)));
    expect(draw(Rng.fromSeed(7).fold(1))).not.toEqual(draw(Rng.fromSeed(7).fold('1')));
  });

  it('derives children from the key only, not from how much the parent has drawn', () => {
    const parent = Rng.fromSeed(42);
    const before = parent.fold('x').uniform();
    parent.fillNormal(new Float32Array(1000));
    expect(parent.fold('x').uniform()).toBe(before);
    expect(Rng.fromSeed(42).fold('x').keyHex).toBe(parent.fold('x').keyHex);
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    const a = new Float64Array(100_000);
    Rng.fromSeed(9).fillUniform(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
    expect(Math.abs(mean(a) - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / a.length));
    expect(Math.abs(variance(a) - 1 / 12)).toBeLessThan(0.002);
  });

  it('rejects seeds that are not non-negative safe integers', () => {
    expect(() => Rng.fromSeed(-1)).toThrow(ConfigError);
    expect(() => Rng.fromSeed(1.5)).toThrow(/seed = 1.5: expected an integer in \[0, 2\^53\)/);
    expect(() => Rng.fromSeed(0).fold(-2)).toThrow(/rng.fold label = -2/);
  });
});
