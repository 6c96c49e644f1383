/**
 * A chip: one device technology, a tile size, converters, and the mapping policy.
 * Composed like aihwkit's RPUConfig, but as one plain validated object.
 */
import { ConfigError } from '../errors';
import type { DeviceSpec } from './deviceSpec';
import { deviceFromConfig } from './presets';
import { parseQuantity, FIELD_UNITS } from '../units';

export interface TileShape {
  /** Word lines (inputs) per tile. */
  readonly rows: number;
  /** Bit lines (outputs) per tile. */
  readonly cols: number;
}

/**
 * How the DAC's input range is set.
 * - `perInputAbsMax`: each input vector is scaled by its own max |x| before the
 *   DAC and the output rescaled digitally (aihwkit's "abs_max" noise management);
 *   never clips, uses the full DAC resolution for every vector.
 * - `fixed`: a calibrated range [−maxAbs, maxAbs]; inputs beyond it are clipped
 *   (counted in the run statistics).
 */
export type DacRange = { readonly kind: 'perInputAbsMax' } | { readonly kind: 'fixed'; readonly maxAbs: number };

export interface DacSpec {
  /** Resolution in bits (signed, symmetric), or null for an ideal converter. */
  readonly bits: number | null;
  readonly range: DacRange;
}

export interface AdcSpec {
  /** Resolution in bits (signed, symmetric), or null for an ideal converter. */
  readonly bits: number | null;
  /**
   * Full scale as a fraction of each tile's worst-case column current (all inputs
   * at full scale with the sign that maximises the column): 1 never clips; smaller
   * values trade clipping for resolution.
   */
  readonly rangeFraction: number;
}

export interface MappingSpec {
  /** One weight scale per layer (max |W|), or one per output column. */
  readonly weightScale: 'layer' | 'column';
}

export interface ChipSpec {
  readonly device: DeviceSpec;
  readonly tile: TileShape;
  readonly dac: DacSpec;
  readonly adc: AdcSpec;
  readonly mapping: MappingSpec;
  /** Time since programming at which the chip is read (drift), s. */
  readonly readTimeSeconds: number;
  /** Rescale each layer's outputs by its measured drift (global drift compensation). */
  readonly driftCompensation: boolean;
}

export const DEFAULT_TILE: TileShape = { rows: 256, cols: 256 };
export const DEFAULT_DAC: DacSpec = { bits: 8, range: { kind: 'perInputAbsMax' } };
export const DEFAULT_ADC: AdcSpec = { bits: 8, rangeFraction: 1 };
export const IDEAL_DAC: DacSpec = { bits: null, range: { kind: 'perInputAbsMax' } };
export const IDEAL_ADC: AdcSpec = { bits: null, rangeFraction: 1 };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknown(obj: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${prefix}.${key}`, obj[key], `one of the known fields: ${known.join(', ')}`);
    }
  }
}

function bitsField(value: unknown, field: string): number | null {
  if (value === null) return null;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 2 && value <= 24) return value;
  throw new ConfigError(field, value, 'null (ideal converter) or an integer number of bits in [2, 24]');
}

/** Largest tile side accepted (word or bit lines): far beyond any fabricated array. */
const MAX_TILE_SIDE = 1 << 20;

function positiveIntegerField(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_TILE_SIDE) return value;
  throw new ConfigError(field, value, `an integer in [1, ${MAX_TILE_SIDE}]`);
}

/** Parse a tile size written as "256x128" or `{ rows, cols }`. */
export function parseTileShape(raw: unknown, field = 'tile'): TileShape {
  if (typeof raw === 'string') {
    const m = /^(\d+)x(\d+)$/.exec(raw.trim());
    if (!m) throw new ConfigError(field, raw, 'ROWSxCOLS, e.g. "256x256"');
    return parseTileShape({ rows: Number(m[1]), cols: Number(m[2]) }, field);
  }
  if (!isObject(raw)) throw new ConfigError(field, raw, '{ rows, cols } or "ROWSxCOLS"');
  rejectUnknown(raw, ['rows', 'cols'], field);
  return { rows: positiveIntegerField(raw.rows, `${field}.rows`), cols: positiveIntegerField(raw.cols, `${field}.cols`) };
}

function parseDac(raw: unknown, field: string): DacSpec {
  if (raw === undefined) return DEFAULT_DAC;
  if (!isObject(raw)) throw new ConfigError(field, raw, '{ bits, range }');
  rejectUnknown(raw, ['bits', 'range'], field);
  const bits = raw.bits === undefined ? DEFAULT_DAC.bits : bitsField(raw.bits, `${field}.bits`);
  let range: DacRange = DEFAULT_DAC.range;
  if (raw.range !== undefined) {
    const r = raw.range;
    if (r === 'perInputAbsMax') range = { kind: 'perInputAbsMax' };
    else if (typeof r === 'number' && Number.isFinite(r) && r > 0) range = { kind: 'fixed', maxAbs: r };
    else if (isObject(r) && r.kind === 'perInputAbsMax') range = { kind: 'perInputAbsMax' };
    else if (isObject(r) && r.kind === 'fixed' && typeof r.maxAbs === 'number' && r.maxAbs > 0 && Number.isFinite(r.maxAbs)) {
      range = { kind: 'fixed', maxAbs: r.maxAbs };
    } else {
      throw new ConfigError(`${field}.range`, r, '"perInputAbsMax", a positive number, or { kind: "fixed", maxAbs > 0 }');
    }
  }
  return { bits, range };
}

function parseAdc(raw: unknown, field: string): AdcSpec {
  if (raw === undefined) return DEFAULT_ADC;
  if (!isObject(raw)) throw new ConfigError(field, raw, '{ bits, rangeFraction }');
  rejectUnknown(raw, ['bits', 'rangeFraction'], field);
  const bits = raw.bits === undefined ? DEFAULT_ADC.bits : bitsField(raw.bits, `${field}.bits`);
  const rangeFraction = raw.rangeFraction === undefined ? DEFAULT_ADC.rangeFraction : raw.rangeFraction;
  if (typeof rangeFraction !== 'number' || !(rangeFraction > 0 && rangeFraction <= 1)) {
    throw new ConfigError(`${field}.rangeFraction`, rangeFraction, 'a number in (0, 1]');
  }
  return { bits, rangeFraction };
}

/**
 * Validate a raw chip description. `device` may be a preset name, a
 * `{ preset, ...overrides }` object or a full device spec.
 */
export function validateChipSpec(raw: unknown, prefix = 'chip'): ChipSpec {
  if (!isObject(raw)) throw new ConfigError(prefix, raw, 'an object with at least a device');
  rejectUnknown(raw, ['device', 'tile', 'dac', 'adc', 'mapping', 'readTimeSeconds', 'driftCompensation'], prefix);
  const device = deviceFromConfig(raw.device, `${prefix}.device`);
  const tile = raw.tile === undefined ? DEFAULT_TILE : parseTileShape(raw.tile, `${prefix}.tile`);
  const dac = parseDac(raw.dac, `${prefix}.dac`);
  const adc = parseAdc(raw.adc, `${prefix}.adc`);
  let mapping: MappingSpec = { weightScale: 'layer' };
  if (raw.mapping !== undefined) {
    if (!isObject(raw.mapping)) throw new ConfigError(`${prefix}.mapping`, raw.mapping, '{ weightScale }');
    rejectUnknown(raw.mapping, ['weightScale'], `${prefix}.mapping`);
    const ws = raw.mapping.weightScale ?? 'layer';
    if (ws !== 'layer' && ws !== 'column') {
      throw new ConfigError(`${prefix}.mapping.weightScale`, ws, '"layer" or "column"');
    }
    mapping = { weightScale: ws };
  }
  // A time with a unit ("1 h", "1 day") or a number of seconds.
  const readTimeSeconds =
    raw.readTimeSeconds === undefined ? device.driftT0Seconds : typeof raw.readTimeSeconds === 'string' ? parseQuantity(`${prefix}.readTimeSeconds`, raw.readTimeSeconds, FIELD_UNITS.Seconds) : raw.readTimeSeconds;
  if (typeof readTimeSeconds !== 'number' || !Number.isFinite(readTimeSeconds) || readTimeSeconds < device.driftT0Seconds) {
    throw new ConfigError(
      `${prefix}.readTimeSeconds`,
      readTimeSeconds,
      `a time in seconds >= the device's driftT0Seconds (${device.driftT0Seconds})`,
    );
  }
  const driftCompensation = raw.driftCompensation ?? false;
  if (typeof driftCompensation !== 'boolean') {
    throw new ConfigError(`${prefix}.driftCompensation`, driftCompensation, 'true or false');
  }
  return Object.freeze({ device, tile, dac, adc, mapping, readTimeSeconds, driftCompensation });
}
