/**
 * Where the data lives. The package ships one embedded dataset, the MNIST
 * t10k test files in `<package root>/data/mnist/`, so a fresh install runs
 * without anything else. Everything larger is read from a datasets folder
 * passed in by the caller, defaulting to `../shared/datasets` beside the
 * repository. No environment variables are read here: callers (the CLI, the
 * tests) pass paths down.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../errors';

const PACKAGE_NAME = 'ohmic';

let cachedPackageRoot: string | null = null;

/**
 * The folder holding ohmic's own `package.json`, found by walking up from this
 * module: `src/data` under tsx or jest, `dist/data` after a build, and
 * `node_modules/ohmic/dist/data` when installed all resolve.
 *
 * @throws DataError when no `package.json` named "ohmic" is above this module.
 */
export function packageRoot(): string {
  if (cachedPackageRoot !== null) return cachedPackageRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        const parsed = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: unknown };
        if (parsed.name === PACKAGE_NAME) {
          cachedPackageRoot = dir;
          return dir;
        }
      } catch {
        // An unreadable or invalid manifest is not ours; keep walking up.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new DataError(__dirname, `no package.json named "${PACKAGE_NAME}" in this folder or above it`);
    }
    dir = parent;
  }
}

/**
 * The folder of the embedded MNIST test split (`t10k-images-idx3-ubyte.gz`,
 * `t10k-labels-idx1-ubyte.gz`), for `loadMnist(embeddedMnistDir(), 'test')`.
 */
export function embeddedMnistDir(): string {
  return path.join(packageRoot(), 'data', 'mnist');
}

/**
 * The shared datasets folder: `explicitDir` resolved against the working
 * directory when given, else `../shared/datasets` relative to the package
 * (repository) root. The folder is not checked for existence here; the
 * readers report a missing file by name.
 */
export function defaultDataDir(explicitDir?: string): string {
  if (explicitDir !== undefined && explicitDir !== '') return path.resolve(explicitDir);
  return path.resolve(packageRoot(), '..', 'shared', 'datasets');
}

/** The files of the shared datasets folder (layout of its README). */
export interface SharedDatasetPaths {
  /** Folder with the four canonical MNIST IDX files. */
  readonly mnistDir: string;
  /** `mnist-stroke/sequences.tar.gz`. */
  readonly strokesTarGz: string;
  /** `cifar10/data_batch_1.first4000.bin.gz`: the first 4,000 CIFAR-10 training records. */
  readonly cifar10Sample: string;
}

/** Paths of the known files under a datasets folder (see {@link defaultDataDir}). */
export function sharedDatasetPaths(datasetsDir: string): SharedDatasetPaths {
  return {
    mnistDir: path.join(datasetsDir, 'mnist'),
    strokesTarGz: path.join(datasetsDir, 'mnist-stroke', 'sequences.tar.gz'),
    cifar10Sample: path.join(datasetsDir, 'cifar10', 'data_batch_1.first4000.bin.gz'),
  };
}
