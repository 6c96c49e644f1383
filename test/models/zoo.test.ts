import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, tf } from '../../src/backend';
import { ConfigError, DataError } from '../../src/errors';
import { noiseSources } from '../../src/models/noiseLayers';
import { buildModel } from '../../src/models/paper/buildModel';
import {
  defaultZooDir,
  float32ToFloat16Bits,
  loadZooModel,
  readZooManifest,
  saveZooModel,
} from '../../src/models/zoo';

beforeAll(async () => {
  await initBackend();
});

const ENTRY = {
  model: 'cnn6',
  noise: 'multiplicative' as const,
  sigmaTrain: 0.4,
  command: 'ohmic train --model cnn6 --noise mult --sigma-train 0.4 --epochs 0',
  epochs: 0,
  seed: 5,
  data: 'none (untrained)',
  testAccuracy: 0.1,
  testData: 'none',
};

function logits(model: tf.LayersModel): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 17) / 17), [2, 28, 28, 1]);
    return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
  });
}

describe('float32ToFloat16Bits', () => {
  it('rounds to nearest even and handles overflow, subnormals and NaN', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
      [65504, 0x7bff],
      [65520, 0x7c00], // halfway to the next (non-existent) value rounds to +Inf
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie, rounds to even (0)
      [3 * 2 ** -25, 0x0002], // tie, rounds to even (2)
      [2 ** -14, 0x0400], // smallest normal
      [1 + 2 ** -11, 0x3c00], // tie at 1, to even
      [1 + 3 * 2 ** -11, 0x3c02],
      [0, 0],
    ];
    const bits = float32ToFloat16Bits(Float32Array.from(cases.map((c) => c[0])));
    expect(Array.from(bits).map((b) => b.toString(16))).toEqual(cases.map((c) => c[1].toString(16)));
    expect(float32ToFloat16Bits(Float32Array.of(NaN))[0] & 0x7c00).toBe(0x7c00);
    expect(float32ToFloat16Bits(Float32Array.of(NaN))[0] & 0x3ff).not.toBe(0);
  });
});

describe('saveZooModel / loadZooModel', () => {
  it('round-trips a CNN-6 in float16 (logits within float16 precision) and float32 (exact)', async () => {
    const zooDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-zoo-'));
    const model = buildModel('cnn6', { sigma: 0.4, seed: 5 });
    const want = logits(model);
    const e16 = await saveZooModel(model, { ...ENTRY, name: 'cnn6-test-16' }, { zooDir });
    const e32 = await saveZooModel(model, { ...ENTRY, name: 'cnn6-test-32' }, { zooDir, dtype: 'float32' });
    expect(e16.weightsBytes).toBe(2 * model.countParams());
    expect(e32.weightsBytes).toBe(4 * model.countParams());
    const bytes = fs.readFileSync(path.join(zooDir, e16.weightsFile));
    expect(e16.weightsSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(readZooManifest(zooDir).models.map((m) => m.name)).toEqual(['cnn6-test-16', 'cnn6-test-32']);

    const m32 = await loadZooModel('cnn6-test-32', { zooDir });
    expect(Array.from(logits(m32))).toEqual(Array.from(want));
    const m16 = await loadZooModel('cnn6-test-16', { zooDir });
    const got = logits(m16);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(0.02 * (1 + Math.abs(want[i])));
    // The noise layers come back with their training σ.
    expect(noiseSources(m16).map((s) => s.sigma)).toEqual(new Array(6).fill(0.4));
  });

  it('refuses altered weights (sha256) and unknown names with typed errors', async () => {
    const zooDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-zoo-'));
    const model = buildModel('cnn6', { seed: 1 });
    const entry = await saveZooModel(model, { ...ENTRY, name: 'tampered' }, { zooDir });
    const file = path.join(zooDir, entry.weightsFile);
    const bytes = fs.readFileSync(file);
    bytes[100] ^= 1;
    fs.writeFileSync(file, bytes);
    await expect(loadZooModel('tampered', { zooDir })).rejects.toThrow(DataError);
    await expect(loadZooModel('tampered', { zooDir })).rejects.toThrow(/sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
    await expect(loadZooModel('nope', { zooDir })).rejects.toThrow(ConfigError);
    await expect(loadZooModel('nope', { zooDir })).rejects.toThrow(/zoo model = "nope": expected one of tampered/);
    await expect(saveZooModel(model, { ...ENTRY, name: '../escape' }, { zooDir })).rejects.toThrow(/name = "..\/escape"/);
  });
});

describe('the repository zoo', () => {
  const manifest = readZooManifest(defaultZooDir());
  (manifest.models.length > 0 ? it : it.skip)('has weights matching every manifest sha256, under 30 MB in all', () => {
    let total = 0;
    for (const m of manifest.models) {
      const bytes = fs.readFileSync(path.join(defaultZooDir(), m.weightsFile));
      expect({ name: m.name, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({ name: m.name, sha256: m.weightsSha256 });
      total += bytes.length;
    }
    expect(total).toBeLessThan(30 * 1024 * 1024);
  });
});
