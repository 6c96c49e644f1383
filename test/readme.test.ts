/**
 * The README's library example, run as written (imports rewritten from 'ohmic' to
 * the source tree), so the documented API cannot drift from the real one.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ohmic from '../src';

function readmeExample(): string {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const m = /## Library example\s+```ts\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README has no "## Library example" ts block');
  return m[1];
}

describe('README library example', () => {
  it('runs as written and prints the output shape and a layer cost', async () => {
    const code = readmeExample();
    const importLine = /import \{([^}]*)\} from 'ohmic';\n/.exec(code);
    expect(importLine).not.toBeNull();
    const names = importLine![1].split(',').map((s) => s.trim());
    for (const n of names) expect(ohmic).toHaveProperty(n);
    const body = code.replace(importLine![0], '').replace(/\nmain\(\);\s*$/, '\nreturn main();');
    const logs: unknown[][] = [];
    const fakeConsole = { log: (...args: unknown[]) => logs.push(args) };
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const fn = new Function(...names, 'console', body.replace(/: tf\.Tensor2D/g, '').replace(/ as tf\.Tensor2D/g, ''));
    await fn(...names.map((n) => (ohmic as Record<string, unknown>)[n]), fakeConsole);
    expect(logs).toHaveLength(1);
    expect(logs[0][0]).toEqual([8, 64]);
    const cost = logs[0][1] as ohmic.LayerCost;
    expect(cost.tiles).toBe(2);
    expect(cost.stageTimeNs).toBeCloseTo(ohmic.pcm().readPulseNs + ohmic.pcm().adcConversionNs, 9);
  });
});

describe('README inference-engine example', () => {
  it('runs as written on the onnxruntime engine and streams 512 digits', async () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const m = /## Inference engine[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
    expect(m).not.toBeNull();
    const code = m![1];
    const importLine = /import \{([^}]*)\} from 'ohmic';\n/.exec(code)!;
    const names = importLine[1].split(',').map((s) => s.trim());
    for (const n of names) expect(ohmic).toHaveProperty(n);
    const body = code.replace(importLine[0], '').replace(/\nmain\(\);\s*$/, '\nreturn main();');
    const logs: unknown[][] = [];
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const fn = new Function(...names, 'console', body);
    await fn(...names.map((n) => (ohmic as Record<string, unknown>)[n]), { log: (...args: unknown[]) => logs.push(args) });
    expect(logs).toEqual([[512, 'digits']]);
  });
});
