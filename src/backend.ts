/**
 * TensorFlow.js set-up in one place. The wasm backend (XNNPACK) is the default in
 * Node: on a 2-core machine it measured ~20 GFLOP/s for float32 matMul against
 * ~0.7 for the pure-JS `cpu` backend. Its .wasm binaries are resolved from
 * node_modules, never fetched. If wasm cannot start, we fall back to `cpu` and say
 * so once through the `warn` callback. Every result records `backendName()`.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as path from 'path';

export type BackendName = 'wasm' | 'cpu';

let ready: Promise<BackendName> | undefined;
let warned = false;

function wasmDir(): string {
  const entry = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
  return path.dirname(entry) + path.sep;
}

/**
 * Initialise TensorFlow.js once per process. Later calls return the same promise.
 * @param prefer the backend to try first; `OHMIC_BACKEND=cpu` in the environment
 *   is read by the CLI and passed here, never read inside the library.
 * @param warn receives the one fallback warning (default: `process.emitWarning`).
 */
export function initBackend(
  prefer: BackendName = 'wasm',
  warn: (message: string) => void = (m) => process.emitWarning(m),
): Promise<BackendName> {
  if (ready) return ready;
  ready = (async () => {
    if (prefer === 'wasm') {
      try {
        setWasmPaths(wasmDir());
        if (await tf.setBackend('wasm')) {
          await tf.ready();
          return 'wasm' as const;
        }
        throw new Error('tf.setBackend("wasm") returned false');
      } catch (err) {
        if (!warned) {
          warned = true;
          warn(`ohmic: wasm backend unavailable (${(err as Error).message}); using the slower cpu backend`);
        }
      }
    }
    await tf.setBackend('cpu');
    await tf.ready();
    return 'cpu' as const;
  })();
  return ready;
}

/** Name of the active TensorFlow.js backend (for result records). */
export function backendName(): string {
  return tf.getBackend();
}

export { tf };
