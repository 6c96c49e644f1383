/**
 * The model zoo: trained networks shipped in `zoo/` of the repository.
 *
 * Each model is a standard tfjs layers-model directory (`zoo/<name>/model.json` +
 * `weights.bin`, so any tfjs loader or the compiler's tfjs frontend reads it) with
 * weights stored as float16 (tfjs's own `quantization: {dtype: 'float16'}`) or
 * float32. `zoo/manifest.json` lists every model with the command that trained it,
 * epochs, seed, data, its test accuracy (measured on the stored, decoded weights)
 * and the sha256 of its weights file; `loadZooModel` checks that hash.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';
import { writeFileAtomic } from './training/checkpoint';
import './noiseLayers';
import './paper/lstm';

/** One zoo model's manifest record. */
export interface ZooEntry {
  /** e.g. `cnn6-mnist-mult-0.4`. */
  name: string;
  /** Builder name (`buildModel`). */
  model: string;
  noise: 'multiplicative' | 'additive';
  sigmaTrain: number;
  /** Exact `ohmic train …` command line that produced it. */
  command: string;
  epochs: number;
  seed: number;
  /** Data set and split it was trained on, e.g. `mnist train (60000)`. */
  data: string;
  /** Top-1 accuracy on `testData`, noiseless inference, of the stored weights. */
  testAccuracy: number;
  testData: string;
  /** Set when fine-tuned from another zoo model. */
  fineTunedFrom?: string;
  weightsDtype: 'float16' | 'float32';
  /** Paths relative to the zoo directory. */
  modelJson: string;
  weightsFile: string;
  weightsSha256: string;
  weightsBytes: number;
}

export interface ZooManifest {
  version: 1;
  models: ZooEntry[];
}

/** The repository's `zoo/` (from src/models or dist/models alike). */
export function defaultZooDir(): string {
  return path.resolve(__dirname, '..', '..', 'zoo');
}

/** float32 → IEEE half bits, round to nearest even (overflow → ±Inf, NaN kept). */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rest = mant & ((1 << shift) - 1);
      let m = mant >>> shift;
      if (rest > half || (rest === half && (m & 1))) m++;
      out[i] = sign | m;
      continue;
    }
    const rest = mant & 0x1fff;
    let m = mant >>> 13;
    if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
      m++;
      if (m === 0x400) {
        m = 0;
        e++;
        if (e >= 0x1f) {
          out[i] = sign | 0x7c00;
          continue;
        }
      }
    }
    out[i] = sign | (e << 10) | m;
  }
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads `zoo/manifest.json` (an empty manifest when the file does not exist yet). */
export function readZooManifest(zooDir = defaultZooDir()): ZooManifest {
  const file = path.join(zooDir, 'manifest.json');
  if (!fs.existsSync(file)) return { version: 1, models: [] };
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ZooManifest;
  } catch (err) {
    throw new DataError(file, `not a valid zoo manifest (${(err as Error).message})`);
  }
}

/** Captures the model's topology and float32 weights through tfjs's own save path. */
async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  return captured!;
}

/**
 * Writes `model` into `zooDir/<entry.name>/` and adds (or replaces) its manifest
 * record. Returns the full record.
 */
export async function saveZooModel(
  model: tf.LayersModel,
  entry: Omit<ZooEntry, 'weightsDtype' | 'modelJson' | 'weightsFile' | 'weightsSha256' | 'weightsBytes'>,
  options: { zooDir?: string; dtype?: 'float16' | 'float32' } = {},
): Promise<ZooEntry> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(entry.name)) {
    throw new ConfigError('name', entry.name, 'letters, digits, ".", "_" or "-" (a directory name)');
  }
  const zooDir = options.zooDir ?? defaultZooDir();
  const dtype = options.dtype ?? 'float16';
  const artifacts = await modelArtifacts(model);
  const specs = artifacts.weightSpecs!;
  const floats = new Float32Array(artifacts.weightData as ArrayBuffer);
  for (const s of specs) {
    if (s.dtype !== 'float32') throw new ConfigError(`weight ${s.name}.dtype`, s.dtype, 'float32');
  }
  const bytes =
    dtype === 'float16' ? new Uint8Array(float32ToFloat16Bits(floats).buffer) : new Uint8Array(floats.buffer.slice(0));
  const dir = path.join(zooDir, entry.name);
  fs.mkdirSync(dir, { recursive: true });
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'ohmic zoo',
    modelTopology: artifacts.modelTopology,
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: specs.map((s) => (dtype === 'float16' ? { ...s, quantization: { dtype: 'float16' as const } } : s)),
      },
    ],
  };
  writeFileAtomic(path.join(dir, 'weights.bin'), bytes);
  writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(modelJson));
  const full: ZooEntry = {
    ...entry,
    weightsDtype: dtype,
    modelJson: `${entry.name}/model.json`,
    weightsFile: `${entry.name}/weights.bin`,
    weightsSha256: sha256(bytes),
    weightsBytes: bytes.length,
  };
  const manifest = readZooManifest(zooDir);
  manifest.models = [...manifest.models.filter((m) => m.name !== entry.name), full].sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  writeFileAtomic(path.join(zooDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return full;
}

/** Reads a layers-model directory written by `saveZooModel` (no hash check). */
export async function loadModelDir(dir: string): Promise<tf.LayersModel> {
  const jsonFile = path.join(dir, 'model.json');
  let json: { modelTopology: object; weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  try {
    json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  } catch (err) {
    throw new DataError(jsonFile, `cannot read model.json (${(err as Error).message})`);
  }
  const group = json.weightsManifest[0];
  const weightFile = path.join(dir, group.paths[0]);
  const buf = fs.readFileSync(weightFile);
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData }),
  );
}

/**
 * Loads the zoo model `name` (e.g. `cnn6-mnist-mult-0.4`), after checking its
 * weights against the manifest's sha256.
 * @throws ConfigError for an unknown name (listing the known ones), DataError for a
 *   missing or altered file.
 */
export async function loadZooModel(name: string, options: { zooDir?: string } = {}): Promise<tf.LayersModel> {
  const zooDir = options.zooDir ?? defaultZooDir();
  const entry = readZooManifest(zooDir).models.find((m) => m.name === name);
  if (!entry) {
    const known = readZooManifest(zooDir).models.map((m) => m.name);
    throw new ConfigError('zoo model', name, known.length ? `one of ${known.join(', ')}` : `a model in ${zooDir} (the zoo is empty)`);
  }
  const weightsFile = path.join(zooDir, entry.weightsFile);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(weightsFile);
  } catch (err) {
    throw new DataError(weightsFile, `cannot read zoo weights (${(err as Error).message})`);
  }
  const digest = sha256(bytes);
  if (digest !== entry.weightsSha256) {
    throw new DataError(weightsFile, `sha256 ${digest}, expected ${entry.weightsSha256} from the zoo manifest`);
  }
  return loadModelDir(path.dirname(path.join(zooDir, entry.modelJson)));
}
