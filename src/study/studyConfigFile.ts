/** Reading a study configuration from a JSON file (`ohmic study --config`, `ohmic merge --config`). */
import * as fs from 'node:fs';
import { ConfigError, DataError } from '../errors';
import { validateStudyConfig, type StudyConfig } from './grid';

/**
 * Reads and validates a study config file: a JSON object with the fields of
 * {@link validateStudyConfig}.
 *
 * @throws DataError when the file cannot be read or is not JSON; ConfigError
 *   from validation, its field prefixed with the file (`study.json: sigmas[1]`).
 */
export function readStudyConfigFile(file: string, knownDevices: readonly string[]): StudyConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new DataError(file, `cannot read study config (${reason})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DataError(file, `not valid JSON (${(err as Error).message})`);
  }
  try {
    return validateStudyConfig(raw, knownDevices);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.field}`, err.value, err.expected);
    throw err;
  }
}
