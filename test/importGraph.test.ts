/**
 * Imports run one way: cli → study → models → compiler → crossbar, with data
 * standing alone (design §2). Walks every import under src/ and fails on a
 * backwards one, naming the file and the import.
 */
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.join(__dirname, '..', 'src');
const LAYER: Record<string, number> = { crossbar: 0, compiler: 1, models: 2, study: 3, cli: 4 };
/** Shared foundation files any layer may use. */
const FOUNDATION = new Set(['errors', 'rng', 'normalKernelWasm', 'units', 'backend']);

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

function areaOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? rel[0].replace(/\.ts$/, '') : rel[0];
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"](\.[^'"]+)['"]/g)) found.push(m[1]);
  return found.map((spec) => path.resolve(path.dirname(file), spec));
}

describe('import direction', () => {
  it('has no backwards import between src areas', () => {
    const violations: string[] = [];
    for (const file of walk(SRC)) {
      const from = areaOf(file);
      if (from === 'index') continue; // the public face re-exports everything
      for (const target of importsOf(file)) {
        const to = areaOf(target.endsWith('.ts') ? target : `${target}.ts`);
        if (to === from || FOUNDATION.has(to)) continue;
        const rel = `${path.relative(SRC, file)} imports ${path.relative(SRC, target)}`;
        if (to === 'index') violations.push(`${rel} (the public index)`);
        else if (from === 'data') violations.push(`${rel} (data stands alone)`);
        else if (FOUNDATION.has(from)) violations.push(`${rel} (foundation files import no area)`);
        else if (to !== 'data' && LAYER[to] > LAYER[from]) violations.push(rel);
      }
    }
    expect(violations).toEqual([]);
  });

  it('detects a backwards import (the check itself can fail)', () => {
    expect(LAYER.crossbar).toBeLessThan(LAYER.compiler);
    expect(areaOf(path.join(SRC, 'crossbar', 'tile.ts'))).toBe('crossbar');
    expect(areaOf(path.join(SRC, 'rng.ts'))).toBe('rng');
  });
});
