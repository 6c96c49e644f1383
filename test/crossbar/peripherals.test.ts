/**
 * The peripheral energy and area model against closed forms: NeuroSim's SAR-ADC
 * resolution scaling, the per-event energies, a layer's worst-case breakdown by
 * hand, and that every number carries a source or an explicit `assumed`.
 */
import {
  validateChipSpec, layerCost, PRESET_SOURCES, PERIPHERAL_SOURCES, adcEnergyAtBits, adcAreaAtBits, eventEnergies, energyOfEvents,
  tileArea, accumulatorBits, COMPONENTS, ADC_REFERENCE_BITS, peripheralSpec, peripheralSources,
} from '../../src/crossbar';

describe('ADC resolution scaling (NeuroSim V1.4 SarADC.cpp)', () => {
  const shapeE = (b: number) => (0.538 * b + 4.3753) * (b + 1);
  const shapeA = (b: number) => 269 + 109 * (b - 1) + 209 + 73 * (b - 1);

  it('holds the reference at 8 bits and scales by (a·b + c)(b + 1) and the transistor count elsewhere', () => {
    expect(ADC_REFERENCE_BITS).toBe(8);
    expect(adcEnergyAtBits(2.55, 8)).toBeCloseTo(2.55, 12);
    for (const b of [4, 5, 6, 10]) {
      expect(adcEnergyAtBits(2.55, b)).toBeCloseTo((2.55 * shapeE(b)) / shapeE(8), 12);
      expect(adcAreaAtBits(1500, b)).toBeCloseTo((1500 * shapeA(b)) / shapeA(8), 9);
    }
    // Far from Walden's 2^b: a 4-bit SAR costs ~0.42 of an 8-bit one, not 1/16.
    expect(adcEnergyAtBits(1, 4)).toBeCloseTo(32.6365 / 78.1137, 6);
    // An ideal converter is costed as the reference.
    expect(adcEnergyAtBits(2.55, null)).toBe(2.55);
    expect(adcAreaAtBits(1500, null)).toBe(1500);
  });

  it('the presets use the survey row of their reference ADC: 3.06 mW at 1.2 GS/s, 0.0015 mm²', () => {
    for (const kind of ['reram', 'pcm', 'nand'] as const) {
      const s = PRESET_SOURCES[kind];
      expect(s.adcEnergyPicojoules.value).toBeCloseTo(3.06e-3 / 1.2e9 * 1e12, 2);
      expect(s.adcAreaSquareMicrometers.value).toBe(0.0015 * 1e6);
      expect(s.adcConversionNs.value).toBeCloseTo(1 / 1.2, 12);
      for (const f of ['adcEnergyPicojoules', 'adcAreaSquareMicrometers', 'adcConversionNs', 'dacEnergyPicojoules'] as const) {
        expect(s[f].assumed).toBe(false);
        expect(s[f].source).toMatch(/ADC Performance Survey|ISAAC/);
      }
      // ISAAC: 4 mW for 1024 drivers, one drive per 128 conversions at 1.2 GS/s.
      expect(s.dacEnergyPicojoules.value).toBeCloseTo(4e-3 * (128 / 1.2e9) / 1024 * 1e12, 9);
    }
  });
});

describe('every peripheral number has a source or is marked assumed', () => {
  it('in the table', () => {
    for (const table of Object.values(PERIPHERAL_SOURCES)) {
      for (const [field, e] of Object.entries(table)) {
        expect([field, typeof e.source, e.source.length > 10]).toEqual([field, 'string', true]);
        expect([field, e.assumed]).toEqual([field, e.source.startsWith('assumed:')]);
        expect(Number.isFinite(e.value)).toBe(true);
      }
    }
  });

  it('in the report rows', () => {
    const rows = peripheralSources(validateChipSpec({ device: 'pcm' }));
    expect(rows.map((r) => r.field).sort()).toEqual(Object.keys(PERIPHERAL_SOURCES.pcm).sort());
    expect(rows.filter((r) => r.assumed).map((r) => r.field).sort()).toEqual(['columnsPerDigitalLane', 'gainBits', 'idealActivationBits', 'muxAreaSquareMicrometers', 'muxEnergyPicojoules']);
  });
});

describe('a layer by hand', () => {
  it('prices the worst-case events and sums the components', () => {
    // ReRAM, 8 columns per ADC, 256×256 tiles, 8-bit converters; a 512×100 matrix: 2 row blocks, 1 column block.
    const chip = validateChipSpec({ device: 'reram', tile: '256x256' });
    const d = chip.device;
    const p = peripheralSpec(chip);
    const c = layerCost(512, 100, chip);
    const e = eventEnergies(chip, 2);
    expect(accumulatorBits(chip, 2)).toBe(9);
    expect(e.adcConversion).toBeCloseTo(d.adcEnergyPicojoules, 12);
    expect(e.digitalAdd).toBeCloseTo(9 * p.accumulatorEnergyPicojoulesPerBit, 12);
    expect(e.digitalMultiply).toBeCloseTo((12.68 * 9 * 16) / 1024, 12);
    const b = c.energyBreakdownPerMvmPicojoules;
    const cell = 2 * 512 * 100 * ((d.gMinMicroSiemens + d.gMaxMicroSiemens) / 2) * d.readVoltageVolts ** 2 * d.readPulseNs * 1e-3;
    expect(b.cells).toBeCloseTo(cell, 6);
    expect(b.dac).toBeCloseTo(512 * d.dacEnergyPicojoules, 9);
    expect(b.adc).toBeCloseTo(2 * 100 * d.adcEnergyPicojoules, 9);
    expect(b.sense).toBeCloseTo(2 * 100 * p.senseEnergyPicojoules, 9);
    expect(b.mux).toBeCloseTo(2 * 100 * p.muxEnergyPicojoules, 12);
    expect(b.accumulator).toBeCloseTo(100 * e.digitalAdd, 9);
    expect(b.gain).toBeCloseTo(100 * e.digitalMultiply, 9);
    expect(b.buffer).toBe(0);
    expect(c.energyPerMvmPicojoules).toBeCloseTo(COMPONENTS.reduce((s, k) => s + b[k], 0), 9);
    const a = c.areaBreakdownSquareMicrometers;
    expect(a.sense).toBeCloseTo(2 * 256 * p.senseAreaSquareMicrometers, 6);
    expect(a.dac).toBeCloseTo(2 * 256 * p.dacAreaSquareMicrometers, 6);
    expect(a.adc).toBeCloseTo(2 * 32 * d.adcAreaSquareMicrometers, 6);
    expect(a.accumulator).toBeCloseTo(2 * 32 * 9 * p.accumulatorAreaSquareMicrometersPerBit, 6);
  });

  it('without multiplexing there is no mux; counts price linearly', () => {
    const chip = validateChipSpec({ device: 'pcm', adc: { bits: 6 } });
    expect(tileArea(chip, 3, 1).mux).toBe(0);
    const one = energyOfEvents(chip, 1, { cellEnergyPicojoules: 1, dacDrives: 2, adcConversions: 3, digitalAdds: 4, digitalMultiplies: 5, bufferBits: 6 });
    const two = energyOfEvents(chip, 1, { cellEnergyPicojoules: 2, dacDrives: 4, adcConversions: 6, digitalAdds: 8, digitalMultiplies: 10, bufferBits: 12 });
    for (const k of COMPONENTS) expect(two[k]).toBeCloseTo(2 * one[k], 12);
    expect(one.mux).toBe(0);
    expect(one.adc).toBeCloseTo(3 * adcEnergyAtBits(chip.device.adcEnergyPicojoules, 6), 12);
  });
});
