/**
 * A one-line progress bar with ETA for long commands, redrawn in place with `\r`.
 * Shown only on an interactive terminal and never in CI, where a carriage-return
 * animation would fill the log with lines.
 */

/** Environment variables, as `process.env` holds them. */
type Env = Readonly<Record<string, string | undefined>>;

/** Whether `env` says this is a CI run (`CI` set to anything but empty, `0` or `false`). */
export function isCi(env: Env): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** Whether to draw a progress bar on `stream`: a TTY, outside CI. */
export function showsProgress(stream: { readonly isTTY?: boolean }, env: Env): boolean {
  return stream.isTTY === true && !isCi(env);
}

/** `m:ss`, or `h:mm:ss` from an hour, rounded to the second. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Where a run stands: `done` of `total` items, of which `computed` by this run in `elapsedMs`. */
export interface ProgressState {
  readonly done: number;
  readonly total: number;
  /** Items this run computed; the ETA extrapolates their rate (items found already done cost nothing). */
  readonly computed: number;
  readonly elapsedMs: number;
}

/**
 * The bar as text (no `\r`): `[#######.............] 7/20 points  35%  0:14 elapsed  ETA 0:26`.
 * The ETA is `?` until this run has computed an item.
 */
export function formatProgressLine(state: ProgressState, barWidth = 24, unit = 'points'): string {
  const fraction = state.total > 0 ? Math.min(1, state.done / state.total) : 1;
  const filled = Math.round(fraction * barWidth);
  const remaining = state.total - state.done;
  const eta =
    remaining <= 0 ? '0:00' : state.computed > 0 ? formatDuration((state.elapsedMs / state.computed) * remaining) : '?';
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${state.done}/${state.total} ${unit}  ` +
    `${Math.floor(100 * fraction)}%  ${formatDuration(state.elapsedMs)} elapsed  ETA ${eta}`
  );
}

/** Draws {@link formatProgressLine} in place on `stream`; `end()` moves past the bar. */
export function progressBar(stream: { write(text: string): unknown }): {
  update(state: ProgressState): void;
  end(): void;
} {
  let drawn = false;
  return {
    update(state) {
      // \x1b[K clears what a longer previous line left on the right.
      stream.write(`\r${formatProgressLine(state)}\x1b[K`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
