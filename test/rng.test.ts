import { Rng } from '../src/rng';
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

  it('draws the tails: P(|x| > 3.442…) (the ziggurat tail) matches the normal', () => {
    const n = 400_000;
    const a = new Float32Array(n);
    Rng.fromSeed(3).fillNormal(a);
    let tail = 0;
    for (const x of a) if (Math.abs(x) > 3.442619855899) tail++;
    const p = 2 * (1 - normalCdf(3.442619855899)); // ≈ 5.76e-4
    expect(Math.abs(tail / n - p)).toBeLessThan(5 * Math.sqrt(p / n));
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
