/**
 * Points identified by content: every record carries its study hash, model hash,
 * resolved hardware and data fingerprint; resuming or merging results computed
 * from other content is an error that says what changed (issue 18).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, DataError } from '../../src/errors';
import { expandGrid, type StudyPoint } from '../../src/study/grid';
import {
  describeIdentityChange,
  fileSha256,
  filesFingerprint,
  firstJsonDifference,
  genericPointIdentifier,
  modelFileSha256,
  RESULT_FORMAT,
  studyFingerprint,
  type PointIdentifier,
} from '../../src/study/pointIdentity';
import { LEGACY_NOISE_GENERATOR, NOISE_GENERATOR } from '../../src/rng';
import { parseRecord } from '../../src/study/resultRecord';
import { mergeResultFiles, normaliseResultsFile, readResults } from '../../src/study/resultsFile';
import { runStudy } from '../../src/study/runStudy';
import { createFakeEvaluator } from './fixtures/fakeEvaluator';
import { fixtureConfig } from './fixtures/studyConfig';
import { expectRejects } from '../helpers/expectThrows';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-identity-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A 2-point study over a model file, so its identity is the file's sha256. */
function fileStudy(model: string, overrides: Record<string, unknown> = {}) {
  return fixtureConfig({ models: [model], devices: ['reram'], sigmas: [0], votes: [1, 5], ...overrides });
}

/** An evaluator that counts its calls (and would give any accuracy). */
function counting(): { calls: number; evaluate: (p: StudyPoint) => Promise<{ accuracyPerSeed: number[] }> } {
  const c = { calls: 0, evaluate: async (p: StudyPoint) => ((c.calls += 1), { accuracyPerSeed: p.seeds.map(() => 0.5) }) };
  return c;
}

describe('identity helpers', () => {
  test('file hashes: whole file, first MiB, and a tfjs model.json with its weight shards', () => {
    const a = path.join(dir, 'a.bin');
    fs.writeFileSync(a, 'abc');
    // sha256("abc"), the FIPS 180-2 test vector.
    expect(fileSha256(a)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // sha256("a"): only the first byte is read.
    expect(fileSha256(a, 1)).toBe('ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
    const json = path.join(dir, 'model.json');
    fs.writeFileSync(json, JSON.stringify({ weightsManifest: [{ paths: ['a.bin'], weights: [] }] }));
    const before = modelFileSha256(json);
    fs.writeFileSync(a, 'abd'); // same model.json, other weights
    expect(modelFileSha256(json)).not.toBe(before);
    const fp = filesFingerprint([a]);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    fs.appendFileSync(a, 'x');
    expect(filesFingerprint([a])).not.toBe(fp);
    expect(() => filesFingerprint([path.join(dir, 'none')])).toThrow(DataError);
  });

  test('the study hash follows the config (lists in order), not where it was built', () => {
    expect(studyFingerprint(fixtureConfig())).toBe(studyFingerprint(fixtureConfig()));
    expect(studyFingerprint(fixtureConfig())).toMatch(/^[0-9a-f]{16}$/);
    expect(studyFingerprint(fixtureConfig({ sigmas: [1, 0.5, 0] }))).not.toBe(studyFingerprint(fixtureConfig()));
    expect(studyFingerprint(fixtureConfig({ rootSeed: 4 }))).not.toBe(studyFingerprint(fixtureConfig()));
  });

  test('what changed is named: model, hardware path, data, study', () => {
    const base = { study: '0123456789abcdef', model: { source: 'file' as const, sha256: 'a'.repeat(64) }, hardware: { chip: { adc: { bits: 6 } } }, data: { name: 'mnist', limit: 10, fingerprint: 'c'.repeat(64) } };
    expect(describeIdentityChange(base, base)).toBeNull();
    expect(describeIdentityChange(base, { ...base, model: { source: 'file', sha256: 'b'.repeat(64) } })).toBe('model file changed (sha256 aaaaaaaaaaaa… → bbbbbbbbbbbb…)');
    expect(describeIdentityChange(base, { ...base, hardware: { chip: { adc: { bits: 8 } } } })).toBe('hardware changed (chip.adc.bits: 6 → 8)');
    expect(describeIdentityChange(base, { ...base, data: { ...base.data, fingerprint: 'd'.repeat(64) } })).toBe('data files changed (mnist fingerprint cccccccccccc… → dddddddddddd…)');
    expect(describeIdentityChange(base, { ...base, study: 'fedcba9876543210' })).toBe('study config changed (study 0123456789abcdef → fedcba9876543210)');
    expect(describeIdentityChange(base, { ...base, study: 'fedcba9876543210' }, { checkStudy: false })).toBeNull();
    expect(firstJsonDifference({ a: [1, 2] }, { a: [1, 3] })).toBe('a[1]: 2 → 3');
    expect(firstJsonDifference({ a: 1 }, { a: 1, b: true })).toBe('b: (absent) → true');
  });
});

describe('records carry their identity', () => {
  test('format 2 lines with study, model, hardware and data; parseRecord checks them', async () => {
    const model = path.join(dir, 'm.onnx');
    fs.writeFileSync(model, 'model bytes');
    const config = fileStudy(model);
    const file = path.join(dir, 'r.jsonl');
    await runStudy(config, createFakeEvaluator(), { resultsPath: file });
    const records = readResults(file);
    expect(records).toHaveLength(2);
    for (const r of records) {
      expect(r.identity).toEqual({
        study: studyFingerprint(config),
        model: { source: 'file', sha256: fileSha256(model) },
        hardware: { device: 'reram' },
        data: { name: 'mnist', limit: 100, fingerprint: null },
        generator: NOISE_GENERATOR,
      });
    }
    const line = fs.readFileSync(file, 'utf8').split('\n')[0];
    expect(line.startsWith(`{"format":${RESULT_FORMAT},"pointId":`)).toBe(true);
    expect(() => parseRecord(line.replace('"format":2', '"format":3'), 'x:1')).toThrow(/results format 3: this ohmic reads formats 1 and 2/);
    expect(() => parseRecord(line.replace(/"study":"[0-9a-f]+"/, '"study":"zz"'), 'x:1')).toThrow(/identity\.study: expected 16 hex digits/);
  });
});

describe('resume checks the stored points against the study', () => {
  test('a replaced model file is an error naming the point, the model and both hashes, before any work', async () => {
    const model = path.join(dir, 'm.onnx');
    fs.writeFileSync(model, 'first model');
    const file = path.join(dir, 'r.jsonl');
    await runStudy(fileStudy(model, { votes: [1] }), createFakeEvaluator(), { resultsPath: file });
    const before = fs.readFileSync(file, 'utf8');
    const oldSha = fileSha256(model);
    fs.writeFileSync(model, 'second model');
    const point = expandGrid(fileStudy(model))[0];
    const c = counting();
    await expectRejects(
      runStudy(fileStudy(model), c.evaluate, { resultsPath: file }),
      new DataError(
        `${file}:1`,
        `point ${point.id} (model ${model}): model file changed (sha256 ${oldSha.slice(0, 12)}… → ${fileSha256(model).slice(0, 12)}…); ` +
          'rerun without --resume (into a new or empty folder) or use a new --out',
      ),
    );
    expect(c.calls).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  test('points drawn by another noise generator (lines from before it was recorded) are refused by name', async () => {
    const model = path.join(dir, 'm.onnx');
    fs.writeFileSync(model, 'a model');
    const file = path.join(dir, 'r.jsonl');
    await runStudy(fileStudy(model, { votes: [1] }), createFakeEvaluator(), { resultsPath: file });
    // As an ohmic before the generator was recorded wrote it.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(`,"generator":"${NOISE_GENERATOR}"`, ''));
    expect(readResults(file)[0].identity!.generator).toBeUndefined();
    const c = counting();
    await expect(runStudy(fileStudy(model), c.evaluate, { resultsPath: file })).rejects.toThrow(
      `noise generator changed (${LEGACY_NOISE_GENERATOR} → ${NOISE_GENERATOR}: the same seeds draw other numbers); rerun without --resume`,
    );
    expect(c.calls).toBe(0);
  });

  test('a stored point the grid does not have is an error (two grids never mix); a grown grid resumes', async () => {
    const file = path.join(dir, 'r.jsonl');
    await runStudy(fixtureConfig({ sigmas: [0, 0.5] }), createFakeEvaluator(), { resultsPath: file });
    const c = counting();
    const err = await expectRejects(
      runStudy(fixtureConfig({ sigmas: [0.5, 1] }), c.evaluate, { resultsPath: file }),
      new DataError(
        `${file}:1`,
        `point ${expandGrid(fixtureConfig({ sigmas: [0] }))[0].id} (model cnn6): model=cnn6 device=reram noise=multiplicative sigma=0 semantics=passes votes=1 ` +
          "is not in this study's grid (the file holds results of another grid; resuming would mix two grids in one report); " +
          'rerun without --resume (into a new or empty folder) or use a new --out',
      ),
    );
    expect(err).toBeInstanceOf(DataError);
    expect(c.calls).toBe(0);
    // A grid that holds every stored point (σ = 1 added) resumes: only the new points
    // run, and the file ends as a fresh run of the grown grid (same bytes).
    const grown = fixtureConfig({ sigmas: [0, 0.5, 1] });
    const report = await runStudy(grown, createFakeEvaluator(), { resultsPath: file });
    expect(report).toMatchObject({ total: 24, skipped: 16, computed: 8, restamped: 16 });
    const order = expandGrid(grown).map((p) => p.id);
    normaliseResultsFile(file, order);
    const fresh = path.join(dir, 'fresh.jsonl');
    await runStudy(grown, createFakeEvaluator(), { resultsPath: fresh });
    normaliseResultsFile(fresh, order);
    expect(fs.readFileSync(file, 'utf8')).toBe(fs.readFileSync(fresh, 'utf8'));
  });

  test('a shard resumed over another shard\'s file names the shard', async () => {
    const file = path.join(dir, 'r.jsonl');
    await runStudy(fixtureConfig(), createFakeEvaluator(), { resultsPath: file, shard: { index: 0, count: 2 } });
    await expect(runStudy(fixtureConfig(), createFakeEvaluator(), { resultsPath: file, shard: { index: 1, count: 2 } })).rejects.toThrow(
      /:1: point [0-9a-f]{16} \(model cnn6\): .* is not in shard 2\/2 of this study's grid/,
    );
  });

  test('changed hardware and changed data are named (an identifier that reads them)', async () => {
    const file = path.join(dir, 'r.jsonl');
    const config = fixtureConfig({ models: ['cnn6'], devices: ['reram'], sigmas: [0], votes: [1] });
    const identify = (bits: number, fingerprint: string): PointIdentifier => (p) => ({
      model: { source: 'name', sha256: null },
      hardware: { kind: 'chip', chip: { adc: { bits }, device: p.device } },
      data: { name: p.dataset.name, limit: p.dataset.limit, fingerprint },
    });
    await runStudy(config, createFakeEvaluator(), { resultsPath: file, identify: identify(6, 'a'.repeat(64)) });
    await expect(runStudy(config, createFakeEvaluator(), { resultsPath: file, identify: identify(8, 'a'.repeat(64)) })).rejects.toThrow(
      /:1: point [0-9a-f]{16} \(model cnn6\): hardware changed \(chip\.adc\.bits: 6 → 8\); rerun without --resume/,
    );
    await expect(runStudy(config, createFakeEvaluator(), { resultsPath: file, identify: identify(6, 'b'.repeat(64)) })).rejects.toThrow(
      /data files changed \(mnist fingerprint aaaaaaaaaaaa… → bbbbbbbbbbbb…\)/,
    );
    // The same content resumes with nothing to do.
    expect(await runStudy(config, createFakeEvaluator(), { resultsPath: file, identify: identify(6, 'a'.repeat(64)) })).toMatchObject({ skipped: 1, computed: 0 });
  });

  test('a results file of format 1 (no identities) is refused with a message to rerun', async () => {
    const file = path.join(dir, 'r.jsonl');
    await runStudy(fixtureConfig(), createFakeEvaluator(), { resultsPath: file });
    const old = fs.readFileSync(file, 'utf8').replace(/^\{"format":2,/gm, '{').replace(/,"identity":\{.*\}\}$/gm, '}');
    fs.writeFileSync(file, old);
    expect(readResults(file)[0].identity).toBeUndefined(); // still readable for reports
    const c = counting();
    await expect(runStudy(fixtureConfig(), c.evaluate, { resultsPath: file })).rejects.toThrow(
      /r\.jsonl:1: point [0-9a-f]{16} \(model cnn6\) was written by an older ohmic \(results format 1\), without the identity of its model, hardware and data, so it cannot be checked against this study; rerun without --resume/,
    );
    expect(c.calls).toBe(0);
  });

  test('a model file that is missing is named before any point runs', async () => {
    const model = path.join(dir, 'gone.onnx');
    const c = counting();
    // The generic identity hashes only names that are files; the chip identity reads zoo names too.
    expect(genericPointIdentifier()(expandGrid(fileStudy(model))[0]).model).toEqual({ source: 'name', sha256: null });
    const { chipPointIdentifier } = await import('../../src/study/chipPointIdentity');
    const [zooPoint] = expandGrid(fixtureConfig({ models: ['cnn6-mnist-mult-0-typo'], devices: ['reram'], sigmas: [0], votes: [1], dataset: { name: 'mnist', limit: 10 } }));
    expect(() => chipPointIdentifier()(zooPoint)).toThrow(ConfigError);
    await expect(runStudy(fileStudy(model), c.evaluate, { resultsPath: path.join(dir, 'r.jsonl'), identify: chipPointIdentifier() })).rejects.toThrow(
      /gone\.onnx: cannot read \(ENOENT\)/,
    );
    expect(c.calls).toBe(0);
  });
});

describe('merge refuses results of different studies', () => {
  async function shards(config: ReturnType<typeof fixtureConfig>, prefix: string, evaluatorOptions = {}): Promise<string[]> {
    const files: string[] = [];
    for (let i = 0; i < 2; i++) {
      const f = path.join(dir, `${prefix}-${i + 1}.jsonl`);
      await runStudy(config, createFakeEvaluator(evaluatorOptions), { resultsPath: f, shard: { index: i, count: 2 } });
      files.push(f);
    }
    return files;
  }

  test('shards of two configs, and a config that is not theirs', async () => {
    const [a1] = await shards(fixtureConfig(), 'a');
    const [, b2] = await shards(fixtureConfig({ sigmas: [0, 0.5, 2] }), 'b');
    const out = path.join(dir, 'merged.jsonl');
    expect(() => mergeResultFiles([a1, b2], out)).toThrow(
      new RegExp(`^${b2}:1: holds results of study ${studyFingerprint(fixtureConfig({ sigmas: [0, 0.5, 2] }))}, but ${a1}:1 of study ${studyFingerprint(fixtureConfig())}: shards of different study configs`),
    );
    expect(fs.existsSync(out)).toBe(false);
    const [, a2] = await shards(fixtureConfig(), 'a');
    const other = { id: studyFingerprint(fixtureConfig({ seeds: [0] })), file: 'other.json' };
    expect(() => mergeResultFiles([a1, a2], out, { study: other })).toThrow(/^other\.json: describes study [0-9a-f]{16}, but the inputs hold results of study/);
    expect(mergeResultFiles([a1, a2], out, { study: { id: studyFingerprint(fixtureConfig()), file: 'c.json' } }).written).toBe(24);
  });

  test('one study whose model file was replaced between shards', async () => {
    const model = path.join(dir, 'm.onnx');
    fs.writeFileSync(model, 'first');
    const config = fixtureConfig({ models: [model], devices: ['reram'], sigmas: [0, 1] });
    const s1 = path.join(dir, 's1.jsonl');
    await runStudy(config, createFakeEvaluator(), { resultsPath: s1, shard: { index: 0, count: 2 } });
    fs.writeFileSync(model, 'second');
    const s2 = path.join(dir, 's2.jsonl');
    await runStudy(config, createFakeEvaluator(), { resultsPath: s2, shard: { index: 1, count: 2 } });
    expect(() => mergeResultFiles([s1, s2], path.join(dir, 'm.jsonl'))).toThrow(
      new RegExp(`^${s2}:1: model ${model} has sha256 [0-9a-f]{12}… here, but [0-9a-f]{12}… in ${s1}:1: the model was replaced between runs`),
    );
  });

  test('the same point from two runs over different model files is a conflict that names the change', async () => {
    const model = path.join(dir, 'm.onnx');
    const config = fixtureConfig({ models: [model], devices: ['reram'], sigmas: [0], votes: [1] });
    const a = path.join(dir, 'a.jsonl');
    const b = path.join(dir, 'b.jsonl');
    fs.writeFileSync(model, 'first');
    await runStudy(config, createFakeEvaluator(), { resultsPath: a });
    fs.writeFileSync(model, 'second');
    await runStudy(config, createFakeEvaluator(), { resultsPath: b });
    expect(() => mergeResultFiles([a, b], path.join(dir, 'm.jsonl'))).toThrow(
      new RegExp(`^${b}:1: point [0-9a-f]{16} conflicts with ${a}:1: the same point computed from different content: model file changed \\(sha256 [0-9a-f]{12}… vs [0-9a-f]{12}…\\)$`),
    );
  });

  test('format-1 lines merge only among themselves, and never when identities are required', async () => {
    const [a1, a2] = await shards(fixtureConfig(), 'a');
    const strip = (f: string) => fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/^\{"format":2,/gm, '{').replace(/,"identity":\{.*\}\}$/gm, '}'));
    strip(a2);
    const out = path.join(dir, 'merged.jsonl');
    expect(() => mergeResultFiles([a1, a2], out)).toThrow(new RegExp(`^${a2}:1: was written by an older ohmic \\(results format 1\\).*cannot be checked to belong with ${a1}:1; rerun that study`));
    strip(a1);
    expect(mergeResultFiles([a1, a2], out).written).toBe(24);
    expect(() => mergeResultFiles([a1, a2], out, { requireIdentity: true })).toThrow(/results format 1/);
  });
});

describe('the chip evaluator identifies points by zoo weights, resolved hardware and data files', () => {
  test('a zoo model point: manifest weightsSha256, the signal-level hardware, the embedded MNIST files; a changed hash is named', async () => {
    const { chipEvaluatorModule } = await import('../../src/study/chipEvaluatorModule');
    const { readZooManifest } = await import('../../src/models/zoo');
    const { embeddedMnistDir } = await import('../../src/data');
    const { validateStudyConfig } = await import('../../src/study/grid');
    const config = validateStudyConfig(
      { models: ['cnn6-mnist-mult-0'], devices: ['signal'], sigmas: [0.2], dataset: { name: 'mnist', limit: 10 } },
      ['signal'],
    );
    const file = path.join(dir, 'r.jsonl');
    await runStudy(config, chipEvaluatorModule(), { resultsPath: file });
    const [record] = readResults(file);
    const sha = readZooManifest().models.find((m) => m.name === 'cnn6-mnist-mult-0')!.weightsSha256;
    const mnist = ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'].map((f) => path.join(embeddedMnistDir(), f));
    expect(record.identity).toEqual({
      study: studyFingerprint(config),
      model: { source: 'zoo', sha256: sha },
      hardware: { kind: 'signal', noise: { kind: 'multiplicative', sigma: 0.2 } },
      data: { name: 'mnist', limit: 10, fingerprint: filesFingerprint(mnist) },
      generator: NOISE_GENERATOR,
    });
    // As if the zoo entry had been retrained since: the stored hash is not the manifest's.
    const other = 'f'.repeat(64);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(sha, other));
    await expect(runStudy(config, chipEvaluatorModule(), { resultsPath: file })).rejects.toThrow(
      `${file}:1: point ${record.pointId} (model cnn6-mnist-mult-0): model weights changed (sha256 ffffffffffff… → ${sha.slice(0, 12)}…); rerun without --resume`,
    );
  });
});
