/** The crossbar physics: devices, mapping, converters, noise, tiles and costs. */
export * from './deviceSpec';
export * from './presets';
export * from './chipSpec';
export * from './mapping';
export * from './dac';
export { applyAdc, adcConvert, adcHalfLsb } from './adc';
export * from './tiling';
export * from './cost';
export * from './peripherals';
export * from './programmedLayer';
export * from './signalMvm';
export * from './noise/programmingNoise';
export * from './noise/stuckAt';
export * from './noise/drift';
export * from './noise/signalNoise';
