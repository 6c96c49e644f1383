/**
 * One hardware description for every way ohmic runs a model: the exact digital
 * reference, the paper's signal-level noise, or a chip. The library
 * (`compileHardware`), `ohmic run`, `ohmic compile` and studies all take it, and a
 * study's result records carry each point's resolved description, so any result
 * can be re-run alone (`ohmic run --hardware`).
 *
 * ```yaml
 * kind: chip
 * chip: { device: { preset: pcm, readNoiseRelStd: 0.02 }, tile: 128x128, adc: { bits: 6 }, readTimeSeconds: 1 h }
 * layers: { conv1: { adc: { bits: 8 } } }
 * ```
 * ```yaml
 * kind: signal
 * noise: { kind: multiplicative, sigma: 0.4 }
 * site: norm
 * ```
 *
 * Validation happens once ({@link validateHardware}): unknown keys are errors,
 * every error is a ConfigError naming the path (`hardware.chip.adc.bits`).
 * Quantities take units where the field has one ("25 uS", "1 h").
 */
import { ConfigError } from '../errors';
import { validateChipSpec, type ChipSpec } from '../crossbar/chipSpec';
import { PRESET_NAMES } from '../crossbar/presets';
import type { SignalNoise } from '../crossbar/noise/signalNoise';

/**
 * Where signal-level noise enters each analog layer (for a model that carries no
 * noise points of its own, or to move them):
 * - `mvm`: on the raw product `W·x`, before the bias (the default for such models);
 * - `bias`: after the bias add (`W·x + b`);
 * - `norm`: after the batch norm that reads the layer (as in the paper's Table 1;
 *   after the bias where no batch norm follows, e.g. the classifier).
 */
export type NoiseSite = 'mvm' | 'bias' | 'norm';
export const NOISE_SITES: readonly NoiseSite[] = ['mvm', 'bias', 'norm'];

/** The exact digital reference: no noise, ideal converters. */
export interface ExactHardware {
  readonly kind: 'exact';
}

/** The paper's signal-level model: fresh noise of `noise.kind` and σ at every noise point. */
export interface SignalHardware {
  readonly kind: 'signal';
  readonly noise: SignalNoise;
  /**
   * Where the noise goes. Absent: at the model's own noise points (a model trained
   * with noise layers carries them), else at every MVM output (`mvm`). Given: the
   * model's own noise points are replaced by points at this site.
   */
  readonly site?: NoiseSite;
  /** The chip whose latency, energy and area the point is costed on; none: no chip cost. */
  readonly chip?: ChipSpec;
}

/** A programmed chip, with per-layer overrides (each a whole chip of its own). */
export interface ChipHardware {
  readonly kind: 'chip';
  readonly chip: ChipSpec;
  /**
   * Per-layer chips, by the model's layer names (source or lowered, see
   * `ohmic compile --layers`): each is the base chip with the override merged in.
   */
  readonly layers?: Readonly<Record<string, ChipSpec>>;
}

/** A validated hardware description. */
export type Hardware = ExactHardware | SignalHardware | ChipHardware;

export const HARDWARE_KINDS: readonly Hardware['kind'][] = ['exact', 'signal', 'chip'];

/** The exact reference chip: noiseless analog cells and ideal converters (equal to compile's IDEAL_CHIP). */
export const EXACT_CHIP_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({ device: 'ideal', dac: { bits: null }, adc: { bits: null } });

/** Fields a chip description may have (besides `layers` where overrides are allowed). */
export const CHIP_FIELDS = ['device', 'tile', 'dac', 'adc', 'mapping', 'calibration', 'readTimeSeconds', 'driftCompensation', 'slicing', 'inputEncoding', 'wireResistanceOhmPerCell', 'irDrop', 'maxBitLineCurrentMicroAmps'] as const;

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function rejectUnknown(obj: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) throw new ConfigError(`${prefix}.${key}`, obj[key], `one of the known fields: ${known.join(', ')}`);
  }
}

/**
 * The raw chip config a chip entry stands for: a preset name (`"ideal"` also makes
 * the converters ideal, the exact reference) or a chip object, returned as given.
 */
export function rawChipOf(raw: unknown, prefix: string): Record<string, unknown> {
  if (typeof raw === 'string') {
    if (!(PRESET_NAMES as readonly string[]).includes(raw)) {
      throw new ConfigError(prefix, raw, `a preset name (${PRESET_NAMES.join(', ')}) or a chip object { device, tile, dac, adc, ... }`);
    }
    return raw === 'ideal' ? cloneJson(EXACT_CHIP_CONFIG) : { device: raw };
  }
  if (!isPlainObject(raw)) throw new ConfigError(prefix, raw, `a preset name (${PRESET_NAMES.join(', ')}) or a chip object { device, tile, dac, adc, ... }`);
  return raw;
}

/** A deep copy of JSON-like data. */
export function cloneJson<T>(x: T): T {
  if (Array.isArray(x)) return x.map(cloneJson) as unknown as T;
  if (isPlainObject(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, cloneJson(v)])) as T;
  return x;
}

/**
 * `override` merged into `base`: objects merge key by key, anything else replaces.
 * A device override naming a `preset` or `kind` replaces the base device whole; one
 * that only changes fields keeps the base device (a preset name becomes
 * `{ preset, ...fields }`).
 */
export function mergeChipConfig(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = cloneJson(base);
  for (const [key, value] of Object.entries(override)) {
    if (key === 'device') {
      const b = out.device;
      if (isPlainObject(value) && value.preset === undefined && value.kind === undefined) {
        const baseDevice = typeof b === 'string' ? { preset: b } : isPlainObject(b) ? b : {};
        out.device = mergeObjects(baseDevice, value);
      } else {
        out.device = cloneJson(value);
      }
      continue;
    }
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? mergeObjects(out[key] as Record<string, unknown>, value) : cloneJson(value);
  }
  return out;
}

function mergeObjects(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = cloneJson(a);
  for (const [k, v] of Object.entries(b)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeObjects(out[k] as Record<string, unknown>, v) : cloneJson(v);
  return out;
}

/** A chip object split into the chip proper and its `layers` overrides (checked to be objects). */
export function splitLayers(raw: Record<string, unknown>, prefix: string): { chip: Record<string, unknown>; layers?: Record<string, Record<string, unknown>> } {
  const { layers, ...chip } = raw;
  if (layers === undefined) return { chip };
  return { chip, layers: checkLayerOverrides(layers, `${prefix}.layers`) };
}

function checkLayerOverrides(raw: unknown, prefix: string): Record<string, Record<string, unknown>> {
  if (!isPlainObject(raw)) throw new ConfigError(prefix, raw, 'an object mapping layer names to chip overrides, e.g. { "conv1": { "adc": { "bits": 8 } } }');
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!isPlainObject(value)) throw new ConfigError(`${prefix}.${name}`, value, 'a chip override object, e.g. { "adc": { "bits": 8 } }');
    rejectUnknown(value, CHIP_FIELDS, `${prefix}.${name}`);
    out[name] = value;
  }
  return out;
}

/** Validates a chip with per-layer overrides: each override merged into the base chip is a valid chip. */
export function validateChipWithLayers(
  chip: Record<string, unknown>,
  layers: Record<string, Record<string, unknown>> | undefined,
  prefix: string,
): ChipHardware {
  const spec = validateChipSpec(chip, `${prefix}.chip`);
  if (layers === undefined || Object.keys(layers).length === 0) return { kind: 'chip', chip: spec };
  const out: Record<string, ChipSpec> = {};
  for (const [name, override] of Object.entries(layers)) out[name] = validateChipSpec(mergeChipConfig(chip, override), `${prefix}.layers.${name}`);
  return { kind: 'chip', chip: spec, layers: out };
}

function validateNoise(raw: unknown, prefix: string): SignalNoise {
  if (typeof raw === 'string') {
    const m = /^(mult|multiplicative|add|additive):(.+)$/.exec(raw.trim());
    if (!m) throw new ConfigError(prefix, raw, '{ kind, sigma }, or "mult:SIGMA" / "add:SIGMA", e.g. "mult:0.4"');
    const sigma = Number(m[2]);
    return validateNoise({ kind: m[1].startsWith('mult') ? 'multiplicative' : 'additive', sigma: Number.isNaN(sigma) ? m[2] : sigma }, prefix);
  }
  if (!isPlainObject(raw)) throw new ConfigError(prefix, raw, '{ kind: "multiplicative" | "additive", sigma }');
  rejectUnknown(raw, ['kind', 'sigma'], prefix);
  if (raw.kind !== 'multiplicative' && raw.kind !== 'additive') throw new ConfigError(`${prefix}.kind`, raw.kind, '"multiplicative" or "additive"');
  const sigma = raw.sigma;
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma < 0) throw new ConfigError(`${prefix}.sigma`, sigma, 'a finite number >= 0');
  return { kind: raw.kind, sigma: sigma === 0 ? 0 : sigma };
}

/** Checks a noise site. */
export function validateNoiseSite(raw: unknown, field = 'site'): NoiseSite {
  if (!(NOISE_SITES as readonly unknown[]).includes(raw)) {
    throw new ConfigError(field, raw, `one of ${NOISE_SITES.join(', ')} (mvm: the raw product, bias: after the bias add, norm: after the batch norm)`);
  }
  return raw as NoiseSite;
}

/**
 * Validates a raw hardware description (parsed JSON/YAML, or built in code) once.
 * A chip object without `kind` (`{ device, tile, ... }`, optionally with `layers`)
 * is read as `{ kind: "chip", chip }`, so a chip file is a hardware file.
 *
 * @throws ConfigError naming the path (`hardware.chip.adc.bits`), the value and what was expected.
 */
export function validateHardware(raw: unknown, prefix = 'hardware'): Hardware {
  if (!isPlainObject(raw)) throw new ConfigError(prefix, raw, '{ kind: "exact" }, { kind: "signal", noise, site? } or { kind: "chip", chip, layers? }');
  if (raw.kind === undefined && raw.device !== undefined) {
    const { chip, layers } = splitLayers(raw, prefix);
    rejectUnknown(chip, CHIP_FIELDS, prefix);
    return validateChipWithLayers(chip, layers, prefix);
  }
  switch (raw.kind) {
    case 'exact':
      rejectUnknown(raw, ['kind'], prefix);
      return { kind: 'exact' };
    case 'signal': {
      rejectUnknown(raw, ['kind', 'noise', 'site', 'chip'], prefix);
      const noise = validateNoise(raw.noise, `${prefix}.noise`);
      const out: { kind: 'signal'; noise: SignalNoise; site?: NoiseSite; chip?: ChipSpec } = { kind: 'signal', noise };
      if (raw.site !== undefined) out.site = validateNoiseSite(raw.site, `${prefix}.site`);
      if (raw.chip !== undefined) out.chip = validateChipSpec(rawChipOf(raw.chip, `${prefix}.chip`), `${prefix}.chip`);
      return out;
    }
    case 'chip': {
      rejectUnknown(raw, ['kind', 'chip', 'layers'], prefix);
      if (raw.chip === undefined) throw new ConfigError(`${prefix}.chip`, raw.chip, 'a preset name or a chip object { device, tile, dac, adc, ... }');
      const chip = rawChipOf(raw.chip, `${prefix}.chip`);
      const layers = raw.layers === undefined ? undefined : checkLayerOverrides(raw.layers, `${prefix}.layers`);
      return validateChipWithLayers(chip, layers, prefix);
    }
    default:
      throw new ConfigError(`${prefix}.kind`, raw.kind, `one of ${HARDWARE_KINDS.join(', ')} (or a chip object with a device)`);
  }
}

/** The hardware's description as plain JSON data (what result records and `--hardware` files hold). */
export function hardwareToJson(hw: Hardware): Record<string, unknown> {
  return cloneJson(hw as unknown as Record<string, unknown>);
}

/** A short human label: `exact`, `signal multiplicative σ=0.4 (norm)`, `chip pcm 256x256`. */
export function describeHardware(hw: Hardware): string {
  switch (hw.kind) {
    case 'exact':
      return 'exact';
    case 'signal':
      return `signal-level ${hw.noise.kind} σ=${hw.noise.sigma}${hw.site ? ` at ${hw.site}` : ''}`;
    case 'chip': {
      const c = hw.chip;
      const layers = hw.layers ? `, ${Object.keys(hw.layers).length} layer override(s)` : '';
      const w = c.wireResistanceOhmPerCell;
      const wires = w && (w.wordLine > 0 || w.bitLine > 0) ? `, wires ${w.wordLine}/${w.bitLine} Ω per cell (${c.irDrop ?? 'firstOrder'} IR drop)` : '';
      const sliced = c.slicing && c.slicing.bitsPerCell !== null ? `, ${c.slicing.cellsPerWeight} × ${c.slicing.bitsPerCell}-bit cells per weight` : '';
      const serial = c.inputEncoding?.kind === 'bitSerial' ? `, ${c.inputEncoding.bits}-bit bit-serial inputs` : '';
      return `chip ${c.device.kind} ${c.tile.rows}x${c.tile.cols}, ADC ${c.adc.bits ?? 'ideal'} bits${sliced}${serial}${wires}${layers}`;
    }
  }
}
