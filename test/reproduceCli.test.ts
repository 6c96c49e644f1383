/**
 * `ohmic reproduce` end to end on a small zoo (σ_train 0 and 1 of Table 2), 200
 * embedded test digits and two σ: the command prints paper and ohmic side by
 * side and writes a document naming its exact command, seeds and model hashes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { registerReproduce } from '../src/cli/commands/reproduce';
import { buildProgram } from '../src/cli/main';
import { ConfigError } from '../src/errors';
import { embeddedMnistDir } from '../src/data';
import { defaultZooDir, readZooManifest } from '../src/models/zoo';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-reproduce-cli-'));
const zooDir = path.join(dir, 'zoo');

beforeAll(() => {
  const keep = readZooManifest().models.filter((m) => m.name === 'cnn6-mnist-mult-0' || m.name === 'cnn6-mnist-mult-1');
  for (const m of keep) fs.cpSync(path.join(defaultZooDir(), m.name), path.join(zooDir, m.name), { recursive: true });
  fs.writeFileSync(path.join(zooDir, 'manifest.json'), JSON.stringify({ version: 1, models: keep }, null, 2));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function runReproduce(args: string[]): Promise<string> {
  const program = new Command().name('ohmic').exitOverride();
  registerReproduce(program);
  const chunks: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const argv = process.argv;
  process.argv = ['node', 'ohmic', 'reproduce', ...args];
  try {
    await program.parseAsync(['reproduce', ...args], { from: 'user' });
  } finally {
    process.argv = argv;
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

describe('ohmic reproduce (CLI)', () => {
  it('is registered and documents its options', () => {
    const command = buildProgram().commands.find((c) => c.name() === 'reproduce');
    expect(command).toBeDefined();
    const help = (command as Command).helpInformation().replace(/\s+/g, ' ');
    for (const flag of ['--table <list>', '--all', '--limit <n>', '--quick', '--data <dir>', '--out <dir>', '--shard <i/n>', '--runs <r>', '--training-sweep']) {
      expect(help).toContain(flag);
    }
  });

  it('rejects an unknown table and --table with --all', async () => {
    await expect(runReproduce(['--table', '12'])).rejects.toThrow(ConfigError);
    await expect(runReproduce(['--table', '2', '--all'])).rejects.toThrow(/either --table or --all/);
  });

  it('prints Table 11 from saved ohmic attack results without attacking (--report-only)', async () => {
    const attackDir = path.join(dir, 'attack');
    fs.mkdirSync(attackDir, { recursive: true });
    const acc = (m: number) => ({ meanAccuracy: m, stdAccuracy: 0, minAccuracy: m, maxAccuracy: m, votedAccuracy: m });
    fs.writeFileSync(
      path.join(attackDir, 'transfer.json'),
      JSON.stringify({ source: 'zoo:madrycnn4-mnist-adv', target: 'zoo:cnn6-mnist-adv', testData: 'fixture', count: 4, attack: null, sourceNaturalAccuracy: 1, sourceAdversarialAccuracy: 0, meanLinfDistance: 0.3, runs: 1, seed: 0, seconds: 0, command: 'ohmic attack --fixture', rows: [{ mode: { kind: 'signal', sigma: 0 }, label: 'signal σ=0', runs: 1, adversarial: acc(0.75), natural: acc(1) }] }),
    );
    const doc = path.join(dir, 'docs11', 'reproduction.md');
    const none = path.join(dir, 'no-such-folder');
    const stdout = await runReproduce(['--table', '11', '--report-only', '--attack-dir', attackDir, '--white-box-dir', none, '--natural-target-dir', none, '--out', path.join(dir, 'out11'), '--doc', doc]);
    expect(stdout).toMatch(/Table 11: black-box transfer, MNIST/);
    expect(stdout).toMatch(/0\.0\s+∞\s+97\.40\s+75\.00\s+−22\.40/);
    expect(fs.readFileSync(doc, 'utf8')).toContain('## Table 11: black-box transfer');
  });

  it('prints Table 2 against the paper and writes the document with the command and seeds', async () => {
    const doc = path.join(dir, 'docs', 'reproduction.md');
    const args = ['--table', '2', '--zoo', zooDir, '--data', embeddedMnistDir(), '--limit', '200', '--runs', '2', '--votes', '2', '--sigmas', '0,0.6', '--seed', '3', '--out', path.join(dir, 'out'), '--doc', doc];
    const archive = path.join(dir, 'docs', 'reproduction', 'cells');
    fs.mkdirSync(archive, { recursive: true });
    fs.writeFileSync(path.join(archive, 'signal__from-an-earlier-plan.json'), '{}');
    const stdout = await runReproduce(args);
    expect(stdout).toContain('Table 2: CNN-6, MNIST, multiplicative noise');
    expect(stdout).toMatch(/σ_tr=0 paper\s+ohmic\s+Δ\s+best paper\s+ohmic/);
    const md = fs.readFileSync(doc, 'utf8');
    expect(md).toContain(`ohmic reproduce ${args.slice(0, -2).join(' ')}`);
    expect(md).toMatch(/Seeds: root seed 3/);
    expect(md).toContain(readZooManifest(zooDir).models[0].weightsSha256);
    expect(md).toMatch(/\| 0\.6 \| 4\.44 \| 65\.7 \| \d+\.\d ± \d+\.\d \|/);
    expect(fs.existsSync(path.join(dir, 'docs', 'reproduction', 'figure2-cnn6-mult.svg'))).toBe(true);
    // The cells it read are kept beside it, byte for byte, and nothing else.
    const cells = fs.readdirSync(path.join(dir, 'out', 'cells')).filter((f) => f.endsWith('.json')).sort();
    expect(cells.length).toBeGreaterThan(0);
    expect(fs.readdirSync(archive).sort()).toEqual(cells);
    for (const f of cells) expect(fs.readFileSync(path.join(archive, f), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'out', 'cells', f), 'utf8'));
    expect(md).toContain(`The ${cells.length} cell files this document reads (every run's accuracy, one JSON per cell) are copied to \`reproduction/cells/\``);
  });
});
