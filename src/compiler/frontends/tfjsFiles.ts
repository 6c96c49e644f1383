/**
 * tfjs Layers models on disk: `model.json` (topology + weights manifest) and binary
 * weight shards, read and written with `fs` through tfjs IOHandlers (no network).
 *
 * A model.json is checked before tfjs sees it (the manifest's structure, shapes,
 * dtypes and quantisation, the shards' exact byte count, the layer classes), and
 * whatever tfjs still refuses is explained against the topology (an unknown or
 * missing weight name, a wrong or transposed shape), so no tfjs or wasm exception
 * text reaches the caller unwrapped.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';
import { DataError, OhmicError, UnsupportedOpError, showValue } from '../../errors';

interface WeightsManifestGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The first line of a third-party error, bounded: tfjs and wasm messages can carry kilobytes of source. */
export function conciseMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

const PLAIN_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };
const QUANTIZED_BYTES: Readonly<Record<string, number>> = { uint8: 1, uint16: 2, float16: 2 };

/**
 * Checks the weights manifest before tfjs sees it: groups with `paths` and
 * `weights`, every weight with a name (once), a shape of exact non-negative
 * integers, a dtype tfjs decodes and, for uint8/uint16 quantisation, its `scale`
 * and `min`. Returns the groups and the byte length the weights take.
 */
function checkManifest(raw: unknown, file: string): { groups: WeightsManifestGroup[]; bytes: number } {
  if (raw === undefined) {
    throw new DataError(file, 'no weightsManifest: expected an array of { paths, weights } groups (a tfjs model.json saved with its weights)');
  }
  if (!Array.isArray(raw)) throw new DataError(file, 'weightsManifest is not an array of { paths, weights } groups');
  const seen = new Set<string>();
  let bytes = 0;
  raw.forEach((group: unknown, g) => {
    const where = `weightsManifest[${g}]`;
    if (!isRecord(group)) throw new DataError(file, `${where} is not an object { paths, weights }`);
    if (!Array.isArray(group.paths) || !group.paths.every((p) => typeof p === 'string' && p !== '')) {
      throw new DataError(file, `${where}.paths = ${showValue(group.paths)}: expected an array of weight shard file names`);
    }
    if (!Array.isArray(group.weights)) {
      throw new DataError(file, `${where}.weights = ${showValue(group.weights)}: expected an array of { name, shape, dtype } entries`);
    }
    group.weights.forEach((w: unknown, i) => {
      const at = `${where}.weights[${i}]`;
      if (!isRecord(w) || typeof w.name !== 'string' || w.name === '') {
        throw new DataError(file, `${at} = ${showValue(w)}: expected an object with a non-empty string name`);
      }
      const name = w.name;
      if (seen.has(name)) throw new DataError(file, `${at}: weight '${name}' is listed twice`);
      seen.add(name);
      const shape = w.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
        throw new DataError(file, `${at}.shape = ${showValue(shape)} (weight '${name}'): expected an array of non-negative integers`);
      }
      const count = (shape as number[]).reduce((a, d) => a * d, 1);
      if (!Number.isSafeInteger(count)) {
        throw new DataError(file, `${at}.shape = [${shape.join(', ')}] (weight '${name}'): more elements than any file holds`);
      }
      let width: number | undefined;
      const q = w.quantization;
      if (q !== undefined && q !== null) {
        if (!isRecord(q)) throw new DataError(file, `${at}.quantization = ${showValue(q)} (weight '${name}'): expected { dtype, scale, min }`);
        width = QUANTIZED_BYTES[q.dtype as string];
        if (width === undefined) {
          throw new DataError(file, `${at}.quantization.dtype = ${showValue(q.dtype)} (weight '${name}'): expected one of uint8, uint16, float16`);
        }
        if (q.dtype !== 'float16') {
          for (const key of ['scale', 'min'] as const) {
            if (typeof q[key] !== 'number' || !Number.isFinite(q[key] as number)) {
              throw new DataError(
                file,
                `${at}.quantization.${key} = ${showValue(q[key])} (weight '${name}', ${String(q.dtype)}-quantised): ` +
                  `expected a finite number (the value is ${String(q.dtype)} · scale + min)`,
              );
            }
          }
        }
        if (w.dtype !== undefined && w.dtype !== 'float32') {
          throw new DataError(file, `${at}.dtype = ${showValue(w.dtype)} (weight '${name}', quantised): expected float32`);
        }
      } else {
        width = PLAIN_BYTES[w.dtype as string];
        if (width === undefined) {
          throw new DataError(file, `${at}.dtype = ${showValue(w.dtype)} (weight '${name}'): expected one of ${Object.keys(PLAIN_BYTES).join(', ')}`);
        }
      }
      bytes += count * width;
    });
  });
  if (!Number.isSafeInteger(bytes)) throw new DataError(file, `the weights manifest describes ${bytes} bytes of weights, more than any file holds`);
  return { groups: raw as WeightsManifestGroup[], bytes };
}

/** Layers of a tfjs topology (Sequential, functional Model), for checks before tfjs deserialises it. */
function topologyLayers(topology: Record<string, unknown>): unknown[] {
  const config = topology.config;
  if (Array.isArray(config)) return config; // Sequential, old format
  if (isRecord(config) && Array.isArray(config.layers)) return config.layers;
  return [];
}

/**
 * Refuses a layer class TensorFlow.js does not know (a typo, a custom layer that
 * is not registered), naming the layer, before tfjs fails on it.
 */
async function checkLayerClasses(topology: Record<string, unknown>, file: string): Promise<void> {
  const known = tf.serialization.SerializationMap.getMap().classNameMap as Record<string, unknown>;
  // Required here: tfjsLayers re-exports this module. `require`, not `import()`: under
  // tsx's CommonJS loader (bin/ohmic.js from a clone) a dynamic import of an
  // extensionless .ts path fails with "Cannot find module".
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SUPPORTED_TFJS_LAYERS } = require('./tfjsLayers') as typeof import('./tfjsLayers');
  topologyLayers(topology).forEach((layer, i) => {
    if (!isRecord(layer)) throw new DataError(file, `modelTopology layer ${i} = ${showValue(layer)}: expected an object { class_name, config }`);
    const cls = layer.class_name;
    const config = isRecord(layer.config) ? layer.config : {};
    const name = typeof config.name === 'string' ? config.name : typeof layer.name === 'string' ? layer.name : `#${i}`;
    if (typeof cls !== 'string' || cls === '') {
      throw new DataError(file, `modelTopology layer '${name}' has class_name ${showValue(cls)}: expected a layer class name`);
    }
    if (Object.prototype.hasOwnProperty.call(known, cls)) return;
    if (SUPPORTED_TFJS_LAYERS.includes(cls)) {
      throw new DataError(
        file,
        `layer '${name}' has class '${cls}', which is not registered with TensorFlow.js; ` +
          "import ohmic's models module (it registers ohmic's own layers) before loading",
      );
    }
    throw new UnsupportedOpError(cls, name, SUPPORTED_TFJS_LAYERS);
  });
}

/** Edit distance, for "did you mean" on weight names. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

function nearestName(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const n of names) {
    const d = editDistance(name, n);
    if (d < bestDistance) [best, bestDistance] = [n, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

/**
 * After tfjs refused the weights: build the model from its topology alone and say
 * which manifest entry does not fit it (an unknown name, a missing weight, a wrong
 * or transposed shape). Returns undefined when every entry fits.
 */
async function explainWeightMismatch(
  base: tf.io.ModelArtifacts,
  specs: readonly tf.io.WeightsManifestEntry[],
  file: string,
): Promise<DataError | undefined> {
  const bare = await tf.loadLayersModel({ load: async () => base });
  const shapes = new Map(bare.weights.map((w) => [w.originalName, [...w.shape] as number[]]));
  bare.dispose();
  const names = [...shapes.keys()];
  for (const w of specs) {
    const want = shapes.get(w.name);
    if (want === undefined) {
      const near = nearestName(w.name, names);
      return new DataError(
        file,
        `weightsManifest lists weight '${w.name}', which no layer of the model has` +
          (near === undefined ? `; the model's weights: ${names.join(', ') || '(none)'}` : ` (did you mean '${near}'?)`),
      );
    }
    if (want.length !== w.shape.length || want.some((d, i) => d !== w.shape[i])) {
      const transposed = want.length === w.shape.length && [...want].reverse().every((d, i) => d === w.shape[i]);
      return new DataError(
        file,
        `weight '${w.name}' has shape [${w.shape.join(', ')}] in weightsManifest, but the model's layer needs [${want.join(', ')}]` +
          (transposed ? ' (the manifest has it transposed)' : ''),
      );
    }
  }
  const listed = new Set(specs.map((w) => w.name));
  const missing = names.filter((n) => !listed.has(n));
  if (missing.length > 0) {
    return new DataError(file, `weightsManifest has no entry for ${missing.length} of the model's ${names.length} weights: ${missing.join(', ')}`);
  }
  return undefined;
}

/**
 * Load a tfjs Layers model saved as `model.json` plus binary weight shards, from
 * disk (no network). `modelJsonPath` is the `model.json` file or the folder holding it.
 *
 * @throws DataError when a file is missing, the JSON is not a tfjs layers model,
 *   the weights manifest is malformed (absent, a group without `paths`, a bad shape
 *   or dtype, uint8/uint16 quantisation without `scale`/`min`), the shards are
 *   shorter or longer than the manifest says, or a manifest entry does not fit
 *   the model (an unknown name, a missing weight, a wrong or transposed shape).
 * @throws UnsupportedOpError for a layer class TensorFlow.js does not know.
 */
export async function loadTfjsModelFromDir(modelJsonPath: string): Promise<tf.LayersModel> {
  let file = modelJsonPath;
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'model.json');
  if (!fs.existsSync(file)) throw new DataError(file, 'file not found');
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(file, `not valid JSON (${conciseMessage(err)})`);
  }
  if (!isRecord(json)) throw new DataError(file, 'not a JSON object: expected a tfjs model.json');
  if (!isRecord(json.modelTopology)) {
    throw new DataError(file, 'no modelTopology: expected a tfjs model.json');
  }
  if (json.format === 'graph-model') {
    throw new DataError(file, "format 'graph-model' is a converted TF graph; expected a tfjs layers model");
  }
  const topology = json.modelTopology;
  await checkLayerClasses(topology, file);
  const { groups, bytes: expected } = checkManifest(json.weightsManifest, file);
  const dir = path.dirname(file);
  const shards: Uint8Array[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  for (const group of groups) {
    for (const p of group.paths) {
      const shardPath = path.join(dir, p);
      if (!fs.existsSync(shardPath) || !fs.statSync(shardPath).isFile()) {
        throw new DataError(shardPath, `weight shard listed in ${file} not found`);
      }
      shards.push(fs.readFileSync(shardPath));
    }
    weightSpecs.push(...group.weights);
  }
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  if (total < expected) throw new DataError(file, `weight shards hold ${total} bytes, the manifest needs ${expected}`);
  if (total > expected) {
    throw new DataError(
      file,
      `weight shards hold ${total} bytes, but the manifest's weights take ${expected}: ` +
        `${total - expected} bytes are left over (a wrong manifest or a corrupt shard)`,
    );
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const s of shards) {
    weightData.set(s, offset);
    offset += s.byteLength;
  }
  const base: tf.io.ModelArtifacts = {
    modelTopology: topology as object,
    format: json.format as string | undefined,
    generatedBy: json.generatedBy as string | undefined,
    convertedBy: json.convertedBy as string | null | undefined,
  };
  try {
    return await tf.loadLayersModel({ load: async () => ({ ...base, weightSpecs, weightData: weightData.buffer }) });
  } catch (err) {
    if (err instanceof OhmicError) throw err;
    let explained: DataError | undefined;
    try {
      explained = await explainWeightMismatch(base, weightSpecs, file);
    } catch (inner) {
      if (inner instanceof OhmicError) throw inner;
      // The topology itself does not build: say so, in tfjs's words but briefly.
      throw new DataError(file, `TensorFlow.js cannot build the model from modelTopology: ${conciseMessage(inner)}`);
    }
    throw explained ?? new DataError(file, `TensorFlow.js cannot load the model's weights: ${conciseMessage(err)}`);
  }
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
