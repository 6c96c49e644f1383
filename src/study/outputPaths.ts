/**
 * Output folders and files, checked before any work: `--out` on an existing
 * file, under a file, on a dangling symbolic link, in a folder that cannot be
 * written, or under `/proc` each gets a reason naming the path, never a raw Node
 * stack trace or a spin.
 *
 * Folders are created one level at a time: Node's `mkdirSync(dir, { recursive:
 * true })` loops forever where a parent refuses new entries with ENOENT (`/proc`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors';

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** Words for the errno codes a write can meet. */
function reasonOf(code: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOENT':
      return 'the folder above it accepts no new entries';
    case 'ENOTDIR':
      return 'a path component is not a folder';
    case 'EISDIR':
      return 'it is a folder';
    default:
      return code;
  }
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

/** The first component of `p` (from the root down) that exists and is not a folder. */
function fileAncestor(p: string): string {
  const parts = path.resolve(p).split(path.sep);
  for (let i = 2; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join(path.sep) || path.sep;
    let st: fs.Stats;
    try {
      st = fs.statSync(prefix);
    } catch {
      return prefix;
    }
    if (!st.isDirectory()) return prefix;
  }
  return p;
}

/**
 * Creates folder `dir` and its missing parents, one level at a time. Returns why
 * it cannot (naming the path at fault), or `undefined` once `dir` is a folder.
 */
export function makeFolder(dir: string): string | undefined {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let current = abs;
  for (;;) {
    let st: fs.Stats;
    try {
      st = fs.statSync(current);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'ENOENT') {
        const link = lstatOrUndefined(current);
        if (link?.isSymbolicLink()) {
          return `${current} is a symbolic link to ${fs.readlinkSync(current)}, which does not exist`;
        }
        const parent = path.dirname(current);
        if (parent === current) return `${current} does not exist`;
        missing.push(current);
        current = parent;
        continue;
      }
      if (code === 'ENOTDIR') return `${fileAncestor(current)} is a file, not a folder`;
      return `${current} cannot be examined (${reasonOf(code)})`;
    }
    if (!st.isDirectory()) return `${current} is ${current === abs ? 'an existing file' : 'a file'}, not a folder`;
    break;
  }
  for (const folder of missing.reverse()) {
    try {
      fs.mkdirSync(folder);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'EEXIST' && lstatOrUndefined(folder)?.isDirectory()) continue;
      return `cannot create ${folder} (${reasonOf(code)})`;
    }
  }
  return undefined;
}

/** Whether a file can be created in folder `dir`: returns why not, or `undefined`. */
export function checkFolderWritable(dir: string): string | undefined {
  const probe = path.join(path.resolve(dir), `.ohmic-write-check-${process.pid}`);
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
  } catch (err) {
    return `cannot write in ${path.resolve(dir)} (${reasonOf(codeOf(err))})`;
  }
  try {
    fs.unlinkSync(probe);
  } catch {
    // The probe is empty and hidden; failing to remove it is not worth failing the run.
  }
  return undefined;
}

/**
 * Makes `dir` a writable folder (creating it) or throws ConfigError naming
 * `field`, the path and the reason. Returns the absolute path.
 */
export function prepareOutputFolder(field: string, dir: string): string {
  const reason = makeFolder(dir) ?? checkFolderWritable(dir);
  if (reason !== undefined) throw new ConfigError(field, dir, `a folder ohmic can create and write in: ${reason}`);
  return path.resolve(dir);
}

/**
 * Checks that `file` can be written (it is not a folder; its folder exists or can
 * be created, and is writable), or throws ConfigError naming `field`. Creates the
 * folder; does not create the file. Returns the absolute path.
 */
export function prepareOutputFile(field: string, file: string): string {
  const abs = path.resolve(file);
  const st = lstatOrUndefined(abs);
  let reason: string | undefined;
  if (st?.isDirectory()) reason = `${abs} is a folder`;
  else if (st?.isSymbolicLink() && !fs.existsSync(abs)) reason = `${abs} is a symbolic link to ${fs.readlinkSync(abs)}, which does not exist`;
  else reason = makeFolder(path.dirname(abs)) ?? checkFolderWritable(path.dirname(abs));
  if (reason !== undefined) throw new ConfigError(field, file, `a file path ohmic can write: ${reason}`);
  return abs;
}

/**
 * Checks a zoo entry path (`ohmic train --out zoo/NAME`) before any training: the
 * entry is not an existing file, and its zoo folder exists or can be created and
 * is writable (under `/proc`, Node's recursive mkdir would spin). Creates the zoo
 * folder, not the entry. Returns the zoo folder and the entry name.
 * @throws ConfigError naming `field`.
 */
export function prepareZooEntryPath(field: string, entry: string): { zooDir: string; name: string } {
  const abs = path.resolve(entry);
  const st = lstatOrUndefined(abs);
  let reason: string | undefined;
  if (st !== undefined && !st.isDirectory()) reason = `${abs} is an existing file, not a folder`;
  else reason = makeFolder(path.dirname(abs)) ?? checkFolderWritable(path.dirname(abs));
  if (reason !== undefined) throw new ConfigError(field, entry, `a zoo entry folder ohmic can create and write: ${reason}`);
  return { zooDir: path.dirname(abs), name: path.basename(abs) };
}
