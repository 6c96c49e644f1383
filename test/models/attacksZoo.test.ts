/**
 * The zoo's adversarially trained models (manifest entries with `adversarial`)
 * against their manifest: noiseless accuracy on every 5th embedded MNIST test
 * digit, and PGD accuracy under the recorded training attack on the first test
 * digits, each within 4 binomial standard errors plus a margin. (test/models/
 * zooAccuracy.test.ts checks every CNN-6 entry's noiseless accuracy as well.)
 */
import { initBackend, tf } from '../../src/backend';
import { embeddedMnistDir, loadMnist } from '../../src/data';
import { loadZooModel, readZooManifest, type ZooEntry } from '../../src/models/zoo';
import { pgdAttack } from '../../src/models/attacks/pgd';
import type { AdversarialTrainingRecord } from '../../src/models/attacks/adversarialTraining';
import { layersAccuracy } from '../../src/models/attacks/transfer';

type AdversarialEntry = ZooEntry & { adversarial: AdversarialTrainingRecord & { pgdTestAccuracy?: number } };
const entries = readZooManifest().models.filter((m) => 'adversarial' in m) as AdversarialEntry[];

beforeAll(async () => {
  await initBackend();
});

function withinBinomial(measured: number, manifest: number, n: number, margin: number): void {
  const se = Math.sqrt((Math.max(manifest, 0.01) * (1 - Math.min(manifest, 0.99))) / n);
  expect(Math.abs(measured - manifest)).toBeLessThanOrEqual(4 * se + margin);
}

(entries.length > 0 ? describe : describe.skip)('adversarially trained zoo models reproduce their manifest', () => {
  const test = loadMnist(embeddedMnistDir(), 'test');
  const n = 2000;
  const every = new Float32Array(n * 784);
  const everyLabels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    every.set(test.images.subarray(i * 5 * 784, (i * 5 + 1) * 784), i * 784);
    everyLabels[i] = test.labels[i * 5];
  }

  it.each(entries.map((e) => [e.name, e] as const))('%s', async (_name, entry) => {
    expect(entry.command).toMatch(/^ohmic adversarial-train /);
    expect(entry.sigmaTrain).toBe(0);
    expect(entry.adversarial.attack).toBe('pgd');
    const model = await loadZooModel(entry.name);
    withinBinomial(layersAccuracy(model, { x: every, labels: everyLabels }, [n, 28, 28, 1]), entry.testAccuracy, n, 0.005);
    if (entry.adversarial.pgdTestAccuracy !== undefined) {
      const m = 100;
      const a = entry.adversarial;
      const seed = Number(/seed (\d+)/.exec((entry.adversarial as { pgdTestData?: string }).pgdTestData ?? '')?.[1] ?? entry.seed + 1);
      const r = pgdAttack(
        model,
        { x: test.images.subarray(0, m * 784), labels: test.labels.subarray(0, m), shape: [m, 28, 28, 1] },
        { eps: a.eps, stepSize: a.stepSize, iterations: a.iterations, restarts: 1, seed },
      );
      withinBinomial(1 - r.fooled.reduce((s, f) => s + f, 0) / m, a.pgdTestAccuracy!, m, 0.02);
    }
    model.dispose();
  });
});
