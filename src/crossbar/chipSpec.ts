/**
 * A chip: one device technology, a tile size, converters, and the mapping policy.
 * Composed like aihwkit's RPUConfig, but as one plain validated object.
 */
import { ConfigError } from '../errors';
import type { DeviceSpec } from './deviceSpec';
import { deviceFromConfig } from './presets';
import { parseQuantity, FIELD_UNITS } from '../units';
import { parseWeightSlicing, parseInputEncoding, NO_SLICING, type WeightSlicing, type InputEncoding } from './slicing';
import { parseWireFields, WIRE_FIELDS, type WireFields } from './irDrop/wireConfig';

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
 * - `fixed`: a given range [−maxAbs, maxAbs]; inputs beyond it are clipped
 *   (counted in the run statistics).
 * - `calibrated` (the default for a DAC with finite resolution): a fixed range per
 *   layer, set from a calibration batch by the chip's `calibration` method when the
 *   chip is programmed (see `calibrateRanges`), then clipped like `fixed`.
 */
export type DacRange =
  | { readonly kind: 'perInputAbsMax' }
  | { readonly kind: 'fixed'; readonly maxAbs: number }
  | { readonly kind: 'calibrated' };

export interface DacSpec {
  /** Resolution in bits (signed, symmetric), or null for an ideal converter. */
  readonly bits: number | null;
  readonly range: DacRange;
}

export interface AdcSpec {
  /** Resolution in bits (signed, symmetric), or null for an ideal converter. */
  readonly bits: number | null;
  /**
   * Full scale as a fraction of the range the chip's `calibration` method gives: of
   * the column currents measured on the calibration batch (`max`, `percentile`), or
   * of each tile's worst-case column current (`worstCase`: all inputs at full scale
   * with the sign that maximises the column). Below 1 trades clipping for resolution.
   */
  readonly rangeFraction: number;
}

/**
 * How converter ranges are set, once, when the chip is programmed (they stay fixed
 * afterwards: drift or a new input distribution shows up as clipping and lost
 * resolution, not as re-ranging).
 * - `max`: the largest |value| seen on the calibration batch (DAC: the layer's
 *   inputs; ADC: the tile's, or column's, currents); the batch never clips.
 * - `percentile`: the `percentile`-th percentile of those |values| (clips the tail).
 * - `worstCase`: no data; the ADC full scale is the tile's worst-case column current
 *   and the DAC range must be given (`perInputAbsMax` or a number).
 */
export interface CalibrationSpec {
  readonly method: 'max' | 'percentile' | 'worstCase';
  /** Percentile in (0, 100] for `percentile` (default 99.99). */
  readonly percentile: number;
  /** One ADC full scale per tile (its columns share the ADC reference) or per column. */
  readonly adcGranularity: 'tile' | 'column';
}

export interface MappingSpec {
  /** One weight scale per layer (max |W|), or one per output column. */
  readonly weightScale: 'layer' | 'column';
}

/**
 * A chip. Its wire fields (`wireResistanceOhmPerCell`, `irDrop`,
 * `maxBitLineCurrentMicroAmps`, see irDrop/wireConfig.ts) are present only where set.
 */
export interface ChipSpec extends WireFields {
  readonly device: DeviceSpec;
  readonly tile: TileShape;
  readonly dac: DacSpec;
  readonly adc: AdcSpec;
  readonly mapping: MappingSpec;
  /** How DAC and ADC ranges are set (see {@link CalibrationSpec}). */
  readonly calibration: CalibrationSpec;
  /** Time since programming at which the chip is read (drift), s. */
  readonly readTimeSeconds: number;
  /** Rescale each layer's outputs by its measured drift (global drift compensation). */
  readonly driftCompensation: boolean;
  /**
   * Weights over several quantised cell pairs (bit-slicing, see `slicing.ts`);
   * absent: one analog pair per weight.
   */
  readonly slicing?: WeightSlicing;
  /** Inputs amplitude-coded or bit-serial over DAC cycles (see `slicing.ts`); absent: amplitude. */
  readonly inputEncoding?: InputEncoding;
}

export const DEFAULT_TILE: TileShape = { rows: 256, cols: 256 };
export const DEFAULT_DAC: DacSpec = { bits: 8, range: { kind: 'calibrated' } };
export const DEFAULT_ADC: AdcSpec = { bits: 8, rangeFraction: 1 };
export const IDEAL_DAC: DacSpec = { bits: null, range: { kind: 'perInputAbsMax' } };
export const IDEAL_ADC: AdcSpec = { bits: null, rangeFraction: 1 };
export const DEFAULT_CALIBRATION: CalibrationSpec = { method: 'max', percentile: 99.99, adcGranularity: 'tile' };
/** The ranges of earlier versions: worst-case ADC full scale, each input vector scaled by its own max |x|. */
export const WORST_CASE_CALIBRATION: CalibrationSpec = { method: 'worstCase', percentile: 99.99, adcGranularity: 'tile' };

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

/**
 * The DAC range when none is given: calibrated on data for a converter of finite
 * resolution; an ideal converter (bits null) has no range; without calibration
 * data (`worstCase`), each input vector's own max |x|.
 */
function defaultDacRange(bits: number | null, calibration: CalibrationSpec): DacRange {
  return bits === null || calibration.method === 'worstCase' ? { kind: 'perInputAbsMax' } : { kind: 'calibrated' };
}

function parseDac(raw: unknown, field: string, calibration: CalibrationSpec): DacSpec {
  if (raw === undefined) return { bits: DEFAULT_DAC.bits, range: defaultDacRange(DEFAULT_DAC.bits, calibration) };
  if (!isObject(raw)) throw new ConfigError(field, raw, '{ bits, range }');
  rejectUnknown(raw, ['bits', 'range'], field);
  const bits = raw.bits === undefined ? DEFAULT_DAC.bits : bitsField(raw.bits, `${field}.bits`);
  let range: DacRange = defaultDacRange(bits, calibration);
  if (raw.range !== undefined) {
    const r = raw.range;
    if (r === 'perInputAbsMax') range = { kind: 'perInputAbsMax' };
    else if (r === 'calibrated' || (isObject(r) && r.kind === 'calibrated' && Object.keys(r).length === 1)) {
      if (calibration.method === 'worstCase') {
        throw new ConfigError(`${field}.range`, r, '"perInputAbsMax" or a fixed positive number: calibration.method "worstCase" uses no data, so it cannot calibrate a DAC range');
      }
      range = { kind: 'calibrated' };
    }
    else if (typeof r === 'number' && Number.isFinite(r) && r > 0) range = { kind: 'fixed', maxAbs: r };
    else if (isObject(r) && r.kind === 'perInputAbsMax') range = { kind: 'perInputAbsMax' };
    else if (isObject(r) && r.kind === 'fixed' && typeof r.maxAbs === 'number' && r.maxAbs > 0 && Number.isFinite(r.maxAbs)) {
      range = { kind: 'fixed', maxAbs: r.maxAbs };
    } else {
      throw new ConfigError(`${field}.range`, r, '"calibrated", "perInputAbsMax", a positive number, or { kind: "fixed", maxAbs > 0 }');
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

function parseCalibration(raw: unknown, field: string): CalibrationSpec {
  if (raw === undefined) return DEFAULT_CALIBRATION;
  if (typeof raw === 'string') return parseCalibration({ method: raw }, field);
  if (!isObject(raw)) throw new ConfigError(field, raw, '{ method, percentile, adcGranularity } or a method name');
  rejectUnknown(raw, ['method', 'percentile', 'adcGranularity'], field);
  const method = raw.method ?? DEFAULT_CALIBRATION.method;
  if (method !== 'max' && method !== 'percentile' && method !== 'worstCase') {
    throw new ConfigError(`${field}.method`, method, '"max", "percentile" or "worstCase"');
  }
  const percentile = raw.percentile ?? DEFAULT_CALIBRATION.percentile;
  if (typeof percentile !== 'number' || !(percentile > 0 && percentile <= 100)) {
    throw new ConfigError(`${field}.percentile`, percentile, 'a number in (0, 100]');
  }
  // A saved spec carries the default percentile whatever the method; any other value is a mistake.
  if (percentile !== DEFAULT_CALIBRATION.percentile && method !== 'percentile') {
    throw new ConfigError(`${field}.percentile`, raw.percentile, `no percentile: it applies to method "percentile" only (method is "${method}")`);
  }
  const adcGranularity = raw.adcGranularity ?? DEFAULT_CALIBRATION.adcGranularity;
  if (adcGranularity !== 'tile' && adcGranularity !== 'column') {
    throw new ConfigError(`${field}.adcGranularity`, adcGranularity, '"tile" or "column"');
  }
  return { method, percentile, adcGranularity };
}

/** Whether a chip's DAC range is set from calibration data. */
export function needsCalibratedDac(chip: ChipSpec): boolean {
  return chip.dac.range.kind === 'calibrated';
}

/** Whether a chip's ADC full scales are set from calibration data. */
export function needsCalibratedAdc(chip: ChipSpec): boolean {
  return chip.adc.bits !== null && chip.calibration.method !== 'worstCase';
}

/** Whether a chip's converter ranges are set from calibration data when it is programmed. */
export function needsCalibrationData(chip: ChipSpec): boolean {
  return needsCalibratedDac(chip) || needsCalibratedAdc(chip);
}

/**
 * Validate a raw chip description. `device` may be a preset name, a
 * `{ preset, ...overrides }` object or a full device spec.
 */
export function validateChipSpec(raw: unknown, prefix = 'chip'): ChipSpec {
  if (!isObject(raw)) throw new ConfigError(prefix, raw, 'an object with at least a device');
  rejectUnknown(raw, ['device', 'tile', 'dac', 'adc', 'mapping', 'calibration', 'readTimeSeconds', 'driftCompensation', 'slicing', 'inputEncoding', ...WIRE_FIELDS], prefix);
  const device = deviceFromConfig(raw.device, `${prefix}.device`);
  const tile = raw.tile === undefined ? DEFAULT_TILE : parseTileShape(raw.tile, `${prefix}.tile`);
  const calibration = parseCalibration(raw.calibration, `${prefix}.calibration`);
  const dac = parseDac(raw.dac, `${prefix}.dac`, calibration);
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
  // Present only when given and not the default, so a default chip's spec is unchanged.
  const slicing = raw.slicing === undefined ? undefined : parseWeightSlicing(raw.slicing, device, `${prefix}.slicing`);
  const inputEncoding = raw.inputEncoding === undefined ? undefined : parseInputEncoding(raw.inputEncoding, dac.bits, `${prefix}.inputEncoding`);
  const wires = parseWireFields(raw, prefix, tile.rows * tile.cols);
  return Object.freeze({
    device, tile, dac, adc, mapping, calibration, readTimeSeconds, driftCompensation,
    ...wires,
    ...(slicing && slicing !== NO_SLICING ? { slicing } : {}),
    ...(inputEncoding && inputEncoding.kind !== 'amplitude' ? { inputEncoding } : {}),
  });
}
