import * as path from 'path';
import * as os from 'os';
import * as fs from 'fs';
import { initBackend } from '../src/backend';
import { buildModel } from '../src/models/paper/buildModel';
import { saveTfjsModelToDir } from '../src/compiler';
import { defaultStudyConfigs } from '../src/study/defaultStudy';
import { runStudy } from '../src/study/runStudy';
import { chipEvaluatorModule } from '../src/study/chipEvaluatorModule';
import { embeddedMnistDir } from '../src/data';
(async () => {
  await initBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn6-'));
  const file = await saveTfjsModelToDir(buildModel('cnn6', { noise: 'multiplicative', sigma: 0, seed: 1 }), dir);
  const limit = Number(process.argv[2] ?? 300);
  const { chips, signal } = defaultStudyConfigs([file], limit);
  for (const [c, n] of [[chips, 'chips'], [signal, 'signal']] as const) {
    const t = performance.now();
    await runStudy(c, chipEvaluatorModule({ dataDir: embeddedMnistDir() }), { resultsPath: path.join(dir, n + '.jsonl'), workers: 'auto' });
    console.log(n, ((performance.now() - t) / 1000).toFixed(1), 's');
  }
})();
