/**
 * `npm run bench -- peers [--quick] [--digits=N]`: ohmic against PyTorch on the same
 * network, the same weights and the same MNIST test digits, in one run.
 *
 * The peer is the "PyTorch-architecture CNN-6" of `bench/peers/cnn6_torch.py`
 * (19.9 M MAC per image), trained briefly on MNIST and exported to ONNX once into
 * `bench/.cache/peers/` (the first run does it, ~1.5 min). Then, interleaved in
 * rounds (each round a slice of the digits, every configuration in turn, the order
 * rotating between rounds, so load from other processes hits all of them alike):
 *
 * - PyTorch, noiseless and with the paper's multiplicative noise (σ = 0.4, fresh
 *   N(0,1) per element after every MVM), batch 256 and 1, on 1 and 2 threads: a
 *   long-lived `cnn6_torch.py serve` process that times each slice itself and idles
 *   while ohmic runs;
 * - ohmic on the exported ONNX file (`loadOnnxFile` → `compile`): `runIdeal`
 *   (noiseless), `runSignal` (the same noise) and the device level (ReRAM preset,
 *   256×256 tiles, `program(seed).run`), batch 256 (and 1 for the first two), once
 *   per engine that `compile` accepts: the default, and `engine: 'tfjs'` /
 *   `'onnxruntime'` with `threads: 1 | 2` where those options exist. An option that
 *   `compile` rejects (throws) or never reads is reported and that engine skipped,
 *   so the same bench shows before and after an engine lands.
 *
 * Printed: images/s per engine, mode, threads and batch; ohmic / PyTorch at the
 * same mode, threads and batch; the MVM rate (2 × MACs × images/s) as a fraction of
 * numpy's float32 GEMM peak (`bench/peers/sgemm_peak.py`) at that thread count; and
 * the noiseless accuracies of both, which must match. Timings are never asserted.
 *
 * Needs /usr/bin/python3 with torch, numpy and onnx (bench/README.md); without them
 * the bench prints how to install them and returns. `--quick` (or
 * OHMIC_BENCH_QUICK=1) uses 1,000 digits (200 at batch 1) instead of 10,000 (1,000).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { initBackend, loadOnnxFile, compile, IDEAL_CHIP, loadMnist, embeddedMnistDir } from '../src';
import type { CompiledModel, EngineOptions, ModelRunner } from '../src';
import { printTable } from './timing';

const REPO = path.resolve(__dirname, '..');
const PEERS = path.join(__dirname, 'peers');
const CACHE = path.join(__dirname, '.cache', 'peers');
const PYTHON = process.env.OHMIC_BENCH_PYTHON ?? '/usr/bin/python3';
const SETUP = 'apt-get update && apt-get install -y python3-torch python3-numpy python3-onnx libopenblas0-pthread';
const SIGMA = 0.4;
const NOISE = { kind: 'multiplicative', sigma: SIGMA } as const;
const BATCH = 256;
/** MACs per image of the six MVM layers (cnn6_torch.py's macs_per_image; meta.json has it too). */
const DEFAULT_MACS = 19_899_904;

type Mode = 'noiseless' | 'signal' | 'device';
type Threads = number | 'default';

interface SliceResult {
  ms: number;
  count: number;
  correct: number;
  preds?: Int32Array;
}

interface Measurement {
  engine: string;
  mode: Mode;
  threads: Threads;
  batch: number;
  run: (start: number, count: number, seed: number) => Promise<SliceResult>;
  /** Most digits to time (rounds stop adding once it is reached). */
  limit?: number;
  totalMs: number;
  count: number;
  correct: number;
  preds?: Int32Array;
}

// --- data ------------------------------------------------------------------------

/** A NumPy .npy file (format 1–3, little-endian float32 or int32, C order). */
function readNpy(file: string): { data: Float32Array | Int32Array; shape: number[] } {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order is not supported`);
  const bytes = buf.subarray(start + headerLen);
  const copy = new Uint8Array(bytes).buffer; // aligned copy
  if (descr === '<f4') return { data: new Float32Array(copy), shape };
  if (descr === '<i4') return { data: new Int32Array(copy), shape };
  throw new Error(`${file}: dtype ${descr}, expected <f4 or <i4`);
}

function argmaxRows(logits: Float32Array | Int32Array | Uint8Array, rows: number): Int32Array {
  const cols = logits.length / rows;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (logits[r * cols + c] > logits[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}

// --- the PyTorch peer ------------------------------------------------------------

/** Whether `python` can import what the peer needs; the reason when it cannot. */
function pythonReady(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy, onnx'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot be run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} lacks torch/numpy/onnx (${(r.stderr || '').trim().split('\n').pop()})`;
  return null;
}

const CACHE_FILES = ['cnn6.onnx', 'cnn6.pt', 'test_x.npy', 'test_y.npy', 'meta.json'];

function ensureExport(): void {
  if (CACHE_FILES.every((f) => fs.existsSync(path.join(CACHE, f)))) return;
  process.stdout.write(`peers: exporting the PyTorch CNN-6 into ${path.relative(REPO, CACHE)} (trains ~1.5 min on 1 thread)\n`);
  const r = spawnSync(PYTHON, [path.join(PEERS, 'cnn6_torch.py'), 'export', '--cache', CACHE], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`cnn6_torch.py export exited with ${r.status ?? r.signal}`);
}

interface SgemmPeak {
  threads: number;
  peak_gflops: number;
  at_n: number;
  blas: string;
}

/** numpy's sgemm peak per thread count; with `before`, the better of the two measurements. */
function sgemmPeaks(before?: Map<number, SgemmPeak>): Map<number, SgemmPeak> {
  const r = spawnSync(PYTHON, [path.join(PEERS, 'sgemm_peak.py'), '--threads', '1,2'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sgemm_peak.py exited with ${r.status ?? r.signal}: ${r.stderr}`);
  const peaks = new Map<number, SgemmPeak>();
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as Partial<SgemmPeak>;
    if (row.peak_gflops === undefined) continue;
    const prior = before?.get(row.threads!);
    peaks.set(row.threads!, prior && prior.peak_gflops > row.peak_gflops ? prior : (row as SgemmPeak));
  }
  return peaks;
}

interface PeerReply {
  seconds: number;
  count: number;
  correct: number;
  preds?: number[];
  logits?: number[];
  error?: string;
}

/** `cnn6_torch.py serve`: one JSON request per line in, one reply per line out. */
class TorchPeer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<(line: string) => void> = [];
  private readonly lines: string[] = [];
  private exited: string | null = null;

  constructor() {
    this.child = spawn(PYTHON, [path.join(PEERS, 'cnn6_torch.py'), 'serve', '--cache', CACHE], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    this.child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
    this.child.on('close', (code) => {
      this.exited = `cnn6_torch.py serve exited with ${code}: ${stderr}`;
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ error: this.exited }));
    });
  }

  private nextLine(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.exited) return Promise.resolve(JSON.stringify({ error: this.exited }));
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async ready(): Promise<{ torch: string; macs_per_image: number }> {
    const r = JSON.parse(await this.nextLine()) as { torch: string; macs_per_image: number; error?: string };
    if (r.error) throw new Error(r.error);
    return r;
  }

  async request(req: Record<string, unknown>): Promise<PeerReply> {
    this.child.stdin.write(JSON.stringify(req) + '\n');
    const reply = JSON.parse(await this.nextLine()) as PeerReply;
    if (reply.error) throw new Error(`PyTorch peer: ${reply.error}`);
    return reply;
  }

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.on('close', () => resolve());
      this.child.stdin.end();
    });
  }

  kill(): void {
    if (!this.exited) this.child.kill();
  }
}

// --- ohmic engines ---------------------------------------------------------------

interface EngineConfig {
  label: string;
  /** Cores it may use (compared with PyTorch and the sgemm peak at that many threads). */
  threads: number;
  options: EngineOptions;
  /** Most digits timed per mode (the slow tfjs reference gets a sample). */
  limit?: number;
}

/**
 * The engines measured side by side: the tfjs reference (one thread in Node), and
 * onnxruntime with one session on one thread, one session on two intra-op threads,
 * and two single-thread sessions on worker threads (each drawing its own noise).
 */
function engineConfigs(n: number): EngineConfig[] {
  return [
    { label: "ohmic engine 'tfjs' (reference)", threads: 1, options: { engine: 'tfjs' }, limit: Math.min(n, 512) },
    { label: "ohmic engine 'onnxruntime'", threads: 1, options: { engine: 'onnxruntime', threads: 1, workers: 1 } },
    { label: "ohmic engine 'onnxruntime' (2 intra-op threads)", threads: 2, options: { engine: 'onnxruntime', threads: 2, workers: 1 } },
    { label: "ohmic engine 'onnxruntime' (2 workers)", threads: 2, options: { engine: 'onnxruntime', threads: 1, workers: 2 } },
  ];
}

// --- the run ---------------------------------------------------------------------

function flagValue(args: string[], name: string): string | undefined {
  const a = args.find((s) => s === `--${name}` || s.startsWith(`--${name}=`));
  if (a === undefined) return undefined;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : '1';
}

export async function run(args: string[] = []): Promise<void> {
  const quick = flagValue(args, 'quick') !== undefined || process.env.OHMIC_BENCH_QUICK === '1';
  const digitsFlag = flagValue(args, 'digits') ?? process.env.OHMIC_BENCH_DIGITS;
  const why = pythonReady();
  if (why) {
    process.stdout.write(`\npeers: skipped, ${why}.\nSet up the peer with: ${SETUP}\n(see bench/README.md)\n`);
    return;
  }
  ensureExport();
  const meta = JSON.parse(fs.readFileSync(path.join(CACHE, 'meta.json'), 'utf8')) as { macs_per_image?: number; test_accuracy?: number; train_steps?: number; train_seconds?: number; torch?: string };
  const macs = meta.macs_per_image ?? DEFAULT_MACS;

  // Test digits exactly as the peer reads them; checked against ohmic's own loader.
  const xs = readNpy(path.join(CACHE, 'test_x.npy'));
  const ys = readNpy(path.join(CACHE, 'test_y.npy'));
  const images = xs.data as Float32Array;
  const labels = ys.data as Int32Array;
  const total = xs.shape[0];
  const embedded = loadMnist(embeddedMnistDir(), 'test');
  let maxPixelDiff = 0;
  for (let i = 0; i < Math.min(images.length, embedded.images.length); i++) maxPixelDiff = Math.max(maxPixelDiff, Math.abs(images[i] - embedded.images[i]));
  const labelsMatch = embedded.count === total && labels.every((l, i) => l === embedded.labels[i]);

  const n = Math.min(total, Number(digitsFlag ?? (quick ? 1000 : 10000)));
  const n1 = Math.min(n, quick || digitsFlag ? Math.max(1, Math.round(n / 5)) : 1000);
  const rounds = Math.max(2, Math.min(5, Math.ceil(n / 500)));
  const chunk = Math.ceil(n / rounds / BATCH) * BATCH;
  const chunk1 = Math.ceil(n1 / rounds);

  const peaksBefore = sgemmPeaks();
  const backend = await initBackend();
  const peer = new TorchPeer();
  try {
    const info = await peer.ready();
    const onnxFile = path.join(CACHE, 'cnn6.onnx');
    const graph = loadOnnxFile(onnxFile);

    const notes: string[] = [];
    const engines = engineConfigs(n);

    const measurements: Measurement[] = [];
    const add = (m: Omit<Measurement, 'totalMs' | 'count' | 'correct'>) => measurements.push({ ...m, totalMs: 0, count: 0, correct: 0 });

    for (const threads of [1, 2]) {
      for (const mode of ['noiseless', 'signal'] as const) {
        for (const batch of [BATCH, 1]) {
          add({
            engine: `PyTorch ${info.torch}`,
            mode,
            threads,
            batch,
            run: async (start, count, seed) => {
              const r = await peer.request({ mode, threads, batch, start, count, seed, sigma: SIGMA, preds: mode === 'noiseless' });
              return { ms: r.seconds * 1e3, count: r.count, correct: r.correct, preds: r.preds ? Int32Array.from(r.preds) : undefined };
            },
          });
        }
      }
    }

    const compiled: CompiledModel[] = [];
    const chips: Array<{ dispose(): void }> = [];
    const runners: ModelRunner[] = [];
    const setup: Array<Array<string | number>> = [];
    let tc = process.hrtime.bigint();
    const ideal = compile(graph, { chip: IDEAL_CHIP });
    const compileIdealMs = Number(process.hrtime.bigint() - tc) / 1e6;
    tc = process.hrtime.bigint();
    const device = compile(graph, { chip: { device: 'reram', tile: '256x256' } });
    const compileDeviceMs = Number(process.hrtime.bigint() - tc) / 1e6;
    tc = process.hrtime.bigint();
    // Converter ranges calibrated on the first 256 digits (the chip default); their time is part of programming.
    const chip = device.program(1, { calibration: images.subarray(0, 256 * 784) });
    const programMs = Number(process.hrtime.bigint() - tc) / 1e6;
    compiled.push(ideal, device);
    chips.push(chip);
    /** Noise seed of every ohmic run: draws are keyed by digit index, so slices and batches never change them. */
    const RUN_SEED = 1_000_000;
    const ohmicSlice = async (runner: ModelRunner, batch: number, start: number, count: number, keepPreds: boolean): Promise<SliceResult> => {
      const t = process.hrtime.bigint();
      const y = await runner.runAll(images.subarray(start * 784, (start + count) * 784), { seed: RUN_SEED, sampleOffset: start, batchSize: batch });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      const p = argmaxRows(y, count);
      let correct = 0;
      for (let i = 0; i < count; i++) if (p[i] === labels[start + i]) correct++;
      return { ms, count, correct, preds: keepPreds ? p : undefined };
    };
    for (const e of engines) {
      tc = process.hrtime.bigint();
      const modes: Array<[Mode, ModelRunner, number[]]> = [
        ['noiseless', await ideal.runner({ kind: 'exact' }, e.options), [BATCH, 1]],
        ['signal', await ideal.runner({ kind: 'signal', noise: NOISE }, e.options), [BATCH, 1]],
        ['device', await device.runner({ kind: 'chip', chip }, e.options), [BATCH]],
      ];
      const lowerMs = Number(process.hrtime.bigint() - tc) / 1e6;
      runners.push(...modes.map((m) => m[1]));
      setup.push([`${e.label}`, compileIdealMs.toFixed(0), compileDeviceMs.toFixed(0), programMs.toFixed(0), lowerMs.toFixed(0), device.plan.totalTiles]);
      for (const [mode, runner, batches] of modes) {
        for (const batch of batches) {
          add({
            engine: e.label,
            mode,
            threads: e.threads,
            batch,
            limit: batch === 1 ? Math.min(e.limit ?? n1, 64) : e.limit,
            run: (start, count) => ohmicSlice(runner, batch, start, count, mode === 'noiseless'),
          });
        }
      }
    }

    // Logits of the first 256 digits, noiseless: PyTorch against ohmic's default engine.
    const ref = await peer.request({ mode: 'noiseless', threads: 1, batch: BATCH, start: 0, count: BATCH, logits: true });
    const ours = await runners[3].run(images.subarray(0, BATCH * 784));
    let maxLogitDiff = 0;
    let maxLogit = 0;
    for (let i = 0; i < ours.length; i++) {
      maxLogitDiff = Math.max(maxLogitDiff, Math.abs(ours[i] - ref.logits![i]));
      maxLogit = Math.max(maxLogit, Math.abs(ref.logits![i]));
    }

    // Warm-up (untimed): one batch of each configuration.
    for (const m of measurements) await m.run(0, Math.min(m.batch === 1 ? 8 : BATCH, n), 999_999);

    const t0 = Date.now();
    for (let r = 0; r < rounds; r++) {
      const order = measurements.map((_, i) => measurements[(i + r) % measurements.length]);
      for (const m of order) {
        const start = m.batch === 1 ? r * chunk1 : r * chunk;
        const end = Math.min(m.batch === 1 ? n1 : n, start + (m.batch === 1 ? chunk1 : chunk));
        if (end <= start || (m.limit !== undefined && m.count >= m.limit)) continue;
        // Noise seeds: one per batch, from the digit index (ohmic adds the offset within the slice).
        const res = await m.run(start, end - start, 1_000_000 + start);
        m.totalMs += res.ms;
        m.count += res.count;
        m.correct += res.correct;
        if (res.preds) {
          m.preds ??= new Int32Array(m.batch === 1 ? n1 : n);
          m.preds.set(res.preds, start);
        }
      }
      process.stderr.write(`peers: round ${r + 1}/${rounds} done (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    }

    // --- report ---
    const peaks = sgemmPeaks(peaksBefore); // again after the run: the better of the two is the peak
    const rate = (m: Measurement) => (m.count / m.totalMs) * 1e3;
    const torchRow = (mode: Mode, threads: number, batch: number) =>
      measurements.find((m) => m.engine.startsWith('PyTorch') && m.mode === mode && m.threads === threads && m.batch === batch);
    const threadsOf = (t: Threads) => (t === 'default' ? 1 : t);
    const rows = measurements.map((m) => {
      const threads = threadsOf(m.threads);
      const isTorch = m.engine.startsWith('PyTorch');
      const peerRow = torchRow(m.mode === 'device' ? 'signal' : m.mode, Math.min(threads, 2), m.batch);
      const ratio = isTorch || !peerRow ? '' : `${(rate(m) / rate(peerRow)).toFixed(3)}×${m.mode === 'device' ? ' (of signal)' : ''}`;
      const gflops = (2 * macs * rate(m)) / 1e9;
      const peak = peaks.get(Math.min(threads, 2));
      return [
        m.engine,
        m.mode === 'signal' ? `signal σ=${SIGMA}` : m.mode === 'device' ? 'device ReRAM 256×256' : 'noiseless',
        m.threads === 'default' ? '1*' : m.threads,
        m.batch,
        m.count,
        rate(m).toFixed(1),
        ((100 * m.correct) / m.count).toFixed(2),
        ratio,
        gflops.toFixed(2),
        peak ? `${((100 * gflops) / peak.peak_gflops).toFixed(2)} %` : '',
      ];
    });

    const torchNoiseless = torchRow('noiseless', 1, BATCH)!;
    const ohmicNoiseless = measurements.find((m) => m.engine === engines[1].label && m.mode === 'noiseless' && m.batch === BATCH)!;
    let agree = 0;
    for (let i = 0; i < n; i++) if (torchNoiseless.preds![i] === ohmicNoiseless.preds![i]) agree++;
    const accTorch = (100 * torchNoiseless.correct) / torchNoiseless.count;
    const accOhmic = (100 * ohmicNoiseless.correct) / ohmicNoiseless.count;

    const cpu = os.cpus();
    process.stdout.write(
      `\nPeers: CNN-6 (PyTorch architecture, ${(macs / 1e6).toFixed(1)} M MAC/image) on ${n} MNIST test digits (${n1} at batch 1), ` +
        `${rounds} interleaved round(s)${quick ? ', quick' : ''}\n` +
        `machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}; ohmic backend ${backend}; PyTorch ${info.torch} (${PYTHON}); ` +
        `model trained ${meta.train_steps ?? '?'} steps in ${meta.train_seconds ?? '?'} s, exported to ${path.relative(REPO, onnxFile)}\n` +
        `digits: the peer's .npy vs ohmic's embedded t10k: max |Δpixel| ${maxPixelDiff.toExponential(1)}, labels ${labelsMatch ? 'identical' : 'DIFFER'}\n` +
        `sgemm peak (numpy, ${peaks.get(1)?.blas ?? '?'}; best of before and after the run): ` +
        `${[...peaks.values()].map((p) => `${p.threads} thr ${p.peak_gflops.toFixed(1)} GFLOP/s (n=${p.at_n})`).join(', ')}\n`,
    );
    process.stdout.write('\nohmic set-up (ms)\n');
    printTable(['engine', 'compile ideal', 'compile ReRAM', 'program ReRAM', 'lower + sessions (3 modes)', 'tiles'], setup);
    process.stdout.write('\nInference throughput (timed slices summed; vs PyTorch = same mode, threads and batch)\n');
    printTable(['engine', 'mode', 'threads', 'batch', 'digits', 'images/s', 'accuracy %', 'vs PyTorch', 'MVM GFLOP/s', 'of sgemm peak'], rows);
    process.stdout.write(
      `* no threads option given: compared with PyTorch and the sgemm peak at 1 thread (today's default engine, tfjs-wasm, runs one thread in Node).\n` +
        `  device rows are compared with PyTorch's signal-level rate (PyTorch has no device model).\n`,
    );
    for (const note of notes) process.stdout.write(`note: ${note}\n`);
    const ok = Math.abs(accTorch - accOhmic) < 1e-9 && agree === n;
    process.stdout.write(
      `\nNoiseless accuracy: PyTorch ${accTorch.toFixed(2)} %, ohmic ${accOhmic.toFixed(2)} % — ${ok ? 'match' : 'MISMATCH'}; ` +
        `predictions agree on ${agree}/${n} digits; max |Δlogit| on the first ${BATCH} digits ${maxLogitDiff.toExponential(2)} (max |logit| ${maxLogit.toFixed(1)}).\n` +
        `PyTorch accuracy at export (all 10,000 digits): ${meta.test_accuracy !== undefined ? (100 * meta.test_accuracy).toFixed(2) : '?'} %\n`,
    );

    const record = {
      date: new Date().toISOString(),
      quick,
      digits: n,
      batch1Digits: n1,
      rounds,
      backend,
      torch: info.torch,
      macsPerImage: macs,
      sgemmPeaks: [...peaks.values()],
      noiseless: { accTorch, accOhmic, agree, maxLogitDiff },
      notes,
      rows: measurements.map((m) => ({ engine: m.engine, mode: m.mode, threads: m.threads, batch: m.batch, digits: m.count, imagesPerSecond: rate(m), accuracy: m.correct / m.count })),
    };
    fs.writeFileSync(path.join(CACHE, 'last-run.json'), JSON.stringify(record, null, 2) + '\n');
    process.stdout.write(`(also written to ${path.relative(REPO, path.join(CACHE, 'last-run.json'))})\n`);
    for (const r of runners) await r.dispose();
    for (const c of chips) c.dispose();
    for (const m of compiled) m.dispose();
    await peer.close();
  } finally {
    peer.kill();
  }
}
