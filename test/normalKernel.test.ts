/**
 * The WebAssembly rectangle loop of `Rng.fillNormal` (`src/normalKernel.wat`): its
 * embedded bytes are the assembled source, and it draws exactly what the JavaScript
 * loop draws, at every length and chunk boundary.
 */
import { Rng, useNormalKernel } from '../src/rng';
import { NORMAL_KERNEL_WASM_BASE64 } from '../src/normalKernelWasm';
import { assembleKernel, kernelSource } from '../scripts/buildKernels';

afterEach(() => useNormalKernel(true));

function draw(seed: number, n: number, mean: number, std: number, kernel: boolean): Float32Array {
  useNormalKernel(kernel);
  const out = new Float32Array(n);
  Rng.fromSeed(seed).fold('k').fillNormal(out, mean, std);
  return out;
}

describe('the WebAssembly normal kernel', () => {
  test('the embedded bytes are src/normalKernel.wat assembled (npm run build:kernels)', async () => {
    const bytes = await assembleKernel('normalKernel');
    expect(Buffer.from(NORMAL_KERNEL_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true);
    expect(kernelSource('normalKernel', bytes)).toContain('NORMAL_KERNEL_WASM_BASE64');
  });

  test.each([64, 4095, 4096, 4097, 25_088, 100_003])('gives the JavaScript loop’s bits for %i draws', (n) => {
    const wasm = draw(n, n, 1, 0.4, true);
    const js = draw(n, n, 1, 0.4, false);
    expect(Buffer.from(wasm.buffer).equals(Buffer.from(js.buffer))).toBe(true);
  });

  test('leaves the stream where the JavaScript loop does (the next draws agree too)', () => {
    const next = (kernel: boolean) => {
      useNormalKernel(kernel);
      const r = Rng.fromSeed(5);
      r.fillNormal(new Float32Array(10_000));
      const after = new Float32Array(300);
      r.fillNormal(after, 0, 2);
      return Array.from(after).concat([r.uniform()]);
    };
    expect(next(true)).toEqual(next(false));
  });
});
