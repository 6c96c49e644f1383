/**
 * Readable names, with units, for the fields a study report shows: result metrics
 * (`energyPicojoules` → `energy (pJ)`) and sweep axes (`adc.bits` → `ADC bits`,
 * `readTimeSeconds` → `read time (s)`, `device.gMaxMicroSiemens` → `device gMax (µS)`).
 */

/** Unit suffixes of field names and how reports print them. */
const UNIT_SUFFIXES: ReadonlyArray<readonly [string, string]> = [
  ['SquareMicrometers', 'µm²'],
  ['MicroSiemens', 'µS'],
  ['Picojoules', 'pJ'],
  ['Milliwatts', 'mW'],
  ['Seconds', 's'],
  ['Volts', 'V'],
  ['Ns', 'ns'],
];

const METRIC_LABELS: Readonly<Record<string, string>> = {
  latencyNs: 'latency (ns)',
  energyPicojoules: 'energy (pJ)',
  powerMilliwatts: 'power (mW)',
  paperPowerMilliwatts: 'paper power V·P (mW)',
  tiles: 'tiles',
  areaSquareMicrometers: 'area (µm²)',
  scheduleMode: 'schedule',
  backend: 'backend',
  examples: 'examples',
  adcClippedFraction: 'ADC clipped (fraction)',
  dacClippedPerInference: 'DAC clipped per inference',
};

const AXIS_LABELS: Readonly<Record<string, string>> = {
  'adc.bits': 'ADC bits',
  'adc.rangeFraction': 'ADC range (fraction of full scale)',
  'dac.bits': 'DAC bits',
  'dac.range': 'DAC range',
  'dac.range.maxAbs': 'DAC range (max |x|)',
  tile: 'tile',
  'tile.rows': 'tile rows',
  'tile.cols': 'tile columns',
  readTimeSeconds: 'read time (s)',
  'device.readTimeSeconds': 'read time (s)',
  driftCompensation: 'drift compensation',
  'mapping.weightScale': 'weight scale',
  device: 'device',
  'device.preset': 'device preset',
  'device.bitsPerCell': 'bits per cell',
  slicing: 'weight slicing',
  'slicing.cellsPerWeight': 'cells per weight',
  'slicing.bitsPerCell': 'bits per weight slice',
  inputEncoding: 'input encoding',
  'inputEncoding.kind': 'input encoding',
  'inputEncoding.bits': 'bit-serial input bits',
  calibration: 'range calibration',
  'calibration.method': 'range calibration',
  'calibration.percentile': 'calibration percentile',
  'calibration.adcGranularity': 'ADC range per',
  wireResistanceOhmPerCell: 'wire resistance (Ω/cell)',
  'wireResistanceOhmPerCell.wordLine': 'word-line resistance (Ω/cell)',
  'wireResistanceOhmPerCell.bitLine': 'bit-line resistance (Ω/cell)',
  irDrop: 'IR-drop model',
  maxBitLineCurrentMicroAmps: 'bit-line current limit (µA)',
  site: 'noise site',
};

/** `readNoiseRelStd` → `read noise rel std`, `gMaxMicroSiemens` → `gMax (µS)`. */
export function readableFieldName(field: string): string {
  let base = field;
  let unit: string | undefined;
  for (const [suffix, shown] of UNIT_SUFFIXES) {
    if (base.endsWith(suffix) && base.length > suffix.length) {
      base = base.slice(0, -suffix.length);
      unit = shown;
      break;
    }
  }
  // Split camelCase, keeping short prefixes such as gMax whole.
  const words = /^[a-z][A-Z][a-z]+$/.test(base) ? base : base.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return unit ? `${words} (${unit})` : words;
}

/** The column title of a metric. */
export function metricLabel(metric: string): string {
  return METRIC_LABELS[metric] ?? readableFieldName(metric);
}

/** The title of a sweep axis (a dotted chip path, or `site`). */
export function axisLabel(path: string): string {
  const known = AXIS_LABELS[path];
  if (known) return known;
  const parts = path.split('.');
  if (parts[0] === 'layers' && parts.length >= 3) return `${parts[1]} ${axisLabel(parts.slice(2).join('.'))}`;
  if (parts[0] === 'device' && parts.length === 2) return `device ${readableFieldName(parts[1])}`;
  return parts.map(readableFieldName).join(' ');
}

/** An axis value as a report shows it: `128x128`, `1 h`, `ideal` for null converter bits. */
export function axisValueText(path: string, value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return path.endsWith('bits') ? 'ideal' : 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && value !== null && 'rows' in value && 'cols' in value) {
    const v = value as { rows: unknown; cols: unknown };
    return `${String(v.rows)}x${String(v.cols)}`;
  }
  return JSON.stringify(value);
}
