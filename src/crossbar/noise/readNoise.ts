/**
 * Read noise per cell: the variance of a cell's conductance as one MVM sees it, µS²
 * (per V² of read voltage, the column current's variance is Σ V²·this). The column
 * current of independent Gaussian cells is Gaussian with variance Σ V²·σ_i², which
 * the engine evaluates with a second GEMM on squared operands (programmedLayer.ts).
 *
 * Laws, in quadrature:
 * - generic: σ = readNoiseRelStd·G(t) and readNoiseAddMicroSiemens (white, fresh per MVM);
 * - `pcmAihwkit`: 1/f noise σ = |G(t)|·Q_s(G_prog)·sqrt(ln((t + t_read)/(2·t_read)))
 *   (aihwkit pcm.py). With `flickerWindowSeconds` w, the part faster than w,
 *   ln((w + t_read)/(2·t_read)), is fresh per MVM and the rest is `frozen`: common
 *   to every MVM of the programmed chip, drawn once with the static noise;
 * - `sonosCrossSim`: σ_I = A_n(1 − exp(−I/B_n)) at the programmed current (SONOS.py);
 * - `reramNeurramCrossSim`: none of its own (CrossSim's RRAMWan has no read noise);
 *   the preset uses the generic additive term.
 */
import type { DeviceSpec } from '../deviceSpec';
import { pcmFlickerLog, pcmFlickerQs, sonosReadStd } from './deviceModels';

/** `Math` as a module-local: global lookups in per-cell loops are slow under jest's vm context (see rng.ts). */
const math = Math;

export interface ReadVariances {
  /** Per cell, the variance drawn fresh at every MVM, µS². */
  readonly fresh: Float32Array;
  /** Per cell, the 1/f variance common to all MVMs (to draw once, statically), µS²; null when none. */
  readonly frozen: Float32Array | null;
}

/**
 * Read-noise variances at read time `tSeconds` of cells programmed to `gProg` (after
 * programming noise, before drift) that sit at `gNow` (after drift).
 */
export function readVariances(d: DeviceSpec, gProg: Float32Array, gNow: Float32Array, tSeconds: number): ReadVariances {
  const n = gNow.length;
  const fresh = new Float32Array(n);
  let frozen: Float32Array | null = null;
  const rel2 = d.readNoiseRelStd * d.readNoiseRelStd;
  const add2 = d.readNoiseAddMicroSiemens * d.readNoiseAddMicroSiemens;
  for (let i = 0; i < n; i++) fresh[i] = rel2 * gNow[i] * gNow[i] + add2;
  switch (d.noiseModel) {
    case 'generic':
    case 'reramNeurramCrossSim':
      break;
    case 'sonosCrossSim':
      for (let i = 0; i < n; i++) fresh[i] += sonosReadStd(gProg[i], d.readVoltageVolts) ** 2;
      break;
    case 'pcmAihwkit': {
      const total = pcmFlickerLog(tSeconds);
      const w = d.flickerWindowSeconds;
      const freshLog = w === null ? total : math.max(0, pcmFlickerLog(math.min(w, tSeconds)));
      if (freshLog < total) frozen = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const a = gNow[i] * pcmFlickerQs(gProg[i], d.gMaxMicroSiemens);
        fresh[i] += a * a * freshLog;
        if (frozen) frozen[i] = a * a * (total - freshLog);
      }
      break;
    }
    default: {
      const never: never = d.noiseModel;
      throw new Error(`unknown noise model ${never as string}`);
    }
  }
  return { fresh, frozen };
}

/** Whether the device's per-MVM read variance differs from the generic σ_read²·G² the engine assumes by default. */
export function needsReadVarianceArray(d: DeviceSpec): boolean {
  return d.noiseModel !== 'generic' || d.readNoiseAddMicroSiemens > 0;
}
