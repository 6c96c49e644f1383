import { reram, pcm, nand, ideal, validateDeviceSpec, validateChipSpec, deviceFromConfig, RERAM_DEFAULTS, validateSignalNoise } from '../../src/crossbar';
import { ConfigError } from '../../src/errors';

describe('device presets', () => {
  it('are valid, cite a source, and take overrides (with units)', () => {
    for (const d of [reram(), pcm(), nand(), ideal()]) {
      expect(d.gMaxMicroSiemens).toBeGreaterThan(d.gMinMicroSiemens);
      expect(d.source.length).toBeGreaterThan(10);
    }
    expect(nand().bitsPerCell).toBe(2);
    expect(pcm().driftNuMean).toBeGreaterThan(0);
    expect(reram({ gMaxMicroSiemens: '0.1 mS' }).gMaxMicroSiemens).toBe(100);
    expect(reram({ readPulseNs: '2 us' }).readPulseNs).toBe(2000);
    expect(deviceFromConfig({ preset: 'pcm', readNoiseRelStd: 0.05 }).readNoiseRelStd).toBe(0.05);
    expect(deviceFromConfig('nand').kind).toBe('nand');
  });
});

describe('invalid device fields each give their own error', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['gMin >= gMax', { gMinMicroSiemens: 200 }, /device\.gMaxMicroSiemens = 166\.7: expected a number > gMinMicroSiemens \(200\)/],
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
    ['zero tile rows', { tile: { rows: 0, cols: 4 } }, /chip\.tile\.rows = 0: expected an integer >= 1/],
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
