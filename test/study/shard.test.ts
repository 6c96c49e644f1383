import { ConfigError } from '../../src/errors';
import { expandGrid } from '../../src/study/grid';
import { formatShard, parseShard, resolveShard, selectShard, shardFromEnv, WHOLE_GRID } from '../../src/study/shard';
import { expectThrows } from '../helpers/expectThrows';
import { fixtureConfig } from './fixtures/studyConfig';

const SHARD_EXPECTED = 'i/n with integers 1 <= i <= n (1-based), e.g. 1/4';

describe('parseShard', () => {
  test('1-based i/n', () => {
    expect(parseShard('1/1')).toEqual({ index: 0, count: 1 });
    expect(parseShard('2/4')).toEqual({ index: 1, count: 4 });
    expect(parseShard(' 4 / 4 ')).toEqual({ index: 3, count: 4 });
    expect(formatShard(parseShard('3/7'))).toBe('3/7');
  });
  test.each(['3/2', '0/0', '0/4', 'a/b', '1/', '/2', '', '1/2/3', '-1/2', '1.5/2', '2'])('%j is a ConfigError', (spec) => {
    expectThrows(() => parseShard(spec), new ConfigError('shard', spec, SHARD_EXPECTED));
  });
});

describe('shardFromEnv', () => {
  test('nothing set: null', () => {
    expect(shardFromEnv({ PATH: '/bin' })).toBeNull();
  });
  test('Slurm array, 0-based ids', () => {
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 2, count: 4 });
  });
  test('Slurm array with --array=1-4 and with a step', () => {
    expect(
      shardFromEnv({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1' }),
    ).toEqual({ index: 3, count: 4 });
    expect(
      shardFromEnv({
        SLURM_ARRAY_TASK_ID: '14',
        SLURM_ARRAY_TASK_COUNT: '8',
        SLURM_ARRAY_TASK_MIN: '0',
        SLURM_ARRAY_TASK_STEP: '2',
      }),
    ).toEqual({ index: 7, count: 8 });
  });
  test('Slurm errors', () => {
    expectThrows(
      () => shardFromEnv({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' }),
      new ConfigError('SLURM_ARRAY_TASK_ID', '4', 'a task index below the shard count (4)'),
    );
    expectThrows(
      () => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1' }),
      new ConfigError('SLURM_ARRAY_TASK_COUNT', undefined, 'a positive integer'),
    );
    expectThrows(
      () => shardFromEnv({ SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '2' }),
      new ConfigError('SLURM_ARRAY_TASK_ID', 'x', 'a non-negative integer'),
    );
  });
  test('Kubernetes Indexed Job needs the count', () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0' }, 3)).toEqual({ index: 0, count: 3 });
    expectThrows(
      () => shardFromEnv({ JOB_COMPLETION_INDEX: '0' }),
      new ConfigError('shard count', undefined, "the Indexed Job's completions, given explicitly with JOB_COMPLETION_INDEX"),
    );
    expectThrows(
      () => shardFromEnv({ JOB_COMPLETION_INDEX: '3' }, 3),
      new ConfigError('JOB_COMPLETION_INDEX', '3', 'a task index below the shard count (3)'),
    );
  });
  test('both schedulers at once is ambiguous', () => {
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '0', SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '2' }, 2)).toThrow(
      ConfigError,
    );
  });
  test('resolveShard: --shard wins over the environment, then env, then the whole grid', () => {
    const env = { JOB_COMPLETION_INDEX: '1' };
    expect(resolveShard({ shard: '1/2', env, count: 2 })).toEqual({ index: 0, count: 2 });
    expect(resolveShard({ env, count: 2 })).toEqual({ index: 1, count: 2 });
    expect(resolveShard({ env: {} })).toEqual(WHOLE_GRID);
  });
});

describe('selectShard', () => {
  const points = expandGrid(fixtureConfig());

  test.each([1, 2, 3, 5, 7, 24, 30])('%i shards: disjoint, union is the grid, sizes differ by at most one', (n) => {
    const shards = Array.from({ length: n }, (_, i) => selectShard(points, { index: i, count: n }));
    const ids = shards.flatMap((s) => s.map((p) => p.id));
    expect(ids).toHaveLength(points.length);
    expect(new Set(ids)).toEqual(new Set(points.map((p) => p.id)));
    const sizes = shards.map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    for (const s of shards) expect(s.map((p) => p.index)).toEqual([...s.map((p) => p.index)].sort((a, b) => a - b));
  });

  test('round robin by grid index', () => {
    expect(selectShard(points, { index: 1, count: 5 }).map((p) => p.index)).toEqual([1, 6, 11, 16, 21]);
  });

  test('bad shard objects', () => {
    expectThrows(
      () => selectShard(points, { index: 2, count: 2 }),
      new ConfigError('shard.index', 2, 'an integer in 0..1 (0-based)'),
    );
    expectThrows(() => selectShard(points, { index: 0, count: 0 }), new ConfigError('shard.count', 0, 'a positive integer'));
  });
});
