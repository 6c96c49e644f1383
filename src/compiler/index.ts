/**
 * The compiler: IR, frontends and executor.
 * @packageDocumentation
 */
export * from './ir';
export { SUPPORTED_TFJS_ACTIVATIONS, SUPPORTED_TFJS_LAYERS, fromTfjsLayersModel } from './frontends/tfjsLayers';
export { loadTfjsModelFromDir, saveTfjsModelToDir } from './frontends/tfjsFiles';
export type { ExecutorHooks, ExecutorInputs, MvmHook, MvmSite, NoiseHook } from './executor';
export { GraphExecutor, NOISE_OFF, execute, exactMvm, im2col, signalNoiseHook } from './executor';
