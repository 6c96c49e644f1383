/**
 * Device presets. Each is a plain object of cited defaults; any field can be
 * overridden and the result is validated. The numbers are representative of the
 * cited devices, not of one specific chip: a study should override what it knows.
 */
import type { DeviceSpec, DeviceKind } from './deviceSpec';
import { validateDeviceSpec } from './deviceSpec';
import { ConfigError } from '../errors';

/** A preset's override: any field, numbers in the field's unit or strings with units. */
export type DeviceOverrides = { readonly [K in keyof DeviceSpec]?: DeviceSpec[K] | string };

/**
 * ReRAM (HfOx 1T1R). Conductance window and read conditions: DNN+NeuroSim defaults
 * (Peng et al., IEDM 2019: R_on 6 kΩ, R_off 17·R_on = 102 kΩ, V_read 0.5 V, 10 ns read
 * pulse, 8 columns share one ADC). Programming spread ~5 % of G after write-verify
 * and ~2 % read-to-read fluctuation: Wan et al., Nature 608 (2022) (NeuRRAM).
 */
export const RERAM_DEFAULTS: Omit<DeviceSpec, 'kind'> = {
  gMinMicroSiemens: 9.8, // 1 / 102 kΩ
  gMaxMicroSiemens: 166.7, // 1 / 6 kΩ
  bitsPerCell: null,
  programmingNoiseRelStd: 0.05,
  programmingNoiseAddMicroSiemens: 0,
  stuckAtGMinFraction: 0,
  stuckAtGMaxFraction: 0,
  readNoiseRelStd: 0.02,
  senseNoiseRelStd: 0.002,
  driftNuMean: 0,
  driftNuStd: 0,
  driftT0Seconds: 1,
  readVoltageVolts: 0.5,
  readPulseNs: 10,
  adcConversionNs: 1,
  // 8-bit SAR ADC at ~10 fJ per conversion step (Murmann, ADC Performance Survey).
  adcEnergyPicojoules: 2.6,
  dacEnergyPicojoules: 0.05,
  columnsPerAdc: 8,
  // 1T1R cell ~ 12F² at 40 nm (NeuroSim 1T1R layout estimate).
  cellAreaSquareMicrometers: 0.0192,
  adcAreaSquareMicrometers: 300,
  source:
    'NeuroSim defaults (Peng et al., IEDM 2019) for conductances and timing; NeuRRAM (Wan et al., Nature 2022) for noise',
};

/**
 * PCM (doped GST mushroom cell). gMax 25 µS, programming spread, read (1/f) noise and
 * drift from the IBM statistical PCM model (Nandakumar et al., ICECS 2019, as fitted
 * in aihwkit's PCMLikeNoiseModel): σ_prog(G) ≈ 0.26 µS + ~4 % of G over the window,
 * ν ≈ 0.05 ± 0.01 with t0 = 20 s, 1/f read noise ~1 %. Timing from the IBM HERMES
 * 256×256 PCM core (Le Gallo et al., Nature Electronics 2023: ~130 ns per MVM).
 */
export const PCM_DEFAULTS: Omit<DeviceSpec, 'kind'> = {
  gMinMicroSiemens: 0,
  gMaxMicroSiemens: 25,
  bitsPerCell: null,
  programmingNoiseRelStd: 0.04,
  programmingNoiseAddMicroSiemens: 0.26,
  stuckAtGMinFraction: 0,
  stuckAtGMaxFraction: 0,
  readNoiseRelStd: 0.01,
  senseNoiseRelStd: 0.002,
  driftNuMean: 0.05,
  driftNuStd: 0.01,
  driftT0Seconds: 20,
  readVoltageVolts: 0.2,
  readPulseNs: 130,
  adcConversionNs: 1,
  adcEnergyPicojoules: 2.6,
  dacEnergyPicojoules: 0.05,
  columnsPerAdc: 1,
  // 1T1R PCM cell ~ 25F² at 14 nm (HERMES reports a 0.64 mm² core incl. periphery).
  cellAreaSquareMicrometers: 0.0049,
  adcAreaSquareMicrometers: 200,
  source: 'IBM PCM statistical model (Nandakumar et al., ICECS 2019; aihwkit PCMLikeNoiseModel); HERMES (Le Gallo et al., Nat. Electron. 2023)',
};

/**
 * NAND flash used as a multi-level weight store (2 bits per cell), read in the
 * sub-threshold regime: cell currents of tens of nA at 0.2 V, µs-scale reads
 * (Lue et al., IEDM 2019, 3D NAND nvCIM; Wang et al., IEEE TCAD 2020). Vt
 * placement after ISPP gives a few % spread per level.
 */
export const NAND_DEFAULTS: Omit<DeviceSpec, 'kind'> = {
  gMinMicroSiemens: 0.01,
  gMaxMicroSiemens: 0.5,
  bitsPerCell: 2,
  programmingNoiseRelStd: 0.03,
  programmingNoiseAddMicroSiemens: 0.005,
  stuckAtGMinFraction: 0,
  stuckAtGMaxFraction: 0,
  readNoiseRelStd: 0.02,
  senseNoiseRelStd: 0.005,
  driftNuMean: 0,
  driftNuStd: 0,
  driftT0Seconds: 1,
  readVoltageVolts: 0.2,
  readPulseNs: 1000,
  adcConversionNs: 5,
  adcEnergyPicojoules: 2.6,
  dacEnergyPicojoules: 0.02,
  columnsPerAdc: 16,
  // 4F² per layer at 20 nm half-pitch, 64 layers stacked: 0.0016 µm² / 64.
  cellAreaSquareMicrometers: 0.000025,
  adcAreaSquareMicrometers: 300,
  source: 'Lue et al., IEDM 2019 (3D NAND nvCIM); Wang et al., IEEE TCAD 2020',
};

/**
 * A noiseless, continuous device: with ideal converters the chip computes the
 * exact matrix product. Useful as the reference and for the paper's signal-level
 * mode, where noise is applied after each MVM instead of in the cells.
 */
export const IDEAL_DEFAULTS: Omit<DeviceSpec, 'kind'> = {
  ...RERAM_DEFAULTS,
  gMinMicroSiemens: 0,
  gMaxMicroSiemens: 100,
  programmingNoiseRelStd: 0,
  readNoiseRelStd: 0,
  senseNoiseRelStd: 0,
  source: 'ideal: noiseless analog cells with ReRAM timing and energy',
};

const DEFAULTS: Record<DeviceKind, Omit<DeviceSpec, 'kind'>> = {
  reram: RERAM_DEFAULTS,
  pcm: PCM_DEFAULTS,
  nand: NAND_DEFAULTS,
  ideal: IDEAL_DEFAULTS,
};

function preset(kind: DeviceKind, overrides: DeviceOverrides): DeviceSpec {
  return validateDeviceSpec({ ...DEFAULTS[kind], ...overrides, kind });
}

/** ReRAM preset (see RERAM_DEFAULTS for sources); any field may be overridden. */
export const reram = (overrides: DeviceOverrides = {}): DeviceSpec => preset('reram', overrides);
/** PCM preset (see PCM_DEFAULTS for sources); any field may be overridden. */
export const pcm = (overrides: DeviceOverrides = {}): DeviceSpec => preset('pcm', overrides);
/** NAND preset (see NAND_DEFAULTS for sources); any field may be overridden. */
export const nand = (overrides: DeviceOverrides = {}): DeviceSpec => preset('nand', overrides);
/** Noiseless analog device. */
export const ideal = (overrides: DeviceOverrides = {}): DeviceSpec => preset('ideal', overrides);

export const PRESET_NAMES: readonly DeviceKind[] = ['reram', 'pcm', 'nand', 'ideal'];

/**
 * A device from a preset name or a JSON-like object `{ "preset": "pcm", ...overrides }`
 * or a full spec with `kind`. This is the boundary the CLI and study configs use.
 */
export function deviceFromConfig(raw: unknown, field = 'device'): DeviceSpec {
  if (typeof raw === 'string') {
    if (!(PRESET_NAMES as readonly string[]).includes(raw)) {
      throw new ConfigError(field, raw, `a preset name (${PRESET_NAMES.join(', ')}) or a device object`);
    }
    return preset(raw as DeviceKind, {});
  }
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const { preset: name, ...rest } = raw as Record<string, unknown>;
    if (name === undefined) return validateDeviceSpec(rest, field);
    if (typeof name !== 'string' || !(PRESET_NAMES as readonly string[]).includes(name)) {
      throw new ConfigError(`${field}.preset`, name, `one of ${PRESET_NAMES.join(', ')}`);
    }
    return validateDeviceSpec({ ...DEFAULTS[name as DeviceKind], ...rest, kind: name }, field);
  }
  throw new ConfigError(field, raw, `a preset name (${PRESET_NAMES.join(', ')}) or a device object`);
}
