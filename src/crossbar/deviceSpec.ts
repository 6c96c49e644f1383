/**
 * The physical description of one memory cell technology, as a plain validated
 * object. Every field carries its unit in its name; `validateDeviceSpec` is the one
 * place raw input (JSON, CLI, user objects) becomes a `DeviceSpec`.
 */
import { ConfigError } from '../errors';
import { parseQuantity, unitOfField, FIELD_UNITS } from '../units';
import {
  NOISE_MODELS, hasOwnDriftLaw, RERAM_NEURRAM_CROSSSIM, SONOS_CROSSSIM, type NoiseModel,
} from './noise/deviceModels';

export type { NoiseModel } from './noise/deviceModels';
export { NOISE_MODELS } from './noise/deviceModels';

export type DeviceKind = 'reram' | 'pcm' | 'nand' | 'ideal';
export const DEVICE_KINDS: readonly DeviceKind[] = ['reram', 'pcm', 'nand', 'ideal'];

/**
 * How a programmed conductance is kept physical.
 * - `symmetricTruncation`: G = G_T + δ with δ the model's Gaussian conditioned on
 *   |δ| <= min(G_T − gMin, gMax − G_T). Every result lies in [gMin, gMax] and the
 *   mean of every target in the window is exactly G_T (the law is symmetric about
 *   it); the price is a smaller spread within ~3σ of an edge, down to none at gMin
 *   and gMax themselves (std = σ·sqrt(1 − 2aφ(a)/(2Φ(a) − 1)), a = distance/σ).
 * - `clampAtZero`: G = max(0, G_T + δ), unbounded above: what aihwkit
 *   (PCMLikeNoiseModel, `g_prog.clamp_(min=0.0)`) and CrossSim (SONOS.py
 *   `clip(0, None)`) do. Reproduces those simulators; biases targets near 0 upward.
 */
export type ProgrammingClip = 'symmetricTruncation' | 'clampAtZero';
export const PROGRAMMING_CLIPS: readonly ProgrammingClip[] = ['symmetricTruncation', 'clampAtZero'];

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
  /**
   * The device's own noise laws (see noise/deviceModels.ts): `pcmAihwkit` (aihwkit's
   * PCMLikeNoiseModel: programming polynomial in G, G-dependent drift ν, 1/f read
   * noise growing with log t), `reramNeurramCrossSim` (CrossSim's cubic fit to
   * NeuRRAM's programming spread), `sonosCrossSim` (CrossSim's SONOS programming and
   * read laws in cell current), or `generic` (only the generic terms below). The
   * generic terms always add to the model's in quadrature.
   */
  readonly noiseModel: NoiseModel;
  /** How programmed conductances are kept in the window (see ProgrammingClip). */
  readonly programmingClip: ProgrammingClip;
  /** Generic programming noise, proportional: std σ·G_target, drawn once per programming. */
  readonly programmingNoiseRelStd: number;
  /** Generic programming noise, state independent: std in µS, added in quadrature. */
  readonly programmingNoiseAddMicroSiemens: number;
  /** Fraction of cells stuck at gMin (drawn with the programming noise). */
  readonly stuckAtGMinFraction: number;
  /** Fraction of cells stuck at gMax. */
  readonly stuckAtGMaxFraction: number;
  /** Generic read noise: per-cell conductance fluctuation per MVM, std σ·G. */
  readonly readNoiseRelStd: number;
  /** Generic read noise, state independent: per-cell std per MVM, µS. */
  readonly readNoiseAddMicroSiemens: number;
  /**
   * `pcmAihwkit` 1/f read noise: the span of time, s, over which one programmed
   * chip's MVMs repeat (e.g. the votes on one input). The 1/f fluctuation accumulated
   * since programming has variance ∝ ln((t + t_read)/(2·t_read)); only its part
   * faster than this window, ∝ ln((w + t_read)/(2·t_read)), differs from MVM to MVM;
   * the rest is common to all of them and drawn once with the static noise (w >= t:
   * all of it, as aihwkit samples it once per `drift_weights`). `null`: all of it is
   * fresh per MVM.
   */
  readonly flickerWindowSeconds: number | null;
  /** Sensing noise: additive Gaussian column current per MVM, std as a fraction of the ADC full scale. */
  readonly senseNoiseRelStd: number;
  /**
   * Generic drift exponent ν mean: G(t) = G(t0)·(t/t0)^(−ν). 0 disables drift. Must
   * be 0 for a noise model with its own drift law (`pcmAihwkit`).
   */
  readonly driftNuMean: number;
  /** Generic drift exponent ν std across cells. */
  readonly driftNuStd: number;
  /** Reference time t0 of the drift law (first read after programming), s. */
  readonly driftT0Seconds: number;
  /** Read voltage at full-scale input, V. */
  readonly readVoltageVolts: number;
  /** Duration of one read pulse (one analog MVM on a tile), ns. */
  readonly readPulseNs: number;
  /** One ADC conversion, ns. */
  readonly adcConversionNs: number;
  /**
   * Energy of one conversion of the device's reference ADC at 8 bits, pJ; other ADC
   * resolutions scale per NeuroSim's SAR-ADC model (see `peripherals.ts`).
   */
  readonly adcEnergyPicojoules: number;
  /** Energy of driving one word line for one read (DAC + driver), pJ. */
  readonly dacEnergyPicojoules: number;
  /** Bit-line columns multiplexed onto one ADC (they convert one after another). */
  readonly columnsPerAdc: number;
  /** Area of one cell including its access device, µm². */
  readonly cellAreaSquareMicrometers: number;
  /** Area of one reference ADC at 8 bits, µm² (other resolutions scale, see `peripherals.ts`). */
  readonly adcAreaSquareMicrometers: number;
  /** Where the numbers come from. */
  readonly source: string;
}

type NumericField = Exclude<
  keyof DeviceSpec,
  'kind' | 'bitsPerCell' | 'source' | 'noiseModel' | 'programmingClip' | 'flickerWindowSeconds'
>;

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
  readNoiseAddMicroSiemens: nonNegative,
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

/**
 * Fields added after saved chips of format version 1: a description without them
 * (an old chip file) takes these values, under which its stored conductances read
 * as they did when saved (the programming policy no longer matters once stored).
 */
const OPTIONAL_DEFAULTS = {
  noiseModel: 'generic',
  programmingClip: 'symmetricTruncation',
  readNoiseAddMicroSiemens: 0,
  flickerWindowSeconds: null,
} as const;

/** Field names of a DeviceSpec, for error messages and documentation. */
export const DEVICE_FIELDS: readonly (keyof DeviceSpec)[] = [
  'kind',
  ...(Object.keys(RULES) as NumericField[]),
  'bitsPerCell',
  'noiseModel',
  'programmingClip',
  'flickerWindowSeconds',
  'source',
];

/** The checks a noise model adds: its fit's range, and no second drift law. */
function checkNoiseModel(out: Record<string, unknown>, input: Record<string, unknown>, prefix: string): void {
  const model = out.noiseModel as NoiseModel;
  if (hasOwnDriftLaw(model)) {
    for (const field of ['driftNuMean', 'driftNuStd'] as const) {
      if (out[field] !== 0) {
        throw new ConfigError(`${prefix}.${field}`, input[field], `0: noiseModel "${model}" draws ν from its own G-dependent law (use noiseModel "generic" for a fixed ν)`);
      }
    }
  }
  if (model === 'reramNeurramCrossSim' && (out.gMaxMicroSiemens as number) > RERAM_NEURRAM_CROSSSIM.gMaxLimitMicroSiemens) {
    throw new ConfigError(
      `${prefix}.gMaxMicroSiemens`,
      input.gMaxMicroSiemens,
      `at most ${RERAM_NEURRAM_CROSSSIM.gMaxLimitMicroSiemens} µS: the range of the NeuRRAM fit of noiseModel "reramNeurramCrossSim"`,
    );
  }
  if (model === 'sonosCrossSim') {
    const iMax = (out.gMaxMicroSiemens as number) * (out.readVoltageVolts as number) * 1000;
    if (iMax > SONOS_CROSSSIM.iMaxNanoAmps) {
      throw new ConfigError(
        `${prefix}.gMaxMicroSiemens`,
        input.gMaxMicroSiemens,
        `a cell current gMax·readVoltageVolts of at most ${SONOS_CROSSSIM.iMaxNanoAmps} nA (the SONOS fit of noiseModel "sonosCrossSim"), not ${iMax} nA`,
      );
    }
  }
}

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
    const raw = input[field] === undefined && field in OPTIONAL_DEFAULTS
      ? OPTIONAL_DEFAULTS[field as keyof typeof OPTIONAL_DEFAULTS]
      : input[field];
    const suffix = unitOfField(field);
    out[field] = suffix ? parseQuantity(`${prefix}.${field}`, raw, FIELD_UNITS[suffix]) : raw;
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
  const model = input.noiseModel ?? OPTIONAL_DEFAULTS.noiseModel;
  if (!NOISE_MODELS.includes(model as NoiseModel)) {
    throw new ConfigError(`${prefix}.noiseModel`, input.noiseModel, `one of ${NOISE_MODELS.join(', ')}`);
  }
  out.noiseModel = model;
  const clip = input.programmingClip ?? OPTIONAL_DEFAULTS.programmingClip;
  if (!PROGRAMMING_CLIPS.includes(clip as ProgrammingClip)) {
    throw new ConfigError(`${prefix}.programmingClip`, input.programmingClip, `one of ${PROGRAMMING_CLIPS.join(', ')}`);
  }
  out.programmingClip = clip;
  const window = input.flickerWindowSeconds === undefined ? OPTIONAL_DEFAULTS.flickerWindowSeconds : input.flickerWindowSeconds;
  if (window === null) {
    out.flickerWindowSeconds = null;
  } else {
    const w = parseQuantity(`${prefix}.flickerWindowSeconds`, window, FIELD_UNITS.Seconds);
    if (!(Number.isFinite(w) && w > 0)) {
      throw new ConfigError(`${prefix}.flickerWindowSeconds`, window, 'null (all 1/f read noise fresh per MVM) or a time in seconds > 0');
    }
    out.flickerWindowSeconds = w;
  }
  checkNoiseModel(out, input, prefix);
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
