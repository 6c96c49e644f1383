/**
 * Physical units at the edges (configs and reports), via mathjs. The core works in
 * the unit named by each field (`gMaxMicroSiemens` is in µS) and never parses.
 */
import { unit } from 'mathjs';
import { ConfigError } from './errors';

/** mathjs unit for each unit suffix used in field names. */
export const FIELD_UNITS = {
  MicroSiemens: 'uS',
  Ns: 'ns',
  Seconds: 's',
  Picojoules: 'pJ',
  Volts: 'V',
  SquareMicrometers: 'um^2',
  Milliwatts: 'mW',
} as const;

export type UnitSuffix = keyof typeof FIELD_UNITS;

/** The unit suffix of a field name (`gMaxMicroSiemens` → `MicroSiemens`), if any. */
export function unitOfField(field: string): UnitSuffix | undefined {
  const base = field.split('.').pop() ?? field;
  return (Object.keys(FIELD_UNITS) as UnitSuffix[]).find((s) => base.endsWith(s));
}

/**
 * A number in the unit `target` from a number (already in that unit) or a string
 * with a unit ("25 uS", "0.025 mS", "1 us"). Throws ConfigError naming the field.
 */
export function parseQuantity(field: string, value: unknown, target: string): number {
  if (typeof value === 'number') {
    // JSON reads 1e400 as Infinity: name the overflow, not the field's range.
    if (!Number.isFinite(value)) throw new ConfigError(field, value, `a finite number in ${target} (1e309 and beyond overflow a 64-bit float)`);
    return value;
  }
  if (typeof value !== 'string') {
    throw new ConfigError(field, value, `a number in ${target} or a string with a unit, e.g. "1 ${target}"`);
  }
  let n: number;
  try {
    n = unit(value).toNumber(target);
  } catch {
    throw new ConfigError(field, value, `a quantity convertible to ${target}, e.g. "1 ${target}"`);
  }
  if (!Number.isFinite(n)) {
    // "1e400 uS": the number itself overflows a double, whatever the field's range.
    throw new ConfigError(field, value, `a finite quantity in ${target} (${value.trim()} overflows a 64-bit float)`);
  }
  // mathjs converts through SI and leaves float dust (0.025 mS → 25.000000000000004 uS).
  return Number(n.toPrecision(12));
}

/** Human-readable quantity with an SI prefix chosen by mathjs ("1.2 us", "25 uS"). */
export function formatQuantity(value: number, unitName: string, precision = 4): string {
  if (!Number.isFinite(value)) return `${value} ${unitName}`;
  if (value === 0) return `0 ${unitName}`;
  return unit(value, unitName).format({ precision });
}
