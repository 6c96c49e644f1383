/** Splitting a weight matrix [fanIn × fanOut] into crossbar tiles. */
import type { TileShape } from './chipSpec';

export interface TilePlacement {
  /** First word line (input row) of the matrix this tile holds. */
  readonly row0: number;
  readonly rows: number;
  /** First output column of the matrix this tile holds. */
  readonly col0: number;
  readonly cols: number;
}

export interface TileGrid {
  readonly rowBlocks: number;
  readonly colBlocks: number;
  readonly tiles: readonly TilePlacement[];
  /** Weights stored / weight slots in the allocated tiles. */
  readonly utilization: number;
}

/** Tiles in row-block-major order; partial sums of one column block are added digitally. */
export function tileGrid(fanIn: number, fanOut: number, tile: TileShape): TileGrid {
  const rowBlocks = Math.ceil(fanIn / tile.rows);
  const colBlocks = Math.ceil(fanOut / tile.cols);
  const tiles: TilePlacement[] = [];
  for (let a = 0; a < rowBlocks; a++) {
    for (let b = 0; b < colBlocks; b++) {
      const row0 = a * tile.rows;
      const col0 = b * tile.cols;
      tiles.push({ row0, rows: Math.min(tile.rows, fanIn - row0), col0, cols: Math.min(tile.cols, fanOut - col0) });
    }
  }
  const utilization = (fanIn * fanOut) / (tiles.length * tile.rows * tile.cols);
  return { rowBlocks, colBlocks, tiles, utilization };
}
