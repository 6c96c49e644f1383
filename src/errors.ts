/**
 * One error hierarchy so callers can catch by area. Every message names the
 * field (or file, node), the value found and what was expected.
 */
export class OhmicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Longest value text a message carries, and how deep into nested values it looks. */
const SHOW_LENGTH = 120;
const SHOW_DEPTH = 6;

/**
 * JSON-like text of a nested value, bounded in depth and length so that a hostile
 * value (a 200,000-deep array, a million-entry object, a cycle) formats in
 * constant time and stack. Matches `JSON.stringify` for small plain values.
 */
function showNested(value: unknown, depth: number, budget: number): string {
  if (value === null || value === undefined || typeof value === 'function' || typeof value === 'symbol') return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > budget ? `${value.slice(0, budget)}...` : value);
  if (typeof value !== 'object') return String(value);
  const isList = Array.isArray(value) || ArrayBuffer.isView(value);
  const [open, close] = isList ? ['[', ']'] : ['{', '}'];
  if (depth >= SHOW_DEPTH) return `${open}...${close}`;
  const parts: string[] = [];
  let used = 2;
  const push = (text: string): boolean => {
    parts.push(text);
    used += text.length + 1;
    return used <= budget;
  };
  if (isList) {
    const list = value as ArrayLike<unknown>;
    for (let i = 0; i < list.length; i++) {
      if (!push(showNested(list[i], depth + 1, budget - used))) {
        if (i < list.length - 1) parts.push('...');
        break;
      }
    }
  } else {
    let seen = 0;
    for (const key in value as Record<string, unknown>) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || typeof v === 'function') continue;
      if (seen++ > 0 && used > budget) {
        parts.push('...');
        break;
      }
      push(`${JSON.stringify(key)}:${showNested(v, depth + 1, budget - used)}`);
    }
  }
  return `${open}${parts.join(',')}${close}`;
}

/** A value as it appears in messages: strings quoted, objects as bounded JSON-like text. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 4 * SHOW_LENGTH ? `${value.slice(0, 4 * SHOW_LENGTH)}...` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  let s: string;
  try {
    s = showNested(value, 0, SHOW_LENGTH);
  } catch {
    s = Object.prototype.toString.call(value);
  }
  return s.length > SHOW_LENGTH ? `${s.slice(0, SHOW_LENGTH - 3)}...` : s;
}

/** A configuration field has a bad value: `field = value: expected ...`. */
export class ConfigError extends OhmicError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${field} = ${showValue(value)}: expected ${expected}`);
  }
}

/** Tensor or matrix shapes that do not fit together. */
export class ShapeError extends OhmicError {}

/** A model uses an operation the compiler does not support. */
export class UnsupportedOpError extends OhmicError {
  constructor(
    readonly op: string,
    readonly nodeName: string,
    readonly supported: readonly string[],
  ) {
    super(`unsupported op '${op}' at node '${nodeName}'; supported ops: ${supported.join(', ')}`);
  }
}

/** A data or model file is missing, truncated or not what its format says. */
export class DataError extends OhmicError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}
