/**
 * Headless SVG rendering of vega-lite specs: vega-lite compiles the spec to a
 * vega spec, and a vega `View` with `renderer: 'none'` draws it to SVG text
 * without a canvas or a browser.
 *
 * vega and vega-lite are imported on first use, not at module load: together
 * they take over 100 ms to load, which no command that does not plot should pay.
 */
import type { TopLevelSpec } from 'vega-lite';

/** Renders one vega-lite spec to a standalone SVG document (text starting with `<svg`). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vegaLite, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
