/**
 * The chip evaluator's point identity (see pointIdentity.ts): a zoo model by its
 * manifest's `weightsSha256` (which loading checks the weights against), a model
 * file by its content, the hardware the point runs on fully resolved
 * ({@link pointHardware}), and the dataset files it reads, fingerprinted.
 */
import { ConfigError } from '../errors';
import { hardwareToJson } from '../compiler/hardware';
import { readZooManifest } from '../models/zoo';
import { chipDatasetFiles, pointHardware } from './chipEvaluator';
import {
  canonicalHardware,
  filesFingerprint,
  modelFileSha256,
  type DataIdentity,
  type ModelIdentity,
  type PointIdentifier,
} from './pointIdentity';

/** Whether the chip evaluator reads `model` as a file (else a zoo name). */
export function isModelFile(model: string): boolean {
  return model.endsWith('.onnx') || model.endsWith('.json');
}

/**
 * The identifier of points the chip evaluator runs; caches hashes per model and
 * dataset, so a grid of many points reads each file once.
 * @param options.dataDir the evaluator's dataset folder (as {@link ChipEvaluatorOptions}).
 */
export function chipPointIdentifier(options: { dataDir?: string } = {}): PointIdentifier {
  const models = new Map<string, ModelIdentity>();
  const data = new Map<string, DataIdentity>();
  let zoo: Map<string, string> | undefined;
  const modelIdentity = (model: string): ModelIdentity => {
    if (isModelFile(model)) return { source: 'file', sha256: modelFileSha256(model) };
    zoo ??= new Map(readZooManifest().models.map((m) => [m.name, m.weightsSha256]));
    const name = model.startsWith('zoo:') ? model.slice(4) : model;
    const sha256 = zoo.get(name);
    if (sha256 === undefined) throw new ConfigError('model', model, `a zoo model (${[...zoo.keys()].join(', ')}) or an .onnx / model.json file`);
    return { source: 'zoo', sha256 };
  };
  return (point) => {
    let model = models.get(point.model);
    if (model === undefined) {
      model = modelIdentity(point.model);
      models.set(point.model, model);
    }
    const dataKey = `${point.dataset.name}/${point.dataset.limit}`;
    let d = data.get(dataKey);
    if (d === undefined) {
      d = { name: point.dataset.name, limit: point.dataset.limit, fingerprint: filesFingerprint(chipDatasetFiles(point.dataset, options.dataDir)) };
      data.set(dataKey, d);
    }
    return { model, hardware: canonicalHardware(hardwareToJson(pointHardware(point))), data: d };
  };
}
