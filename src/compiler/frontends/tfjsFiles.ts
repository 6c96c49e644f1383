/**
 * tfjs Layers models on disk: `model.json` (topology + weights manifest) and binary
 * weight shards, read and written with `fs` through tfjs IOHandlers (no network).
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../../errors';

interface WeightsManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/**
 * Load a tfjs Layers model saved as `model.json` plus binary weight shards, from
 * disk (no network). `modelJsonPath` is the `model.json` file or the folder holding it.
 *
 * @throws DataError when a file is missing, the JSON is not a tfjs layers model, or
 *   a weight shard is shorter than the manifest says.
 */
export async function loadTfjsModelFromDir(modelJsonPath: string): Promise<tf.LayersModel> {
  let file = modelJsonPath;
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'model.json');
  if (!fs.existsSync(file)) throw new DataError(file, 'file not found');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new DataError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null) {
    throw new DataError(file, 'no modelTopology: expected a tfjs model.json');
  }
  if (json.format === 'graph-model') {
    throw new DataError(file, "format 'graph-model' is a converted TF graph; expected a tfjs layers model");
  }
  const manifest = (json.weightsManifest ?? []) as WeightsManifestGroup[];
  if (!Array.isArray(manifest)) throw new DataError(file, 'weightsManifest is not an array');
  const dir = path.dirname(file);
  const shards: Uint8Array[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  for (const group of manifest) {
    for (const p of group.paths) {
      const shardPath = path.join(dir, p);
      if (!fs.existsSync(shardPath)) throw new DataError(shardPath, `weight shard listed in ${file} not found`);
      shards.push(fs.readFileSync(shardPath));
    }
    weightSpecs.push(...group.weights);
  }
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const expected = weightSpecs.reduce((n, w) => n + weightBytes(w, file), 0);
  if (total < expected) throw new DataError(file, `weight shards hold ${total} bytes, the manifest needs ${expected}`);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const s of shards) {
    weightData.set(s, offset);
    offset += s.byteLength;
  }
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: json.modelTopology as object,
      weightSpecs,
      weightData: weightData.buffer,
      format: json.format as string | undefined,
      generatedBy: json.generatedBy as string | undefined,
      convertedBy: json.convertedBy as string | null | undefined,
    }),
  };
  return tf.loadLayersModel(handler);
}

function weightBytes(w: tf.io.WeightsManifestEntry, file: string): number {
  const n = w.shape.reduce((a, d) => a * d, 1);
  if (w.quantization) {
    const bytes = { uint8: 1, uint16: 2, float16: 2 }[w.quantization.dtype as string];
    if (bytes === undefined) throw new DataError(file, `weight ${w.name}: unknown quantization ${w.quantization.dtype}`);
    return n * bytes;
  }
  const bytes = { float32: 4, int32: 4, bool: 1 }[w.dtype as string];
  if (bytes === undefined) throw new DataError(file, `weight ${w.name}: unsupported dtype ${w.dtype}`);
  return n * bytes;
}

/**
 * Save a tfjs Layers model into `dir` as `model.json` + `weights.bin` (one shard),
 * the layout {@link loadTfjsModelFromDir} reads. Files are written to temporary
 * names and renamed, so a reader never sees half a model. Returns the model.json path.
 */
export async function saveTfjsModelToDir(model: tf.LayersModel, dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const modelJson = path.join(dir, 'model.json');
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0)));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      writeAtomic(path.join(dir, 'weights.bin'), weights);
      writeAtomic(modelJson, Buffer.from(JSON.stringify(json), 'utf8'));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return modelJson;
}

function writeAtomic(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}
