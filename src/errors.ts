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

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return String(value);
  }
}

/** A configuration field has a bad value: `field = value: expected ...`. */
export class ConfigError extends OhmicError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${field} = ${show(value)}: expected ${expected}`);
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
