/** A seed argument as an Rng: numbers become root streams, Rngs pass through. */
import { ConfigError } from '../errors';
import { Rng } from '../rng';

export function toRng(seed: number | Rng, field = 'seed'): Rng {
  if (seed instanceof Rng) return seed;
  if (typeof seed !== 'number') throw new ConfigError(field, seed, 'an integer seed or an Rng');
  return Rng.fromSeed(seed);
}
