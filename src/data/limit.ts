/**
 * The `limit` option shared by the dataset readers: read only the first
 * `limit` records. A limit above what the file holds is an error rather than
 * a silent "all of them", so a caller never trains on fewer examples than it
 * asked for without knowing.
 */
import { ConfigError } from '../errors';

/**
 * Returns how many records to read: `available` when `limit` is undefined,
 * otherwise `limit` after checking it is an integer in `1..available`.
 *
 * @param what names the records and their source for the error message,
 *   e.g. `"images in t10k-images-idx3-ubyte.gz"`.
 * @throws ConfigError naming `limit`, the value and the allowed range.
 */
export function resolveLimit(limit: number | undefined, available: number, what: string): number {
  if (limit === undefined) return available;
  if (!Number.isInteger(limit) || limit < 1 || limit > available) {
    throw new ConfigError('limit', limit, `an integer in 1..${available} (the number of ${what})`);
  }
  return limit;
}
