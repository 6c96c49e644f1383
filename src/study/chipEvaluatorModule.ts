/**
 * Where the chip evaluator (`chipEvaluator`, beside this file) lives, as an
 * {@link EvaluatorModule} a worker thread can load.
 *
 * The path is built from this file's own name, so it points at
 * `src/study/chipEvaluator.ts` when running from source (tsx, jest) and at
 * `dist/study/chipEvaluator.js` when running the compiled package.
 */
import * as path from 'node:path';
import type { EvaluatorModule } from './evaluator';

/** The chip evaluator's factory export. */
export const CHIP_EVALUATOR_EXPORT = 'createChipEvaluator';

/** Absolute path of the chip evaluator module, with the extension this file has (`.ts` or `.js`). */
export function chipEvaluatorPath(): string {
  return path.join(__dirname, `chipEvaluator${path.extname(__filename)}`);
}

/** The chip evaluator as a loadable module, its factory called with `options`. */
export function chipEvaluatorModule(options: unknown = {}): EvaluatorModule {
  return { modulePath: chipEvaluatorPath(), exportName: CHIP_EVALUATOR_EXPORT, options };
}
