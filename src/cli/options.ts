/**
 * Option parsing shared by the subcommands: every bad value is a ConfigError naming the flag.
 *
 * Numbers on the command line are decimal only: `Number()` would also read `0x10`,
 * `0b11`, `0o7`, `Infinity` and `''` (as 0), which a user never means as a seed or a
 * power, and integers must be exact (`99999999999999999999` is not 1e20).
 */
import { ConfigError } from '../errors';

/** A decimal number: optional sign, digits with an optional fraction, optional exponent. */
const DECIMAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** A decimal integer: digits only (an optional leading +). */
const DECIMAL_INTEGER = /^\+?\d+$/;

/**
 * The finite number `text` spells in decimal, or `undefined` when it is not one
 * (hex, binary, octal, `Infinity`, `NaN`, empty, or too large for a double).
 */
export function decimalNumber(text: string): number | undefined {
  const t = text.trim();
  if (!DECIMAL_NUMBER.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** The number a list entry spells in decimal, else the text itself, so validation reports what was typed. */
export function decimalOrText(text: string): number | string {
  return decimalNumber(text) ?? text;
}

/** A decimal number option; throws ConfigError naming `flag` with `expected`. */
export function parseNumberOption(flag: string, raw: unknown, expected = 'a number in decimal notation (e.g. 2.5 or 1e3)'): number {
  const v = typeof raw === 'string' ? decimalNumber(raw) : undefined;
  if (v === undefined) throw new ConfigError(flag, raw, expected);
  return v;
}

/** A decimal integer option >= `min` that is exact in a double (below 2^53). */
export function parseIntegerOption(flag: string, raw: unknown, min: number): number {
  const text = typeof raw === 'string' ? raw.trim() : '';
  const v = DECIMAL_INTEGER.test(text) ? Number(text) : NaN;
  if (Number.isSafeInteger(v) && v < min) throw new ConfigError(flag, raw, `an integer >= ${min}`);
  if (!Number.isSafeInteger(v)) {
    throw new ConfigError(flag, raw, `an integer >= ${min} in decimal digits, below 2^53`);
  }
  return v;
}

export function parseListOption(flag: string, raw: unknown): string[] {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(flag, raw, 'a comma-separated list');
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Largest rows or columns of one tile `--tile` accepts (real crossbars stay far below). */
export const MAX_TILE_SIDE = 1 << 20;

/**
 * `--tile RxC`: two decimal integers in [1, {@link MAX_TILE_SIDE}]. Returns the
 * text unchanged for the chip validator, or throws ConfigError naming `flag`.
 */
export function checkTileOption(flag: string, raw: unknown): string {
  const m = typeof raw === 'string' ? /^(\d+)x(\d+)$/.exec(raw.trim()) : null;
  const ok = (d: string | undefined): boolean => {
    const v = d === undefined ? NaN : Number(d);
    return Number.isSafeInteger(v) && v >= 1 && v <= MAX_TILE_SIDE;
  };
  if (m === null || !ok(m[1]) || !ok(m[2])) {
    throw new ConfigError(flag, raw, `ROWSxCOLS, two decimal integers in [1, ${MAX_TILE_SIDE}], e.g. 256x256`);
  }
  return raw as string;
}
