/**
 * `npm run bench -- NAME [NAME…]` runs the named benchmarks (bench/NAME.bench.ts);
 * with no name it lists them. Benchmarks print tables and ratios measured side by
 * side in one run; they never assert timings.
 */
import * as fs from 'fs';
import * as path from 'path';

async function main(): Promise<void> {
  const available = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.replace(/\.bench\.ts$/, ''))
    .sort();
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  if (names.length === 0) {
    process.stdout.write(`usage: npm run bench -- <${available.join('|')}> [...]\n`);
    return;
  }
  for (const name of names) {
    if (!available.includes(name)) {
      process.stderr.write(`unknown benchmark '${name}'; available: ${available.join(', ')}\n`);
      process.exitCode = 2;
      return;
    }
    const mod = (await import(path.join(__dirname, `${name}.bench`))) as { run: (args: string[]) => Promise<void> };
    await mod.run(process.argv.slice(2));
  }
}

void main();
