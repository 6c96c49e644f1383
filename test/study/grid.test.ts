import { ConfigError } from '../../src/errors';
import { Rng } from '../../src/rng';
import {
  expandGrid,
  pointId,
  pointSeed,
  replicateRng,
  STUDY_DEFAULTS,
  validateStudyConfig,
  type StudyPoint,
} from '../../src/study/grid';
import { expectThrows } from '../helpers/expectThrows';
import { fixtureConfig, KNOWN_DEVICES } from './fixtures/studyConfig';

const base = {
  models: ['cnn6'],
  devices: ['reram'],
  sigmas: [0, 0.4],
  dataset: { name: 'mnist' },
};

describe('validateStudyConfig', () => {
  test('fills defaults and keeps given lists in order', () => {
    expect(validateStudyConfig(base, KNOWN_DEVICES)).toEqual({
      models: ['cnn6'],
      devices: ['reram'],
      noise: STUDY_DEFAULTS.noise,
      sigmas: [0, 0.4],
      votes: [1],
      semantics: ['signal'],
      seeds: [0],
      dataset: { name: 'mnist', limit: null },
      rootSeed: 0,
    });
  });

  test.each<[string, Record<string, unknown>, ConfigError]>([
    ['unknown device', { devices: ['reram', 'rram'] }, new ConfigError('devices[1]', 'rram', 'one of reram, pcm, nand, a chip object, or a chip .json/.yaml file')],
    ['sigma < 0', { sigmas: [0.2, -0.1] }, new ConfigError('sigmas[1]', -0.1, 'a finite number >= 0')],
    ['sigma NaN', { sigmas: [NaN] }, new ConfigError('sigmas[0]', NaN, 'a finite number >= 0')],
    ['votes 0', { votes: [1, 0] }, new ConfigError('votes[1]', 0, 'a positive integer')],
    ['votes non-integer', { votes: [2.5] }, new ConfigError('votes[0]', 2.5, 'a positive integer')],
    ['empty models', { models: [] }, new ConfigError('models', [], 'a non-empty list of model names')],
    ['sigmas not a list', { sigmas: 0.4 }, new ConfigError('sigmas', 0.4, 'a non-empty list of numbers >= 0')],
    [
      'duplicate sigma',
      { sigmas: [0, 0.2, 0.2] },
      new ConfigError('sigmas[2]', 0.2, 'distinct entries (the same value is already sigmas[1])'),
    ],
    [
      'duplicate device',
      { devices: ['pcm', 'pcm'] },
      new ConfigError('devices[1]', 'pcm', 'distinct entries (the same value is already devices[0])'),
    ],
    ['unknown noise', { noise: ['gaussian'] }, new ConfigError('noise[0]', 'gaussian', 'one of multiplicative, additive, device')],
    ['unknown semantics', { semantics: ['pass'] }, new ConfigError('semantics[0]', 'pass', 'one of passes, replicas, signal')],
    ['negative seed', { seeds: [-1] }, new ConfigError('seeds[0]', -1, 'an integer in [0, 2^53)')],
    ['bad root seed', { rootSeed: 1.5 }, new ConfigError('rootSeed', 1.5, 'an integer in [0, 2^53)')],
    [
      'dataset limit 0',
      { dataset: { name: 'mnist', limit: 0 } },
      new ConfigError('dataset.limit', 0, 'a positive integer, or null for the whole dataset'),
    ],
    ['dataset without name', { dataset: { limit: 5 } }, new ConfigError('dataset.name', undefined, 'a non-empty string')],
    [
      'misspelt field',
      { sigma: [0.1] },
      new ConfigError(
        'sigma',
        [0.1],
        'no such study field; known fields: models, devices, axes, zip, noise, sigmas, noiseSites, votes, semantics, seeds, dataset, rootSeed',
      ),
    ],
  ])('%s', (_name, patch, expected) => {
    expectThrows(() => validateStudyConfig({ ...base, ...patch }, KNOWN_DEVICES), expected);
  });

  test('sigmas default to [0] (chip studies give none)', () => {
    expect(validateStudyConfig({ ...base, sigmas: undefined }, KNOWN_DEVICES).sigmas).toEqual([0]);
  });

  test('not an object', () => {
    expect(() => validateStudyConfig([1], KNOWN_DEVICES)).toThrow(ConfigError);
  });

  test('the known device list is the one passed in', () => {
    expect(validateStudyConfig({ ...base, devices: ['myChip'] }, ['myChip']).devices).toEqual(['myChip']);
    expectThrows(
      () => validateStudyConfig({ ...base, devices: ['pcm'] }, []),
      new ConfigError('devices[0]', 'pcm', 'one of (none known), a chip object, or a chip .json/.yaml file'),
    );
  });
});

describe('expandGrid', () => {
  const config = fixtureConfig();
  const points = expandGrid(config);

  test('is the full product in a fixed order, votes varying fastest', () => {
    expect(points).toHaveLength(2 * 2 * 3 * 2);
    expect(points.map((p) => p.index)).toEqual(points.map((_, i) => i));
    const key = (p: StudyPoint): string => `${p.model}/${p.device}/${p.sigma}/${p.votes}`;
    expect(points.slice(0, 7).map(key)).toEqual([
      'cnn6/reram/0/1',
      'cnn6/reram/0/5',
      'cnn6/reram/0.5/1',
      'cnn6/reram/0.5/5',
      'cnn6/reram/1/1',
      'cnn6/reram/1/5',
      'cnn6/pcm/0/1',
    ]);
    expect(key(points[23])).toBe('lstm/pcm/1/5');
    expect(expandGrid(fixtureConfig())).toEqual(points);
  });

  test('ids are distinct 16-digit hex strings; seeds are integers below 2^53', () => {
    expect(new Set(points.map((p) => p.id)).size).toBe(points.length);
    for (const p of points) {
      expect(p.id).toMatch(/^[0-9a-f]{16}$/);
      const seed = pointSeed(p, config.rootSeed);
      expect(Number.isSafeInteger(seed) && seed >= 0).toBe(true);
    }
  });

  test('pointId and pointSeed do not depend on the other entries of the lists or their order', () => {
    const other = expandGrid(
      fixtureConfig({ devices: ['nand', 'pcm', 'reram'], sigmas: [1, 0.25, 0.5, 0], models: ['lstm', 'cnn6'], seeds: [1, 0] }),
    );
    expect(other).toHaveLength(2 * 3 * 4 * 2);
    let moved = 0;
    for (const p of points) {
      const twin = other.find(
        (q) => q.model === p.model && q.device === p.device && q.sigma === p.sigma && q.votes === p.votes,
      )!;
      if (twin.index !== p.index) moved++;
      expect(twin.id).toBe(p.id);
      expect(pointSeed(twin, 3)).toBe(pointSeed(p, 3));
    }
    expect(moved).toBeGreaterThan(points.length / 2);
  });

  test('pointId changes with any config field and with the seed list', () => {
    const p = points[0];
    const variants = [
      { ...p, sigma: 0.1 },
      { ...p, votes: 3 },
      { ...p, device: 'nand' },
      { ...p, model: 'x' },
      { ...p, noise: 'additive' as const },
      { ...p, semantics: 'replicas' as const },
      { ...p, seeds: [0] },
      { ...p, dataset: { name: 'mnist', limit: 101 } },
    ];
    const ids = new Set([p.id, ...variants.map(pointId)]);
    expect(ids.size).toBe(variants.length + 1);
  });

  test('pointSeed: shared across votes (common random numbers), distinct otherwise, and follows rootSeed', () => {
    const [v1, v5, sigmaNext] = [points[0], points[1], points[2]];
    expect(v1.votes).toBe(1);
    expect(v5.votes).toBe(5);
    expect(pointSeed(v1, 3)).toBe(pointSeed(v5, 3));
    expect(pointSeed(sigmaNext, 3)).not.toBe(pointSeed(v1, 3));
    expect(pointSeed(v1, 4)).not.toBe(pointSeed(v1, 3));
    const perPoint = new Set(points.filter((p) => p.votes === 1).map((p) => pointSeed(p, 3)));
    expect(perPoint.size).toBe(points.length / 2);
    // replicate streams: seed s is the same stream whichever other seeds are listed
    const rng = Rng.fromSeed(pointSeed(v1, 3));
    expect(replicateRng(rng, 1).keyHex).toBe(replicateRng(Rng.fromSeed(pointSeed(v1, 3)), 1).keyHex);
    expect(replicateRng(rng, 0).keyHex).not.toBe(replicateRng(rng, 1).keyHex);
  });
});
