/**
 * ohmic: simulate analog in-memory computing. Compile trained networks onto noisy
 * ReRAM, PCM and NAND crossbar tiles and measure accuracy, latency, energy and area.
 *
 * @example
 * ```ts
 * import { initBackend, tf, Rng, reram, validateChipSpec, programLayer, analogMvm } from 'ohmic';
 * await initBackend();
 * const chip = validateChipSpec({ device: reram(), tile: '256x256' });
 * const layer = programLayer({ data: weights, fanIn: 784, fanOut: 128 }, chip, Rng.fromSeed(1));
 * const y = analogMvm(layer, tf.tensor2d(x, [batch, 784]), Rng.fromSeed(2));
 * ```
 * @packageDocumentation
 */
export { OhmicError, ConfigError, ShapeError, UnsupportedOpError, DataError } from './errors';
export { Rng } from './rng';
export { initBackend, backendName, tf } from './backend';
export type { BackendName } from './backend';
export { parseQuantity, formatQuantity } from './units';

// Physics
export {
  reram, pcm, nand, ideal, deviceFromConfig, validateDeviceSpec, conductanceLevels,
  RERAM_DEFAULTS, PCM_DEFAULTS, NAND_DEFAULTS, IDEAL_DEFAULTS, PRESET_NAMES, DEVICE_KINDS, DEVICE_FIELDS,
  validateChipSpec, parseTileShape, idealConverters, DEFAULT_TILE, DEFAULT_DAC, DEFAULT_ADC, IDEAL_DAC, IDEAL_ADC,
  weightsToConductances, conductancesToWeights, quantizeConductance, quantizationBound,
  applyDac, adcConvert, adcHalfLsb, tileGrid, layerCost,
  programLayer, analogMvm, emptyMvmStats, signalMvm,
  applyProgrammingNoise, applyStuckAt, applyDrift, expectedDriftFactor,
  applySignalNoise, validateSignalNoise, multiplicativeSnrDb,
} from './crossbar';
export type {
  DeviceSpec, DeviceKind, DeviceOverrides, ChipSpec, TileShape, DacSpec, DacRange, AdcSpec, MappingSpec,
  WeightMatrix, ConductancePair, TileGrid, TilePlacement, LayerCost, ProgrammedLayer, ProgrammingStats, MvmStats,
  SignalNoise, SignalNoiseKind,
} from './crossbar';

// Scheduling
export { schedule, scheduleAll, scheduleEqualStages, validateScheduleInput, SCHEDULE_MODES } from './compiler/scheduler';
export type { ScheduleInput, ScheduleResult, ScheduleMode, EqualStageSpec } from './compiler/scheduler';
export { simulateSchedule } from './compiler/eventSim';

// Data
export { loadMnist, readCifarBinary, loadStrokes, embeddedMnistDir, defaultDataDir, CIFAR10_CLASS_NAMES } from './data';
export type { MnistData, CifarData, StrokeData } from './data';

// Studies
export { runCrossbarDemo } from './study/crossbarDemo';
export type { CrossbarDemoOptions, CrossbarDemoResult } from './study/crossbarDemo';
