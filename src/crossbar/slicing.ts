/**
 * Bit-slicing of weights and bit-serial encoding of inputs: the chip fields, their
 * validation, and the integer arithmetic they imply (shared by both engines).
 *
 * Weights over `cellsPerWeight` (k) cells of `bitsPerCell` (b) bits each: |w| is
 * quantised to K = k·b bits of its scale (the layer's or the column's max |W|, per
 * `mapping.weightScale`): q = round(|w| / scale · (2^K − 1)), and slice s (s = 0 the
 * most significant) holds the digit d_s = ⌊q / 2^{b(k−1−s)}⌋ mod 2^b. The sign stays in
 * the differential pair: a digit d of a positive weight is G⁺ = gMin + d/(2^b − 1)·
 * (gMax − gMin), G⁻ = gMin (and the other way round for a negative weight), so the
 * largest digit takes the full device window, as the largest |W| does on one analog
 * pair. Each slice is its own programmed layer (own tiles, programming-noise, drift
 * and stuck-at draws, read noise and ADCs); the digital periphery shift-adds the
 * slices' converted outputs, Σ_s 2^{b(k−1−s)}·y_s (as ISAAC, Shafiee et al., ISCA
 * 2016, Sec. 4, with 2-bit cells).
 *
 * Inputs bit-serial over DAC cycles: the input, normalised by the DAC range, is
 * quantised to `bits` signed bits in sign-magnitude form (the same code as a signed
 * `bits`-bit DAC: magnitude c ∈ [0, 2^{bits−1} − 1]); the sign is the read-voltage
 * polarity, so there are bits − 1 cycles, one per magnitude bit, each applying a
 * binary plane (0 or ±V_read), each converted by the ADC; the periphery shift-adds
 * Σ_t 2^t·y_t. Without noise and with an ideal ADC this equals the amplitude-coded
 * result of a `bits`-bit DAC exactly (up to float rounding).
 */
import { ConfigError } from '../errors';
import type { ChipSpec } from './chipSpec';
import type { DeviceSpec } from './deviceSpec';
import { signedLevels } from './dac';

/**
 * How a weight is stored: `cellsPerWeight` differential cell pairs of `bitsPerCell`
 * bits each (null: one analog pair, the default).
 */
export interface WeightSlicing {
  /** Cell pairs (slices) per weight, k ≥ 1. */
  readonly cellsPerWeight: number;
  /** Bits per cell, b; null only with one cell: an analog (unquantised) pair. */
  readonly bitsPerCell: number | null;
}

/**
 * How inputs are applied: one amplitude-coded read pulse per MVM (the DAC's bits),
 * or bit-serially over `bits − 1` binary cycles (sign as polarity).
 */
export type InputEncoding = { readonly kind: 'amplitude' } | { readonly kind: 'bitSerial'; readonly bits: number };

/** One analog pair per weight: no slicing. */
export const NO_SLICING: WeightSlicing = Object.freeze({ cellsPerWeight: 1, bitsPerCell: null });
export const AMPLITUDE_ENCODING: InputEncoding = Object.freeze({ kind: 'amplitude' });

/** Largest total weight resolution k·b accepted: the digits must stay exact in float32 (24-bit mantissa). */
export const MAX_SLICED_WEIGHT_BITS = 24;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknown(obj: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) throw new ConfigError(`${prefix}.${key}`, obj[key], `one of the known fields: ${known.join(', ')}`);
  }
}

function intIn(value: unknown, field: string, lo: number, hi: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= lo && value <= hi) return value;
  throw new ConfigError(field, value, `an integer in [${lo}, ${hi}]`);
}

/**
 * Validate a chip's `slicing` field against its device: `{ cellsPerWeight, bitsPerCell }`.
 * A multi-level device (`device.bitsPerCell` B) cannot hold more than B bits per cell.
 */
export function parseWeightSlicing(raw: unknown, device: DeviceSpec, field = 'chip.slicing'): WeightSlicing {
  if (!isObject(raw)) throw new ConfigError(field, raw, '{ cellsPerWeight, bitsPerCell }');
  rejectUnknown(raw, ['cellsPerWeight', 'bitsPerCell'], field);
  const k = raw.cellsPerWeight === undefined ? 1 : intIn(raw.cellsPerWeight, `${field}.cellsPerWeight`, 1, MAX_SLICED_WEIGHT_BITS);
  if (raw.bitsPerCell === undefined || raw.bitsPerCell === null) {
    if (k !== 1) throw new ConfigError(`${field}.bitsPerCell`, raw.bitsPerCell ?? null, `an integer number of bits per cell when cellsPerWeight is ${k}`);
    return NO_SLICING;
  }
  const b = intIn(raw.bitsPerCell, `${field}.bitsPerCell`, 1, 16);
  if (k * b > MAX_SLICED_WEIGHT_BITS) {
    throw new ConfigError(field, raw, `cellsPerWeight · bitsPerCell <= ${MAX_SLICED_WEIGHT_BITS} (the digits must stay exact in float32)`);
  }
  if (device.bitsPerCell !== null && device.bitsPerCell < b) {
    throw new ConfigError(`${field}.bitsPerCell`, b, `at most the device's ${device.bitsPerCell} bits per cell`);
  }
  return Object.freeze({ cellsPerWeight: k, bitsPerCell: b });
}

/**
 * Validate a chip's `inputEncoding` field: `{ kind: 'amplitude' }` or
 * `{ kind: 'bitSerial', bits }` (bits defaults to the DAC's, which must then be set;
 * `{ bits }` alone means bit-serial).
 */
export function parseInputEncoding(raw: unknown, dacBits: number | null, field = 'chip.inputEncoding'): InputEncoding {
  if (raw === 'amplitude') return AMPLITUDE_ENCODING;
  if (raw === 'bitSerial') return parseInputEncoding({ kind: 'bitSerial' }, dacBits, field);
  if (!isObject(raw)) throw new ConfigError(field, raw, '"amplitude", "bitSerial", { kind: "amplitude" } or { kind: "bitSerial", bits }');
  if (raw.kind === 'amplitude') {
    rejectUnknown(raw, ['kind'], field);
    return AMPLITUDE_ENCODING;
  }
  // `{ bits }` alone is bit-serial (what a sweep over inputEncoding.bits sets).
  if (raw.kind !== 'bitSerial' && !(raw.kind === undefined && raw.bits !== undefined)) throw new ConfigError(`${field}.kind`, raw.kind, '"amplitude" or "bitSerial"');
  rejectUnknown(raw, ['kind', 'bits'], field);
  const bits = raw.bits === undefined ? dacBits : raw.bits;
  if (bits === null) throw new ConfigError(`${field}.bits`, bits, 'an integer number of input bits (the DAC is ideal, so there is no default)');
  return Object.freeze({ kind: 'bitSerial', bits: intIn(bits, `${field}.bits`, 2, 24) });
}

/** The chip's weight slicing (one analog pair when the field is absent). */
export function slicingOf(chip: ChipSpec): WeightSlicing {
  return chip.slicing ?? NO_SLICING;
}

/** The chip's input encoding (amplitude when the field is absent). */
export function inputEncodingOf(chip: ChipSpec): InputEncoding {
  return chip.inputEncoding ?? AMPLITUDE_ENCODING;
}

/** Read cycles per MVM: 1 amplitude-coded pulse, or one per magnitude bit of a bit-serial input. */
export function inputCyclesOf(chip: ChipSpec): number {
  const e = inputEncodingOf(chip);
  return e.kind === 'bitSerial' ? e.bits - 1 : 1;
}

/** Magnitude levels 2^{bits−1} − 1 of a bit-serial input (the signed DAC's levels). */
export function bitSerialLevels(bits: number): number {
  return signedLevels(bits);
}

/** Cell pairs per weight (k). */
export function cellsPerWeightOf(chip: ChipSpec): number {
  return slicingOf(chip).cellsPerWeight;
}

/** Whether the chip stores weights in quantised digit slices (rather than one analog pair). */
export function isSliced(chip: ChipSpec): boolean {
  return slicingOf(chip).bitsPerCell !== null;
}

/**
 * The digital weight of slice s of k slices of b bits, relative to the least
 * significant slice: 2^{b(k−1−s)} (slice 0 is the most significant).
 */
export function sliceShift(s: number, k: number, b: number): number {
  return 2 ** (b * (k - 1 - s));
}

/**
 * |w|/scale quantised to k·b bits and split into k digits of b bits (slice 0 most
 * significant): returns per slice the signed digits sign(w)·d_s (row-major like `w`),
 * as exact small integers. `scale[j]` is column j's weight scale (0: an all-zero column).
 */
export function weightDigits(w: Float32Array, fanOut: number, scale: Float64Array, k: number, b: number): Float32Array[] {
  const top = 2 ** (k * b) - 1;
  const base = 2 ** b;
  const digits = Array.from({ length: k }, () => new Float32Array(w.length));
  for (let i = 0; i < w.length; i++) {
    const s = scale[i % fanOut];
    if (!(s > 0)) continue;
    const v = w[i];
    let q = Math.round((Math.abs(v) / s) * top);
    if (q > top) q = top;
    const sign = v < 0 ? -1 : 1;
    for (let t = k - 1; t >= 0; t--) {
      const d = q % base;
      q = (q - d) / base;
      digits[t][i] = sign * d;
    }
  }
  return digits;
}

/**
 * The weights `weightDigits` represents: Q(w) = sign(w)·scale·q/(2^{kb} − 1), the
 * k·b-bit quantisation of w. Its error is at most scale / (2·(2^{kb} − 1)) per weight.
 */
export function quantizeWeightsToBits(w: Float32Array, fanOut: number, scale: Float64Array, bits: number): Float32Array {
  const top = 2 ** bits - 1;
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const s = scale[i % fanOut];
    if (!(s > 0)) continue;
    const q = Math.min(top, Math.round((Math.abs(w[i]) / s) * top));
    out[i] = (w[i] < 0 ? -1 : 1) * ((q * s) / top);
  }
  return out;
}
