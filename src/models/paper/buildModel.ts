/**
 * One entry point for the paper's networks by name, as the CLI and the zoo use it.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { buildCnn6 } from './cnn6';
import { buildDenseNet } from './densenet';
import { buildLstm } from './lstm';
import { buildMadryCnn4 } from './madryCnn4';
import { PaperModelOptions } from './modelOptions';

/** Names accepted by `buildModel`. */
export const PAPER_MODEL_NAMES = ['cnn6', 'madryCnn4', 'densenet40', 'densenet100', 'lstm'] as const;
export type PaperModelName = (typeof PAPER_MODEL_NAMES)[number];

/**
 * Builds the paper network `name` with its noise layers.
 * @example buildModel('cnn6', { noise: 'multiplicative', sigma: 0.4, seed: 1 })
 * @throws ConfigError for an unknown name or a bad option.
 */
export function buildModel(name: string, options: Partial<PaperModelOptions> = {}): tf.LayersModel {
  switch (name as PaperModelName) {
    case 'cnn6':
      return buildCnn6(options);
    case 'madryCnn4':
      return buildMadryCnn4(options);
    case 'densenet40':
      return buildDenseNet(40, options);
    case 'densenet100':
      return buildDenseNet(100, options);
    case 'lstm':
      return buildLstm(options);
    default:
      throw new ConfigError('model', name, `one of ${PAPER_MODEL_NAMES.join(', ')}`);
  }
}
