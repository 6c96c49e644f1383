import { formatDuration, formatProgressLine, isCi, progressBar, showsProgress } from '../../src/cli/progressBar';

describe('progress bar', () => {
  test('durations', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(59_499)).toBe('0:59');
    expect(formatDuration(59_500)).toBe('1:00');
    expect(formatDuration(3_599_000)).toBe('59:59');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(-5)).toBe('0:00');
  });

  test('the ETA extrapolates the rate of the points this run computed, not those found done', () => {
    // 10 of 40 done, 4 of them computed in 8 s: 2 s per point, 30 left → 60 s.
    expect(formatProgressLine({ done: 10, total: 40, computed: 4, elapsedMs: 8000 }, 20)).toBe(
      '[#####...............] 10/40 points  25%  0:08 elapsed  ETA 1:00',
    );
    expect(formatProgressLine({ done: 6, total: 40, computed: 0, elapsedMs: 10 }, 10)).toBe(
      '[##........] 6/40 points  15%  0:00 elapsed  ETA ?',
    );
    expect(formatProgressLine({ done: 40, total: 40, computed: 40, elapsedMs: 61_000 }, 4)).toBe(
      '[####] 40/40 points  100%  1:01 elapsed  ETA 0:00',
    );
    expect(formatProgressLine({ done: 0, total: 0, computed: 0, elapsedMs: 0 }, 4)).toBe(
      '[####] 0/0 points  100%  0:00 elapsed  ETA 0:00',
    );
  });

  test('redraws in place with \\r and ends with one newline', () => {
    const written: string[] = [];
    const bar = progressBar({ write: (t: string) => written.push(t) });
    bar.end(); // nothing drawn: nothing to end
    bar.update({ done: 1, total: 2, computed: 1, elapsedMs: 1000 });
    bar.update({ done: 2, total: 2, computed: 2, elapsedMs: 2000 });
    bar.end();
    expect(written).toEqual([
      `\r${formatProgressLine({ done: 1, total: 2, computed: 1, elapsedMs: 1000 })}\x1b[K`,
      `\r${formatProgressLine({ done: 2, total: 2, computed: 2, elapsedMs: 2000 })}\x1b[K`,
      '\n',
    ]);
  });

  test('shown on a terminal, never in CI or when piped', () => {
    expect(isCi({})).toBe(false);
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({ CI: '1' })).toBe(true);
    expect(isCi({ CI: 'false' })).toBe(false);
    expect(isCi({ CI: '0' })).toBe(false);
    expect(isCi({ CI: '' })).toBe(false);
    expect(showsProgress({ isTTY: true }, {})).toBe(true);
    expect(showsProgress({ isTTY: true }, { CI: 'true' })).toBe(false);
    expect(showsProgress({ isTTY: false }, {})).toBe(false);
    expect(showsProgress({}, {})).toBe(false);
  });
});
