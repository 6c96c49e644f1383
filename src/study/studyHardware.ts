/**
 * The hardware side of a study: what each `devices` entry stands for, and the
 * sweep axes over chip fields.
 *
 * A `devices` entry is a device name (a preset such as `pcm`, `ideal`, or `signal`
 * for the paper's signal-level model), the path of a chip `.json` / `.yaml` file,
 * or an inline object: a chip `{ device, tile, adc, ..., layers? }`,
 * `{ kind: "chip", chip, layers? }` or `{ kind: "signal", site?, chip? }` (noise
 * kind and σ come from the study's `noise` and `sigmas`), each with an optional
 * `name` for reports.
 *
 * `axes` maps dotted paths into the chip to value lists:
 * `{ "adc.bits": [4, 6, 8], "tile": ["128x128", "256x256"], "device.readNoiseRelStd": [0.01, 0.05],
 *    "readTimeSeconds": ["1 s", "1 h", "1 day"], "layers.conv1.adc.bits": [6, 8] }`,
 * expanded as their product over every chip device (`zip: true` pairs the i-th
 * values instead). `noiseSites` lists the noise sites of the signal-level device.
 * Every combination is validated before any work, naming the axis and value.
 */
import { ConfigError } from '../errors';
import { PRESET_NAMES } from '../crossbar/presets';
import { DEVICE_FIELDS } from '../crossbar/deviceSpec';
import {
  CHIP_FIELDS, cloneJson, isPlainObject, rawChipOf, splitLayers, validateChipWithLayers, validateNoiseSite, NOISE_SITES, type NoiseSite,
} from '../compiler/hardware';
import { isConfigFileName, readConfigFile } from '../compiler/configFile';

/** The device name that selects the paper's signal-level noise instead of a chip. */
export const SIGNAL_DEVICE = 'signal';

type RawChip = Readonly<Record<string, unknown>>;

/**
 * A point's hardware beyond its device name, as the study gives it (files read,
 * axes applied), before validation fills in defaults. Absent for a plain device name.
 */
export type PointHardware =
  | { readonly kind: 'chip'; readonly chip: RawChip; readonly layers?: Readonly<Record<string, RawChip>> }
  | { readonly kind: 'signal'; readonly site?: NoiseSite; readonly chip?: RawChip };

/** One sweep axis: a dotted path into the chip and its values. */
export interface StudyAxis {
  readonly path: string;
  readonly values: readonly unknown[];
}

/** One hardware variant of a device: its hardware and the axis values that made it. */
export interface HardwareVariant {
  readonly hardware?: PointHardware;
  /** Axis path (or `site`) → value, for reports. */
  readonly axes?: Readonly<Record<string, unknown>>;
}

/** Most axis combinations a study may have per device. */
export const MAX_AXIS_COMBINATIONS = 100_000;

/** What a device entry is: a chip (axes apply), the signal-level model (noise sites apply), or a name only its evaluator knows. */
export type DeviceRole = 'chip' | 'signal' | 'other';

export function deviceRole(name: string, hardware: PointHardware | undefined): DeviceRole {
  if (hardware) return hardware.kind;
  if (name === SIGNAL_DEVICE) return 'signal';
  return (PRESET_NAMES as readonly string[]).includes(name) ? 'chip' : 'other';
}

/** The chip a chip device stands for (raw), or `undefined` for other devices. */
export function baseChipOf(name: string, hardware: PointHardware | undefined): { chip: RawChip; layers?: Readonly<Record<string, RawChip>> } | undefined {
  if (hardware?.kind === 'chip') return { chip: hardware.chip, ...(hardware.layers ? { layers: hardware.layers } : {}) };
  if (hardware === undefined && deviceRole(name, undefined) === 'chip') return { chip: rawChipOf(name, 'device') };
  return undefined;
}

function deviceLabelOf(chip: RawChip | undefined): string {
  const d = chip?.device;
  if (typeof d === 'string') return d;
  if (isPlainObject(d)) return String(d.preset ?? d.kind ?? 'chip');
  return 'chip';
}

/** Entry object → its hardware and label (not yet unique). */
function entryHardware(raw: Record<string, unknown>, where: string): { hardware: PointHardware; label: string | undefined; derived: string } {
  const { name, ...rest } = raw;
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '')) throw new ConfigError(`${where}.name`, name, 'a non-empty string naming the device in reports');
  const known = (keys: readonly string[]): void => {
    for (const key of Object.keys(rest)) if (!keys.includes(key)) throw new ConfigError(`${where}.${key}`, rest[key], `one of the known fields: ${[...keys, 'name'].join(', ')}`);
  };
  if (rest.kind === 'signal') {
    known(['kind', 'site', 'chip']);
    const site = rest.site === undefined ? undefined : validateNoiseSite(rest.site, `${where}.site`);
    const chip = rest.chip === undefined ? undefined : rawChipOf(rest.chip, `${where}.chip`);
    if (chip) validateChipWithLayers(chip, undefined, where);
    const hardware: PointHardware = { kind: 'signal', ...(site ? { site } : {}), ...(chip ? { chip: cloneJson(chip) } : {}) };
    return { hardware, label: name as string | undefined, derived: site ? `${SIGNAL_DEVICE}-${site}` : SIGNAL_DEVICE };
  }
  let chip: Record<string, unknown>;
  let layers: Record<string, Record<string, unknown>> | undefined;
  if (rest.kind === 'chip') {
    known(['kind', 'chip', 'layers']);
    if (rest.chip === undefined) throw new ConfigError(`${where}.chip`, undefined, 'a preset name or a chip object { device, tile, dac, adc, ... }');
    chip = rawChipOf(rest.chip, `${where}.chip`);
    layers = rest.layers === undefined ? undefined : splitLayers({ layers: rest.layers }, where).layers;
  } else if (rest.kind !== undefined) {
    throw new ConfigError(`${where}.kind`, rest.kind, '"chip" or "signal" (or a chip object { device, tile, ... } without kind)');
  } else {
    if (rest.device === undefined) throw new ConfigError(`${where}.device`, undefined, 'a device (preset name or object): a chip entry needs one');
    known([...CHIP_FIELDS, 'layers']);
    ({ chip, layers } = splitLayers(rest, where));
  }
  validateChipWithLayers(chip, layers, where);
  const hardware: PointHardware = { kind: 'chip', chip: cloneJson(chip), ...(layers ? { layers: cloneJson(layers) } : {}) };
  return { hardware, label: name as string | undefined, derived: deviceLabelOf(chip) };
}

/**
 * Validates a study's `devices` list: names among `knownDevices`, chip files and
 * inline entries. Returns each device's name (unique; used in results and
 * reports) and the hardware of those that are not plain names.
 */
export function validateDevices(raw: unknown, knownDevices: readonly string[]): { names: string[]; hardware: Record<string, PointHardware> } {
  const describe = `device names (${knownDevices.length > 0 ? knownDevices.join(', ') : 'none known'}), chip objects or chip .json/.yaml files`;
  if (!Array.isArray(raw) || raw.length === 0) throw new ConfigError('devices', raw, `a non-empty list of ${describe}`);
  const entries = raw.map((entry, i) => {
    const where = `devices[${i}]`;
    if (typeof entry === 'string') {
      if (knownDevices.includes(entry)) return { name: entry, explicit: true };
      if (isConfigFileName(entry)) {
        const parsed = readConfigFile(entry, 'chip');
        if (!isPlainObject(parsed)) throw new ConfigError(where, entry, 'a file holding a chip object { device, tile, ... } or { kind: "chip", chip, layers? }');
        const h = entryHardware(parsed, `${where} (${entry})`);
        return { name: h.label ?? entry, explicit: true, hardware: h.hardware };
      }
      throw new ConfigError(where, entry, `one of ${knownDevices.length > 0 ? knownDevices.join(', ') : '(none known)'}, a chip object, or a chip .json/.yaml file`);
    }
    if (isPlainObject(entry)) {
      const h = entryHardware(entry, where);
      return h.label !== undefined ? { name: h.label, explicit: true, hardware: h.hardware } : { name: h.derived, explicit: false, hardware: h.hardware };
    }
    throw new ConfigError(where, entry, `one of ${describe}`);
  });
  const firstAt = new Map<string, number>();
  entries.forEach((e, i) => {
    if (!e.explicit) return;
    const first = firstAt.get(e.name);
    if (first !== undefined) {
      throw new ConfigError(`devices[${i}]`, raw[i], `distinct entries (the same ${typeof raw[i] === 'string' ? 'value' : 'name'} is already devices[${first}])`);
    }
    firstAt.set(e.name, i);
  });
  // Derived names ("pcm" for an inline PCM chip) yield to given ones: "pcm #3".
  const names = entries.map((e, i) => {
    if (e.explicit) return e.name;
    const name = firstAt.has(e.name) ? `${e.name} #${i + 1}` : e.name;
    firstAt.set(name, i);
    return name;
  });
  const hardware: Record<string, PointHardware> = {};
  entries.forEach((e, i) => {
    if (e.hardware) hardware[names[i]] = e.hardware;
  });
  return { names, hardware };
}

const CHIP_SUBFIELDS: Readonly<Record<string, readonly string[] | null>> = {
  device: ['preset', ...DEVICE_FIELDS],
  tile: ['rows', 'cols'],
  dac: ['bits', 'range'],
  adc: ['bits', 'rangeFraction'],
  mapping: ['weightScale'],
  calibration: ['method', 'percentile', 'adcGranularity'],
  readTimeSeconds: null,
  driftCompensation: null,
  slicing: ['cellsPerWeight', 'bitsPerCell'],
  inputEncoding: ['kind', 'bits'],
  wireResistanceOhmPerCell: ['wordLine', 'bitLine'],
  irDrop: null,
  maxBitLineCurrentMicroAmps: null,
};

/** Aliases of axis paths: the read time is a chip field, but reads naturally as the device's. */
const PATH_ALIASES: Readonly<Record<string, string>> = { 'device.readTimeSeconds': 'readTimeSeconds' };

/** Where an axis path points: the chip (`layer` undefined) or a layer's override, and the path inside. */
interface AxisTarget {
  readonly layer?: string;
  readonly segments: readonly string[];
}

/** Checks an axis path and resolves it; throws ConfigError naming `axes.PATH` with what would be valid. */
export function axisTarget(path: string, values: unknown): AxisTarget {
  const where = `axes.${path}`;
  const parts = path.split('.');
  let layer: string | undefined;
  let chipPath = parts;
  if (parts[0] === 'layers') {
    if (parts.length < 3 || parts[1] === '') throw new ConfigError(where, values, 'layers.NAME.FIELD, e.g. "layers.conv1.adc.bits" (ohmic compile --layers lists the names)');
    layer = parts[1];
    chipPath = parts.slice(2);
  }
  const joined = chipPath.join('.');
  const segments = (PATH_ALIASES[joined] ?? joined).split('.');
  const top = segments[0];
  const fields = Object.keys(CHIP_SUBFIELDS);
  if (!(top in CHIP_SUBFIELDS)) throw new ConfigError(where, values, `a path into the chip: one of ${fields.join(', ')} (with a sub-field, e.g. adc.bits, device.readNoiseRelStd)${layer === undefined ? ', or layers.NAME.FIELD' : ''}`);
  const sub = CHIP_SUBFIELDS[top];
  if (segments.length === 1) return { ...(layer !== undefined ? { layer } : {}), segments };
  if (sub === null) throw new ConfigError(where, values, `the path ${top} itself (${top} has no sub-fields)`);
  if (!sub.includes(segments[1])) throw new ConfigError(where, values, `a field of ${top}: one of ${sub.join(', ')}`);
  if (segments.length > 2 && !(top === 'dac' && segments[1] === 'range' && segments.length === 3 && ['kind', 'maxAbs'].includes(segments[2]))) {
    throw new ConfigError(where, values, `a path ending at ${segments.slice(0, 2).join('.')} (it has no sub-fields)`);
  }
  return { ...(layer !== undefined ? { layer } : {}), segments };
}

function setPath(obj: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let cur = obj;
  for (let i = 0; i < segments.length - 1; i++) {
    const key = segments[i];
    let next = cur[key];
    if (typeof next === 'string' && key === 'device') next = { preset: next };
    else if (typeof next === 'string' && key === 'tile') {
      const m = /^(\d+)x(\d+)$/.exec(next.trim());
      next = m ? { rows: Number(m[1]), cols: Number(m[2]) } : {};
    } else if (typeof next === 'number' && key === 'range') next = { kind: 'fixed', maxAbs: next };
    else if (next === 'perInputAbsMax' && key === 'range') next = { kind: 'perInputAbsMax' };
    else if (typeof next === 'string' && key === 'inputEncoding') next = { kind: next };
    else if (!isPlainObject(next)) next = {};
    cur[key] = next;
    cur = next as Record<string, unknown>;
  }
  cur[segments[segments.length - 1]] = cloneJson(value);
}

/** The chip (and layer overrides) of `base` with each axis set to its value. */
export function applyAxes(
  base: { chip: RawChip; layers?: Readonly<Record<string, RawChip>> },
  axes: readonly StudyAxis[],
  values: readonly unknown[],
): { chip: Record<string, unknown>; layers?: Record<string, Record<string, unknown>> } {
  const chip = cloneJson(base.chip) as Record<string, unknown>;
  const layers = base.layers ? (cloneJson(base.layers) as Record<string, Record<string, unknown>>) : undefined;
  let outLayers = layers;
  axes.forEach((axis, k) => {
    const target = axisTarget(axis.path, axis.values);
    if (target.layer === undefined) {
      setPath(chip, target.segments, values[k]);
    } else {
      outLayers ??= {};
      outLayers[target.layer] ??= {};
      setPath(outLayers[target.layer], target.segments, values[k]);
    }
  });
  return { chip, ...(outLayers ? { layers: outLayers } : {}) };
}

function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (isPlainObject(x)) return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canonical(x[k])}`).join(',')}}`;
  return JSON.stringify(x) ?? 'null';
}

/** JSON with sorted keys: equal data gives equal text (point identities). */
export function canonicalJson(x: unknown): string {
  return canonical(x);
}

/** The number of axis combinations (product, or the common length when zipped). */
export function axisCombinationCount(axes: readonly StudyAxis[], zip: boolean): number {
  if (axes.length === 0) return 1;
  return zip ? axes[0].values.length : axes.reduce((n, a) => n * a.values.length, 1);
}

/** The axis value tuples in order: the last axis varying fastest (or the i-th of each when zipped). */
export function axisCombinations(axes: readonly StudyAxis[], zip: boolean): unknown[][] {
  if (axes.length === 0) return [[]];
  if (zip) return axes[0].values.map((_, i) => axes.map((a) => a.values[i]));
  let combos: unknown[][] = [[]];
  for (const axis of axes) combos = combos.flatMap((c) => axis.values.map((v) => [...c, v]));
  return combos;
}

function describeCombination(axes: readonly StudyAxis[], values: readonly unknown[]): string {
  return axes.map((a, k) => `${a.path}=${typeof values[k] === 'string' ? values[k] : canonical(values[k])}`).join(', ');
}

/**
 * Validates `axes` (and `zip`) against the devices: every path must point into a
 * chip, every device must be a chip, and every combination on every device must be
 * a valid chip. Errors name the axis (`axes.adc.bits[2]`) or the device entry.
 */
export function validateAxes(
  raw: unknown,
  zipRaw: unknown,
  devices: readonly string[],
  hardware: Readonly<Record<string, PointHardware>>,
): { axes: StudyAxis[]; zip: boolean } {
  if (!isPlainObject(raw) || Object.keys(raw).length === 0) {
    throw new ConfigError('axes', raw, 'an object mapping dotted chip paths to value lists, e.g. { "adc.bits": [4, 6, 8], "tile": ["128x128", "256x256"] }');
  }
  if (zipRaw !== undefined && typeof zipRaw !== 'boolean') throw new ConfigError('zip', zipRaw, 'true (pair the axes value by value) or false (their product, the default)');
  const zip = zipRaw === true;
  const axes: StudyAxis[] = Object.entries(raw).map(([path, values]) => {
    axisTarget(path, values);
    if (!Array.isArray(values) || values.length === 0) throw new ConfigError(`axes.${path}`, values, 'a non-empty list of values');
    const seen = new Map<string, number>();
    values.forEach((v, i) => {
      const key = canonical(v);
      const first = seen.get(key);
      if (first !== undefined) throw new ConfigError(`axes.${path}[${i}]`, v, `distinct entries (the same value is already axes.${path}[${first}])`);
      seen.set(key, i);
    });
    return { path, values: values.map((v) => cloneJson(v)) };
  });
  const targets = axes.map((a) => {
    const t = axisTarget(a.path, a.values);
    return `${t.layer === undefined ? '' : `layers.${t.layer}.`}${t.segments.join('.')}`;
  });
  targets.forEach((t, i) => {
    const j = targets.findIndex((u, k) => k !== i && (u === t || t.startsWith(`${u}.`)));
    if (j >= 0) throw new ConfigError(`axes.${axes[i].path}`, axes[i].values, `an axis that does not overlap axes.${axes[j].path} (both set ${targets[j]})`);
  });
  if (zip) {
    const n = axes[0].values.length;
    for (const a of axes) {
      if (a.values.length !== n) throw new ConfigError(`axes.${a.path}`, a.values, `${n} values: zip pairs the axes value by value (axes.${axes[0].path} has ${n})`);
    }
  }
  const count = axisCombinationCount(axes, zip);
  if (count > MAX_AXIS_COMBINATIONS) throw new ConfigError('axes', `${count} combinations`, `at most ${MAX_AXIS_COMBINATIONS} combinations per device; split the study, or pair axes with zip`);
  devices.forEach((name, i) => {
    const role = deviceRole(name, hardware[name]);
    if (role !== 'chip') {
      const why = role === 'signal' ? 'the signal-level model, which has no chip fields (sweep σ with sigmas, the noise site with noiseSites)' : 'not a chip this study knows';
      throw new ConfigError(`axes.${axes[0].path}`, axes[0].values, `a sweep over chip devices only: devices[${i}] ${JSON.stringify(name)} is ${why}`);
    }
  });
  const combos = axisCombinations(axes, zip);
  devices.forEach((name, i) => {
    const base = baseChipOf(name, hardware[name])!;
    for (const values of combos) {
      const { chip, layers } = applyAxes(base, axes, values);
      try {
        validateChipWithLayers(chip, layers, `devices[${i}]`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        throw axisError(err, axes, values, `devices[${i}]`, name);
      }
    }
  });
  return { axes, zip };
}

/** A chip validation error of one combination, renamed to the axis it comes from where one does. */
function axisError(err: ConfigError, axes: readonly StudyAxis[], values: readonly unknown[], prefix: string, device: string): ConfigError {
  const inner = err.field.startsWith(`${prefix}.`) ? err.field.slice(prefix.length + 1) : err.field;
  // `chip.adc.bits`, or `layers.conv1.adc.bits` (a layer override, or the base chip's value in it)
  const chipPath = inner.startsWith('chip.') ? inner.slice(5) : inner.replace(/^layers\.[^.]*\./, '');
  const context = `on device ${JSON.stringify(device)} with ${describeCombination(axes, values)}`;
  for (let k = axes.length - 1; k >= 0; k--) {
    const target = axisTarget(axes[k].path, axes[k].values);
    const path = target.segments.join('.');
    const matchesLayer = target.layer === undefined || inner.startsWith(`layers.${target.layer}.`);
    if (matchesLayer && (chipPath === path || chipPath.startsWith(`${path}.`))) {
      const index = axes[k].values.findIndex((v) => canonical(v) === canonical(values[k]));
      return new ConfigError(`axes.${axes[k].path}[${index}]`, values[k], `${err.expected} (${err.field} ${context})`);
    }
  }
  return new ConfigError(err.field, err.value, `${err.expected} (${context})`);
}

/** Validates `noiseSites`: the signal device's noise sites; every device must be signal-level. */
export function validateNoiseSites(raw: unknown, devices: readonly string[], hardware: Readonly<Record<string, PointHardware>>): NoiseSite[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new ConfigError('noiseSites', raw, `a non-empty list of ${NOISE_SITES.join('/')}`);
  const sites = raw.map((s, i) => validateNoiseSite(s, `noiseSites[${i}]`));
  sites.forEach((s, i) => {
    const first = sites.indexOf(s);
    if (first !== i) throw new ConfigError(`noiseSites[${i}]`, s, `distinct entries (the same value is already noiseSites[${first}])`);
  });
  devices.forEach((name, i) => {
    const h = hardware[name];
    if (deviceRole(name, h) !== 'signal') {
      throw new ConfigError('noiseSites', raw, `signal-level devices only (noise sites place the signal-level noise): devices[${i}] ${JSON.stringify(name)} is a chip, whose noise comes from its device`);
    }
    if (h?.kind === 'signal' && h.site !== undefined) {
      throw new ConfigError('noiseSites', raw, `to be left out when a device sets its own site (devices[${i}] ${JSON.stringify(name)} has site ${JSON.stringify(h.site)})`);
    }
  });
  return sites;
}

/** The hardware variants of device `name` in a study (one without axes or sites). */
export function deviceVariants(
  name: string,
  hardware: PointHardware | undefined,
  axes: readonly StudyAxis[] | undefined,
  zip: boolean,
  noiseSites: readonly NoiseSite[] | undefined,
): HardwareVariant[] {
  if (axes && axes.length > 0 && deviceRole(name, hardware) === 'chip') {
    const base = baseChipOf(name, hardware)!;
    return axisCombinations(axes, zip).map((values) => {
      const { chip, layers } = applyAxes(base, axes, values);
      return {
        hardware: { kind: 'chip', chip, ...(layers ? { layers } : {}) },
        axes: Object.fromEntries(axes.map((a, k) => [a.path, cloneJson(values[k])])),
      };
    });
  }
  if (noiseSites && noiseSites.length > 0 && deviceRole(name, hardware) === 'signal') {
    const chip = hardware?.kind === 'signal' ? hardware.chip : undefined;
    return noiseSites.map((site) => ({ hardware: { kind: 'signal', site, ...(chip ? { chip } : {}) }, axes: { site } }));
  }
  return [hardware ? { hardware } : {}];
}
