import * as fs from 'fs';
import * as path from 'path';
import { defaultDataDir, embeddedMnistDir, packageRoot, sharedDatasetPaths } from '../../src/data';

const REPO_ROOT = path.resolve(__dirname, '../..');

describe('data paths', () => {
  it('packageRoot is the folder of the ohmic package.json', () => {
    expect(packageRoot()).toBe(REPO_ROOT);
    expect(JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).name).toBe('ohmic');
  });

  it('embeddedMnistDir holds exactly the two t10k files', () => {
    expect(embeddedMnistDir()).toBe(path.join(REPO_ROOT, 'data', 'mnist'));
    expect(fs.readdirSync(embeddedMnistDir()).sort()).toEqual([
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
    ]);
  });

  it('defaultDataDir: an explicit path wins, else ../shared/datasets beside the repository', () => {
    expect(defaultDataDir()).toBe(path.resolve(REPO_ROOT, '../shared/datasets'));
    expect(defaultDataDir('/some/where/datasets')).toBe('/some/where/datasets');
    expect(defaultDataDir('rel/dir')).toBe(path.resolve('rel/dir'));
  });

  it('sharedDatasetPaths follows the datasets README layout', () => {
    expect(sharedDatasetPaths('/d')).toEqual({
      mnistDir: path.join('/d', 'mnist'),
      strokesTarGz: path.join('/d', 'mnist-stroke', 'sequences.tar.gz'),
      cifar10Sample: path.join('/d', 'cifar10', 'data_batch_1.first4000.bin.gz'),
    });
  });
});
