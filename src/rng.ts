/**
 * Seeded, splittable random streams.
 *
 * An `Rng` is a 64-bit key plus a lazily started xoshiro128** stream. `fold(label)`
 * derives a child key from the parent *key* only (as JAX's `fold_in`), never from how
 * many numbers the parent has drawn, so a result depends on where a draw sits in the
 * computation (`seed/program/layer 3/tile 2`) and not on call order, worker count or
 * sharding. There is no global state and no time- or Math.random-based default:
 * seed 0 is an ordinary seed.
 *
 * Normals come from a 256-layer Marsaglia–Tsang ziggurat, which needs one 32-bit draw
 * per sample on ~98.5 % of calls; it is the hot path behind every noise model.
 */
import { ConfigError } from './errors';
import { NORMAL_KERNEL_WASM_BASE64 } from './normalKernelWasm';

// Locals, not `Math.x`, in the hot loops: a global lookup per draw is slow wherever the
// global object is intercepted (jest's and every vm context: about 30× slower there).
const { imul, abs, log, exp } = Math;

/*
 * 64-bit keys as two uint32 halves (hi, lo): a fold and a stream start run once per
 * noise site and sample (CNN-6 on a chip: 23 per image), and BigInt arithmetic made
 * them ~1.4 µs together. The helpers leave their result in OUT_HI / OUT_LO.
 */
let OUT_HI = 0;
let OUT_LO = 0;

/** (aHi, aLo) · (bHi, bLo) mod 2^64, exact in doubles through 16-bit limbs. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const a0 = aLo & 0xffff;
  const a1 = aLo >>> 16;
  const b0 = bLo & 0xffff;
  const b1 = bLo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  OUT_LO = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  OUT_HI = (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + imul(aHi, bLo) + imul(aLo, bHi)) >>> 0;
}

/** SplitMix64 (Steele, Lea & Flood 2014) of (hi, lo). */
function splitmix64(hi: number, lo: number): void {
  // z = x + 0x9e3779b97f4a7c15
  const sumLo = lo + 0x7f4a7c15;
  let zLo = sumLo >>> 0;
  let zHi = (hi + 0x9e3779b9 + (sumLo > 0xffffffff ? 1 : 0)) >>> 0;
  // z = (z ^ (z >> 30)) · 0xbf58476d1ce4e5b9
  zLo = (zLo ^ ((zLo >>> 30) | (zHi << 2))) >>> 0;
  zHi = (zHi ^ (zHi >>> 30)) >>> 0;
  mul64(zHi, zLo, 0xbf58476d, 0x1ce4e5b9);
  // z = (z ^ (z >> 27)) · 0x94d049bb133111eb
  zLo = (OUT_LO ^ ((OUT_LO >>> 27) | (OUT_HI << 5))) >>> 0;
  zHi = (OUT_HI ^ (OUT_HI >>> 27)) >>> 0;
  mul64(zHi, zLo, 0x94d049bb, 0x133111eb);
  // z ^ (z >> 31)
  zLo = OUT_LO;
  zHi = OUT_HI;
  OUT_LO = (zLo ^ ((zLo >>> 31) | (zHi << 1))) >>> 0;
  OUT_HI = (zHi ^ (zHi >>> 31)) >>> 0;
}

/** 64-bit FNV-1a over UTF-8: labels are short, this runs once per fold. */
function hashString(label: string): void {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const byte of Buffer.from(label, 'utf8')) {
    mul64(hi, (lo ^ byte) >>> 0, 0x00000100, 0x000001b3);
    hi = OUT_HI;
    lo = OUT_LO;
  }
  OUT_HI = hi;
  OUT_LO = lo;
}

// Distinct domains so fold(1) and fold('1') give different streams.
const INT_DOMAIN = 0x696e7400;
const STR_DOMAIN = 0x73747200;

// Ziggurat tables: Marsaglia & Tsang (J. Stat. Softw. 5(8), 2000) with 256 layers
// (R and V as numpy's legacy generator), on a signed 24-bit value. The layer index
// takes the draw's low 8 bits and the value its high 24, so the two are independent
// (MT2000's RNOR reuses the index bits inside the value: Doornik, "An improved
// ziggurat method", 2005). ~98.5 % of draws take the rectangle test alone.
const ZIG_LAYERS = 256;
const ZIG_R = 3.6541528853610088;
const ZIG_V = 4.92867323399e-3;
const ZIG_M = 8388608; // 2^23: the value's magnitude scale
const KN = new Float64Array(ZIG_LAYERS);
const WN = new Float64Array(ZIG_LAYERS);
const FN = new Float64Array(ZIG_LAYERS);
(() => {
  let dn = ZIG_R;
  let tn = dn;
  const q = ZIG_V / Math.exp(-0.5 * dn * dn);
  KN[0] = (dn / q) * ZIG_M;
  KN[1] = 0;
  WN[0] = q / ZIG_M;
  WN[ZIG_LAYERS - 1] = dn / ZIG_M;
  FN[0] = 1.0;
  FN[ZIG_LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = ZIG_LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2.0 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = (dn / tn) * ZIG_M;
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / ZIG_M;
  }
})();

/** Draws per pass of the rectangle loop: its misses (at most all of them) are noted here. */
const SLOW_CAPACITY = 16384;
const SLOW_AT = new Int32Array(SLOW_CAPACITY);
const SLOW_HZ = new Int32Array(SLOW_CAPACITY);
const SCALED_WN = new Float64Array(ZIG_LAYERS);

/**
 * The rectangle loop as WebAssembly (`normalKernel.wat`): the same draws as the
 * JavaScript loop, about twice as fast (`npm run bench -- mvm`). Offsets are its
 * memory layout, in elements of the view that reads them.
 */
interface NormalKernel {
  readonly fill: (n: number, mean: number) => number;
  readonly i32: Int32Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
}
const KERNEL_CHUNK = 4096;
const KERNEL_WN = 1088 / 8;
const KERNEL_OUT = 3136 / 4;
const KERNEL_MISSED_AT = 19520 / 4;
const KERNEL_MISSED_DRAW = 35904 / 4;
let normalKernel: NormalKernel | null | undefined;
/** The std the kernel's layer widths are scaled by (NaN: not yet written). */
let kernelStd = Number.NaN;

/** The part of the WebAssembly API used here (the ES2022 lib has no WebAssembly types). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
let kernelEnabled = true;

function loadNormalKernel(): NormalKernel | null {
  if (normalKernel !== undefined) return normalKernel;
  try {
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const instance = new wasm.Instance(new wasm.Module(Buffer.from(NORMAL_KERNEL_WASM_BASE64, 'base64')), {});
    const buffer = (instance.exports.memory as { buffer: ArrayBuffer }).buffer;
    const i32 = new Int32Array(buffer);
    // |j| < KN[iz] for an integer j is |j| < ceil(KN[iz]).
    for (let k = 0; k < ZIG_LAYERS; k++) i32[16 + k] = Math.ceil(KN[k]);
    normalKernel = { fill: instance.exports.fill as NormalKernel['fill'], i32, f32: new Float32Array(buffer), f64: new Float64Array(buffer) };
  } catch {
    normalKernel = null; // no WebAssembly here: the JavaScript loop draws the same numbers
  }
  return normalKernel;
}

/**
 * Whether `fillNormal` may use its WebAssembly loop (default true). Both loops give
 * the same bits; tests switch it off to compare them.
 */
export function useNormalKernel(enabled: boolean): void {
  kernelEnabled = enabled;
}

/**
 * The name of the noise generator (bit generator and normal sampler). Study results
 * record it, so a study resumed by an ohmic that draws differently is refused
 * rather than mixing two generators' points.
 */
export const NOISE_GENERATOR = 'xoshiro128**/ziggurat256';
/** What results written before the generator was recorded were drawn with. */
export const LEGACY_NOISE_GENERATOR = 'xoshiro128**/ziggurat128';

/** The ziggurat's radius: draws beyond ±R come from its tail sampler (for tests). */
export const ZIGGURAT_TAIL_RADIUS = ZIG_R;

/** One xoshiro128** step of the state in `st[at .. at + 3]`; returns its output as an int32. */
function xoshiroNext(st: Int32Array, at: number): number {
  const s0 = st[at];
  let s1 = st[at + 1];
  let s2 = st[at + 2];
  let s3 = st[at + 3];
  const r = s1 * 5;
  const result = imul((r << 7) | (r >>> 25), 9);
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  st[at] = s0 ^ s3;
  s2 ^= t;
  st[at + 1] = s1;
  st[at + 2] = s2;
  st[at + 3] = (s3 << 11) | (s3 >>> 21);
  return result | 0;
}

/** A seeded random stream with label-derived children. */
export class Rng {
  /**
   * Two xoshiro128** states (words 0–3: every draw; 4–7: the ziggurat's slow path),
   * typed so int32 words never box (V8's small ints are 31-bit).
   */
  private readonly s = new Int32Array(8);
  private started = false;

  private pathText: string | null;

  private constructor(
    /** The 64-bit key's halves (unsigned). */
    private readonly keyHi: number,
    private readonly keyLo: number,
    path: string | null,
    /** Where the path is made from when first read: the parent and this stream's label. */
    private readonly parent: Rng | null = null,
    private readonly label: string | number = '',
  ) {
    this.pathText = path;
  }

  /** Human-readable derivation path, e.g. `seed(7)/program/layer:2` (made when first read: folds are hot). */
  get path(): string {
    if (this.pathText === null) this.pathText = `${this.parent!.path}/${this.label}`;
    return this.pathText;
  }

  /** A root stream. `seed` must be an integer in [0, 2^53). */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new ConfigError('seed', seed, 'an integer in [0, 2^53)');
    }
    splitmix64(Math.floor(seed / 4294967296), seed >>> 0);
    return new Rng(OUT_HI, OUT_LO, `seed(${seed})`);
  }

  /**
   * The stream whose {@link keyHex} is `keyHex` (and whose path reads `path`): how a
   * stream crosses to a worker thread, which then derives exactly the same children.
   */
  static fromKey(keyHex: string, path: string): Rng {
    if (!/^[0-9a-f]{16}$/.test(keyHex)) throw new ConfigError('rng key', keyHex, '16 lowercase hex digits (Rng.keyHex)');
    return new Rng(Number.parseInt(keyHex.slice(0, 8), 16), Number.parseInt(keyHex.slice(8), 16), path);
  }

  /** A child stream that depends only on this stream's key and `label`. */
  fold(label: string | number): Rng {
    if (typeof label === 'number') {
      if (!Number.isSafeInteger(label) || label < 0) {
        throw new ConfigError('rng.fold label', label, 'a non-negative safe integer or a string');
      }
      splitmix64(Math.floor(label / 4294967296), (label ^ INT_DOMAIN) >>> 0);
    } else {
      hashString(label);
      splitmix64(OUT_HI, (OUT_LO ^ STR_DOMAIN) >>> 0);
    }
    splitmix64((this.keyHi ^ OUT_HI) >>> 0, (this.keyLo ^ OUT_LO) >>> 0);
    return new Rng(OUT_HI, OUT_LO, null, this, label);
  }

  /** Stable 64-bit identity of this stream's key, as hex (for reports and files). */
  get keyHex(): string {
    return this.keyHi.toString(16).padStart(8, '0') + this.keyLo.toString(16).padStart(8, '0');
  }

  private start(): void {
    const s = this.s;
    let hi = this.keyHi;
    let lo = this.keyLo;
    for (let w = 0; w < 8; w += 2) {
      splitmix64(hi, lo);
      hi = OUT_HI;
      lo = OUT_LO;
      s[w] = lo | 0;
      s[w + 1] = hi | 0;
    }
    // xoshiro's one forbidden state
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
    if ((s[4] | s[5] | s[6] | s[7]) === 0) s[4] = 1;
    this.started = true;
  }

  /** Next raw 32-bit output (as a signed int32). */
  nextInt32(): number {
    if (!this.started) this.start();
    return xoshiroNext(this.s, 0);
  }

  /** Next raw 32-bit output of the second state, which only the ziggurat's slow path reads. */
  private nextSlowInt32(): number {
    return xoshiroNext(this.s, 4);
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextInt32() >>> 5;
    const b = this.nextInt32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** One standard normal draw. */
  normal(): number {
    const out = new Float64Array(1);
    this.fillNormal(out);
    return out[0];
  }

  /** Fill `out` with uniforms in [0, 1). */
  fillUniform(out: Float32Array | Float64Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform();
  }

  /**
   * Fill `out` with N(mean, std²) draws. The generator state lives in locals inside
   * a loop that only runs the ziggurat's rectangle test; the ~1.5 % of draws that
   * miss it are noted and finished afterwards ({@link slowNormal}) from the stream's
   * second xoshiro state, so the hot loop makes no calls and the result does not
   * depend on how `out` is chunked.
   */
  fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): void {
    if (!this.started) this.start();
    const kernel = kernelEnabled && out instanceof Float32Array && out.length >= 64 ? loadNormalKernel() : null;
    if (kernel) {
      this.fillNormalKernel(kernel, out as Float32Array, mean, std);
      return;
    }
    const st = this.s;
    const kn = KN;
    // The layer widths scaled by std once per call, not once per draw.
    const wn = SCALED_WN;
    for (let k = 0; k < ZIG_LAYERS; k++) wn[k] = std * WN[k];
    const at = SLOW_AT;
    const draws = SLOW_HZ;
    const n = out.length;
    for (let from = 0; from < n; from += SLOW_CAPACITY) {
      const to = Math.min(n, from + SLOW_CAPACITY);
      let s0 = st[0];
      let s1 = st[1];
      let s2 = st[2];
      let s3 = st[3];
      let missed = 0;
      for (let i = from; i < to; i++) {
        // xoshiro128** step, inlined.
        const r = s1 * 5;
        const hz = imul((r << 7) | (r >>> 25), 9);
        const t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        const iz = hz & 255;
        const j = hz >> 8;
        if (abs(j) < kn[iz]) {
          out[i] = mean + j * wn[iz];
        } else {
          at[missed] = i;
          draws[missed++] = hz;
        }
      }
      st[0] = s0;
      st[1] = s1;
      st[2] = s2;
      st[3] = s3;
      for (let k = 0; k < missed; k++) out[at[k]] = mean + std * this.slowNormal(draws[k]);
    }
  }

  /** {@link fillNormal} on the WebAssembly loop: the same draws, in chunks of its buffer. */
  private fillNormalKernel(k: NormalKernel, out: Float32Array, mean: number, std: number): void {
    const st = this.s;
    const { i32, f32, f64 } = k;
    for (let q = 0; q < 4; q++) i32[q] = st[q];
    // The scaled widths stay in the kernel's memory: noise feeds fill thousands of short runs at one std.
    if (std !== kernelStd) {
      for (let z = 0; z < ZIG_LAYERS; z++) f64[KERNEL_WN + z] = std * WN[z];
      kernelStd = std;
    }
    const n = out.length;
    for (let from = 0; from < n; from += KERNEL_CHUNK) {
      const m = Math.min(KERNEL_CHUNK, n - from);
      const missed = k.fill(m, mean);
      out.set(f32.subarray(KERNEL_OUT, KERNEL_OUT + m), from);
      // The slow path reads only the second state, which stays here.
      for (let q = 0; q < missed; q++) out[from + i32[KERNEL_MISSED_AT + q]] = mean + std * this.slowNormal(i32[KERNEL_MISSED_DRAW + q]);
    }
    for (let q = 0; q < 4; q++) st[q] = i32[q];
  }

  /** The ziggurat's wedge and tail (~1.5 % of draws), from the draw `hz` that missed its rectangle. */
  private slowNormal(hz: number): number {
    for (;;) {
      const iz = hz & 255;
      const j = hz >> 8;
      const x = j * WN[iz];
      if (abs(j) < KN[iz]) return x;
      if (iz === 0) {
        // Tail beyond R (Marsaglia 1964).
        let xt = 0;
        let y = 0;
        do {
          xt = -log(((this.nextSlowInt32() >>> 0) + 0.5) / 4294967296) / ZIG_R;
          y = -log(((this.nextSlowInt32() >>> 0) + 0.5) / 4294967296);
        } while (y + y < xt * xt);
        return hz < 0 ? -ZIG_R - xt : ZIG_R + xt;
      }
      const u = ((this.nextSlowInt32() >>> 0) + 0.5) / 4294967296;
      if (FN[iz] + u * (FN[iz - 1] - FN[iz]) < exp(-0.5 * x * x)) return x;
      hz = this.nextSlowInt32();
    }
  }
}
