import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { ConfigError } from '../../src/errors';
import { readZooManifest } from '../../src/models/zoo';
import { runCli } from '../helpers/cli';
import { describeWithShared, SHARED_DATASETS } from '../data/sharedData';

beforeAll(async () => {
  await initBackend();
});

describeWithShared('ohmic train', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-train-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const train = (name: string, extra: string[]) =>
    runCli(['train', '--model', 'cnn6', '--epochs', '1', '--limit', '32', '--data', SHARED_DATASETS, '--out', path.join(dir, name), '--checkpoint-dir', path.join(dir, `ck-${name}`), ...extra]);

  it('writes a zoo entry, and --init-from fine-tunes from one and records it', async () => {
    await train('base', ['--sigma-train', '0']);
    await train('tuned', ['--sigma-train', '0.4', '--init-from', 'zoo:base']);
    const manifest = readZooManifest(dir);
    const tuned = manifest.models.find((m) => m.name === 'tuned')!;
    expect(tuned.fineTunedFrom).toBe('base');
    expect(tuned.sigmaTrain).toBe(0.4);
    expect(tuned.testAccuracy).toBeGreaterThan(0);
    expect(manifest.models.find((m) => m.name === 'base')!.fineTunedFrom).toBeUndefined();
    await expect(
      runCli(['train', '--model', 'madryCnn4', '--epochs', '1', '--limit', '32', '--data', SHARED_DATASETS, '--out', path.join(dir, 'x'), '--init-from', 'zoo:base']),
    ).rejects.toThrow(/--init-from = "zoo:base": expected a zoo model with the weights of madryCnn4 \(shapes differ\)/);
    await expect(train('y', ['--init-from', 'zoo:nothing'])).rejects.toThrow(ConfigError);
  });
});
