#!/usr/bin/env bash
# npm pack → a fresh project installs the tarball → `import { … } from 'ohmic'`
# type-checks against the shipped .d.ts and runs, and the `ohmic` bin answers --help.
# skipLibCheck: tfjs 4.22's own .d.ts files fail strict lib checking; ohmic's types are still checked at every use.
# Run by hand (it installs from the npm registry): bash test/pack/smoke.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$repo"
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund "./$tarball" "typescript@5.9" "@types/node@20" >/dev/null
cat > smoke.ts <<'TS'
import { initBackend, tf, Rng, reram, validateChipSpec, programLayer, analogMvm, loadMnist, embeddedMnistDir } from 'ohmic';
import type { ChipSpec } from 'ohmic';
async function main(): Promise<void> {
  const backend = await initBackend();
  const chip: ChipSpec = validateChipSpec({ device: reram(), tile: '64x64' });
  const w = new Float32Array(100 * 10);
  Rng.fromSeed(1).fillNormal(w);
  const layer = programLayer({ data: w, fanIn: 100, fanOut: 10 }, chip, Rng.fromSeed(2));
  const y = analogMvm(layer, tf.ones([2, 100]) as tf.Tensor2D, Rng.fromSeed(3));
  const digits = loadMnist(embeddedMnistDir(), 'test', { limit: 10 });
  console.log(JSON.stringify({ backend, shape: y.shape, digits: digits.count }));
}
main();
TS
npx tsc --strict --module commonjs --target es2022 --esModuleInterop --skipLibCheck --types node smoke.ts
out="$(node smoke.js)"
echo "$out"
echo "$out" | grep -q '"shape":\[2,10\]'
echo "$out" | grep -q '"digits":10'
npx ohmic --help | grep -q 'schedule'
echo "pack smoke: OK ($tarball)"
