/**
 * The circuits around the cells: word-line drivers (DAC), per-column sense
 * amplifiers (sample-and-hold), column multiplexers, ADCs, digital accumulation of
 * row blocks' partial sums, the digital output gain, and the activation buffers.
 * Each figure carries its source in `PERIPHERAL_SOURCES` (value, source, assumed),
 * as the device presets do; a number no source gives is marked `assumed`.
 *
 * The model is event based: every component has an energy per event and an area per
 * instance. Events are counted on the data during a run (`MvmStats`, both engines)
 * or, for the worst-case bound, assumed at their maximum (every word line driven,
 * every input at full scale). Figures are at each source's own technology node and
 * supply; nothing is scaled between nodes (the sources span 22–130 nm: a design
 * review should override what its process gives).
 *
 * ADC resolution: the device's `adcEnergyPicojoules` and `adcAreaSquareMicrometers`
 * are those of its reference converter at {@link ADC_REFERENCE_BITS} bits; other
 * resolutions scale by NeuroSim's SAR-ADC model (DNN+NeuroSim V1.4
 * Inference_pytorch/NeuroSIM/SarADC.cpp): energy ∝ (a·b + c)·(b + 1) (power fit ×
 * (b + 1) clock cycles; a = 0.538, c = 4.3753 µW, the 22 nm LP fit), area ∝
 * (269 + 109(b − 1)) + (209 + 73(b − 1)) transistors (NMOS + PMOS; equal N/P gate
 * area is assumed). The Walden figure of merit's 2^b would make a 4-bit ADC 16×
 * cheaper than an 8-bit one; SAR data at these resolutions (and NeuroSim's fit)
 * give ≈ 2.4×, because comparator and logic energy per bit dominate.
 * NeuroSim's second, column-resistance term (c′/R, the bit line's own read current)
 * is not added: ohmic counts that energy as cell read energy Σ V²·G·t.
 */
import type { ChipSpec } from './chipSpec';
import type { DeviceKind } from './deviceSpec';
import type { FieldSource } from './presets';
import { inputEncodingOf, slicingOf } from './slicing';

/** The width at which the shift-and-add figure holds (ISAAC's 16-bit unit). */
export const SHIFT_ADD_REFERENCE_BITS = 16;

/** The resolution at which a device's ADC energy and area figures hold. */
export const ADC_REFERENCE_BITS = 8;

/** Bits used to cost an ideal (infinite-resolution) converter: the reference's. */
export const IDEAL_CONVERTER_COST_BITS = ADC_REFERENCE_BITS;

const NEUROSIM_SAR = { energySlope: 0.538, energyIntercept: 4.3753 } as const;

function sarEnergyShape(bits: number): number {
  return (NEUROSIM_SAR.energySlope * bits + NEUROSIM_SAR.energyIntercept) * (bits + 1);
}

function sarAreaShape(bits: number): number {
  return 269 + 109 * (bits - 1) + 209 + 73 * (bits - 1);
}

/** Energy of one conversion of a `bits`-bit ADC whose 8-bit reference costs `referencePicojoules`. */
export function adcEnergyAtBits(referencePicojoules: number, bits: number | null): number {
  const b = bits ?? IDEAL_CONVERTER_COST_BITS;
  return (referencePicojoules * sarEnergyShape(b)) / sarEnergyShape(ADC_REFERENCE_BITS);
}

/** Area of one `bits`-bit ADC whose 8-bit reference takes `referenceSquareMicrometers`. */
export function adcAreaAtBits(referenceSquareMicrometers: number, bits: number | null): number {
  const b = bits ?? IDEAL_CONVERTER_COST_BITS;
  return (referenceSquareMicrometers * sarAreaShape(b)) / sarAreaShape(ADC_REFERENCE_BITS);
}

/** The peripheral figures that are not device fields (the DAC energy, ADC energy, area and time are). */
export interface PeripheralSpec {
  /** Area of one word-line driver/DAC (one per word line per tile), µm². */
  readonly dacAreaSquareMicrometers: number;
  /** Energy of one sense-amplifier sample (one per column per row block per MVM), pJ. */
  readonly senseEnergyPicojoules: number;
  /** Area of one sense amplifier (one per tile column), µm². */
  readonly senseAreaSquareMicrometers: number;
  /** Energy of one column-multiplexer selection (one per conversion when columns share an ADC), pJ. */
  readonly muxEnergyPicojoules: number;
  /** Area of the multiplexer per multiplexed column, µm². */
  readonly muxAreaSquareMicrometers: number;
  /** Energy of one full-adder bit of the digital accumulator (adder + register), pJ. */
  readonly accumulatorEnergyPicojoulesPerBit: number;
  /** Area of one accumulator bit (adder + register), µm²; one accumulator per digital lane. */
  readonly accumulatorAreaSquareMicrometersPerBit: number;
  /** Energy of a 32 × 32-bit integer multiplier; narrower ones scale by the product of the widths, pJ. */
  readonly multiplier32EnergyPicojoules: number;
  /** Area of a 32 × 32-bit multiplier, scaled likewise; one multiplier per digital lane, µm². */
  readonly multiplier32AreaSquareMicrometers: number;
  /**
   * Energy of one shift-and-add of a converted output (bit-serial cycles, weight
   * slices) at {@link SHIFT_ADD_REFERENCE_BITS} bits; other widths scale linearly, pJ.
   */
  readonly shiftAddEnergyPicojoules: number;
  /** Area of one shift-and-add unit (one per digital lane of a bit-sliced or bit-serial tile), µm². */
  readonly shiftAddAreaSquareMicrometers: number;
  /** Tile columns served by one digital lane (accumulator + gain multiplier), time-multiplexed. */
  readonly columnsPerDigitalLane: number;
  /** Width of the digital output gain (weight scale × drift gain × DAC range), bits. */
  readonly gainBits: number;
  /** Energy per bit read from or written to an activation buffer, pJ. */
  readonly bufferEnergyPicojoulesPerBit: number;
  /** Area per stored bit of an activation buffer, µm². */
  readonly bufferAreaSquareMicrometersPerBit: number;
  /** Bits per stored activation when the DAC is ideal (otherwise the DAC's bits). */
  readonly idealActivationBits: number;
}

export type PeripheralSources = { readonly [K in keyof PeripheralSpec]: FieldSource<PeripheralSpec[K]> };

const cited = <V>(value: V, source: string, note?: string): FieldSource<V> =>
  (note === undefined ? { value, source, assumed: false } : { value, source, assumed: false, note });
const assumed = <V>(value: V, why: string): FieldSource<V> => ({ value, source: `assumed: ${why}`, assumed: true });

// Sources. ISAAC's Table 2 figures are read through Accelergy's component library,
// which states the arithmetic from the paper's powers, counts and rates.
const ISAAC = 'ISAAC (Shafiee et al., ISCA 2016), Table 2, 32 nm, as Accelergy hwcomponents-library hwcomponents_library/library/isaac.py converts it';
const NEURRAM_PERIPH = 'NeuRRAM (Wan et al., Nature 608, 504, 2022), 130 nm, 1.8 V, as Accelergy hwcomponents-library hwcomponents_library/library/wan.py tabulates it (WanAnalogSample)';
const ALADDIN = 'Aladdin (Shao et al., ISCA 2014), 40 nm, as Accelergy hwcomponents-library hwcomponents_library/library/aladdin.py tabulates it';

const COMMON: PeripheralSources = {
  // 170 µm² for ISAAC's 8 × 128 one-bit DACs.
  dacAreaSquareMicrometers: cited(170 / 1024, ISAAC, 'IsaacDAC: 1-bit DAC + driver, 170 µm² / (128 · 8); ohmic\'s amplitude-coded DAC is assumed to take the same area per word line'),
  senseEnergyPicojoules: cited(1.2, NEURRAM_PERIPH, 'the neuron\'s analog sample of a column (1.2 pJ); used for every device'),
  senseAreaSquareMicrometers: cited(350, NEURRAM_PERIPH, 'the neuron\'s sampling stage, 350 µm² at 130 nm'),
  muxEnergyPicojoules: assumed(0.001, 'one transmission-gate switch event per conversion, negligible beside the ADC'),
  muxAreaSquareMicrometers: assumed(0.5, 'one transmission gate per multiplexed column'),
  // Adder 0.21 pJ and 278 µm² per 32 bits; register 0.009 pJ and 5.98 µm² per bit.
  accumulatorEnergyPicojoulesPerBit: cited(0.21 / 32 + 0.009, ALADDIN, 'AladdinAdder (32 bits: 0.21 pJ) per bit + AladdinRegister (0.009 pJ per bit)'),
  accumulatorAreaSquareMicrometersPerBit: cited(278 / 32 + 5.98, ALADDIN, 'AladdinAdder (32 bits: 278 µm²) per bit + AladdinRegister (5.98 µm² per bit)'),
  multiplier32EnergyPicojoules: cited(12.68, ALADDIN, 'AladdinMultiplier 32 × 32 bits; scaled by (w_a · w_b) / 32², as the library scales widths'),
  multiplier32AreaSquareMicrometers: cited(6350, ALADDIN, 'AladdinMultiplier 32 × 32 bits'),
  shiftAddEnergyPicojoules: cited(0.021, ISAAC, 'IsaacShiftAdd: 16-bit shift-and-add, 0.2 mW / (1.2 · 8 · 10^9 ADC samples/s) = 0.021 pJ; scaled linearly with the width, as the library scales it'),
  shiftAddAreaSquareMicrometers: cited(60, ISAAC, 'IsaacShiftAdd: 60 µm² per unit (4 per IMA: 0.00024 mm²)'),
  columnsPerDigitalLane: assumed(8, 'one accumulator and gain multiplier per 8 tile columns (as NeuroSim shares one ADC between numColMuxed = 8 columns)'),
  gainBits: assumed(16, 'a 16-bit fixed-point output gain'),
  // 20.45 pJ per 256-bit access; 83,000 µm² for 64 KB.
  bufferEnergyPicojoulesPerBit: cited(20.45 / 256, ISAAC, 'IsaacEDRAM: 64 KB eDRAM, 20.45 pJ per 256-bit read or write'),
  bufferAreaSquareMicrometersPerBit: cited(83000 / (64 * 1024 * 8), ISAAC, 'IsaacEDRAM: 83,000 µm² for 64 KB'),
  idealActivationBits: assumed(8, 'an ideal DAC\'s activations are stored with 8 bits'),
};

/** Peripheral figures per device kind (the same circuits for every technology: none of the device sources gives its own). */
export const PERIPHERAL_SOURCES: { readonly [K in DeviceKind]: PeripheralSources } = {
  reram: COMMON,
  pcm: COMMON,
  nand: COMMON,
  ideal: COMMON,
};

function valuesOf(sources: PeripheralSources): PeripheralSpec {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(sources)) out[k] = v.value;
  return Object.freeze(out) as unknown as PeripheralSpec;
}

const SPECS: { readonly [K in DeviceKind]: PeripheralSpec } = {
  reram: valuesOf(PERIPHERAL_SOURCES.reram),
  pcm: valuesOf(PERIPHERAL_SOURCES.pcm),
  nand: valuesOf(PERIPHERAL_SOURCES.nand),
  ideal: valuesOf(PERIPHERAL_SOURCES.ideal),
};

/** The peripheral figures of a chip's device kind. */
export function peripheralSpec(chip: ChipSpec): PeripheralSpec {
  return SPECS[chip.device.kind];
}

/** Components of the energy and area breakdowns, in report order. */
export const COMPONENTS = ['cells', 'dac', 'sense', 'mux', 'adc', 'accumulator', 'gain', 'buffer'] as const;
export type Component = (typeof COMPONENTS)[number];

/** Energy (pJ) or area (µm²) per component. */
export type Breakdown = { readonly [K in Component]: number };

export const ZERO_BREAKDOWN: Breakdown = Object.freeze({ cells: 0, dac: 0, sense: 0, mux: 0, adc: 0, accumulator: 0, gain: 0, buffer: 0 });

export function sumBreakdown(b: Breakdown): number {
  return COMPONENTS.reduce((s, k) => s + b[k], 0);
}

export function addBreakdowns(a: Breakdown, b: Breakdown, scaleB = 1): Breakdown {
  const out: Record<string, number> = {};
  for (const k of COMPONENTS) out[k] = a[k] + scaleB * b[k];
  return out as Breakdown;
}

export function scaleBreakdown(a: Breakdown, factor: number): Breakdown {
  const out: Record<string, number> = {};
  for (const k of COMPONENTS) out[k] = a[k] * factor;
  return out as Breakdown;
}

/** Bits of the accumulator that adds `rowBlocks` ADC outputs. */
export function accumulatorBits(chip: ChipSpec, rowBlocks: number): number {
  return (chip.adc.bits ?? IDEAL_CONVERTER_COST_BITS) + Math.ceil(Math.log2(Math.max(1, rowBlocks)));
}

/**
 * Width of the shift-and-add that combines bit-serial cycles and weight slices: the
 * accumulator's bits plus the input's magnitude bits and the slices' extra weight bits.
 */
export function shiftAddBits(chip: ChipSpec, rowBlocks: number): number {
  const e = inputEncodingOf(chip);
  const s = slicingOf(chip);
  const inputBits = e.kind === 'bitSerial' ? e.bits - 1 : 0;
  const sliceBits = s.bitsPerCell === null ? 0 : s.bitsPerCell * (s.cellsPerWeight - 1);
  return accumulatorBits(chip, rowBlocks) + inputBits + sliceBits;
}

/** Bits per stored activation (the DAC's input resolution). */
export function activationBits(chip: ChipSpec): number {
  const e = inputEncodingOf(chip);
  if (e.kind === 'bitSerial') return e.bits;
  return chip.dac.bits ?? peripheralSpec(chip).idealActivationBits;
}

/** Energy per event of each counted kind, pJ. */
export interface EventEnergies {
  readonly dacDrive: number;
  /** Per conversion: the ADC, its column's sense sample and (when shared) the multiplexer. */
  readonly adcConversion: number;
  readonly senseSample: number;
  readonly muxSelect: number;
  readonly digitalAdd: number;
  readonly digitalMultiply: number;
  /** One shift-and-add of a converted output (bit-serial cycles, weight slices), at the accumulator's width. */
  readonly shiftAdd: number;
  readonly bufferBit: number;
}

export function eventEnergies(chip: ChipSpec, rowBlocks: number): EventEnergies {
  const p = peripheralSpec(chip);
  const d = chip.device;
  const acc = accumulatorBits(chip, rowBlocks);
  return {
    dacDrive: d.dacEnergyPicojoules,
    adcConversion: adcEnergyAtBits(d.adcEnergyPicojoules, chip.adc.bits),
    senseSample: p.senseEnergyPicojoules,
    muxSelect: d.columnsPerAdc > 1 ? p.muxEnergyPicojoules : 0,
    digitalAdd: acc * p.accumulatorEnergyPicojoulesPerBit,
    digitalMultiply: (p.multiplier32EnergyPicojoules * acc * p.gainBits) / (32 * 32),
    shiftAdd: (p.shiftAddEnergyPicojoules * shiftAddBits(chip, rowBlocks)) / SHIFT_ADD_REFERENCE_BITS,
    bufferBit: p.bufferEnergyPicojoulesPerBit,
  };
}

/** The event counts the energy model prices (a subset of `MvmStats`). */
export interface EventCounts {
  readonly cellEnergyPicojoules: number;
  readonly dacDrives: number;
  readonly adcConversions: number;
  readonly digitalAdds: number;
  readonly digitalMultiplies: number;
  /** Shift-and-adds of converted outputs (bit-serial cycles, weight slices); absent: none. */
  readonly shiftAdds?: number;
  /** Activation bits read from and written to the buffers. */
  readonly bufferBits: number;
}

/** Energy per component of counted events on one chip configuration (one row-block count). */
export function energyOfEvents(chip: ChipSpec, rowBlocks: number, n: EventCounts): Breakdown {
  const e = eventEnergies(chip, rowBlocks);
  return {
    cells: n.cellEnergyPicojoules,
    dac: n.dacDrives * e.dacDrive,
    sense: n.adcConversions * e.senseSample,
    mux: n.adcConversions * e.muxSelect,
    adc: n.adcConversions * e.adcConversion,
    // Shift-and-adds are accumulator operations (adder + register with a shifted input).
    accumulator: n.digitalAdds * e.digitalAdd + (n.shiftAdds ?? 0) * e.shiftAdd,
    gain: n.digitalMultiplies * e.digitalMultiply,
    buffer: n.bufferBits * e.bufferBit,
  };
}

/**
 * Area per component of one matrix's tiles and their periphery (the buffer is the
 * layer's, added by the plan). One ADC per `columnsPerAdc` columns of every tile,
 * one sense amplifier per tile column, one driver per tile word line, one
 * accumulator and one gain multiplier per digital lane (`columnsPerDigitalLane`
 * columns of a tile).
 */
export function tileArea(chip: ChipSpec, tiles: number, rowBlocks: number): Breakdown {
  const d = chip.device;
  const p = peripheralSpec(chip);
  const adcs = tiles * Math.ceil(chip.tile.cols / d.columnsPerAdc);
  const lanes = tiles * Math.ceil(chip.tile.cols / p.columnsPerDigitalLane);
  const acc = accumulatorBits(chip, rowBlocks);
  // Bit-serial inputs and weight slices need shift-and-add units: one per digital lane
  // (assumed; ISAAC has 4 per IMA of 8 crossbars, i.e. fewer, time-multiplexed faster).
  const shifting = inputEncodingOf(chip).kind === 'bitSerial' || slicingOf(chip).cellsPerWeight > 1;
  return {
    cells: 2 * tiles * chip.tile.rows * chip.tile.cols * d.cellAreaSquareMicrometers,
    dac: tiles * chip.tile.rows * p.dacAreaSquareMicrometers,
    sense: tiles * chip.tile.cols * p.senseAreaSquareMicrometers,
    mux: d.columnsPerAdc > 1 ? tiles * chip.tile.cols * p.muxAreaSquareMicrometers : 0,
    adc: adcs * adcAreaAtBits(d.adcAreaSquareMicrometers, chip.adc.bits),
    accumulator: lanes * (acc * p.accumulatorAreaSquareMicrometersPerBit + (shifting ? p.shiftAddAreaSquareMicrometers : 0)),
    gain: (lanes * p.multiplier32AreaSquareMicrometers * acc * p.gainBits) / (32 * 32),
    buffer: 0,
  };
}

/** Area of a buffer holding `bits` activation bits, µm². */
export function bufferArea(chip: ChipSpec, bits: number): number {
  return bits * peripheralSpec(chip).bufferAreaSquareMicrometersPerBit;
}

/** One row of a peripheral source table, for reports. */
export interface PeripheralSourceRow extends FieldSource {
  readonly field: keyof PeripheralSpec;
}

/** Where each peripheral number of a chip's device kind comes from. */
export function peripheralSources(chip: ChipSpec): PeripheralSourceRow[] {
  const table = PERIPHERAL_SOURCES[chip.device.kind];
  return (Object.keys(table) as (keyof PeripheralSpec)[]).map((field) => ({ field, ...table[field] }));
}
