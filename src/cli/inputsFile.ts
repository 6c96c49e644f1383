/**
 * The `--inputs` file of `ohmic run`: `{ "shape": [...], "data": [[...], ...] }`,
 * one flattened input per row. Everything in it is checked before a tensor is
 * built: unknown fields are errors (not ignored), and every value must survive the
 * float32 conversion the engine makes (1e39 would silently become Infinity).
 */
import { tf } from '../backend';
import { ConfigError } from '../errors';
import type { Graph } from '../compiler/ir/graph';
import { readJsonFile } from './jsonFile';

/** Fields an inputs file may hold. */
export const INPUTS_FILE_FIELDS: readonly string[] = ['shape', 'data'];

/** Largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Read and check an inputs file for `graph`'s first input: `shape` is one input's
 * shape (with or without a leading batch dimension equal to the number of rows).
 *
 * @throws DataError when the file is missing or not JSON.
 * @throws ConfigError naming `file: field` (`in.json: data[3][17]`), the value and
 *   what was expected: a non-object, unknown fields, a shape that is not positive
 *   integers or not the model's, rows of the wrong length, values that are not
 *   finite float32 numbers.
 */
export function readInputsFile(file: string, graph: Graph): tf.Tensor {
  const raw = readJsonFile(file, 'inputs');
  if (!isRecord(raw)) throw new ConfigError(file, raw, '{ "shape": [...], "data": [[...], ...] }, a JSON object');
  for (const key of Object.keys(raw)) {
    if (!INPUTS_FILE_FIELDS.includes(key)) {
      throw new ConfigError(`${file}: ${key}`, raw[key], `no such field; known fields: ${INPUTS_FILE_FIELDS.join(', ')}`);
    }
  }
  const { shape, data } = raw;
  const input = graph.nodes.find((n) => n.name === graph.inputs[0]);
  if (input === undefined) throw new ConfigError('--model', graph.inputs[0], 'a model with at least one input');
  const want = input.outputShape.slice(1);
  const example = `e.g. [${want.map((d) => d ?? 1).join(', ')}]`;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new ConfigError(`${file}: shape`, shape, `a non-empty array of positive integers, ${example}`);
  }
  if (!Array.isArray(data) || data.length === 0) throw new ConfigError(`${file}: data`, data, 'a non-empty array of rows');
  const dims = shape as number[];
  const sample = dims.length === want.length + 1 && dims[0] === data.length ? dims.slice(1) : dims;
  if (sample.length !== want.length || sample.some((d, i) => want[i] !== null && d !== want[i])) {
    throw new ConfigError(`${file}: shape`, shape, `one input of shape [${want.map((d) => d ?? 'any').join(', ')}] (the model's input '${input.name}')`);
  }
  const size = sample.reduce((a, b) => a * b, 1);
  // Every row must hold `size` values, so the file itself bounds the allocation.
  data.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== size) {
      throw new ConfigError(`${file}: data[${i}]`, Array.isArray(row) ? `${row.length} values` : row, `${size} numbers (product of shape)`);
    }
  });
  const flat = new Float32Array(data.length * size);
  (data as unknown[][]).forEach((row, i) => {
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${file}: data[${i}][${j}]`, v, 'a finite number');
      if (!Number.isFinite(Math.fround(v))) {
        throw new ConfigError(`${file}: data[${i}][${j}]`, v, `a number within float32 range (|x| <= ${FLOAT32_MAX}); it would become Infinity`);
      }
      flat[i * size + j] = v;
    });
  });
  return tf.tensor(flat, [data.length, ...sample]);
}
