/**
 * The normal distribution's tails, accurately, and a sampler for a normal truncated
 * symmetrically about its mean: what programming noise uses to stay inside the
 * conductance window without moving the mean of any target (see programmingNoise.ts).
 */
import type { Rng } from '../../rng';

/** `Math` as a module-local: global lookups in per-cell loops are slow under jest's vm context (see rng.ts). */
const math = Math;

const SQRT_PI = math.sqrt(math.PI);

/** erf(x) for |x| < 2 by its Maclaurin series (terms fall below 1e-17 of the sum). */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 60; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (math.abs(add) < 1e-17 * math.abs(sum)) break;
  }
  return (2 / SQRT_PI) * sum;
}

/** erfc(x) for x >= 2 by its continued fraction (modified Lentz), relative error ~1e-15. */
function erfcContinuedFraction(x: number): number {
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = x + a * d;
    d = math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (math.abs(delta - 1) < 1e-16) break;
  }
  return math.exp(-x * x) / (SQRT_PI * f);
}

/** Complementary error function, accurate to ~1e-15 relative over the whole line. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  return x < 2 ? 1 - erfSeries(x) : erfcContinuedFraction(x);
}

/** Upper tail of the standard normal, Q(z) = P(Z > z), without cancellation for large z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / math.SQRT2);
}

/**
 * Standard normal quantile: Acklam's rational approximation (relative error 1.15e-9)
 * refined by one Halley step on the accurate tail, for p in (0, 1).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const dd = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = math.sqrt(-2 * math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = math.sqrt(-2 * math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1);
  }
  // One Halley step on e = Φ(x) − p, with Φ taken from whichever tail is small.
  const e = p < 0.5 ? normalUpperTail(-x) - p : (1 - p) - normalUpperTail(x);
  const u = e * math.sqrt(2 * math.PI) * math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/**
 * One draw of δ ~ N(0, σ²) conditioned on |δ| <= halfWidth, given a first plain
 * normal draw `z` (standard units). If σ·z already lies inside it is the draw (a
 * normal conditioned on an interval it falls in is that conditional law); otherwise
 * |δ| comes from the inverse CDF of the truncated half-normal with a fresh uniform
 * from `rng`, and a fair sign from a second one. The law is symmetric, so the mean
 * is exactly 0 whatever the width.
 * @returns the offset δ, and whether the first draw fell outside (a truncated cell).
 */
export function symmetricTruncatedNormal(sigma: number, halfWidth: number, z: number, rng: Rng): { delta: number; redrawn: boolean } {
  const delta = sigma * z;
  if (math.abs(delta) <= halfWidth) return { delta, redrawn: false };
  if (halfWidth <= 0 || sigma <= 0) return { delta: 0, redrawn: true };
  const a = halfWidth / sigma;
  // P(|Z| <= a) = 1 - 2Q(a); draw the upper-tail probability q of |δ|/σ uniformly in [Q(a), 1/2].
  const qa = normalUpperTail(a);
  const u = rng.uniform();
  const q = 0.5 - u * (0.5 - qa);
  const magnitude = math.min(a, math.max(0, -normalQuantile(q))) * sigma;
  return { delta: rng.uniform() < 0.5 ? -magnitude : magnitude, redrawn: true };
}
