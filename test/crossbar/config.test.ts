import {
  reram, pcm, nand, ideal, validateDeviceSpec, validateChipSpec, deviceFromConfig, RERAM_DEFAULTS, PCM_DEFAULTS, validateSignalNoise,
  PRESET_SOURCES, deviceSources, DEVICE_FIELDS,
} from '../../src/crossbar';
import type { DeviceSpec } from '../../src/crossbar';
import { ConfigError } from '../../src/errors';

describe('device presets', () => {
  it('are valid, cite a source, and take overrides (with units)', () => {
    for (const d of [reram(), pcm(), nand(), ideal()]) {
      expect(d.gMaxMicroSiemens).toBeGreaterThan(d.gMinMicroSiemens);
      expect(d.source.length).toBeGreaterThan(10);
    }
    expect(nand().bitsPerCell).toBe(2);
    expect(pcm().noiseModel).toBe('pcmAihwkit');
    expect(reram().noiseModel).toBe('reramNeurramCrossSim');
    expect(nand().noiseModel).toBe('sonosCrossSim');
    expect(ideal().noiseModel).toBe('generic');
    expect(reram({ gMaxMicroSiemens: '0.03 mS' }).gMaxMicroSiemens).toBe(30);
    expect(reram({ readPulseNs: '2 us' }).readPulseNs).toBe(2000);
    expect(deviceFromConfig({ preset: 'pcm', readNoiseRelStd: 0.05 }).readNoiseRelStd).toBe(0.05);
    expect(deviceFromConfig({ preset: 'pcm', flickerWindowSeconds: '1 ms' }).flickerWindowSeconds).toBe(0.001);
    expect(deviceFromConfig('nand').kind).toBe('nand');
  });

  it('match their sources: the NeuRRAM window and 48F² cell, aihwkit\'s PCM window, 3D-FPIM\'s NAND currents', () => {
    const r = reram();
    expect([r.gMinMicroSiemens, r.gMaxMicroSiemens]).toEqual([1, 40]); // on/off 40
    expect(r.cellAreaSquareMicrometers).toBeCloseTo(48 * 0.04 ** 2, 12); // 4F × 12F at F = 40 nm
    expect(r.readNoiseAddMicroSiemens * Math.SQRT2).toBeCloseTo(0.01 * 39, 12); // 1 % of the weight range per weight
    const p = pcm();
    expect([p.gMinMicroSiemens, p.gMaxMicroSiemens, p.driftT0Seconds]).toEqual([0, 25, 20]);
    const n = nand();
    expect(n.gMinMicroSiemens * n.readVoltageVolts * 1000).toBeCloseTo(3.3, 9); // nA
    expect(n.gMaxMicroSiemens * n.readVoltageVolts * 1000).toBeCloseTo(50, 9);
  });

  it('carry a source or an explicit `assumed` for every field, machine-readably', () => {
    const presetFields = DEVICE_FIELDS.filter((f) => f !== 'kind' && f !== 'source');
    for (const [kind, make] of [['reram', reram], ['pcm', pcm], ['nand', nand], ['ideal', ideal]] as const) {
      const table = PRESET_SOURCES[kind];
      expect(Object.keys(table).sort()).toEqual([...presetFields].sort());
      const d = make();
      for (const field of presetFields) {
        const entry = table[field as keyof typeof table];
        expect(d[field as keyof DeviceSpec]).toEqual(entry.value);
        expect(entry.source.length).toBeGreaterThan(5);
        expect(entry.assumed).toBe(entry.source.startsWith('assumed'));
      }
    }
    // A report sees overrides as such.
    const rows = deviceSources(pcm({ senseNoiseRelStd: 0.01 }));
    const sense = rows.find((row) => row.field === 'senseNoiseRelStd')!;
    expect(sense).toMatchObject({ value: 0.01, overridden: true, assumed: false });
    expect(rows.find((row) => row.field === 'gMaxMicroSiemens')).toMatchObject({ value: 25, overridden: false, assumed: false });
    expect(rows.find((row) => row.field === 'readVoltageVolts')).toMatchObject({ assumed: true, overridden: false });
  });

  it('validate the noise-model fields and keep old saved specs (no model fields) generic', () => {
    const { noiseModel: _m, programmingClip: _c, readNoiseAddMicroSiemens: _r, flickerWindowSeconds: _f, ...old } = PCM_DEFAULTS;
    const legacy = validateDeviceSpec({ ...old, kind: 'pcm', driftNuMean: 0.05, driftNuStd: 0.01 });
    expect(legacy).toMatchObject({ noiseModel: 'generic', programmingClip: 'symmetricTruncation', readNoiseAddMicroSiemens: 0, flickerWindowSeconds: null });
    expect(() => pcm({ driftNuMean: 0.05 })).toThrow(/device\.driftNuMean = 0\.05: expected 0: noiseModel "pcmAihwkit" draws ν from its own G-dependent law/);
    expect(() => reram({ gMaxMicroSiemens: 100 })).toThrow(/device\.gMaxMicroSiemens = 100: expected at most 40 µS: the range of the NeuRRAM fit/);
    expect(reram({ gMaxMicroSiemens: 100, noiseModel: 'generic' }).gMaxMicroSiemens).toBe(100);
    expect(() => nand({ gMaxMicroSiemens: 20000 })).toThrow(/device\.gMaxMicroSiemens = 20000: expected a cell current gMax·readVoltageVolts of at most 3200 nA/);
    expect(() => pcm({ noiseModel: 'pcm' as never })).toThrow(/device\.noiseModel = "pcm": expected one of generic, pcmAihwkit, reramNeurramCrossSim, sonosCrossSim/);
    expect(() => pcm({ programmingClip: 'clip' as never })).toThrow(/device\.programmingClip = "clip": expected one of symmetricTruncation, clampAtZero/);
    expect(() => pcm({ flickerWindowSeconds: 0 })).toThrow(/device\.flickerWindowSeconds = 0: expected null/);
    expect(() => pcm({ readNoiseAddMicroSiemens: -1 })).toThrow(/device\.readNoiseAddMicroSiemens = -1: expected a finite number >= 0/);
  });
});

describe('invalid device fields each give their own error', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['gMin >= gMax', { gMinMicroSiemens: 200 }, /device\.gMaxMicroSiemens = 40: expected a number > gMinMicroSiemens \(200\)/],
    ['negative gMin', { gMinMicroSiemens: -1 }, /device\.gMinMicroSiemens = -1: expected a finite number >= 0/],
    ['negative programming noise', { programmingNoiseRelStd: -0.1 }, /device\.programmingNoiseRelStd = -0\.1: expected a finite number >= 0/],
    ['negative read noise', { readNoiseRelStd: -1 }, /device\.readNoiseRelStd = -1/],
    ['NaN sensing noise', { senseNoiseRelStd: NaN }, /device\.senseNoiseRelStd = NaN/],
    ['non-integer bits per cell', { bitsPerCell: 2.5 }, /device\.bitsPerCell = 2\.5: expected null \(analog\) or an integer in \[1, 16\]/],
    ['stuck fractions above 1', { stuckAtGMinFraction: 0.7, stuckAtGMaxFraction: 0.5 }, /device\.stuckAtGMaxFraction = 0\.5: expected a number in \[0, 1 - stuckAtGMinFraction \(0\.7\)\]/],
    ['non-integer columns per ADC', { columnsPerAdc: 1.5 }, /device\.columnsPerAdc = 1\.5: expected an integer >= 1/],
    ['zero read pulse', { readPulseNs: 0 }, /device\.readPulseNs = 0: expected a finite number > 0/],
    ['wrong unit', { gMaxMicroSiemens: '3 kg' }, /device\.gMaxMicroSiemens = "3 kg": expected a quantity convertible to uS/],
    ['unknown field', { gMax: 3 }, /device\.gMax = 3: expected one of the known fields/],
    ['string that is not a number', { readVoltageVolts: true }, /device\.readVoltageVolts = true: expected a number in V/],
  ];
  it.each(cases)('%s', (_name, override, message) => {
    const attempt = () => validateDeviceSpec({ ...RERAM_DEFAULTS, kind: 'reram', ...override });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('unknown kind and preset name', () => {
    expect(() => validateDeviceSpec({ ...RERAM_DEFAULTS, kind: 'sram' })).toThrow(/device\.kind = "sram": expected one of reram, pcm, nand, ideal/);
    expect(() => deviceFromConfig('flash')).toThrow(/device = "flash": expected a preset name \(reram, pcm, nand, ideal\)/);
  });
});

describe('invalid chip fields each give their own error', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['tile syntax', { tile: '256by256' }, /chip\.tile = "256by256": expected ROWSxCOLS/],
    ['zero tile rows', { tile: { rows: 0, cols: 4 } }, /chip\.tile\.rows = 0: expected an integer in \[1, 1048576\]/],
    ['non-integer DAC bits', { dac: { bits: 7.5 } }, /chip\.dac\.bits = 7\.5: expected null \(ideal converter\) or an integer number of bits in \[2, 24\]/],
    ['ADC bits too small', { adc: { bits: 1 } }, /chip\.adc\.bits = 1/],
    ['ADC range above 1', { adc: { rangeFraction: 1.5 } }, /chip\.adc\.rangeFraction = 1\.5: expected a number in \(0, 1\]/],
    ['DAC range negative', { dac: { range: -2 } }, /chip\.dac\.range = -2/],
    ['mapping scale', { mapping: { weightScale: 'row' } }, /chip\.mapping\.weightScale = "row": expected "layer" or "column"/],
    ['read time before t0', { device: 'pcm', readTimeSeconds: 1 }, /chip\.readTimeSeconds = 1: expected a time in seconds >= the device's driftT0Seconds \(20\)/],
    ['unknown chip field', { adcBits: 8 }, /chip\.adcBits = 8: expected one of the known fields/],
  ];
  it.each(cases)('%s', (_name, override, message) => {
    const attempt = () => validateChipSpec({ device: 'reram', ...override });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('signal-level noise strings', () => {
    expect(validateSignalNoise('mult:0.4')).toEqual({ kind: 'multiplicative', sigma: 0.4 });
    expect(validateSignalNoise('add:1')).toEqual({ kind: 'additive', sigma: 1 });
    expect(() => validateSignalNoise('mult:-1')).toThrow(/noise\.sigma = -1: expected a finite number >= 0/);
    expect(() => validateSignalNoise('gauss:1')).toThrow(/noise = "gauss:1": expected "mult:SIGMA" or "add:SIGMA"/);
  });
});
