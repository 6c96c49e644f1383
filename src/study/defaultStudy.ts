/**
 * The main job (`npm start`): the zoo's CNN-6 models on the embedded MNIST test
 * digits, across the ReRAM, PCM and NAND presets (one chip, V passes) and the
 * paper's signal-level multiplicative noise for σ ∈ {0, 0.2, …, 1.0}, each with
 * V ∈ {1, 5, 20} votes. It is two grids, because a chip's noise is its preset's
 * while the signal-level model sweeps σ; their records form one report.
 */
import { validateStudyConfig, type StudyConfig } from './grid';
import { readZooManifest } from '../models/zoo';
import { PRESET_NAMES } from '../crossbar/presets';
import { SIGNAL_DEVICE } from './chipEvaluator';

/** Digits evaluated by default: chosen so the whole job stays under 3 minutes on 2 cores. */
export const DEFAULT_STUDY_LIMIT = 200;
export const DEFAULT_STUDY_SIGMAS = [0, 0.2, 0.4, 0.6, 0.8, 1.0];
export const DEFAULT_STUDY_VOTES = [1, 5, 20];
export const DEFAULT_STUDY_DEVICES = ['reram', 'pcm', 'nand'];
/** σ_train of the zoo models the default study uses, when present. */
export const DEFAULT_STUDY_SIGMA_TRAIN = [0, 0.4];

const KNOWN_DEVICES = [...PRESET_NAMES, SIGNAL_DEVICE];

/** The CNN-6 (multiplicative) zoo models the default study evaluates. */
export function defaultStudyModels(zooDir?: string): string[] {
  return readZooManifest(zooDir)
    .models.filter((m) => m.model === 'cnn6' && m.noise === 'multiplicative' && DEFAULT_STUDY_SIGMA_TRAIN.includes(m.sigmaTrain))
    .map((m) => m.name)
    .sort();
}

/** The two grids of the default study (chips, then the signal-level model). */
export function defaultStudyConfigs(models: readonly string[], limit: number | null): { chips: StudyConfig; signal: StudyConfig } {
  const dataset = { name: 'mnist', limit };
  const chips = validateStudyConfig(
    { models, devices: DEFAULT_STUDY_DEVICES, noise: ['device'], sigmas: [0], votes: DEFAULT_STUDY_VOTES, semantics: ['passes'], seeds: [0], dataset, rootSeed: 0 },
    KNOWN_DEVICES,
  );
  const signal = validateStudyConfig(
    { models, devices: [SIGNAL_DEVICE], noise: ['multiplicative'], sigmas: DEFAULT_STUDY_SIGMAS, votes: DEFAULT_STUDY_VOTES, semantics: ['signal'], seeds: [0], dataset, rootSeed: 0 },
    KNOWN_DEVICES,
  );
  return { chips, signal };
}
