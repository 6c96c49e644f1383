/**
 * What-if studies over hardware fields on the zoo CNN-6, end to end through the
 * CLI: an ADC bits × tile size sweep gives one result per combination with the
 * right fields, each record's hardware re-runs alone, signal-level points carry
 * no chip cost, and what does not apply fails before any work, naming the path.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runMain } from '../helpers/cli';
import { readResults } from '../../src/study/resultsFile';
import { readStudyConfigFile } from '../../src/study/studyConfigFile';
import { expandGrid } from '../../src/study/grid';
import { STUDY_DEVICES } from '../../src/cli/studyDevices';
import { compileHardware } from '../../src/compiler/compileHardware';
import { validateHardware } from '../../src/compiler/hardware';
import { encodeNpyFloat32 } from '../../src/compiler/npy';
import { loadModelArg } from '../../src/cli/modelArg';
import { embeddedMnistDir, loadMnist } from '../../src/data';
import { initBackend } from '../../src/backend';

const MODEL = 'cnn6-mnist-mult-0';
const SWEEP = ['--models', MODEL, '--devices', 'pcm', '--noise', 'device', '--semantics', 'passes', '--limit', '50', '--workers', '1'];
// With ranges calibrated on data a 4-bit ADC already keeps CNN-6's accuracy on 50 digits; 2 bits (codes −1, 0, 1) does not.
const AXES = ['--axis', 'adc.bits=2,8', '--axis', 'tile=128x128,256x256'];

let dir: string;
beforeAll(async () => {
  await initBackend();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-study-hw-cli-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('ohmic study over hardware fields (zoo CNN-6, 50 digits)', () => {
  it('ADC bits × tile size: one result per combination, the resolved hardware in each, reports over the fields', async () => {
    const out = path.join(dir, 'sweep');
    const run = await runMain(['study', ...SWEEP, ...AXES, '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBeUndefined();
    const records = readResults(path.join(out, 'results.jsonl'));
    expect(records.map((r) => r.point.axes)).toEqual([
      { 'adc.bits': 2, tile: '128x128' },
      { 'adc.bits': 2, tile: '256x256' },
      { 'adc.bits': 8, tile: '128x128' },
      { 'adc.bits': 8, tile: '256x256' },
    ]);
    for (const r of records) {
      const hw = validateHardware(r.hardware);
      expect(hw.kind).toBe('chip');
      if (hw.kind !== 'chip') continue;
      expect(hw.chip.device.kind).toBe('pcm');
      expect(hw.chip.adc.bits).toBe(r.point.axes!['adc.bits']);
      expect(`${hw.chip.tile.rows}x${hw.chip.tile.cols}`).toBe(r.point.axes!.tile);
      expect(r.point.device).toBe('pcm');
      expect(r.metrics.examples).toBe(50);
      expect(typeof r.metrics.energyPicojoules).toBe('number');
      // Ranges calibrated on training digits: the scored test digits clip a few conversions at most.
      expect(r.metrics.adcClippedFraction as number).toBeGreaterThanOrEqual(0);
      expect(r.metrics.adcClippedFraction as number).toBeLessThan(0.01);
    }
    // Smaller tiles take more of them; more ADC bits cost energy and buy accuracy.
    const [b4t128, b4t256, b8t128, b8t256] = records;
    expect(b4t128.metrics.tiles).toBeGreaterThan(b4t256.metrics.tiles as number);
    expect(b8t128.metrics.tiles).toBe(b4t128.metrics.tiles);
    expect(b8t256.metrics.energyPicojoules as number).toBeGreaterThan(b4t256.metrics.energyPicojoules as number);
    expect(b8t256.accuracy.mean).toBeGreaterThan(0.9);
    expect(b8t256.accuracy.mean).toBeGreaterThan(b4t256.accuracy.mean);

    // A record's hardware is enough to compile the point again: the same tiles.
    const graph = await loadModelArg(`zoo:${MODEL}`);
    const again = compileHardware(graph, records[0].hardware);
    expect(again.plan.tilesPerCopy).toBe(records[0].metrics.tiles);
    again.dispose();

    // Plots over the swept fields; none with a single point per panel (σ and V take one value).
    const svgs = fs.readdirSync(out).filter((f) => f.endsWith('.svg'));
    expect(svgs).toEqual(expect.arrayContaining(['accuracy-vs-adc-bits.svg', 'accuracy-vs-tile.svg', 'tiles-vs-tile.svg', 'accuracy-energy-pareto.svg']));
    expect(svgs).not.toContain('accuracy-vs-sigma.svg');
    expect(svgs).not.toContain('accuracy-vs-votes.svg');
    expect(svgs).not.toContain('tiles-vs-adc-bits.svg'); // the tile count does not change with the ADC
    expect(fs.readFileSync(path.join(out, 'accuracy-vs-adc-bits.svg'), 'utf8')).toContain("X-axis titled 'ADC bits'");
    const md = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    expect(md).toContain('| model | device | ADC bits | tile | noise | σ | semantics | votes | seeds | accuracy % |');
    expect(md).toContain('energy (pJ)');
    expect(md).toContain('latency (ns)');
    expect(md).toContain('area (µm²)');
    expect(md).toContain('ADC bits 2, 8; tile 128x128, 256x256;');
    expect(fs.readFileSync(path.join(out, 'results.csv'), 'utf8').split('\n')[0]).toMatch(/^pointId,model,device,adc\.bits,tile,noise,/);

    // The same study as a YAML config names the same points.
    const yaml = path.join(dir, 'study.yaml');
    fs.writeFileSync(
      yaml,
      `models: [${MODEL}]\ndevices: [pcm]\naxes:\n  adc.bits: [2, 8]\n  tile: [128x128, 256x256]\nnoise: [device]\nsemantics: [passes]\ndataset: { name: mnist, limit: 50 }\n`,
    );
    expect(expandGrid(readStudyConfigFile(yaml, STUDY_DEVICES)).map((p) => p.id)).toEqual(records.map((r) => r.pointId));

    // ohmic run --hardware takes the record's description as it is.
    const hwFile = path.join(dir, 'point.json');
    fs.writeFileSync(hwFile, JSON.stringify(records[3].hardware));
    const digits = loadMnist(embeddedMnistDir(), 'test', { limit: 3 });
    const npy = path.join(dir, 'digits.npy');
    fs.writeFileSync(npy, encodeNpyFloat32(digits.images, [3, 28, 28, 1]));
    const rerun = await runMain(['run', '--model', `zoo:${MODEL}`, '--inputs', npy, '--hardware', hwFile, '--json']);
    expect(rerun.stderr).toBe('');
    const result = JSON.parse(rerun.stdout);
    expect(result.labels).toHaveLength(3);
    expect(result.mode).toMatch(/^chip pcm 256x256, ADC 8 bits/);
  });

  it('per-layer axes take the source layer names; a name the model lacks fails before any point runs', async () => {
    const out = path.join(dir, 'layers');
    const run = await runMain(['study', ...SWEEP, '--axis', 'layers.conv1.adc.bits=4,8', '--out', out]);
    expect(run.stderr).toBe('');
    const records = readResults(path.join(out, 'results.jsonl'));
    expect(records.map((r) => (r.hardware as { layers: Record<string, { adc: { bits: number } }> }).layers.conv1.adc.bits)).toEqual([4, 8]);
    const bad = await runMain(['study', ...SWEEP, '--axis', 'layers.conv9.adc.bits=4,8', '--out', path.join(dir, 'bad')]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^ohmic: ConfigError: layers\.conv9 = .*: expected a layer name of the model \(conv1_bn \/ conv1, conv2_bn \/ conv2, .* fc2\)/);
    expect(fs.existsSync(path.join(dir, 'bad', 'results.jsonl'))).toBe(false);
  });

  it('signal-level points at a noise site carry no chip cost and stay off the Pareto front', async () => {
    const out = path.join(dir, 'signal');
    const run = await runMain(['study', '--models', MODEL, '--devices', 'signal', '--sigmas', '0.4', '--noise-sites', 'mvm,norm', '--limit', '50', '--workers', '1', '--out', out]);
    expect(run.stderr).toBe('');
    const records = readResults(path.join(out, 'results.jsonl'));
    expect(records.map((r) => r.hardware)).toEqual([
      { kind: 'signal', noise: { kind: 'multiplicative', sigma: 0.4 }, site: 'mvm' },
      { kind: 'signal', noise: { kind: 'multiplicative', sigma: 0.4 }, site: 'norm' },
    ]);
    for (const r of records) expect(Object.keys(r.metrics).sort()).toEqual(['backend', 'examples']);
    expect(fs.existsSync(path.join(out, 'accuracy-energy-pareto.svg'))).toBe(false);
    expect(fs.readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain('| model | device | noise site | noise | σ |');
  });

  it.each<[string, string[], RegExp]>([
    ['a σ for a chip point', [...SWEEP, '--sigmas', '0,0.5'], /^ohmic: ConfigError: --sigmas\[1\] = 0\.5: expected 0 for a chip device: a chip's noise comes from its device physics/],
    ['an unknown path', [...SWEEP, '--axis', 'adc.bitz=4,6'], /^ohmic: ConfigError: --axis adc\.bitz = \[4,6\]: expected a field of adc: one of bits, rangeFraction/],
    ['a wrong-typed value', [...SWEEP, '--axis', 'adc.bits=4,six'], /^ohmic: ConfigError: --axis adc\.bits\[1\] = "six": expected null \(ideal converter\) or an integer number of bits/],
    ['an axis on the signal model', ['--models', MODEL, '--devices', 'signal', '--sigmas', '0.2', '--axis', 'adc.bits=4,6'], /^ohmic: ConfigError: --axis adc\.bits = \[4,6\]: expected a sweep over chip devices only/],
    ['a noise site for a chip', [...SWEEP, '--noise-sites', 'norm'], /^ohmic: ConfigError: --noise-sites = \["norm"\]: expected signal-level devices only/],
  ])('%s fails validation, naming the path, before any work', async (_name, args, message) => {
    const out = path.join(dir, 'bad');
    const run = await runMain(['study', ...args, '--out', out]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(fs.existsSync(out)).toBe(false);
  });
});
