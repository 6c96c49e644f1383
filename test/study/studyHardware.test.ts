/**
 * Study configs over hardware: device entries (presets, inline chips, chip files,
 * signal entries), sweep axes over any chip field, noise sites, and the checks
 * that reject what does not apply, naming the path.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from '../../src/errors';
import { expandGrid, pointId, validateStudyConfig } from '../../src/study/grid';
import { estimateStudyWork } from '../../src/study/workEstimate';
import { pointHardware, validateChipPoint, validateChipStudy } from '../../src/study/chipEvaluator';
import { validateHardware } from '../../src/compiler/hardware';
import { STUDY_DEVICES } from '../../src/cli/studyDevices';
import { parseAllDocuments } from 'yaml';
import { readStudyConfigFile } from '../../src/study/studyConfigFile';
import { buildResultRecord, parseRecord, serializeRecord } from '../../src/study/resultRecord';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-study-hw-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const chipStudy = (extra: Record<string, unknown>) =>
  validateStudyConfig({ models: ['m'], devices: ['pcm'], noise: ['device'], semantics: ['passes'], dataset: { name: 'mnist', limit: 10 }, ...extra }, STUDY_DEVICES);

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('devices', () => {
  it('a preset name keeps the point identity it had before hardware entries', () => {
    const [p] = expandGrid(chipStudy({}));
    expect(p.hardware).toBeUndefined();
    expect(p.axes).toBeUndefined();
    expect(p.id).toBe(pointId({ model: 'm', device: 'pcm', noise: 'device', sigma: 0, semantics: 'passes', votes: 1, seeds: [0], dataset: { name: 'mnist', limit: 10 } }));
    expect(pointHardware(p)).toEqual(validateHardware({ kind: 'chip', chip: { device: 'pcm' } }));
  });

  it('takes inline chips, chip files (JSON or YAML, with units) and signal entries, each named', () => {
    const yamlFile = path.join(dir, 'slow-pcm.yaml');
    fs.writeFileSync(yamlFile, 'device: { preset: pcm, readNoiseRelStd: 0.05 }\ntile: 128x128\nreadTimeSeconds: 1 h\n');
    const config = chipStudy({ devices: ['pcm', { device: { preset: 'pcm', gMaxMicroSiemens: '20 uS' }, adc: { bits: 6 } }, yamlFile, { name: 'mine', device: 'reram' }] });
    expect(config.devices).toEqual(['pcm', 'pcm #2', yamlFile, 'mine']);
    const points = expandGrid(config);
    expect(points.map((p) => p.hardware?.kind)).toEqual([undefined, 'chip', 'chip', 'chip']);
    const file = pointHardware(points[2]);
    expect(file.kind === 'chip' && [file.chip.readTimeSeconds, file.chip.tile.rows, file.chip.device.readNoiseRelStd]).toEqual([3600, 128, 0.05]);
    const inline = pointHardware(points[1]);
    expect(inline.kind === 'chip' && inline.chip.device.gMaxMicroSiemens).toBe(20);
    expect(new Set(points.map((p) => p.id)).size).toBe(4);

    const signal = validateStudyConfig(
      { models: ['m'], devices: [{ kind: 'signal', site: 'norm' }, { kind: 'signal', chip: 'reram', name: 'costed' }], sigmas: [0.4], dataset: { name: 'mnist' } },
      STUDY_DEVICES,
    );
    expect(signal.devices).toEqual(['signal-norm', 'costed']);
    const [norm, costed] = expandGrid(signal).map(pointHardware);
    expect(norm).toEqual({ kind: 'signal', noise: { kind: 'multiplicative', sigma: 0.4 }, site: 'norm' });
    expect(costed.kind === 'signal' && costed.chip?.device.kind).toBe('reram');
  });

  it('rejects an invalid chip entry, naming its path', () => {
    expect(message(() => chipStudy({ devices: [{ device: 'pcm', adc: { bits: 40 } }] }))).toMatch(/^devices\[0\]\.chip\.adc\.bits = 40: expected null \(ideal converter\) or an integer number of bits in \[2, 24\]/);
    expect(message(() => chipStudy({ devices: [{ device: 'pcm', adcc: {} }] }))).toMatch(/^devices\[0\]\.adcc = \{\}: expected one of the known fields/);
    expect(() => chipStudy({ devices: ['nope.yaml'] })).toThrow(/nope\.yaml: no such chip file/);
    expect(message(() => chipStudy({ axes: { 'device.readTimeSeconds': ['1 s'] } }))).toMatch(/^axes\.device\.readTimeSeconds\[0\] = "1 s": expected a time in seconds >= the device's driftT0Seconds \(20\)/);
    expect(message(() => chipStudy({ devices: ['pcm', { name: 'pcm', device: 'pcm' }] }))).toMatch(/^devices\[1\] = .*: expected distinct entries \(the same name is already devices\[0\]\)/);
  });
});

describe('axes', () => {
  it('expand as a product over each chip device, with the values in each point', () => {
    const config = chipStudy({ devices: ['pcm', 'reram'], axes: { 'adc.bits': [4, 6, 8], tile: ['128x128', '256x256'] } });
    const points = expandGrid(config);
    expect(points).toHaveLength(2 * 3 * 2);
    expect(points.slice(0, 3).map((p) => p.axes)).toEqual([
      { 'adc.bits': 4, tile: '128x128' },
      { 'adc.bits': 4, tile: '256x256' },
      { 'adc.bits': 6, tile: '128x128' },
    ]);
    const hw = pointHardware(points[1]);
    expect(hw.kind === 'chip' && [hw.chip.device.kind, hw.chip.adc.bits, hw.chip.tile.rows]).toEqual(['pcm', 4, 256]);
    expect(new Set(points.map((p) => p.id)).size).toBe(12);
    expect(estimateStudyWork(config).points).toBe(12);
  });

  it('zip pairs them; device fields, the read time (with units) and layer overrides are axes too', () => {
    const config = chipStudy({
      axes: { 'device.readTimeSeconds': ['25 s', '1 h', '1 day'], 'device.readNoiseRelStd': [0.01, 0.02, 0.05], 'layers.conv1.adc.bits': [6, 8, null] },
      zip: true,
    });
    const points = expandGrid(config);
    expect(points).toHaveLength(3);
    const hw = pointHardware(points[2]);
    expect(hw.kind === 'chip' && [hw.chip.readTimeSeconds, hw.chip.device.readNoiseRelStd, hw.layers?.conv1.adc.bits, hw.layers?.conv1.readTimeSeconds]).toEqual([86400, 0.05, null, 86400]);
  });

  it('the circuit fields are axes: ADC bits, range calibration, tile size, wire resistance, cells per weight, input bits', () => {
    const config = chipStudy({
      axes: {
        'adc.bits': [3, 8],
        'calibration.method': ['max', 'worstCase'],
        tile: ['64x64'],
        wireResistanceOhmPerCell: [0, 2.1],
        slicing: [{ cellsPerWeight: 1 }, { cellsPerWeight: 4, bitsPerCell: 2 }],
        inputEncoding: [{ kind: 'bitSerial', bits: 8 }],
      },
    });
    const points = expandGrid(config);
    expect(points).toHaveLength(16);
    const hw = points.map(pointHardware);
    const last = hw[15];
    expect(last.kind === 'chip' && [last.chip.adc.bits, last.chip.calibration.method, last.chip.dac.range.kind, last.chip.tile.rows]).toEqual([8, 'worstCase', 'perInputAbsMax', 64]);
    const first = hw[0];
    expect(first.kind === 'chip' && [first.chip.calibration.method, first.chip.dac.range.kind]).toEqual(['max', 'calibrated']);
    expect(new Set(hw.map((h) => JSON.stringify(h))).size).toBe(16);
    expect(message(() => chipStudy({ axes: { 'calibration.method': ['mean'] } }))).toMatch(/^axes\.calibration\.method\[0\] = "mean": expected "max", "percentile" or "worstCase"/);
  });

  it('an unknown path, a wrong-typed or out-of-range value fail validation with the path named', () => {
    expect(message(() => chipStudy({ axes: { 'adc.bitz': [4] } }))).toMatch(/^axes\.adc\.bitz = \[4\]: expected a field of adc: one of bits, rangeFraction/);
    expect(message(() => chipStudy({ axes: { adcBits: [4] } }))).toMatch(/^axes\.adcBits = \[4\]: expected a path into the chip/);
    expect(message(() => chipStudy({ axes: { 'device.readNoise': [0.1] } }))).toMatch(/^axes\.device\.readNoise = \[0\.1\]: expected a field of device/);
    expect(message(() => chipStudy({ axes: { 'adc.bits': [4, 'six'] } }))).toMatch(/^axes\.adc\.bits\[1\] = "six": expected null \(ideal converter\) or an integer number of bits .*on device "pcm" with adc\.bits=six/);
    expect(message(() => chipStudy({ axes: { tile: ['128x128', '128by128'] } }))).toMatch(/^axes\.tile\[1\] = "128by128": expected ROWSxCOLS/);
    expect(message(() => chipStudy({ axes: { 'device.readTimeSeconds': ['1 h', '1 kg'] } }))).toMatch(/^axes\.device\.readTimeSeconds\[1\] = "1 kg": expected a quantity convertible to s/);
    expect(message(() => chipStudy({ axes: { 'layers.conv1': [4] } }))).toMatch(/^axes\.layers\.conv1 = \[4\]: expected layers\.NAME\.FIELD/);
    expect(message(() => chipStudy({ axes: { 'adc.bits': [4, 4] } }))).toMatch(/^axes\.adc\.bits\[1\] = 4: expected distinct entries/);
    expect(message(() => chipStudy({ axes: { 'adc.bits': [4, 6], tile: ['128x128'] }, zip: true }))).toMatch(/^axes\.tile = \["128x128"\]: expected 2 values: zip pairs/);
    expect(message(() => chipStudy({ zip: true }))).toMatch(/^zip = true: expected to be left out without axes/);
  });

  it('are errors on the signal-level device, as noise sites are on a chip', () => {
    const signal = { models: ['m'], devices: ['signal'], sigmas: [0.2], dataset: { name: 'mnist' } };
    expect(message(() => validateStudyConfig({ ...signal, axes: { 'adc.bits': [4, 6] } }, STUDY_DEVICES))).toMatch(
      /^axes\.adc\.bits = \[4,6\]: expected a sweep over chip devices only: devices\[0\] "signal" is the signal-level model/,
    );
    expect(message(() => chipStudy({ noiseSites: ['norm'] }))).toMatch(/^noiseSites = \["norm"\]: expected signal-level devices only/);
    const sites = expandGrid(validateStudyConfig({ ...signal, noiseSites: ['mvm', 'norm'] }, STUDY_DEVICES));
    expect(sites.map((p) => [p.device, p.axes, pointHardware(p).kind === 'signal' && (pointHardware(p) as { site?: string }).site])).toEqual([
      ['signal', { site: 'mvm' }, 'mvm'],
      ['signal', { site: 'norm' }, 'norm'],
    ]);
  });
});

describe('fields that do not apply to a point are errors, never ignored', () => {
  it('a σ for a chip point, signal noise on a chip, device noise on the signal model', () => {
    expect(message(() => validateChipStudy(chipStudy({ sigmas: [0, 0.5] })))).toMatch(
      /^sigmas\[1\] = 0\.5: expected 0 for a chip device: a chip's noise comes from its device physics.*devices\[0\] "pcm"/,
    );
    expect(message(() => validateChipStudy(chipStudy({ noise: ['multiplicative'] })))).toMatch(/^noise\[0\] = "multiplicative": expected "device" for chip devices/);
    expect(message(() => validateChipStudy(chipStudy({ semantics: ['signal'] })))).toMatch(/^semantics\[0\] = "signal": expected "passes" or "replicas"/);
    const signal = validateStudyConfig({ models: ['m'], devices: ['signal'], noise: ['device'], sigmas: [0.2], semantics: ['signal'], dataset: { name: 'mnist' } }, STUDY_DEVICES);
    expect(message(() => validateChipStudy(signal))).toMatch(/^noise\[0\] = "device": expected "multiplicative" or "additive" for the signal-level device/);
    const [p] = expandGrid(chipStudy({ sigmas: [0.5] }));
    expect(message(() => validateChipPoint(p))).toMatch(/^sigma = 0\.5: expected 0 for a chip device/);
  });

  it('keeps the shipped study configs valid', () => {
    // The paper's grids (JSON); hardware sweeps (YAML, e.g. adc-calibration.yaml) are validated where they are used.
    for (const f of fs.readdirSync(path.join(__dirname, '../../studies')).filter((n) => n.endsWith('.json'))) {
      const raw = JSON.parse(fs.readFileSync(path.join(__dirname, '../../studies', f), 'utf8'));
      const config = validateStudyConfig(raw, STUDY_DEVICES);
      validateChipStudy(config);
      expect(expandGrid(config).every((p) => p.hardware === undefined)).toBe(true);
    }
  });
});

describe('the README examples', () => {
  const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const blocks = [...readme.split('## Hardware descriptions and what-if studies')[1].split('## Studies on many machines')[0].matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);

  it('hardware descriptions validate', () => {
    const docs = parseAllDocuments(blocks[0]).map((d) => d.toJS());
    expect(docs.map((d) => validateHardware(d).kind)).toEqual(['chip', 'signal', 'exact']);
  });

  it('the study config validates and expands over its axes', () => {
    const file = path.join(dir, 'readme-study.yaml');
    fs.writeFileSync(file, blocks[1]);
    const config = readStudyConfigFile(file, STUDY_DEVICES);
    validateChipStudy(config);
    expect(expandGrid(config)).toHaveLength(2 * 3 * 2 * 3 * 2 * 2);
  });
});

describe('result records', () => {
  it('carry the point hardware, its axes and the resolved hardware, and parse back with the same id', () => {
    const [p] = expandGrid(chipStudy({ axes: { 'adc.bits': [6] } }));
    const hardware = JSON.parse(JSON.stringify(pointHardware(p)));
    const record = buildResultRecord(p, 1, 0, { accuracyPerSeed: [0.5], metrics: { tiles: 3 }, hardware });
    const line = serializeRecord(record);
    const back = parseRecord(line, 'x:1');
    expect(back.pointId).toBe(p.id);
    expect(back.point.hardware).toEqual({ kind: 'chip', chip: { device: 'pcm', adc: { bits: 6 } } });
    expect(back.point.axes).toEqual({ 'adc.bits': 6 });
    expect(validateHardware(back.hardware)).toEqual(pointHardware(p));
    expect(serializeRecord(back)).toBe(line);
    // a record without hardware serialises as before the field existed
    const [plain] = expandGrid(chipStudy({}));
    expect(serializeRecord(buildResultRecord(plain, 1, 0, { accuracyPerSeed: [0.5] }))).not.toContain('hardware');
  });
});
