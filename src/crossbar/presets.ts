/**
 * Device presets. Each is a plain object of defaults with a source for every
 * number, kept machine-readable in `PRESET_SOURCES` (field → value, source,
 * assumed) so reports can print where each number comes from; a number no source
 * gives is marked `assumed` there and in its comment. Any field can be overridden and
 * the result is validated. The numbers are representative of the cited devices, not
 * of one specific chip: a study should override what it knows.
 */
import type { DeviceSpec, DeviceKind } from './deviceSpec';
import { validateDeviceSpec } from './deviceSpec';
import { ConfigError } from '../errors';

/** A preset's override: any field, numbers in the field's unit or strings with units. */
export type DeviceOverrides = { readonly [K in keyof DeviceSpec]?: DeviceSpec[K] | string };

/** The fields a preset defines (all but the kind and the summary `source`). */
export type PresetField = Exclude<keyof DeviceSpec, 'kind' | 'source'>;

/** Where one preset number comes from. */
export interface FieldSource<V = DeviceSpec[PresetField]> {
  readonly value: V;
  /** Paper (figure/table) or file and version the value is taken from, or why it is assumed. */
  readonly source: string;
  /** True when no source gives the number: it is ohmic's assumption. */
  readonly assumed: boolean;
  /** What a reader should know about how the source's number is used. */
  readonly note?: string;
}

export type PresetSources = { readonly [K in PresetField]: FieldSource<DeviceSpec[K]> };

const cited = <V>(value: V, source: string, note?: string): FieldSource<V> =>
  (note === undefined ? { value, source, assumed: false } : { value, source, assumed: false, note });
const assumed = <V>(value: V, why: string): FieldSource<V> => ({ value, source: `assumed: ${why}`, assumed: true });

// Sources, by the short names used below.
const NEURRAM_CODE = 'NeuRRAM chip software (weierwan/Neurram_48core, mnist_cnn/mnist_chip_inference.ipynb: g_max = 4e-5, g_min = 1e-6, g_tol = 1e-6) for Wan et al., Nature 608, 504 (2022)';
const CROSSSIM_WAN = 'CrossSim v3.2.0 simulator/devices/custom/RRAM_Wan.py (cubic fit to Wan et al., Nature 2022, Extended Data Fig. 3, t = 1 s)';
const AIHWKIT_RERAM = 'aihwkit v1.1.0 src/aihwkit/inference/noise/reram.py, ReRamWan2022NoiseModel docstring ("short-term read noise (about 1%)": forward.w_noise ≈ 0.01, additive)';
const NEUROSIM = 'DNN+NeuroSim V1.3 Inference_pytorch/NeuroSIM/Param.cpp (Peng et al., IEDM 2019)';
const AIHWKIT_PCM = 'aihwkit v1.1.0 src/aihwkit/inference/noise/pcm.py, PCMLikeNoiseModel (Nandakumar et al., ICECS 2019; Joshi et al., Nat. Commun. 11, 2473, 2020)';
const AIHWKIT_CONVERTER = 'aihwkit v1.1.0 src/aihwkit/inference/converter/conductance.py, SinglePairConductanceConverter defaults';
const HERMES = 'IBM HERMES 14 nm PCM core (Le Gallo et al., Nat. Electron. 6, 680, 2023)';
// The reference ADC of every preset: an 8-bit SAR ADC at 1.2 GS/s (the converter ISAAC
// builds on). Other resolutions scale per NeuroSim's SAR-ADC model (peripherals.ts).
const MURMANN_KULL = 'Murmann, ADC Performance Survey 1997-2025 (github.com/bmurmann/ADC-survey, xls/ADCsurvey_rev20250609.xlsx, sheet ISSCC), row ISSCC 2013 26.4: Kull et al., "A 3.1mW 8b 1.2GS/s single-channel asynchronous SAR ADC", 32 nm SOI';
const ADC_NOTE_E = 'P = 3.06 mW at fs = 1.2 GS/s: P/fs = 2.55 pJ per 8-bit conversion (SNDR 39.3 dB, Walden FoM 33.8 fJ/conv-step); scaled to other bits per NeuroSim SarADC.cpp';
const ADC_NOTE_A = 'AREA = 0.0015 mm²; scaled to other bits per NeuroSim SarADC.cpp transistor counts';
const ADC_NOTE_T = '1 / 1.2 GS/s';
const ISAAC_DAC = 'ISAAC (Shafiee et al., ISCA 2016) Table 2, 32 nm: 8 × 128 one-bit DACs + drivers, 4 mW, one drive per 128 conversions of a 1.2 GS/s ADC (100 ns); via Accelergy hwcomponents-library isaac.py';
const DAC_NOTE = '4 mW · (128 / 1.2 GHz) / 1024 = 0.3255 pJ per word-line drive; ohmic\'s amplitude-coded drive is assumed to cost the same (the line\'s charging dominates)';
const FPIM = '3D-FPIM (Lee et al., MICRO 2022), SNU-HPCS/3D-FPIM 3DFPIM-NVSim/3D_FPIM.cell and 3D_FPIM.cfg';
const CROSSSIM_SONOS = 'CrossSim v3.2.0 simulator/devices/custom/SONOS.py (40 nm SONOS, Agrawal et al., IEDM 2022, Figs. 10(a) and 11(b))';
const NOT_RECHECKED = 'carried over from the earlier preset; the number was not re-derived from the source here';
const OHMIC_WINDOW = 'ohmic: keeps every target\'s mean exact in [gMin, gMax] (issue 13); set "clampAtZero" to reproduce aihwkit/CrossSim';

/**
 * ReRAM (HfOx 1T1R): NeuRRAM's conductance window and noise as CrossSim fits it, on
 * NeuroSim's array timing and cell layout. Programming spread σ(G) = 1.05–2.41 µS,
 * nearly state independent (CrossSim's cubic fit to NeuRRAM Extended Data Fig. 3,
 * t = 1 s, relaxation included); read noise 1 % of the weight range per weight
 * (aihwkit's suggestion: Wan et al. publish no read-noise fit).
 */
export const RERAM_SOURCES: PresetSources = {
  gMinMicroSiemens: cited(1, NEURRAM_CODE, 'g_min: cells whose target is below it are RESET below 1 µS (the "off" cell); on/off ratio 40'),
  gMaxMicroSiemens: cited(40, NEURRAM_CODE, 'g_max: max |W| maps to 40 µS (python/nn_layers.py weight_mapping); CrossSim accepts the fit up to 39.26 µS'),
  bitsPerCell: cited(null, NEURRAM_CODE, 'analog targets, write-verified to ±g_tol = 1 µS'),
  noiseModel: cited('reramNeurramCrossSim', CROSSSIM_WAN),
  programmingClip: cited('symmetricTruncation', OHMIC_WINDOW),
  programmingNoiseRelStd: cited(0, CROSSSIM_WAN, 'no term beyond the fit'),
  programmingNoiseAddMicroSiemens: cited(0, CROSSSIM_WAN, 'no term beyond the fit'),
  stuckAtGMinFraction: assumed(0, 'no stuck cells (NeuRRAM reports none to fit)'),
  stuckAtGMaxFraction: assumed(0, 'no stuck cells (NeuRRAM reports none to fit)'),
  readNoiseRelStd: cited(0, AIHWKIT_RERAM, 'read noise is the state-independent term below'),
  // 1 % of the weight range (gMax − gMin) per weight, split over the pair's two cells: 0.39 µS / √2.
  readNoiseAddMicroSiemens: cited((0.01 * (40 - 1)) / Math.SQRT2, AIHWKIT_RERAM, 'aihwkit notes no separate read-noise data exists for Wan et al.; 1 % is its suggestion'),
  flickerWindowSeconds: cited(null, 'not used: no 1/f law for this model'),
  senseNoiseRelStd: assumed(0.002, 'column sensing noise 0.2 % of the ADC full scale'),
  driftNuMean: assumed(0, 'no retention drift beyond the t = 1 s distribution of the fit'),
  driftNuStd: assumed(0, 'no retention drift beyond the t = 1 s distribution of the fit'),
  driftT0Seconds: cited(1, CROSSSIM_WAN, 'the fit describes the cells 1 s after programming'),
  readVoltageVolts: cited(0.5, NEUROSIM, 'readVoltage = 0.5; NeuRRAM drives 0.1 V input pulses (python/dac_control.py VPLUS − VREF)'),
  readPulseNs: cited(10, NEUROSIM, 'readPulseWidth = 10e-9'),
  adcConversionNs: cited(1 / 1.2, MURMANN_KULL, ADC_NOTE_T),
  adcEnergyPicojoules: cited(2.55, MURMANN_KULL, ADC_NOTE_E),
  dacEnergyPicojoules: cited(4e-3 * (128 / 1.2e9) / 1024 * 1e12, ISAAC_DAC, DAC_NOTE),
  columnsPerAdc: cited(8, NEUROSIM, 'numColMuxed = 8'),
  // 1T1R cell 4F × 12F = 48F² at F = 40 nm: 48 · 0.04² µm².
  cellAreaSquareMicrometers: cited(48 * 0.04 * 0.04, NEUROSIM, 'heightInFeatureSize1T1R = 4, widthInFeatureSize1T1R = 12, featuresize = 40e-9 (NeuRRAM itself is 130 nm: 0.81 µm²)'),
  adcAreaSquareMicrometers: cited(1500, MURMANN_KULL, ADC_NOTE_A),
};

/**
 * PCM (doped GST mushroom cell): aihwkit's PCMLikeNoiseModel, all of it. Programming
 * spread σ(G) = 0.26–1.06 µS (polynomial in G/gMax), drift ν = |N(μ(G), σ(G))| with
 * μ 0.049–0.1 and t0 = 20 s, 1/f read noise |G(t)|·Q_s(G)·sqrt(ln((t + 250 ns)/500 ns))
 * (3.7–16 % of G at 1 h); timing from the IBM HERMES core.
 */
export const PCM_SOURCES: PresetSources = {
  gMinMicroSiemens: cited(0, AIHWKIT_CONVERTER, 'g_min = 0.0'),
  gMaxMicroSiemens: cited(25, AIHWKIT_CONVERTER, 'g_max = 25.0, the reference of the programming polynomial'),
  bitsPerCell: cited(null, AIHWKIT_PCM, 'analog'),
  noiseModel: cited('pcmAihwkit', AIHWKIT_PCM),
  programmingClip: cited('symmetricTruncation', OHMIC_WINDOW),
  programmingNoiseRelStd: cited(0, AIHWKIT_PCM, 'no term beyond the polynomial'),
  programmingNoiseAddMicroSiemens: cited(0, AIHWKIT_PCM, 'no term beyond the polynomial'),
  stuckAtGMinFraction: assumed(0, 'no stuck cells (the model has none)'),
  stuckAtGMaxFraction: assumed(0, 'no stuck cells (the model has none)'),
  readNoiseRelStd: cited(0, AIHWKIT_PCM, 'read noise is the 1/f law'),
  readNoiseAddMicroSiemens: cited(0, AIHWKIT_PCM, 'read noise is the 1/f law'),
  flickerWindowSeconds: assumed(null, 'all 1/f noise fresh per MVM; aihwkit draws it once per drift_weights (a window >= t)'),
  senseNoiseRelStd: assumed(0.002, 'column sensing noise 0.2 % of the ADC full scale'),
  driftNuMean: cited(0, AIHWKIT_PCM, 'ν from the G-dependent law'),
  driftNuStd: cited(0, AIHWKIT_PCM, 'ν from the G-dependent law'),
  driftT0Seconds: cited(20, AIHWKIT_PCM, 't_0 = 20.0'),
  readVoltageVolts: assumed(0.2, 'PCM read voltage'),
  readPulseNs: cited(130, HERMES, `~130 ns per 256×256 MVM; ${NOT_RECHECKED}`),
  adcConversionNs: cited(1 / 1.2, MURMANN_KULL, `${ADC_NOTE_T}; HERMES's own per-column ADCs are not used here`),
  adcEnergyPicojoules: cited(2.55, MURMANN_KULL, ADC_NOTE_E),
  dacEnergyPicojoules: cited(4e-3 * (128 / 1.2e9) / 1024 * 1e12, ISAAC_DAC, DAC_NOTE),
  columnsPerAdc: cited(1, HERMES, `one ADC per column; ${NOT_RECHECKED}`),
  cellAreaSquareMicrometers: assumed(0.0049, '1T1R PCM cell of ~25F² at 14 nm (HERMES node)'),
  adcAreaSquareMicrometers: cited(1500, MURMANN_KULL, ADC_NOTE_A),
};

/**
 * NAND flash (3D, charge-trap) as a 2-bit weight store read in subthreshold: cell
 * currents 3.3–50 nA at 0.2 V bit-line bias and 64 stacked layers (3D-FPIM);
 * programming spread and read noise from CrossSim's fit to a 40 nm SONOS charge-trap
 * cell (σ_prog ≈ 11 % and σ_read ≈ 5.8 % of the current at these low currents).
 */
export const NAND_SOURCES: PresetSources = {
  // 3.3 nA / 0.2 V and 50 nA / 0.2 V.
  gMinMicroSiemens: cited(3.3e-3 / 0.2, FPIM, 'MinCellReadCurrent = 3.3e-9 A at PrechargeVoltage = 0.2 V'),
  gMaxMicroSiemens: cited(50e-3 / 0.2, FPIM, 'MaxCellReadCurrent = 50e-9 A at PrechargeVoltage = 0.2 V'),
  bitsPerCell: assumed(2, '2 bits (4 current levels) per cell'),
  noiseModel: cited('sonosCrossSim', CROSSSIM_SONOS, 'a planar SONOS charge-trap cell\'s fit used for the 3D NAND charge-trap cell: the transfer is an assumption'),
  programmingClip: cited('symmetricTruncation', OHMIC_WINDOW),
  programmingNoiseRelStd: cited(0, CROSSSIM_SONOS, 'no term beyond the fit'),
  programmingNoiseAddMicroSiemens: cited(0, CROSSSIM_SONOS, 'no term beyond the fit'),
  stuckAtGMinFraction: assumed(0, 'no stuck cells'),
  stuckAtGMaxFraction: assumed(0, 'no stuck cells'),
  readNoiseRelStd: cited(0, CROSSSIM_SONOS, 'read noise is the fit\'s A_noise/B_noise law'),
  readNoiseAddMicroSiemens: cited(0, CROSSSIM_SONOS, 'read noise is the fit\'s A_noise/B_noise law'),
  flickerWindowSeconds: cited(null, 'not used: no 1/f law for this model'),
  senseNoiseRelStd: assumed(0.005, 'column sensing noise 0.5 % of the ADC full scale'),
  driftNuMean: assumed(0, 'no retention drift (CrossSim\'s 1–5 day SONOS drift fits are not used)'),
  driftNuStd: assumed(0, 'no retention drift'),
  driftT0Seconds: assumed(1, 'first read 1 s after programming'),
  readVoltageVolts: cited(0.2, FPIM, 'PrechargeVoltage = 0.2 (bit-line bias during the read)'),
  readPulseNs: assumed(1000, 'µs-scale string read (3D-FPIM: InputDuration 1 ns per input unit, string RC not modelled)'),
  adcConversionNs: cited(1 / 1.2, MURMANN_KULL, ADC_NOTE_T),
  adcEnergyPicojoules: cited(2.55, MURMANN_KULL, ADC_NOTE_E),
  dacEnergyPicojoules: cited(4e-3 * (128 / 1.2e9) / 1024 * 1e12, ISAAC_DAC, DAC_NOTE),
  columnsPerAdc: assumed(16, '16 bit lines per ADC (3D-FPIM shares one sense amplifier between MuxSenseAmp = 2 bit lines)'),
  // 4F² per layer at 20 nm half-pitch over 64 layers: 4 · 0.02² / 64 µm².
  cellAreaSquareMicrometers: assumed((4 * 0.02 * 0.02) / 64, '4F² at 20 nm per layer; the 64 layers are 3D-FPIM\'s FlashNumStack = 64'),
  adcAreaSquareMicrometers: cited(1500, MURMANN_KULL, ADC_NOTE_A),
};

const IDEAL_BY_DEFINITION = 'ideal: noiseless by definition';
const reramTiming = (field: 'readVoltageVolts' | 'readPulseNs' | 'adcConversionNs' | 'adcEnergyPicojoules' | 'dacEnergyPicojoules' | 'columnsPerAdc' | 'cellAreaSquareMicrometers' | 'adcAreaSquareMicrometers') =>
  RERAM_SOURCES[field];

/**
 * A noiseless, continuous device: with ideal converters the chip computes the
 * exact matrix product. Useful as the reference and for the paper's signal-level
 * mode, where noise is applied after each MVM instead of in the cells. Timing,
 * energy and area are the ReRAM preset's.
 */
export const IDEAL_SOURCES: PresetSources = {
  gMinMicroSiemens: assumed(0, 'ideal window [0, 100] µS'),
  gMaxMicroSiemens: assumed(100, 'ideal window [0, 100] µS'),
  bitsPerCell: cited(null, IDEAL_BY_DEFINITION),
  noiseModel: cited('generic', IDEAL_BY_DEFINITION),
  programmingClip: cited('symmetricTruncation', OHMIC_WINDOW),
  programmingNoiseRelStd: cited(0, IDEAL_BY_DEFINITION),
  programmingNoiseAddMicroSiemens: cited(0, IDEAL_BY_DEFINITION),
  stuckAtGMinFraction: cited(0, IDEAL_BY_DEFINITION),
  stuckAtGMaxFraction: cited(0, IDEAL_BY_DEFINITION),
  readNoiseRelStd: cited(0, IDEAL_BY_DEFINITION),
  readNoiseAddMicroSiemens: cited(0, IDEAL_BY_DEFINITION),
  flickerWindowSeconds: cited(null, IDEAL_BY_DEFINITION),
  senseNoiseRelStd: cited(0, IDEAL_BY_DEFINITION),
  driftNuMean: cited(0, IDEAL_BY_DEFINITION),
  driftNuStd: cited(0, IDEAL_BY_DEFINITION),
  driftT0Seconds: assumed(1, 'first read 1 s after programming'),
  readVoltageVolts: reramTiming('readVoltageVolts'),
  readPulseNs: reramTiming('readPulseNs'),
  adcConversionNs: reramTiming('adcConversionNs'),
  adcEnergyPicojoules: reramTiming('adcEnergyPicojoules'),
  dacEnergyPicojoules: reramTiming('dacEnergyPicojoules'),
  columnsPerAdc: reramTiming('columnsPerAdc'),
  cellAreaSquareMicrometers: reramTiming('cellAreaSquareMicrometers'),
  adcAreaSquareMicrometers: reramTiming('adcAreaSquareMicrometers'),
};

/** Every preset's field sources, for reports. */
export const PRESET_SOURCES: { readonly [K in DeviceKind]: PresetSources } = {
  reram: RERAM_SOURCES,
  pcm: PCM_SOURCES,
  nand: NAND_SOURCES,
  ideal: IDEAL_SOURCES,
};

function valuesOf(sources: PresetSources): Omit<DeviceSpec, 'kind' | 'source'> {
  const out: Record<string, unknown> = {};
  for (const [field, entry] of Object.entries(sources)) out[field] = entry.value;
  return out as unknown as Omit<DeviceSpec, 'kind' | 'source'>;
}

export const RERAM_DEFAULTS: Omit<DeviceSpec, 'kind'> = {
  ...valuesOf(RERAM_SOURCES),
  source: 'NeuRRAM (Wan et al., Nature 2022) window and noise as CrossSim v3.2.0 RRAM_Wan fits it, read noise per aihwkit v1.1.0; timing and 48F² cell from DNN+NeuroSim V1.3',
};

export const PCM_DEFAULTS: Omit<DeviceSpec, 'kind'> = {
  ...valuesOf(PCM_SOURCES),
  source: 'aihwkit v1.1.0 PCMLikeNoiseModel (Nandakumar et al., ICECS 2019; Joshi et al., Nat. Commun. 2020); HERMES (Le Gallo et al., Nat. Electron. 2023) timing',
};

export const NAND_DEFAULTS: Omit<DeviceSpec, 'kind'> = {
  ...valuesOf(NAND_SOURCES),
  source: '3D-FPIM (Lee et al., MICRO 2022) cell currents and bias; CrossSim v3.2.0 SONOS fit (Agrawal et al., IEDM 2022) for programming and read noise',
};

export const IDEAL_DEFAULTS: Omit<DeviceSpec, 'kind'> = {
  ...valuesOf(IDEAL_SOURCES),
  source: 'ideal: noiseless analog cells with ReRAM timing and energy',
};

const DEFAULTS: Record<DeviceKind, Omit<DeviceSpec, 'kind'>> = {
  reram: RERAM_DEFAULTS,
  pcm: PCM_DEFAULTS,
  nand: NAND_DEFAULTS,
  ideal: IDEAL_DEFAULTS,
};

/** One row of a device's source table: the value in use and where it comes from. */
export interface DeviceSourceRow extends FieldSource {
  readonly field: PresetField;
  /** True when the value differs from the preset's: the source is then the user's. */
  readonly overridden: boolean;
}

/**
 * Where each number of `device` comes from: its preset's source where the value is
 * the preset's, `override` where a user changed it. For reports.
 */
export function deviceSources(device: DeviceSpec): DeviceSourceRow[] {
  const table = PRESET_SOURCES[device.kind];
  return (Object.keys(table) as PresetField[]).map((field) => {
    const entry = table[field];
    const value = device[field];
    const overridden = !Object.is(value, entry.value) && !(typeof value === 'number' && typeof entry.value === 'number' && Math.abs(value - entry.value) <= 1e-12 * Math.abs(entry.value));
    return overridden
      ? { field, value, source: 'override: set by the configuration', assumed: false, overridden }
      : { field, ...entry, overridden };
  });
}

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
    if (rest.kind !== undefined && rest.kind !== name) {
      throw new ConfigError(`${field}.kind`, rest.kind, `"${name}" (the preset's kind) or no kind: a preset cannot run as another device`);
    }
    return validateDeviceSpec({ ...DEFAULTS[name as DeviceKind], ...rest, kind: name }, field);
  }
  throw new ConfigError(field, raw, `a preset name (${PRESET_NAMES.join(', ')}) or a device object`);
}
