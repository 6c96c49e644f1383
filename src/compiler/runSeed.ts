/** A seed argument as an Rng: numbers become root streams, Rngs pass through. */
import { ConfigError } from '../errors';
import { Rng } from '../rng';

export function toRng(seed: number | Rng, field = 'seed'): Rng {
  if (seed instanceof Rng) return seed;
  if (typeof seed !== 'number') throw new ConfigError(field, seed, 'an integer seed or an Rng');
  return Rng.fromSeed(seed);
}

/** The sample offset of a run (`RunOptions.sampleOffset`, default 0), validated. */
export function sampleOffsetOf(options: { readonly sampleOffset?: number }): number {
  const o = options.sampleOffset ?? 0;
  if (!Number.isSafeInteger(o) || o < 0) throw new ConfigError('sampleOffset', o, 'a non-negative integer');
  return o;
}
