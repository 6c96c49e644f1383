/** Option parsing shared by the subcommands: every bad value is a ConfigError naming the flag. */
import { ConfigError } from '../errors';

export function parseIntegerOption(flag: string, raw: unknown, min: number): number {
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isInteger(v) || v < min) throw new ConfigError(flag, raw, `an integer >= ${min}`);
  return v;
}

export function parseListOption(flag: string, raw: unknown): string[] {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(flag, raw, 'a comma-separated list');
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
