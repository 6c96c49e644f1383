/**
 * The compiler: IR, frontends and executor.
 * @packageDocumentation
 */
export * from './ir';
export { SUPPORTED_TFJS_ACTIVATIONS, SUPPORTED_TFJS_LAYERS, fromTfjsLayersModel } from './frontends/tfjsLayers';
export { loadTfjsModelFromDir, saveTfjsModelToDir } from './frontends/tfjsFiles';
export type { ExecutorHooks, ExecutorInputs, MvmHook, MvmSite, NoiseHook } from './executor';
export { GraphExecutor, NOISE_OFF, execute, exactMvm, im2col, signalNoiseHook } from './executor';
export { compile, CompiledModel, IDEAL_CHIP } from './compile';
export type { CompileOptions, FoldBatchNormMode, ModelSource, ProgramOptions, RunOptions } from './compile';
export { calibrateRanges, calibrateLayer, withRanges } from './calibrateRanges';
export type { LayerCalibration } from './calibrateRanges';
export { ProgrammedChip } from './programmedChip';
export { loadProgrammedChip, saveProgrammedChip, exportTileMaps, modelFingerprint, CHIP_FILE_VERSION } from './chipFile';
export { planChip } from './chipPlan';
export type { ChipPlan, LayerPlan, MatrixPlan, LayerOverrides, RawChipConfig } from './chipPlan';
export type {
  CompileReport, LayerReport, NoiseSplit, SignalLevelEquivalence, EquivalenceVerdict, CalibrationInfo, ReportOptions,
  MeasuredEnergy, MeasureEnergyOptions,
} from './report';
export {
  energyFromStats, measureEnergyOnData, energyMetrics, COLUMN_SHARE_LIMIT, SYSTEMATIC_GAIN_LIMIT, ADDITIVE_SIGMA_LIMIT, NEGLIGIBLE_SIGMA, STATIC_SHARE_LIMIT,
} from './report';
export { measuredLayerEnergy } from './chipPlan';
export { foldBatchNorm } from './passes/foldBatchNorm';
export { encodeNpyFloat32 } from './npy';
export { toRng } from './runSeed';
export { ONNX_OPSET_RANGE, SUPPORTED_ONNX_OPS, fromOnnx, loadOnnxFile } from './frontends/onnx';
export type { OnnxImportOptions } from './frontends/onnx';
