import { initBackend, tf } from '../../src/backend';
import { Rng } from '../../src/rng';
import { ideal, validateChipSpec, programLayer, analogMvm, emptyMvmStats, tileGrid, layerCost } from '../../src/crossbar';
import { ShapeError } from '../../src/errors';

beforeAll(async () => {
  await initBackend();
});

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const a = new Float32Array(rows * cols);
  Rng.fromSeed(seed).fillNormal(a);
  return a;
}

function maxRelError(a: Float32Array, b: Float32Array): number {
  let maxAbs = 0;
  let maxErr = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(b[i]));
    maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
  }
  return maxErr / maxAbs;
}

const idealChip = (rows: number, cols: number) =>
  validateChipSpec({ device: ideal(), tile: { rows, cols }, dac: { bits: null }, adc: { bits: null } });

describe('tiled analog MVM with every noise off and ideal converters', () => {
  const cases: Array<[string, number, number, number, number, number]> = [
    // name, fanIn, fanOut, batch, tileRows, tileCols
    ['fan-in larger than one tile, ragged edges, batch 256', 300, 70, 256, 128, 32],
    ['ragged edges, batch 1', 300, 70, 1, 128, 32],
    ['single partial tile', 5, 3, 7, 256, 256],
    ['default 256x256 tiles, 3 row blocks', 600, 260, 256, 256, 256],
  ];
  it.each(cases)('%s: equals tf.matMul within 1e-5 relative', (_name, fanIn, fanOut, batch, rows, cols) => {
    const w = randomMatrix(fanIn, fanOut, 1);
    const xData = randomMatrix(batch, fanIn, 2);
    const layer = programLayer({ data: w, fanIn, fanOut }, idealChip(rows, cols), Rng.fromSeed(5));
    const x = tf.tensor2d(xData, [batch, fanIn]);
    const ref = tf.matMul(x, tf.tensor2d(w, [fanIn, fanOut]));
    // With stats the MVM takes the full tiled path (per-tile partial sums, converters).
    const tiled = analogMvm(layer, x, Rng.fromSeed(6), emptyMvmStats());
    const fast = analogMvm(layer, x, Rng.fromSeed(6));
    expect(tiled.shape).toEqual([batch, fanOut]);
    expect(maxRelError(tiled.dataSync() as Float32Array, ref.dataSync() as Float32Array)).toBeLessThan(1e-5);
    expect(maxRelError(fast.dataSync() as Float32Array, ref.dataSync() as Float32Array)).toBeLessThan(1e-5);
    tf.dispose([x, ref, tiled, fast]);
    layer.dispose();
  });

  it('does not leak tensors: a layer makes its tensors on first use and frees them on dispose', () => {
    const x = tf.tensor2d(randomMatrix(3, 40, 2), [3, 40]);
    const start = tf.memory().numTensors;
    const layer = programLayer({ data: randomMatrix(40, 10, 1), fanIn: 40, fanOut: 10 }, idealChip(16, 4), Rng.fromSeed(1));
    expect(tf.memory().numTensors).toBe(start); // programming holds plain arrays only
    analogMvm(layer, x, Rng.fromSeed(9), emptyMvmStats()).dispose();
    const cached = tf.memory().numTensors;
    for (let k = 0; k < 5; k++) analogMvm(layer, x, Rng.fromSeed(k), emptyMvmStats()).dispose();
    expect(tf.memory().numTensors).toBe(cached);
    layer.dispose();
    expect(tf.memory().numTensors).toBe(start);
    x.dispose();
  });

  it('rejects an input whose width is not the fan-in', () => {
    const layer = programLayer({ data: randomMatrix(4, 2, 1), fanIn: 4, fanOut: 2 }, idealChip(4, 4), Rng.fromSeed(1));
    const x = tf.zeros([2, 5]) as tf.Tensor2D;
    expect(() => analogMvm(layer, x, Rng.fromSeed(1))).toThrow(ShapeError);
    expect(() => analogMvm(layer, x, Rng.fromSeed(1))).toThrow(/5 features, the layer's fan-in is 4/);
    x.dispose();
    layer.dispose();
  });
});

describe('tiling and cost', () => {
  it('counts tiles and utilisation by hand', () => {
    const g = tileGrid(300, 70, { rows: 128, cols: 32 });
    expect(g.rowBlocks).toBe(3);
    expect(g.colBlocks).toBe(3);
    expect(g.tiles).toHaveLength(9);
    expect(g.tiles[8]).toEqual({ row0: 256, rows: 44, col0: 64, cols: 6 });
    expect(g.utilization).toBeCloseTo((300 * 70) / (9 * 128 * 32), 12);
    const full = tileGrid(512, 512, { rows: 256, cols: 256 });
    expect(full.tiles).toHaveLength(4);
    expect(full.utilization).toBe(1);
  });

  it('derives stage time, energy and area from the device figures', () => {
    const chip = validateChipSpec({ device: 'reram', tile: '256x256' });
    const c = layerCost(512, 100, chip, 50);
    const d = chip.device;
    expect(c.tiles).toBe(2);
    expect(c.cells).toBe(2 * 2 * 256 * 256);
    expect(c.adcs).toBe(2 * 32);
    expect(c.stageTimeNs).toBeCloseTo(d.readPulseNs + 8 * d.adcConversionNs, 12);
    expect(c.cellEnergyPicojoules).toBeCloseTo(2 * 512 * 100 * 50 * 0.25 * 10 * 1e-3, 6);
    expect(c.adcEnergyPicojoules).toBeCloseTo(2 * 100 * d.adcEnergyPicojoules, 9);
    expect(c.dacEnergyPicojoules).toBeCloseTo(512 * d.dacEnergyPicojoules, 9);
    // Cells and 8-bit ADCs as the device gives them; the periphery adds its own (see peripherals.test.ts).
    expect(c.areaBreakdownSquareMicrometers.cells).toBeCloseTo(c.cells * d.cellAreaSquareMicrometers, 6);
    expect(c.areaBreakdownSquareMicrometers.adc).toBeCloseTo(c.adcs * d.adcAreaSquareMicrometers, 6);
    expect(c.areaSquareMicrometers).toBeCloseTo(Object.values(c.areaBreakdownSquareMicrometers).reduce((a, b) => a + b, 0), 6);
  });
});
