/** Device names a study accepts: the crossbar presets and the paper's signal-level model. */
import { PRESET_NAMES } from '../crossbar/presets';

/**
 * `reram`, `pcm`, `nand`, `ideal` (the presets of src/crossbar/presets) and
 * `signal`: the paper's signal-level model, noise after every MVM (Eqs. 2 and 3)
 * with no device physics.
 */
export const STUDY_DEVICES: readonly string[] = [...PRESET_NAMES, 'signal'];
