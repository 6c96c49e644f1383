/**
 * Compiling and running a model on a {@link Hardware} description: one call for
 * the exact reference, the paper's signal-level noise (at any noise site) and a
 * chip with per-layer overrides.
 *
 * @example
 * const hw = readHardwareFile('chip.yaml');
 * const model = compileHardware(graph, hw);
 * const { execution, release } = hardwareExecution(model, hw, 7);
 * const runner = await model.runner(execution);
 * const logits = await runner.runAll(images, { seed: 8 });
 * await runner.dispose(); release();
 */
import { ConfigError } from '../errors';
import type { Rng } from '../rng';
import { compile, type CompiledModel, type FoldBatchNormMode, type ModelSource } from './compile';
import type { Execution } from './engine/modelRunner';
import type { ProgrammedChip } from './programmedChip';
import type { SourceNames } from './layerNames';
import type { RawChipConfig } from './chipPlan';
import { EXACT_CHIP_CONFIG, validateHardware, type Hardware } from './hardware';
import { readConfigFile } from './configFile';

export interface HardwareCompileOptions {
  /** Copies of the network on a chip, for parallel voting (default 1). */
  readonly replicas?: number;
  readonly foldBatchNorm?: FoldBatchNormMode;
  /** Source node names (an ONNX file's), accepted in `layers`. */
  readonly sourceNames?: SourceNames;
}

/** Reads and validates a hardware description (or a chip) from a JSON or YAML file. */
export function readHardwareFile(file: string): Hardware {
  const raw = readConfigFile(file, 'hardware');
  try {
    return validateHardware(raw, 'hardware');
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.field}`, err.value, err.expected);
    throw err;
  }
}

/**
 * `model` compiled for `hardware` (validated here, so a raw description works):
 * a chip with its per-layer overrides; signal-level noise at its site, costed on
 * its chip if it names one (else on the exact chip, whose costs mean nothing); the
 * exact reference on the exact chip.
 */
export function compileHardware(model: ModelSource, hardware: Hardware | unknown, options: HardwareCompileOptions = {}): CompiledModel {
  const hw = validateHardware(hardware);
  const common = {
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    ...(options.foldBatchNorm !== undefined ? { foldBatchNorm: options.foldBatchNorm } : {}),
    ...(options.sourceNames !== undefined ? { sourceNames: options.sourceNames } : {}),
  };
  switch (hw.kind) {
    case 'exact':
      return compile(model, { chip: { ...EXACT_CHIP_CONFIG }, ...common });
    case 'signal':
      return compile(model, { chip: hw.chip ?? { ...EXACT_CHIP_CONFIG }, ...(hw.site ? { noiseSite: hw.site } : {}), ...common });
    case 'chip':
      return compile(model, { chip: hw.chip, ...(hw.layers ? { layers: hw.layers as unknown as Readonly<Record<string, RawChipConfig>> } : {}), ...common });
  }
}

/**
 * The execution of `hardware` on `model` (compiled for it): a chip is programmed
 * from `programSeed` and its converter ranges calibrated on `calibration` (call
 * `release` when done with it).
 */
export function hardwareExecution(
  model: CompiledModel,
  hardware: Hardware,
  programSeed: number | Rng,
  /** Inputs a chip's converter ranges are calibrated on (flat, the model's input layout). */
  calibration?: Float32Array,
): { execution: Execution; chip: ProgrammedChip | null; release: () => void } {
  switch (hardware.kind) {
    case 'exact':
      return { execution: { kind: 'exact' }, chip: null, release: () => {} };
    case 'signal':
      return { execution: { kind: 'signal', noise: hardware.noise }, chip: null, release: () => {} };
    case 'chip': {
      const chip = model.program(programSeed, calibration ? { calibration } : {});
      return { execution: { kind: 'chip', chip }, chip, release: () => chip.dispose() };
    }
  }
}
