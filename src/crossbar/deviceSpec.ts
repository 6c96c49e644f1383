/**
 * The physical description of one memory cell technology, as a plain validated
 * object. Every field carries its unit in its name; `validateDeviceSpec` is the one
 * place raw input (JSON, CLI, user objects) becomes a `DeviceSpec`.
 */
import { ConfigError } from '../errors';
import { parseQuantity, unitOfField, FIELD_UNITS } from '../units';

export type DeviceKind = 'reram' | 'pcm' | 'nand' | 'ideal';
export const DEVICE_KINDS: readonly DeviceKind[] = ['reram', 'pcm', 'nand', 'ideal'];

export interface DeviceSpec {
  readonly kind: DeviceKind;
  /** Lowest programmable conductance (the "off" cell of a differential pair), µS. */
  readonly gMinMicroSiemens: number;
  /** Highest programmable conductance, µS. */
  readonly gMaxMicroSiemens: number;
  /**
   * Bits stored per cell: the target conductance is quantised to 2^bitsPerCell
   * evenly spaced levels in [gMin, gMax]. `null` means analog (continuous) cells.
   */
  readonly bitsPerCell: number | null;
  /** Programming noise, multiplicative: G = G_target·(1 + σ·ε), drawn once per programming. */
  readonly programmingNoiseRelStd: number;
  /** Programming noise, state independent: + σ·ε in µS, drawn with the multiplicative term. */
  readonly programmingNoiseAddMicroSiemens: number;
  /** Fraction of cells stuck at gMin (drawn with the programming noise). */
  readonly stuckAtGMinFraction: number;
  /** Fraction of cells stuck at gMax. */
  readonly stuckAtGMaxFraction: number;
  /** Read noise: per-cell conductance fluctuation per MVM, relative std. */
  readonly readNoiseRelStd: number;
  /** Sensing noise: additive Gaussian column current per MVM, std as a fraction of the ADC full scale. */
  readonly senseNoiseRelStd: number;
  /** Drift exponent ν mean: G(t) = G(t0)·(t/t0)^(−ν). 0 disables drift. */
  readonly driftNuMean: number;
  /** Drift exponent ν std across cells. */
  readonly driftNuStd: number;
  /** Reference time t0 of the drift law (first read after programming), s. */
  readonly driftT0Seconds: number;
  /** Read voltage at full-scale input, V. */
  readonly readVoltageVolts: number;
  /** Duration of one read pulse (one analog MVM on a tile), ns. */
  readonly readPulseNs: number;
  /** One ADC conversion, ns. */
  readonly adcConversionNs: number;
  /** Energy of one ADC conversion, pJ. */
  readonly adcEnergyPicojoules: number;
  /** Energy of driving one word line for one read (DAC + driver), pJ. */
  readonly dacEnergyPicojoules: number;
  /** Bit-line columns multiplexed onto one ADC (they convert one after another). */
  readonly columnsPerAdc: number;
  /** Area of one cell including its access device, µm². */
  readonly cellAreaSquareMicrometers: number;
  /** Area of one ADC, µm². */
  readonly adcAreaSquareMicrometers: number;
  /** Where the numbers come from. */
  readonly source: string;
}

type NumericField = Exclude<keyof DeviceSpec, 'kind' | 'bitsPerCell' | 'source'>;

interface FieldRule {
  readonly check: (v: number, spec: Record<string, unknown>) => boolean;
  readonly expected: (spec: Record<string, unknown>) => string;
}

const nonNegative: FieldRule = { check: (v) => v >= 0, expected: () => 'a finite number >= 0' };
const positive: FieldRule = { check: (v) => v > 0, expected: () => 'a finite number > 0' };
const fraction: FieldRule = { check: (v) => v >= 0 && v <= 1, expected: () => 'a number in [0, 1]' };
const positiveInteger: FieldRule = {
  check: (v) => Number.isInteger(v) && v >= 1,
  expected: () => 'an integer >= 1',
};

const RULES: Record<NumericField, FieldRule> = {
  gMinMicroSiemens: nonNegative,
  gMaxMicroSiemens: {
    check: (v, s) => v > 0 && v > (s.gMinMicroSiemens as number),
    expected: (s) => `a number > gMinMicroSiemens (${s.gMinMicroSiemens})`,
  },
  programmingNoiseRelStd: nonNegative,
  programmingNoiseAddMicroSiemens: nonNegative,
  stuckAtGMinFraction: fraction,
  stuckAtGMaxFraction: {
    check: (v, s) => v >= 0 && v <= 1 && v + (s.stuckAtGMinFraction as number) <= 1,
    expected: (s) => `a number in [0, 1 - stuckAtGMinFraction (${s.stuckAtGMinFraction})]`,
  },
  readNoiseRelStd: nonNegative,
  senseNoiseRelStd: nonNegative,
  driftNuMean: nonNegative,
  driftNuStd: nonNegative,
  driftT0Seconds: positive,
  readVoltageVolts: positive,
  readPulseNs: positive,
  adcConversionNs: nonNegative,
  adcEnergyPicojoules: nonNegative,
  dacEnergyPicojoules: nonNegative,
  columnsPerAdc: positiveInteger,
  cellAreaSquareMicrometers: nonNegative,
  adcAreaSquareMicrometers: nonNegative,
};

/** Field names of a DeviceSpec, for error messages and documentation. */
export const DEVICE_FIELDS: readonly (keyof DeviceSpec)[] = [
  'kind',
  ...(Object.keys(RULES) as NumericField[]),
  'bitsPerCell',
  'source',
];

/**
 * Validate a raw device description (numbers, or strings with units such as
 * "25 uS") into a DeviceSpec. Unknown fields are errors, not silently dropped.
 * @param prefix field-name prefix for error messages (e.g. `layers.conv1.device`).
 */
export function validateDeviceSpec(raw: unknown, prefix = 'device'): DeviceSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(prefix, raw, 'an object describing a device');
  }
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(DEVICE_FIELDS as readonly string[]).includes(key)) {
      throw new ConfigError(`${prefix}.${key}`, input[key], `one of the known fields: ${DEVICE_FIELDS.join(', ')}`);
    }
  }
  if (!DEVICE_KINDS.includes(input.kind as DeviceKind)) {
    throw new ConfigError(`${prefix}.kind`, input.kind, `one of ${DEVICE_KINDS.join(', ')}`);
  }
  const out: Record<string, unknown> = { kind: input.kind };
  for (const field of Object.keys(RULES) as NumericField[]) {
    const suffix = unitOfField(field);
    const value = suffix
      ? parseQuantity(`${prefix}.${field}`, input[field], FIELD_UNITS[suffix])
      : input[field];
    out[field] = value;
  }
  for (const field of Object.keys(RULES) as NumericField[]) {
    const value = out[field];
    const rule = RULES[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || !rule.check(value, out)) {
      throw new ConfigError(`${prefix}.${field}`, input[field], rule.expected(out));
    }
  }
  const bits = input.bitsPerCell;
  if (bits !== null && !(typeof bits === 'number' && Number.isInteger(bits) && bits >= 1 && bits <= 16)) {
    throw new ConfigError(`${prefix}.bitsPerCell`, bits, 'null (analog) or an integer in [1, 16]');
  }
  out.bitsPerCell = bits;
  if (typeof input.source !== 'string') {
    throw new ConfigError(`${prefix}.source`, input.source, 'a string naming where the numbers come from');
  }
  out.source = input.source;
  return Object.freeze(out) as unknown as DeviceSpec;
}

/** Number of conductance levels per cell, or null when analog. */
export function conductanceLevels(spec: DeviceSpec): number | null {
  return spec.bitsPerCell === null ? null : 2 ** spec.bitsPerCell;
}
