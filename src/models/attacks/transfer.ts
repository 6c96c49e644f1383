/**
 * Black-box transfer evaluation (paper §4, Table 11): adversarial examples made
 * on a source network are classified by a separately trained target network
 * running noisy inference, with the paper's signal-level multiplicative noise
 * (σ after every MVM) or on a programmed device chip.
 *
 * Every noisy configuration is run `runs` times (the paper: 20) with independent
 * dynamic noise; the table reports the mean (and spread) of the per-run accuracy,
 * as the paper's "average validation accuracy … with 20 runs of noisy inference",
 * and the accuracy of the majority vote over those runs (src/models/voting.ts).
 *
 * Seeds: configuration c's runs use `voteSeeds(seed/transfer/<c>, semantics, runs)`;
 * signal-level noise uses `signal` semantics (fresh noise every run, nothing
 * static), a device uses `passes` (one programmed chip, fresh read noise per run,
 * as `ohmic start`). The same examples with the same seed give the same table.
 * σ = 0 is noiseless: every run is identical, so it is run once.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../../errors';
import { Rng } from '../../rng';
import { compile, IDEAL_CHIP, type CompiledModel, type ModelSource } from '../../compiler/compile';
import type { EngineOptions, ModelRunner } from '../../compiler/engine/modelRunner';
import { PRESET_NAMES } from '../../crossbar/presets';
import { voteDecision, voteSeeds } from '../voting';

/** One noisy-inference configuration of the target. */
export type TransferMode = { readonly kind: 'signal'; readonly sigma: number } | { readonly kind: 'device'; readonly device: string };

/** Options of {@link evaluateTransfer}. */
export interface TransferOptions {
  /** Signal-level multiplicative σ values (the paper: 0, 0.1, 0.2, 0.3, 0.4). */
  readonly sigmas: readonly number[];
  /** Device presets (`reram`, `pcm`, `nand`; `ideal` is the exact chip). */
  readonly devices?: readonly string[];
  /** Noisy runs per configuration (the paper: 20). */
  readonly runs: number;
  readonly seed: number;
  /** Samples per inference batch (default 256). */
  readonly batchSize?: number;
  readonly engine?: EngineOptions;
  /** Told after every finished run: (runs done, runs in all). */
  readonly onRun?: (done: number, total: number) => void;
  /**
   * Natural inputs (flat, the target's input layout; training images, not the
   * attacked ones) the device chips calibrate their converter ranges on: required
   * with `devices`.
   */
  readonly calibration?: Float32Array;
}

/** Accuracy of one set of examples under one configuration. */
export interface ModeAccuracy {
  /** Mean over the runs of the per-run accuracy. */
  readonly meanAccuracy: number;
  /** Standard deviation of the per-run accuracy (0 for one run). */
  readonly stdAccuracy: number;
  readonly minAccuracy: number;
  readonly maxAccuracy: number;
  /** Accuracy of the majority vote over all runs. */
  readonly votedAccuracy: number;
}

/** One row of the transfer table. */
export interface TransferRow {
  readonly mode: TransferMode;
  /** `signal σ=0.2` or `device reram`. */
  readonly label: string;
  readonly runs: number;
  /** On the adversarial examples. */
  readonly adversarial: ModeAccuracy;
  /** On the natural examples, when given. */
  readonly natural?: ModeAccuracy;
}

/** A labelled set of examples for the target, batch first. */
export interface LabelledExamples {
  readonly x: Float32Array;
  readonly labels: ArrayLike<number>;
}

function checkOptions(o: TransferOptions): void {
  if (!Array.isArray(o.sigmas)) throw new ConfigError('sigmas', o.sigmas, 'a list of numbers >= 0');
  o.sigmas.forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) throw new ConfigError(`sigmas[${i}]`, s, 'a finite number >= 0');
  });
  (o.devices ?? []).forEach((d, i) => {
    if (!(PRESET_NAMES as readonly string[]).includes(d)) throw new ConfigError(`devices[${i}]`, d, `one of ${PRESET_NAMES.join(', ')}`);
  });
  if (!Number.isSafeInteger(o.runs) || o.runs < 1) throw new ConfigError('runs', o.runs, 'an integer >= 1');
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new ConfigError('seed', o.seed, 'an integer in [0, 2^53)');
  if (o.sigmas.length + (o.devices ?? []).length === 0) throw new ConfigError('sigmas/devices', [], 'at least one configuration');
  if ((o.devices ?? []).some((d) => d !== 'ideal') && !(o.calibration instanceof Float32Array && o.calibration.length > 0)) {
    throw new ConfigError('calibration', o.calibration, 'natural inputs (a non-empty Float32Array) the device chips calibrate their converter ranges on');
  }
}

/** Accuracy statistics of `runs` (logits, one Float32Array per run) against `labels`. */
export function modeAccuracy(runs: readonly Float32Array[], labels: ArrayLike<number>, classes: number): ModeAccuracy {
  const n = labels.length;
  const per = runs.map((logits) => {
    let correct = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
      if (best === labels[i]) correct++;
    }
    return correct / n;
  });
  const mean = per.reduce((a, b) => a + b, 0) / per.length;
  const variance = per.length > 1 ? per.reduce((a, b) => a + (b - mean) ** 2, 0) / (per.length - 1) : 0;
  const decided = voteDecision(runs, { batch: n, classes });
  let voted = 0;
  for (let i = 0; i < n; i++) if (decided[i] === labels[i]) voted++;
  return { meanAccuracy: mean, stdAccuracy: Math.sqrt(variance), minAccuracy: Math.min(...per), maxAccuracy: Math.max(...per), votedAccuracy: voted / n };
}

export function modeLabel(m: TransferMode): string {
  return m.kind === 'signal' ? `signal σ=${m.sigma}` : `device ${m.device}`;
}

/**
 * Accuracy of `target` on `adversarial` (and `natural`, when given) under every
 * configuration of `options`. `target` is a tfjs LayersModel or an IR graph; it is
 * compiled once per device (and once on the ideal chip for the signal-level runs).
 */
export async function evaluateTransfer(
  target: ModelSource,
  adversarial: LabelledExamples,
  options: TransferOptions,
  natural?: LabelledExamples,
): Promise<TransferRow[]> {
  checkOptions(options);
  const sets = natural ? [adversarial, natural] : [adversarial];
  const n = adversarial.labels.length;
  if (natural && natural.labels.length !== n) {
    throw new ShapeError(`natural examples: ${natural.labels.length} labels, the adversarial set has ${n}`);
  }
  const root = Rng.fromSeed(options.seed).fold('transfer');
  const modes: TransferMode[] = [
    ...options.sigmas.map((sigma) => ({ kind: 'signal' as const, sigma })),
    ...(options.devices ?? []).map((device) => ({ kind: 'device' as const, device })),
  ];
  const runsOf = (m: TransferMode): number => (m.kind === 'signal' && m.sigma === 0 ? 1 : options.runs);
  const total = modes.reduce((s, m) => s + runsOf(m), 0);
  let done = 0;
  const rows: TransferRow[] = [];
  const compiled = new Map<string, CompiledModel>();
  const compiledFor = (chipName: string): CompiledModel => {
    let c = compiled.get(chipName);
    if (!c) {
      c = compile(target, { chip: chipName === 'ideal' ? { ...IDEAL_CHIP } : { device: chipName } });
      compiled.set(chipName, c);
    }
    return c;
  };
  try {
    for (const mode of modes) {
      const model = compiledFor(mode.kind === 'signal' ? 'ideal' : mode.device);
      const runs = runsOf(mode);
      const label = modeLabel(mode);
      const streams = voteSeeds(root.fold(label), mode.kind === 'signal' ? 'signal' : 'passes', runs);
      const logits: Float32Array[][] = sets.map(() => []);
      let runner: ModelRunner | null = null;
      const chip = mode.kind === 'device' ? model.program(streams[0].program!, { calibration: options.calibration }) : null;
      try {
        runner =
          mode.kind === 'signal'
            ? await model.runner({ kind: 'signal', noise: { kind: 'multiplicative', sigma: mode.sigma } }, options.engine)
            : await model.runner({ kind: 'chip', chip: chip! }, options.engine);
        const outDims = runner.outputDims;
        if (outDims.length !== 1 || outDims[0] < 2) throw new ShapeError(`target output ${JSON.stringify(outDims)} is not a vector of class scores`);
        for (let v = 0; v < runs; v++) {
          for (let s = 0; s < sets.length; s++) {
            // Same run stream for both sets: natural and adversarial see the same noise draws.
            logits[s].push(await runner.runAll(sets[s].x, { seed: streams[v].run, batchSize: options.batchSize ?? 256 }));
          }
          options.onRun?.(++done, total);
        }
        const classes = outDims[0];
        rows.push({
          mode,
          label,
          runs,
          adversarial: modeAccuracy(logits[0], adversarial.labels, classes),
          ...(natural ? { natural: modeAccuracy(logits[1], natural.labels, classes) } : {}),
        });
      } finally {
        await runner?.dispose();
        chip?.dispose();
      }
    }
  } finally {
    for (const c of compiled.values()) c.dispose();
  }
  return rows;
}

/** Noiseless top-1 accuracy of a tfjs model on `examples` of `shape`. */
export function layersAccuracy(model: tf.LayersModel, examples: LabelledExamples, shape: readonly number[], batchSize = 256): number {
  const count = shape[0];
  const per = examples.x.length / count;
  let correct = 0;
  for (let s = 0; s < count; s += batchSize) {
    const e = Math.min(count, s + batchSize);
    const pred = tf.tidy(() => tf.argMax(model.predict(tf.tensor(examples.x.subarray(s * per, e * per), [e - s, ...shape.slice(1)])) as tf.Tensor, -1).dataSync());
    for (let i = 0; i < pred.length; i++) if (pred[i] === examples.labels[s + i]) correct++;
  }
  return correct / count;
}
