/**
 * The CLI's `--model`, `--device` and `--hardware` arguments: `zoo:NAME`, an `.onnx`
 * file, or a tfjs `model.json`; a device preset name or a chip/device JSON or YAML
 * file; a hardware description file (see src/compiler/hardware.ts).
 */
import * as fs from 'fs';
import { ConfigError, DataError } from '../errors';
import type { Graph } from '../compiler/ir/graph';
import { fromTfjsLayersModel } from '../compiler/frontends/tfjsLayers';
import { loadTfjsModelFromDir } from '../compiler/frontends/tfjsFiles';
import { loadOnnxFile } from '../compiler/frontends/onnx';
import { loadZooModel } from '../models/zoo';
import { PRESET_NAMES } from '../crossbar/presets';
import type { RawChipConfig } from '../compiler/chipPlan';
import { IDEAL_CHIP } from '../compiler/compile';
import { checkTileOption, MAX_TILE_SIDE } from './options';
import { isConfigFileName, readConfigFile } from '../compiler/configFile';
import { readHardwareFile } from '../compiler/compileHardware';
import { validateHardware, validateNoiseSite, type Hardware } from '../compiler/hardware';
import { onnxSourceNames, type SourceNames } from '../compiler/layerNames';
import { validateSignalNoise } from '../crossbar/noise/signalNoise';
import { validateChipSpec } from '../crossbar/chipSpec';

/** Load `--model` into an IR graph. */
export async function loadModelArg(arg: unknown): Promise<Graph> {
  if (typeof arg !== 'string' || arg.trim() === '') {
    throw new ConfigError('--model', arg, 'zoo:NAME, a .onnx file or a tfjs model.json');
  }
  if (arg.startsWith('zoo:')) return fromTfjsLayersModel(await loadZooModel(arg.slice(4)));
  if (!fs.existsSync(arg)) throw new DataError(arg, 'no such model file (expected zoo:NAME, a .onnx file or a tfjs model.json)');
  if (arg.endsWith('.onnx')) return loadOnnxFile(arg);
  if (arg.endsWith('.json')) return fromTfjsLayersModel(await loadTfjsModelFromDir(arg));
  throw new ConfigError('--model', arg, 'a file ending in .onnx or .json (tfjs model.json), or zoo:NAME');
}

/** `--model` with the source model's own layer names (an ONNX file's node names), which per-layer overrides accept. */
export async function loadModelWithNames(arg: unknown): Promise<{ graph: Graph; sourceNames?: SourceNames }> {
  const graph = await loadModelArg(arg);
  return typeof arg === 'string' && arg.endsWith('.onnx') ? { graph, sourceNames: onnxSourceNames(arg) } : { graph };
}

/** The hardware flags of `ohmic run` and `ohmic compile` (strings as commander gives them). */
export interface HardwareFlags {
  readonly hardware?: string;
  readonly device?: string;
  readonly tile?: string;
  readonly noise?: string;
  readonly noiseSite?: string;
}

/**
 * The hardware the flags describe: `--hardware FILE` (a JSON/YAML hardware
 * description or chip), else signal-level `--noise` (at `--noise-site`), else the
 * chip of `--device` (default `fallbackDevice`) and `--tile`. Flags that do not
 * apply are errors, not ignored.
 */
export function hardwareFromFlags(flags: HardwareFlags, fallbackDevice = 'ideal'): Hardware {
  if (flags.hardware !== undefined) {
    for (const [flag, v] of [['--device', flags.device], ['--tile', flags.tile], ['--noise', flags.noise], ['--noise-site', flags.noiseSite]] as const) {
      if (v !== undefined) throw new ConfigError(flag, v, `to be omitted with --hardware (set it in ${flags.hardware})`);
    }
    if (!isConfigFileName(flags.hardware)) throw new ConfigError('--hardware', flags.hardware, 'a hardware description .json, .yaml or .yml file');
    return readHardwareFile(flags.hardware);
  }
  if (flags.noise !== undefined) {
    for (const [flag, v] of [['--device', flags.device], ['--tile', flags.tile]] as const) {
      if (v !== undefined) throw new ConfigError(flag, v, 'to be omitted with --noise (signal-level noise replaces the chip; a --hardware file may name a chip to cost it on)');
    }
    const noise = validateSignalNoise(flags.noise, '--noise');
    const site = flags.noiseSite === undefined ? undefined : validateNoiseSite(flags.noiseSite, '--noise-site');
    return validateHardware({ kind: 'signal', noise, ...(site ? { site } : {}) });
  }
  if (flags.noiseSite !== undefined) throw new ConfigError('--noise-site', flags.noiseSite, 'to be omitted without --noise (the site places signal-level noise; a chip\'s noise is its device\'s)');
  // Errors name the chip's fields as before hardware descriptions (`chip.adc.bits`).
  return { kind: 'chip', chip: validateChipSpec(chipFromDeviceArg(flags.device ?? fallbackDevice, flags.tile)) };
}

/**
 * `--device`: a preset name (`ideal` also makes the converters ideal, so the chip
 * is the exact reference), or a JSON file holding a chip `{ device, tile, … }` or
 * a device `{ preset, …overrides }` / full device spec.
 */
export function chipFromDeviceArg(arg: unknown, tile?: string): RawChipConfig {
  let chip: RawChipConfig;
  if (typeof arg === 'string' && (PRESET_NAMES as readonly string[]).includes(arg)) {
    chip = arg === 'ideal' ? { ...IDEAL_CHIP } : { device: arg };
  } else if (typeof arg === 'string' && isConfigFileName(arg)) {
    const parsed = readConfigFile(arg, 'device/chip');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new DataError(arg, 'expected an object (a chip { device, ... } or a device)');
    }
    chip = 'device' in parsed ? (parsed as RawChipConfig) : { device: parsed };
    checkChipFile(chip);
  } else {
    throw new ConfigError('--device', arg, `a preset (${PRESET_NAMES.join(', ')}) or a chip/device .json/.yaml file`);
  }
  return tile === undefined ? chip : { ...chip, tile: checkTileOption('--tile', tile) };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * What the chip validator would let through from a chip/device file but should
 * not: a device `{ "preset": "pcm", "kind": "reram" }` (the preset would silently
 * win), and tile sizes that are not exact integers (`"99999999999999999999x1"`).
 */
function checkChipFile(chip: RawChipConfig): void {
  const device = chip.device;
  if (isObject(device) && device.preset !== undefined && device.kind !== undefined && device.kind !== device.preset) {
    throw new ConfigError(
      'chip.device.kind',
      device.kind,
      `to be omitted (or ${JSON.stringify(device.preset)}) with "preset": ${JSON.stringify(device.preset)}: ` +
        'the preset sets the kind; give a preset and overrides, or a full device with its kind',
    );
  }
  const tile = chip.tile;
  if (typeof tile === 'string') {
    checkTileOption('chip.tile', tile);
  } else if (isObject(tile)) {
    for (const side of ['rows', 'cols'] as const) {
      const v = tile[side];
      if (typeof v === 'number' && Number.isInteger(v) && (!Number.isSafeInteger(v) || v > MAX_TILE_SIDE)) {
        throw new ConfigError(`chip.tile.${side}`, v, `an integer in [1, ${MAX_TILE_SIDE}]`);
      }
    }
  }
}
