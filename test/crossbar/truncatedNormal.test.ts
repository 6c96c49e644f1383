import { Rng } from '../../src/rng';
import { erfc, normalQuantile, normalUpperTail, symmetricTruncatedNormal } from '../../src/crossbar/noise/truncatedNormal';
import { ksStatistic, mean, normalCdf, std } from '../helpers/stats';

describe('normal tails and quantile', () => {
  it('match tabulated values to 1e-12 relative, far into the tails', () => {
    // Reference values: erfc and Q(z) = erfc(z/√2)/2 in double precision (Abramowitz & Stegun Table 26.1; mpmath).
    expect(erfc(0.5) / 0.4795001221869535 - 1).toBeCloseTo(0, 12);
    expect(erfc(2.5) / 4.069520174449590e-4 - 1).toBeCloseTo(0, 12);
    expect(normalUpperTail(1.959963984540054) / 0.025 - 1).toBeCloseTo(0, 11);
    expect(normalUpperTail(5) / 2.866515718791939e-7 - 1).toBeCloseTo(0, 11);
    expect(normalUpperTail(10) / 7.619853024160527e-24 - 1).toBeCloseTo(0, 10);
    expect(erfc(-1)).toBeCloseTo(2 - 0.1572992070502851, 14);
  });

  it('inverts the tail: Q(−Φ⁻¹(p)) = p from 1e-300 to 1/2', () => {
    for (const p of [1e-300, 1e-50, 1e-10, 1e-4, 0.01, 0.02425, 0.1, 0.3, 0.4999]) {
      expect(Math.abs(normalUpperTail(-normalQuantile(p)) / p - 1)).toBeLessThan(1e-12);
    }
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
  });
});

describe('normal truncated symmetrically about its mean', () => {
  // Closed form of the truncated normal on [−a, a] (σ = 1): density φ(x)/(2Φ(a) − 1),
  // variance 1 − 2aφ(a)/(2Φ(a) − 1).
  const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
  const truncatedStd = (a: number) => Math.sqrt(1 - (2 * a * phi(a)) / (2 * normalCdf(a) - 1));
  const truncatedCdf = (a: number) => (x: number) => (x <= -a ? 0 : x >= a ? 1 : (normalCdf(x) - normalCdf(-a)) / (2 * normalCdf(a) - 1));

  it.each([0.05, 0.3, 1, 2, 3.5])('at half-width a = %s σ: mean 0, the closed-form std and CDF', (a) => {
    const n = 200_000;
    const sigma = 2.5;
    const z = new Float64Array(n);
    const rng = Rng.fromSeed(17);
    rng.fold('z').fillNormal(z);
    const redraw = rng.fold('redraw');
    const x = new Float64Array(n);
    let redrawn = 0;
    for (let i = 0; i < n; i++) {
      const r = symmetricTruncatedNormal(sigma, a * sigma, z[i], redraw);
      x[i] = r.delta / sigma;
      if (r.redrawn) redrawn++;
    }
    const s = truncatedStd(a);
    // Every draw inside; mean within 5 standard errors; the std estimate of a law with kurtosis <= 3
    // has relative std <= 1/√(2N) = 0.16 %, so 5/√(2N) = 0.8 %; KS distance below 1.63/√N (p = 0.01).
    let widest = 0;
    for (const v of x) widest = Math.max(widest, Math.abs(v));
    expect(widest).toBeLessThanOrEqual(a * (1 + 1e-12));
    expect(Math.abs(mean(x))).toBeLessThan((5 * s) / Math.sqrt(n));
    expect(Math.abs(std(x) / s - 1)).toBeLessThan(5 / Math.sqrt(2 * n));
    expect(ksStatistic(x, truncatedCdf(a))).toBeLessThan(1.63 / Math.sqrt(n));
    // The redraw fraction is P(|Z| > a) = 2Q(a).
    const p = 2 * (1 - normalCdf(a));
    expect(Math.abs(redrawn / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-6);
  });
});
