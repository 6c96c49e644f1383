/**
 * The study configs shipped in studies/ (the paper's Tables 2, 3, 5 and 6 on the zoo's
 * CNN-6, DenseNet-40 and LSTM models): each reads and validates, names only models the zoo holds, and
 * every point is one the chip evaluator accepts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { STUDY_DEVICES } from '../../src/cli/studyDevices';
import { readZooManifest } from '../../src/models/zoo';
import { validateChipPoint } from '../../src/study/chipEvaluator';
import { expandGrid } from '../../src/study/grid';
import { readStudyConfigFile } from '../../src/study/studyConfigFile';

const dir = path.resolve(__dirname, '../../studies');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('studies/*.json', () => {
  it('holds the paper tables 2, 3, 5 and 6', () => {
    expect(files.sort()).toEqual(['cnn6-add-table3.json', 'cnn6-mult-table2.json', 'densenet40-mult-table5.json', 'lstm-mult-table6.json']);
  });

  it.each(files)('%s validates, uses zoo models only, and every point is accepted', (file) => {
    const config = readStudyConfigFile(path.join(dir, file), STUDY_DEVICES);
    const zoo = new Map(readZooManifest().models.map((m) => [m.name, m]));
    for (const name of config.models) expect(zoo.has(name)).toBe(true);
    const noise = config.noise[0];
    for (const name of config.models) expect(zoo.get(name)!.noise).toBe(noise);
    const points = expandGrid(config);
    expect(points).toHaveLength(config.models.length * 6 * 2);
    for (const p of points) expect(() => validateChipPoint(p)).not.toThrow();
  });
});
