/** A JSON file the user named: missing or malformed files are DataErrors naming the file. */
import * as fs from 'fs';
import { DataError } from '../errors';

export function readJsonFile(file: string, what: string): unknown {
  if (!fs.existsSync(file)) throw new DataError(file, `no such ${what} file`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(file, `not valid JSON (${(err as Error).message})`);
  }
}
