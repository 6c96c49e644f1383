/** Reading a study configuration from a JSON or YAML file (`ohmic study --config`, `ohmic merge --config`). */
import { ConfigError } from '../errors';
import { readConfigFile } from '../compiler/configFile';
import { validateStudyConfig, type StudyConfig } from './grid';

/**
 * Reads and validates a study config file: an object with the fields of
 * {@link validateStudyConfig}, as JSON, or YAML for `.yaml` / `.yml` files.
 *
 * @throws DataError when the file cannot be read or parsed; ConfigError from
 *   validation, its field prefixed with the file (`study.json: sigmas[1]`).
 */
export function readStudyConfigFile(file: string, knownDevices: readonly string[]): StudyConfig {
  const raw = readConfigFile(file, 'study config');
  try {
    return validateStudyConfig(raw, knownDevices);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.field}`, err.value, err.expected);
    throw err;
  }
}
