/**
 * jest's node environment with the host realm's typed-array constructors. Native
 * addons (onnxruntime-node) create their output arrays in the host realm, and
 * onnxruntime-common checks `data instanceof Float32Array` against the sandbox's
 * constructor, which fails across realms (microsoft/onnxruntime#16622); sharing the
 * constructors makes both sides agree, as they do outside jest.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = NodeRealmEnvironment;
