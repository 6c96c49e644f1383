/**
 * The paper's attacks (Table 10): PGD with random restarts in the L∞ ε-cube.
 * MNIST: ε = 0.3, step 0.05, 20 iterations, 20 restarts. CIFAR-10: 7 iterations,
 * 10 restarts; the table's ε and step did not survive in our copy of the paper,
 * so they are Madry et al.'s CIFAR-10 values, ε = 8/255 and step 2/255.
 */
import { ConfigError } from '../../errors';

export interface AttackPreset {
  readonly eps: number;
  readonly stepSize: number;
  readonly iterations: number;
  readonly restarts: number;
}

export const ATTACK_PRESETS = {
  mnist: { eps: 0.3, stepSize: 0.05, iterations: 20, restarts: 20 },
  cifar10: { eps: 8 / 255, stepSize: 2 / 255, iterations: 7, restarts: 10 },
} as const satisfies Record<string, AttackPreset>;

export type AttackPresetName = keyof typeof ATTACK_PRESETS;
export const ATTACK_PRESET_NAMES = Object.keys(ATTACK_PRESETS) as AttackPresetName[];

/** The preset `name`; ConfigError naming `field` for an unknown one. */
export function attackPreset(name: string, field = 'preset'): AttackPreset {
  if (!(ATTACK_PRESET_NAMES as string[]).includes(name)) throw new ConfigError(field, name, `one of ${ATTACK_PRESET_NAMES.join(', ')}`);
  return ATTACK_PRESETS[name as AttackPresetName];
}
