import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/rng';

/** max |a − b| / max |b|: the comparison the issue asks for (1e-4 relative to max |y|). */
export function relMaxError(actual: tf.Tensor, expected: tf.Tensor): number {
  expect(actual.shape).toEqual(expected.shape);
  return relArrayError(actual.dataSync(), expected.dataSync());
}

/** {@link relMaxError} of two flat arrays. */
export function relArrayError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  expect(scale).toBeGreaterThan(0);
  return diff / scale;
}

/** What `make_onnx.py` stores beside each ONNX fixture (`<model>.json`): PyTorch's input and output. */
export interface TorchRecord {
  inputShape: number[];
  input: number[];
  outputShape: number[];
  output: number[];
}

/** Reads a fixture's {@link TorchRecord}. */
export function readTorchRecord(file: string): TorchRecord {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as TorchRecord;
}

/** `n` seeded normal values, N(0, std²) (standard normal by default). */
export function seededNormals(n: number, seed: number, std = 1): Float32Array {
  const data = new Float32Array(n);
  Rng.fromSeed(seed).fillNormal(data, 0, std);
  return data;
}

/**
 * The fraction of `a`'s values within `rel`·max |b| of `b`'s: how the engine tests
 * count outputs that agree where a converter code may flip at a rounding boundary.
 */
export function fractionClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let close = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) <= rel * scale) close++;
  return close / a.length;
}

/** A seeded standard-normal input tensor. */
export function seededInput(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seededNormals(shape.reduce((a, d) => a * d, 1), seed), shape);
}

/** Seeded glorot-uniform initialiser (tfjs initialisers take an explicit seed). */
export function glorot(seed: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed });
}

/** Seeded uniform initialiser in [lo, hi] (for biases and BN statistics, which default to constants). */
export function uniform(seed: number, lo: number, hi: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.randomUniform({ minval: lo, maxval: hi, seed });
}
