/**
 * The programmed-chip file format: save (versioned, checksummed, atomic), load
 * (checked against the model it was programmed for), and the per-tile conductance
 * maps other tools read (`.npy` or JSON). A chip is plain data (conductances,
 * converter ranges, seed); this module only moves that data to and from files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { ConfigError, DataError } from '../errors';
import type { ProgrammedLayer } from '../crossbar/programmedLayer';
import { layerFromConductances } from '../crossbar/programmedLayer';
import { validateChipSpec } from '../crossbar/chipSpec';
import { combineSlices, physicalLayers } from '../crossbar/slicedLayer';
import type { CompiledModel } from './compile';
import { encodeNpyFloat32 } from './npy';
import { ProgrammedChip } from './programmedChip';

export const CHIP_FILE_MAGIC = 'OHMICHIP';
/**
 * 2: conv matrices in channel-major row order; the per-cell read variance is stored.
 * 3: converter ranges calibrated on data are stored (chips default to calibrated ranges).
 */
export const CHIP_FILE_VERSION = 3;

interface StoredMatrix {
  node: string;
  group: number;
  fanIn: number;
  fanOut: number;
  chip: unknown;
  driftGain: number;
  programming: { cells: number; clippedCells: number; stuckCells: number };
  /**
   * Byte offsets in the payload of gPlus, gMinus, targetPlus, targetMinus (f32),
   * weightPerMicroSiemens (f64) and, when the device model has one, the per-cell
   * read variance (f32).
   */
  offsets: number[];
  /** A slice of a bit-sliced layer: its index (0 the most significant) and the layer's slice count. */
  slice?: number;
  slices?: number;
  /** Calibrated converter ranges: the DAC range and the payload offset of the ADC full scales (f32, row blocks × fanOut). */
  ranges?: { dacMaxAbs: number | null; samples: number; adcOffset: number | null };
}

interface ChipFileHeader {
  format: 'ohmic-programmed-chip';
  version: number;
  seed: number | string;
  modelFingerprint: string;
  payloadSha256: string;
  matrices: StoredMatrix[];
}

/** sha256 over node names, shapes and weights of the analog nodes: what a chip file must match. */
export function modelFingerprint(model: CompiledModel): string {
  const h = createHash('sha256');
  for (const layer of model.plan.layers) {
    for (const m of layer.matrices) h.update(`${m.node}/${m.group}/${m.fanIn}x${m.fanOut};`);
  }
  for (const node of model.graph.nodes) {
    for (const value of Object.values(node.attrs as object)) {
      if (value && typeof value === 'object' && (value as { data?: unknown }).data instanceof Float32Array) {
        const d = (value as { data: Float32Array }).data;
        h.update(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
      }
    }
  }
  return h.digest('hex');
}

/** Write `chip` (conductances, seed, per-layer configuration) atomically to `file`. */
export function saveProgrammedChip(chip: ProgrammedChip, file: string): void {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (a: Float32Array | Float64Array) => {
    // Every array starts 8-byte aligned, so float64 views of the payload are legal.
    if (offset % 8 !== 0) {
      parts.push(Buffer.alloc(8 - (offset % 8)));
      offset += 8 - (offset % 8);
    }
    const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    parts.push(b);
    const at = offset;
    offset += b.length;
    return at;
  };
  const matrices: StoredMatrix[] = [];
  for (const [node, ls] of chip.layers) {
    // A bit-sliced layer is stored as its slices, one matrix entry each (`slice` of `slices`).
    ls.forEach((layer, group) => physicalLayers(layer).forEach((l, slice, all) => {
      matrices.push({
        node,
        group,
        ...(layer.slices ? { slice, slices: all.length } : {}),
        fanIn: l.fanIn,
        fanOut: l.fanOut,
        chip: l.chip,
        driftGain: l.driftGain,
        programming: { ...l.programming },
        offsets: [
          push(l.gPlus),
          push(l.gMinus),
          push(l.targetPlus),
          push(l.targetMinus),
          push(l.weightPerMicroSiemens),
          ...(l.readVarianceMicroSiemens2 ? [push(l.readVarianceMicroSiemens2)] : []),
        ],
        ...(l.ranges
          ? {
              ranges: {
                dacMaxAbs: l.ranges.dacMaxAbs,
                samples: l.ranges.samples,
                adcOffset: l.ranges.adcFullScaleMicroAmps ? push(l.ranges.adcFullScaleMicroAmps) : null,
              },
            }
          : {}),
      });
    }));
  }
  const payload = Buffer.concat(parts);
  const header: ChipFileHeader = {
    format: 'ohmic-programmed-chip',
    version: CHIP_FILE_VERSION,
    seed: chip.seed,
    modelFingerprint: modelFingerprint(chip.model),
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
    matrices,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(12);
  prefix.write(CHIP_FILE_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(headerBytes.length, 8);
  // Pad so the payload's float64 arrays stay 8-byte aligned when read back.
  const pad = Buffer.alloc((8 - ((12 + headerBytes.length) % 8)) % 8, 0x20);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat([prefix, headerBytes, pad, payload]));
  fs.renameSync(tmp, file);
}

/**
 * Export each tile's G⁺ and G⁻ maps (µS, the tile's used rows × cols) as `.npy`
 * or one JSON file, plus `tiles.json` with the placement. Returns the files written.
 */
export function exportTileMaps(chip: ProgrammedChip, dir: string, format: 'npy' | 'json' = 'npy'): string[] {
  if (format !== 'npy' && format !== 'json') throw new ConfigError('format', format, '"npy" or "json"');
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const index: unknown[] = [];
  const json: Record<string, unknown> = {};
  for (const plan of chip.model.plan.layers) {
    for (const m of plan.matrices) {
      const sliced = chip.layers.get(m.node)![m.group];
      // A bit-sliced layer's slices sit on their own tiles, slice after slice (`.s<slice>` in the names).
      physicalLayers(sliced).forEach((layer, slice) => m.grid.tiles.forEach((t, k) => {
        const cut = (g: Float32Array) => {
          const out = new Float32Array(t.rows * t.cols);
          for (let i = 0; i < t.rows; i++) {
            out.set(g.subarray((t.row0 + i) * m.fanOut + t.col0, (t.row0 + i) * m.fanOut + t.col0 + t.cols), i * t.cols);
          }
          return out;
        };
        const base = `${m.node.replace(/[^A-Za-z0-9_.-]/g, '_')}.g${m.group}${sliced.slices ? `.s${slice}` : ''}.t${k}`;
        const chipTile = m.firstTile + slice * m.grid.tiles.length + k;
        index.push({ node: m.node, group: m.group, ...(sliced.slices ? { slice } : {}), tile: k, chipTile, ...t, files: format === 'npy' ? [`${base}.gplus.npy`, `${base}.gminus.npy`] : [base] });
        if (format === 'npy') {
          for (const [suffix, g] of [['gplus', layer.gPlus], ['gminus', layer.gMinus]] as const) {
            const f = path.join(dir, `${base}.${suffix}.npy`);
            fs.writeFileSync(f, encodeNpyFloat32(cut(g), [t.rows, t.cols]));
            written.push(f);
          }
        } else {
          json[base] = { shape: [t.rows, t.cols], gPlusMicroSiemens: Array.from(cut(layer.gPlus)), gMinusMicroSiemens: Array.from(cut(layer.gMinus)) };
        }
      }));
    }
  }
  if (format === 'json') {
    const f = path.join(dir, 'tileMaps.json');
    fs.writeFileSync(f, JSON.stringify(json));
    written.push(f);
  }
  const f = path.join(dir, 'tiles.json');
  fs.writeFileSync(f, JSON.stringify({ seed: chip.seed, tiles: index }, null, 1));
  written.push(f);
  return written;
}

function storedRanges(m: StoredMatrix, f32: (at: number, n: number) => Float32Array, file: string) {
  const r = m.ranges!;
  const dac = r.dacMaxAbs;
  if (dac !== null && !(typeof dac === 'number' && dac > 0 && Number.isFinite(dac))) {
    throw new DataError(file, `${m.node}: stored DAC range ${JSON.stringify(dac)} is not a positive number`);
  }
  const rowBlocks = Math.ceil(m.fanIn / ((m.chip as { tile?: { rows?: number } }).tile?.rows ?? m.fanIn));
  return {
    dacMaxAbs: dac,
    samples: r.samples,
    adcFullScaleMicroAmps: r.adcOffset === null ? null : f32(r.adcOffset, rowBlocks * m.fanOut),
  };
}

/** Load a chip saved by {@link ProgrammedChip.save} for `model` (which must be the same compiled model). */
export function loadProgrammedChip(model: CompiledModel, file: string): ProgrammedChip {
  if (!fs.existsSync(file)) throw new DataError(file, 'no such file');
  const bytes = fs.readFileSync(file);
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== CHIP_FILE_MAGIC) {
    throw new DataError(file, `not an ohmic chip file (magic ${JSON.stringify(bytes.toString('latin1', 0, Math.min(8, bytes.length)))}, expected "${CHIP_FILE_MAGIC}")`);
  }
  const headerLength = bytes.readUInt32LE(8);
  if (12 + headerLength > bytes.length) throw new DataError(file, `truncated: header of ${headerLength} bytes, file of ${bytes.length}`);
  let header: ChipFileHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + headerLength)) as ChipFileHeader;
  } catch (err) {
    throw new DataError(file, `corrupt header (${(err as Error).message})`);
  }
  if (header.format !== 'ohmic-programmed-chip' || header.version !== CHIP_FILE_VERSION) {
    throw new DataError(file, `format ${header.format} version ${header.version}; this ohmic reads ohmic-programmed-chip version ${CHIP_FILE_VERSION}`);
  }
  const start = 12 + headerLength + ((8 - ((12 + headerLength) % 8)) % 8);
  const payload = bytes.subarray(start);
  const sha = createHash('sha256').update(payload).digest('hex');
  if (sha !== header.payloadSha256) throw new DataError(file, `payload checksum ${sha.slice(0, 12)}… does not match the header's ${String(header.payloadSha256).slice(0, 12)}… (corrupt or truncated)`);
  const fingerprint = modelFingerprint(model);
  if (header.modelFingerprint !== fingerprint) {
    throw new DataError(file, `programmed for a different model or compile settings (fingerprint ${header.modelFingerprint.slice(0, 12)}…, this model ${fingerprint.slice(0, 12)}…)`);
  }
  const aligned = new Uint8Array(payload.length);
  aligned.set(payload);
  const f32 = (at: number, n: number) => new Float32Array(aligned.buffer, at, n).slice();
  const layers = new Map<string, ProgrammedLayer[]>();
  const sliced = new Map<string, { node: string; group: number; slices: ProgrammedLayer[] }>();
  for (const m of header.matrices) {
    const n = m.fanIn * m.fanOut;
    const layer = layerFromConductances({
      fanIn: m.fanIn,
      fanOut: m.fanOut,
      chip: validateChipSpec(m.chip, `${file}: ${m.node}.chip`),
      gPlus: f32(m.offsets[0], n),
      gMinus: f32(m.offsets[1], n),
      targetPlus: f32(m.offsets[2], n),
      targetMinus: f32(m.offsets[3], n),
      weightPerMicroSiemens: new Float64Array(aligned.buffer, m.offsets[4], m.fanOut).slice(),
      driftGain: m.driftGain,
      programming: m.programming,
      ...(m.offsets.length > 5 ? { readVarianceMicroSiemens2: f32(m.offsets[5], n) } : {}),
      ...(m.ranges ? { ranges: storedRanges(m, f32, file) } : {}),
    });
    if (m.slices !== undefined) {
      if (!(Number.isInteger(m.slices) && m.slices >= 2 && Number.isInteger(m.slice) && m.slice! >= 0 && m.slice! < m.slices)) {
        throw new DataError(file, `${m.node}: slice ${JSON.stringify(m.slice)} of ${JSON.stringify(m.slices)} is not a slice index of a sliced layer`);
      }
      const key = `${m.node}\u0000${m.group}`;
      const list = sliced.get(key) ?? { node: m.node, group: m.group, slices: new Array<ProgrammedLayer>(m.slices) };
      list.slices[m.slice!] = layer;
      sliced.set(key, list);
      continue;
    }
    if (!layers.has(m.node)) layers.set(m.node, []);
    layers.get(m.node)![m.group] = layer;
  }
  for (const { node, group, slices } of sliced.values()) {
    if (slices.some((l) => l === undefined) || slices.length !== Object.keys(slices).length) throw new DataError(file, `${node}: a slice of the bit-sliced layer (group ${group}) is missing`);
    if (!layers.has(node)) layers.set(node, []);
    layers.get(node)![group] = combineSlices(slices);
  }
  return new ProgrammedChip(model, layers, header.seed);
}

