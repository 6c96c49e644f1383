/**
 * `ohmic attack` and `ohmic adversarial-train` end to end at toy sizes, and
 * their argument errors (typed, naming the flag, the value and what was expected).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../src/backend';
import { ConfigError, DataError } from '../../src/errors';
import { decodeNpyFloat32 } from '../../src/compiler/npy';
import { embeddedMnistDir, loadMnist } from '../../src/data';
import { readZooManifest } from '../../src/models/zoo';
import { parseAttackFlags } from '../../src/cli/commands/attack';
import { runCli } from '../helpers/cli';
import { describeWithShared, SHARED_DATASETS } from '../data/sharedData';

beforeAll(async () => {
  await initBackend();
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-attack-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const BASE = ['attack', '--source', 'zoo:cnn6-mnist-mult-0', '--target', 'zoo:cnn6-mnist-mult-0.2'];

describe('ohmic attack: argument errors', () => {
  const flags = { target: 'zoo:x', dataset: 'mnist', sigma: '0,0.1', runs: '20', seed: '0', batch: '100', out: dir, eotSamples: '8', whiteBoxRestarts: '1' };
  it.each([
    [{ source: undefined }, /--source = undefined: expected a source model to attack/],
    [{ source: 'zoo:a', examples: 'x.npy' }, /--examples = "x.npy": expected to be left out with --source/],
    [{ source: 'zoo:a', eps: '-0.1' }, /--eps = "-0.1": expected a number in \[0, 1\]/],
    [{ source: 'zoo:a', eps: '0x1' }, /--eps = "0x1": expected a number in decimal notation/],
    [{ source: 'zoo:a', iters: '2.5' }, /--iters = "2.5": expected an integer >= 0/],
    [{ source: 'zoo:a', restarts: '0' }, /--restarts = "0": expected an integer >= 1/],
    [{ source: 'zoo:a', sigma: '0,-1' }, /--sigma\[1\] = -1: expected a number >= 0/],
    [{ source: 'zoo:a', sigma: '0,abc' }, /--sigma\[1\] = "abc": expected a number >= 0/],
    [{ source: 'zoo:a', devices: 'reram,flash' }, /--devices\[1\] = "flash": expected one of/],
    [{ source: 'zoo:a', runs: '0' }, /--runs = "0": expected an integer >= 1/],
    [{ source: 'zoo:a', limit: '0' }, /--limit = "0": expected an integer >= 1/],
    [{ source: 'zoo:a', dataset: 'svhn' }, /--dataset = "svhn": expected one of mnist, cifar10-heldout/],
    [{ source: 'zoo:a', preset: 'imagenet' }, /--preset = "imagenet": expected one of mnist, cifar10/],
    [{ source: 'zoo:a', whiteBoxSigma: '0' }, /--white-box-sigma = "0": expected a number > 0/],
  ])('flags %j → ConfigError', (extra, message) => {
    expect(() => parseAttackFlags({ ...flags, ...extra })).toThrow(ConfigError);
    expect(() => parseAttackFlags({ ...flags, ...extra })).toThrow(message);
  });

  it('fills the dataset\'s Table 10 preset and lets flags override it', () => {
    const plan = parseAttackFlags({ ...flags, source: 'zoo:a' });
    expect(plan.attack).toEqual({ eps: 0.3, stepSize: 0.05, iterations: 20, restarts: 20 });
    expect(plan.sigmas).toEqual([0, 0.1]);
    const cifar = parseAttackFlags({ ...flags, source: 'zoo:a', dataset: 'cifar10-heldout', iters: '3' });
    expect(cifar.attack).toEqual({ eps: 8 / 255, stepSize: 2 / 255, iterations: 3, restarts: 10 });
  });

  it('refuses an unknown zoo model, a missing examples file and a non-tfjs source through the real command', async () => {
    const out = path.join(dir, 'errors');
    await expect(runCli(['attack', '--source', 'zoo:nope', '--target', 'zoo:cnn6-mnist-mult-0', '--limit', '2', '--out', out])).rejects.toThrow(
      /zoo model = "nope": expected one of/,
    );
    await expect(runCli(['attack', '--examples', path.join(dir, 'none.npy'), '--target', 'zoo:cnn6-mnist-mult-0', '--out', out])).rejects.toThrow(DataError);
    await expect(runCli(['attack', '--source', 'model.onnx', '--target', 'zoo:cnn6-mnist-mult-0', '--limit', '2', '--out', out])).rejects.toThrow(
      /--source = "model.onnx": expected zoo:NAME or a tfjs model.json/,
    );
  });
});

describe('ohmic attack end to end', () => {
  it('attacks, writes the examples, and re-evaluates them with --examples to the same table', async () => {
    const out = path.join(dir, 'run');
    const args = [...BASE, '--limit', '20', '--iters', '2', '--restarts', '2', '--sigma', '0,0.2', '--runs', '2', '--seed', '3', '--out', out, '--json'];
    const first = JSON.parse(await runCli(args));
    expect(first.count).toBe(20);
    expect(first.attack).toEqual({ eps: 0.3, stepSize: 0.05, iterations: 2, restarts: 2, randomStart: true, seed: 3 });
    expect(first.rows.map((r: { label: string; runs: number }) => [r.label, r.runs])).toEqual([
      ['signal σ=0', 1],
      ['signal σ=0.2', 2],
    ]);
    expect(first.sourceAdversarialAccuracy).toBeLessThan(first.sourceNaturalAccuracy);
    const npy = decodeNpyFloat32(fs.readFileSync(path.join(out, 'adversarial.npy')), 'adversarial.npy');
    expect(npy.shape).toEqual([20, 28, 28, 1]);
    const natural = loadMnist(embeddedMnistDir(), 'test', { limit: 20 }).images;
    let max = 0;
    for (let i = 0; i < natural.length; i++) max = Math.max(max, Math.abs(npy.data[i] - natural[i]));
    expect(max).toBeLessThanOrEqual(0.3);
    expect(fs.readFileSync(path.join(out, 'table.md'), 'utf8')).toMatch(/\| signal σ=0\.2 \| 2 \|/);

    const again = JSON.parse(
      await runCli(['attack', '--examples', path.join(out, 'adversarial.npy'), '--target', 'zoo:cnn6-mnist-mult-0.2', '--sigma', '0,0.2', '--runs', '2', '--seed', '3', '--out', path.join(dir, 'again'), '--json']),
    );
    expect(again.rows).toEqual(first.rows);
    expect(again.source).toBe('zoo:cnn6-mnist-mult-0');
  });

  it('continues an interrupted attack with --resume to the same examples, and refuses partial examples of another attack', async () => {
    const out = path.join(dir, 'resume');
    const args = [...BASE, '--limit', '20', '--batch', '10', '--iters', '2', '--restarts', '2', '--sigma', '0', '--runs', '1', '--out', out, '--json'];
    await runCli(args);
    const whole = fs.readFileSync(path.join(out, 'adversarial.npy'));
    expect(fs.existsSync(path.join(out, 'adversarial.partial.npy'))).toBe(false);
    // What an attack stopped after its first chunk leaves behind.
    const { encodeNpyFloat32 } = await import('../../src/compiler/npy');
    const all = decodeNpyFloat32(whole, 'whole');
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'adversarial.json'), 'utf8'));
    const key = JSON.stringify({
      source: 'zoo:cnn6-mnist-mult-0',
      attack: { eps: 0.3, stepSize: 0.05, iterations: 2, restarts: 2 },
      seed: 0,
      batch: 10,
      dataset: 'mnist',
      testData: meta.testData,
    });
    const writePartial = (k: string) => {
      fs.writeFileSync(path.join(out, 'adversarial.partial.npy'), encodeNpyFloat32(all.data.subarray(0, 10 * 784), [10, 28, 28, 1]));
      fs.writeFileSync(path.join(out, 'adversarial.partial.json'), JSON.stringify({ key: k, done: 10, fooled: new Array(10).fill(1) }));
    };
    writePartial(key);
    fs.rmSync(path.join(out, 'adversarial.npy'));
    const resumed = JSON.parse(await runCli([...args, '--resume']));
    expect(fs.readFileSync(path.join(out, 'adversarial.npy')).equals(whole)).toBe(true);
    // The first chunk's success flags came from the partial file (all 1 there).
    expect(resumed.sourceAdversarialAccuracy).toBeLessThanOrEqual(0.5);
    writePartial(key.replace('"seed":0', '"seed":1'));
    await expect(runCli([...args, '--resume'])).rejects.toThrow(/--resume = .*: expected partial examples of this attack/);
  });

  it('runs the white-box check through the noisy forward pass and prints the gradient-masking caveat', async () => {
    const text = await runCli([...BASE, '--limit', '10', '--iters', '2', '--restarts', '1', '--sigma', '0', '--runs', '2', '--white-box-sigma', '0.3', '--eot-samples', '2', '--out', path.join(dir, 'wb')]);
    expect(text).toMatch(/\| noisy-gradient \| 1 \|/);
    expect(text).toMatch(/\| eot \| 2 \|/);
    expect(text).toMatch(/Caveat \(gradient masking\)/);
  });
});

describeWithShared('ohmic adversarial-train', () => {
  it('trains, checkpoints and writes a zoo entry recording the attack', async () => {
    const zoo = path.join(dir, 'zoo');
    const args = ['adversarial-train', '--model', 'cnn6', '--epochs', '1', '--limit', '32', '--eps', '0.3', '--step', '0.1', '--iters', '2', '--eval-limit', '10', '--data', SHARED_DATASETS];
    const text = await runCli([...args, '--out', path.join(zoo, 'tiny-adv'), '--checkpoint-dir', path.join(dir, 'ck')]);
    expect(text).toMatch(/tiny-adv: test accuracy \d+\.\d\d%, PGD accuracy \d+\.\d\d% on 10/);
    const entry = readZooManifest(zoo).models.find((m) => m.name === 'tiny-adv') as unknown as Record<string, unknown>;
    expect(entry.adversarial).toMatchObject({ attack: 'pgd', eps: 0.3, stepSize: 0.1, iterations: 2, restarts: 1, fraction: 0.5, batchSize: 32 });
    expect(entry.sigmaTrain).toBe(0);
    expect(entry.testAccuracy).toBeGreaterThan(0);
    expect(fs.readdirSync(path.join(dir, 'ck')).some((f) => /^ckpt-\d+\.bin$/.test(f))).toBe(true);
    await expect(runCli([...args, '--iters', '0', '--out', path.join(zoo, 'x')])).rejects.toThrow(/--iters = "0": expected an integer >= 1/);
    await expect(runCli([...args, '--model', 'lstm', '--out', path.join(zoo, 'x')])).rejects.toThrow(/--model = "lstm": expected an image model/);
    await expect(runCli([...args, '--fraction', '1.5', '--out', path.join(zoo, 'x')])).rejects.toThrow(/--fraction = "1.5"/);
  });
});
