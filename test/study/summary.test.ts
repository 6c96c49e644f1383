import { expandGrid, pointSeed } from '../../src/study/grid';
import { buildResultRecord } from '../../src/study/resultRecord';
import { metricNames, summaryCsv, summaryMarkdown } from '../../src/study/summary';
import { fixtureConfig } from './fixtures/studyConfig';

const config = fixtureConfig({ models: ['cnn6'], devices: ['reram'], sigmas: [0.5], votes: [1, 5] });
const [p1, p5] = expandGrid(config);
const records = [
  buildResultRecord(p1, pointSeed(p1, 3), 3, {
    accuracyPerSeed: [0.9, 0.8],
    metrics: { latencyNs: 60, backend: 'wasm', note: 'a "quoted", value' },
  }),
  buildResultRecord({ ...p5, seeds: [0] }, 17, 3, {
    accuracyPerSeed: [0.98765],
    metrics: { latencyNs: 100.123456, energyPicojoules: 1234.5 },
  }),
];

test('metric names are the union, sorted', () => {
  expect(metricNames(records)).toEqual(['backend', 'energyPicojoules', 'latencyNs', 'note']);
});

test('Markdown table', () => {
  expect(summaryMarkdown(records)).toBe(
    [
      '| model | device | noise | σ | semantics | votes | seeds | accuracy % | backend | energy (pJ) | latency (ns) | note |',
      '| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      '| cnn6 | reram | multiplicative | 0.5 | passes | 1 | 2 | 85.00 ± 7.07 | wasm |  | 60 | a "quoted", value |',
      '| cnn6 | reram | multiplicative | 0.5 | passes | 5 | 1 | 98.77 |  | 1235 | 100.1 |  |',
      '',
    ].join('\n'),
  );
});

test('CSV with full precision and RFC 4180 quoting', () => {
  const std = Math.sqrt(((0.9 - 0.85) ** 2 + (0.8 - 0.85) ** 2) / 1);
  expect(summaryCsv(records)).toBe(
    [
      'pointId,model,device,noise,sigma,semantics,votes,seeds,dataset,datasetLimit,seed,' +
        'accuracyMean,accuracyStd,accuracyMin,accuracyMax,backend,energyPicojoules,latencyNs,note',
      `${p1.id},cnn6,reram,multiplicative,0.5,passes,1,0 1,mnist,100,${pointSeed(p1, 3)},` +
        `${records[0].accuracy.mean},${std},0.8,0.9,wasm,,60,"a ""quoted"", value"`,
      `${records[1].pointId},cnn6,reram,multiplicative,0.5,passes,5,0,mnist,100,17,0.98765,,0.98765,0.98765,,1234.5,100.123456,`,
      '',
    ].join('\n'),
  );
});

test('empty input gives a header only', () => {
  expect(summaryCsv([]).split('\n')).toHaveLength(2);
  expect(summaryMarkdown([]).trim().split('\n')).toHaveLength(2);
});
