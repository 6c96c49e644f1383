/**
 * The CLI's `--model` and `--device` arguments: `zoo:NAME`, an `.onnx` file, or a
 * tfjs `model.json`; a device preset name or a chip/device JSON file.
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
import { readJsonFile } from './jsonFile';

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

/**
 * `--device`: a preset name (`ideal` also makes the converters ideal, so the chip
 * is the exact reference), or a JSON file holding a chip `{ device, tile, … }` or
 * a device `{ preset, …overrides }` / full device spec.
 */
export function chipFromDeviceArg(arg: unknown, tile?: string): RawChipConfig {
  let chip: RawChipConfig;
  if (typeof arg === 'string' && (PRESET_NAMES as readonly string[]).includes(arg)) {
    chip = arg === 'ideal' ? { ...IDEAL_CHIP } : { device: arg };
  } else if (typeof arg === 'string' && arg.endsWith('.json')) {
    const parsed = readJsonFile(arg, 'device/chip');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new DataError(arg, 'expected a JSON object (a chip { device, ... } or a device)');
    }
    chip = 'device' in parsed ? (parsed as RawChipConfig) : { device: parsed };
  } else {
    throw new ConfigError('--device', arg, `a preset (${PRESET_NAMES.join(', ')}) or a chip/device .json file`);
  }
  return tile === undefined ? chip : { ...chip, tile };
}
