import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultStudyConfigs, defaultStudyModels, DEFAULT_STUDY_LIMIT } from '../../src/study/defaultStudy';
import { expandGrid } from '../../src/study/grid';
import { validateChipPoint } from '../../src/study/chipEvaluator';

describe('the default study (npm start)', () => {
  it('picks the multiplicative CNN-6 zoo models at σ_train 0 and 0.4', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ohmic-zoo-'));
    const entry = (name: string, model: string, noise: string, sigmaTrain: number) => ({ name, model, noise, sigmaTrain });
    fs.writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({
        version: 1,
        models: [
          entry('cnn6-mnist-mult-0.4', 'cnn6', 'multiplicative', 0.4),
          entry('cnn6-mnist-mult-0', 'cnn6', 'multiplicative', 0),
          entry('cnn6-mnist-mult-0.7', 'cnn6', 'multiplicative', 0.7),
          entry('cnn6-mnist-add-0', 'cnn6', 'additive', 0),
          entry('lstm-strokes-mult-0', 'lstm', 'multiplicative', 0),
        ],
      }),
    );
    expect(defaultStudyModels(dir)).toEqual(['cnn6-mnist-mult-0', 'cnn6-mnist-mult-0.4']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is a chip grid and a signal-level grid whose every point the chip evaluator accepts', () => {
    const { chips, signal } = defaultStudyConfigs(['m'], DEFAULT_STUDY_LIMIT);
    const chipPoints = expandGrid(chips);
    const signalPoints = expandGrid(signal);
    expect(chipPoints).toHaveLength(3 * 3); // reram, pcm, nand × V ∈ {1, 5, 20}
    expect(signalPoints).toHaveLength(6 * 3); // σ ∈ {0, …, 1} × V
    expect(new Set(signalPoints.map((p) => p.sigma))).toEqual(new Set([0, 0.2, 0.4, 0.6, 0.8, 1]));
    expect(new Set(chipPoints.map((p) => p.device))).toEqual(new Set(['reram', 'pcm', 'nand']));
    for (const p of [...chipPoints, ...signalPoints]) {
      expect(() => validateChipPoint(p)).not.toThrow();
      expect(p.dataset).toEqual({ name: 'mnist', limit: DEFAULT_STUDY_LIMIT });
    }
    expect(defaultStudyConfigs(['m'], null).chips.dataset.limit).toBeNull();
  });
});
