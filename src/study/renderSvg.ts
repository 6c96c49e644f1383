/**
 * Headless SVG rendering of vega-lite specs: vega-lite compiles the spec to a
 * vega spec, and a vega `View` with `renderer: 'none'` draws it to SVG text
 * without a canvas or a browser.
 *
 * vega and vega-lite are imported on first use, not at module load: together
 * they take over 100 ms to load, which no command that does not plot should pay.
 */
import type { TopLevelSpec } from 'vega-lite';

/** A rendered plot and what vega-lite or vega warned about while drawing it. */
export interface RenderedSvg {
  /** A standalone SVG document: text starting with `<svg`. */
  readonly svg: string;
  /** Warnings and errors logged by vega-lite and vega (they would otherwise go to the console). */
  readonly warnings: readonly string[];
}

/** Renders one vega-lite spec to SVG, collecting (not printing) the libraries' warnings. */
export async function renderSvg(spec: TopLevelSpec): Promise<RenderedSvg> {
  const [vegaLite, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const warnings: string[] = [];
  // vega passes the handler its caller's `arguments` object, not an array.
  const logger = vega.logger(vega.Warn, undefined, (_method, level, input) => {
    warnings.push(`${level}: ${Array.from(input as ArrayLike<unknown>, (v) => (v instanceof Error ? v.message : String(v))).join(' ')}`);
  });
  const compiled = vegaLite.compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
  try {
    return { svg: await view.toSVG(), warnings };
  } finally {
    view.finalize();
  }
}
