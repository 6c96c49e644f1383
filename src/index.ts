/**
 * ohmic: simulate analog in-memory computing. Compile trained networks onto noisy
 * ReRAM, PCM and NAND crossbar tiles and measure accuracy, latency, energy and area.
 *
 * @example
 * ```ts
 * import { initBackend, tf, Rng, reram, validateChipSpec, programLayer, analogMvm } from 'ohmic';
 * await initBackend();
 * const chip = validateChipSpec({ device: reram(), tile: '256x256' });
 * const programmed = programLayer({ data: weights, fanIn: 784, fanOut: 128 }, chip, Rng.fromSeed(1));
 * // Converter ranges are set on a calibration batch (the chip's default), then fixed.
 * const layer = calibrateLayer(programmed, tf.tensor2d(xCalibration, [256, 784]));
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
  validateChipSpec, parseTileShape, DEFAULT_TILE, DEFAULT_DAC, DEFAULT_ADC, IDEAL_DAC, IDEAL_ADC,
  DEFAULT_CALIBRATION, WORST_CASE_CALIBRATION, needsCalibrationData,
  weightsToConductances, conductancesToWeights, quantizeConductance, quantizationBound,
  applyDac, applyAdc, adcConvert, adcHalfLsb, tileGrid, layerCost,
  programLayer, analogMvm, emptyMvmStats, signalMvm,
  applyProgrammingNoise, applyStuckAt, applyDrift, expectedDriftFactor,
  applySignalNoise, validateSignalNoise, multiplicativeSnrDb,
} from './crossbar';
export type {
  DeviceSpec, DeviceKind, DeviceOverrides, ChipSpec, TileShape, DacSpec, DacRange, AdcSpec, MappingSpec,
  WeightMatrix, ConductancePair, TileGrid, TilePlacement, LayerCost, ProgrammedLayer, ProgrammingStats, MvmStats,
  SignalNoise, SignalNoiseKind,
} from './crossbar';

// IR drop on the word and bit lines: a chip's `wireResistanceOhmPerCell`, `irDrop`
// and `maxBitLineCurrentMicroAmps` (see src/crossbar/irDrop/).
export {
  TileNodalSolver, NodalSolveError, solveTileNodal, exactEffectiveConductances, kirchhoffResidual,
  firstOrderEffectiveConductances, lineModelEffectiveConductances, irDropDifferential,
  interleavedTile, differentialOf, idealCurrents, currentsThrough,
  worstBitLineCurrents, bitLineCurrentLimit, DEFAULT_MAX_BIT_LINE_CURRENT_MICRO_AMPS,
  IR_DROP_MODELS, DEFAULT_IR_DROP_MODEL, EXACT_IR_DROP_MAX_TILE_CELLS, wireResistanceOf, hasIrDrop, irDropModelOf,
} from './crossbar/irDrop';
export type {
  CrossbarTile, WireResistance, NodalSolution, NodalSolveOptions, IrDropModel, WireResistanceOhmPerCell,
  TileBitLineCurrent, LayerConductances,
} from './crossbar/irDrop';
export type { BitLineCurrentWarning, ReportWarning } from './compiler/wireReport';

// Bit-slicing: a chip's `slicing` (weights over k cells of b bits, shift-added) and
// `inputEncoding` (amplitude, or bit-serial over DAC cycles); see src/crossbar/slicing.ts.
export {
  NO_SLICING, AMPLITUDE_ENCODING, MAX_SLICED_WEIGHT_BITS, parseWeightSlicing, parseInputEncoding,
  slicingOf, inputEncodingOf, inputCyclesOf, isSliced, sliceShift, weightDigits, quantizeWeightsToBits, bitSerialLevels,
} from './crossbar/slicing';
export { programSlicedLayer, drawSliceConductances, combineSlices, physicalLayers, sliceWeightScale } from './crossbar/slicedLayer';
export { bitPlanes, forEachBitPlane } from './crossbar/analogMvm';
export type { WeightSlicing, InputEncoding } from './crossbar/slicing';

// Compiler
export {
  compile, CompiledModel, IDEAL_CHIP, ProgrammedChip, loadProgrammedChip, planChip, foldBatchNorm,
  fromTfjsLayersModel, loadTfjsModelFromDir, saveTfjsModelToDir, fromOnnx, loadOnnxFile, SUPPORTED_ONNX_OPS,
  GraphExecutor, execute, verifyGraph, printGraph, GraphBuilder, isAnalog, mvmMatrix,
  calibrateRanges, calibrateLayer, withRanges,
} from './compiler';
export type {
  CompileOptions, FoldBatchNormMode, RunOptions, ProgramOptions, LayerCalibration, CompileReport, LayerReport, ChipPlan, LayerPlan, LayerOverrides,
  Graph, Node, AnalogNode, OpKind, ExecutorHooks, MvmHook, MvmSite,
} from './compiler';
export { ENGINE_NAMES, DEFAULT_BATCH } from './compiler/engine/modelRunner';
export type { EngineName, EngineOptions, Execution, ModelRunner, StreamOptions, LayerStats, RunnerRunOptions } from './compiler/engine/modelRunner';
export { energyFromStats, measureEnergyOnData } from './compiler/report';
export type { MeasuredEnergy, MeasureEnergyOptions, ReportOptions, SignalLevelEquivalence, NoiseSplit } from './compiler/report';
export { lowerToOnnx } from './compiler/engine/lowerToOnnx';
// One hardware description: exact, signal-level (with a noise site) or a chip (with per-layer overrides)
export { validateHardware, describeHardware, hardwareToJson, NOISE_SITES } from './compiler/hardware';
export type { Hardware, ExactHardware, SignalHardware, ChipHardware, NoiseSite } from './compiler/hardware';
export { compileHardware, hardwareExecution, readHardwareFile } from './compiler/compileHardware';
export type { HardwareCompileOptions } from './compiler/compileHardware';
export { placeSignalNoise } from './compiler/passes/placeNoise';
export { analogLayerNames, onnxSourceNames } from './compiler/layerNames';
export type { LayerNames } from './compiler/layerNames';
export { readConfigFile } from './compiler/configFile';
export type { LoweringMode, LoweredModel, NoiseFeed } from './compiler/engine/lowerToOnnx';

// Scheduling
export { schedule, scheduleAll, scheduleEqualStages, validateScheduleInput, SCHEDULE_MODES } from './compiler/scheduler';
export type { ScheduleInput, ScheduleResult, ScheduleMode, EqualStageSpec } from './compiler/scheduler';
export { simulateSchedule } from './compiler/eventSim';

// Data
export { loadMnist, readCifarBinary, loadStrokes, embeddedMnistDir, defaultDataDir, CIFAR10_CLASS_NAMES } from './data';
export type { MnistData, CifarData, StrokeData } from './data';

// Models, training, voting
export { buildModel, PAPER_MODEL_NAMES } from './models/paper/buildModel';
export { MultiplicativeGaussianNoise, AdditiveGaussianNoise } from './models/noiseLayers';
export { trainModel } from './models/training/train';
export { registerTrainingKernels } from './models/training/registerTrainingKernels';
export { loadZooModel, readZooManifest } from './models/zoo';
export { voteDecision, accuracyVsVotes, voteSeeds, VOTING_SEMANTICS } from './models/voting';
export type { VotingSemantics } from './models/voting';

// Studies
export { runStudy } from './study/runStudy';
export { validateStudyConfig, expandGrid } from './study/grid';
export type { StudyConfig, StudyPoint } from './study/grid';
export { mergeResultFiles } from './study/resultsFile';
export { RESULT_FORMAT, studyFingerprint, genericPointIdentifier, describeIdentityChange } from './study/pointIdentity';
export type { PointIdentity, PointIdentifier, ModelIdentity, DataIdentity } from './study/pointIdentity';
export { chipPointIdentifier } from './study/chipPointIdentity';
export { writeStudyOutputs } from './study/studyOutputs';
export { paretoFront } from './study/pareto';
export { createChipEvaluator, pointHardware, validateChipStudy } from './study/chipEvaluator';
export { runCrossbarDemo } from './study/crossbarDemo';
export type { CrossbarDemoOptions, CrossbarDemoResult } from './study/crossbarDemo';
