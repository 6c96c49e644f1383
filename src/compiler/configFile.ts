/**
 * Configuration files the user names (hardware descriptions, chips, study
 * configs): JSON, or YAML for `.yaml` / `.yml` files (YAML 1.2 via the `yaml`
 * package; JSON is YAML too, so either syntax reads). Missing or malformed files
 * are DataErrors naming the file; what the file holds is validated by the caller.
 */
import * as fs from 'fs';
import { parse as parseYaml } from 'yaml';
import { DataError } from '../errors';

/** Whether `file` is read as YAML (by its extension). */
export function isYamlFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/** Whether `file` names a configuration file by its extension (`.json`, `.yaml`, `.yml`). */
export function isConfigFileName(file: string): boolean {
  return /\.(json|ya?ml)$/i.test(file);
}

/** The parsed contents of a JSON or YAML file. `what` names the file's role in messages. */
export function readConfigFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(file, code === 'ENOENT' ? `no such ${what} file` : `cannot read ${what} file (${code ?? (err as Error).message})`);
  }
  if (isYamlFile(file)) {
    try {
      // Plain data only: no custom tags; aliases bounded by the parser's default (billion-laughs guard).
      return parseYaml(text, { prettyErrors: true });
    } catch (err) {
      throw new DataError(file, `not valid YAML (${(err as Error).message.split('\n')[0]})`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DataError(file, `not valid JSON (${(err as Error).message})`);
  }
}
