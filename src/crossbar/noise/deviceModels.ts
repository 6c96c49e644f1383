/**
 * Device noise laws as their sources fit them: programming spread per target
 * conductance, drift exponent statistics, read-noise std per cell and read time.
 * Each constant is the source's, with file and version; `DeviceSpec.noiseModel`
 * picks one, and the spec's generic terms (programmingNoiseRelStd/AddMicroSiemens,
 * readNoiseRelStd/AddMicroSiemens) add to it in quadrature.
 */

/** `Math` as a module-local: global lookups in per-cell loops are slow under jest's vm context (see rng.ts). */
const math = Math;

/** The device laws ohmic implements. */
export type NoiseModel = 'generic' | 'pcmAihwkit' | 'reramNeurramCrossSim' | 'sonosCrossSim';
export const NOISE_MODELS: readonly NoiseModel[] = ['generic', 'pcmAihwkit', 'reramNeurramCrossSim', 'sonosCrossSim'];

/**
 * IBM's statistical PCM model (Nandakumar et al., ICECS 2019; used in Joshi et al.,
 * Nat. Commun. 11, 2473, 2020) as aihwkit implements it: `PCMLikeNoiseModel` in
 * src/aihwkit/inference/noise/pcm.py, aihwkit v1.1.0 (file unchanged up to commit
 * 4545f11, June 2026). Conductances in µS, g = G / g_max.
 */
export const PCM_AIHWKIT = {
  /** pcm.py `prog_coeff = [0.26348, 1.9650, -1.1731]`: σ_prog = Σ c_i·g^i, µS at g_max = 25 µS. */
  progCoeff: [0.26348, 1.965, -1.1731] as const,
  /** pcm.py `prog_coeff_g_max_reference = 25.0`: σ_prog scales by g_max / 25. */
  progCoeffGMaxReferenceMicroSiemens: 25,
  /** pcm.py `mu_drift = (-0.0155 * log(g_relative) + 0.0244).clamp(min=0.049, max=0.1)`. */
  driftMu: { slope: -0.0155, intercept: 0.0244, min: 0.049, max: 0.1 },
  /** pcm.py `sig_drift = (-0.0125 * log(g_relative) - 0.0059).clamp(min=0.008, max=0.045)`. */
  driftSigma: { slope: -0.0125, intercept: -0.0059, min: 0.008, max: 0.045 },
  /** pcm.py `_ZERO_CLIP = 1e-7`: g_relative floor inside the logarithms. */
  zeroClip: 1e-7,
  /** pcm.py `q_s = (0.0088 / ((|g_prog| / g_max) ** 0.65).clamp(min=1e-3)).clamp(max=0.2)`. */
  readQs: { coeff: 0.0088, exponent: 0.65, minPower: 1e-3, max: 0.2 },
  /** pcm.py `t_read: float = 250.0e-9`: read duration in the 1/f fit, s. */
  tReadSeconds: 250e-9,
  /** pcm.py `t_0: float = 20.0`: first read after programming, reference of the drift law, s. */
  t0Seconds: 20,
} as const;

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * aihwkit `apply_programming_noise_to_conductance`: σ_prog(G_T) =
 * (c0 + c1·g + c2·g²)·g_max/25 µS with g = G_T/g_max (floored at 0, which the
 * polynomial never reaches on [0, 1]).
 */
export function pcmProgrammingStd(gTarget: number, gMax: number): number {
  const [c0, c1, c2] = PCM_AIHWKIT.progCoeff;
  const g = gTarget / gMax;
  return math.max(0, c0 + c1 * g + c2 * g * g) * (gMax / PCM_AIHWKIT.progCoeffGMaxReferenceMicroSiemens);
}

/** aihwkit `generate_drift_coefficients`: mean and spread of ν for a target G_T (natural log). */
export function pcmDriftNuParams(gTarget: number, gMax: number): { mu: number; sigma: number } {
  const g = math.max(math.abs(gTarget / gMax), PCM_AIHWKIT.zeroClip);
  const l = math.log(g);
  const m = PCM_AIHWKIT.driftMu;
  const s = PCM_AIHWKIT.driftSigma;
  return { mu: clamp(m.slope * l + m.intercept, m.min, m.max), sigma: clamp(s.slope * l + s.intercept, s.min, s.max) };
}

/** aihwkit's 1/f factor ln((t + t_read)/(2·t_read)): the read-noise variance grows with it. */
export function pcmFlickerLog(tSeconds: number): number {
  return math.log((tSeconds + PCM_AIHWKIT.tReadSeconds) / (2 * PCM_AIHWKIT.tReadSeconds));
}

/** aihwkit's Q_s(G_prog): relative 1/f amplitude, larger for low conductances, capped at 0.2. */
export function pcmFlickerQs(gProg: number, gMax: number): number {
  const q = PCM_AIHWKIT.readQs;
  return math.min(q.max, q.coeff / math.max((math.abs(gProg) / gMax) ** q.exponent, q.minPower));
}

/**
 * aihwkit `apply_drift_noise_to_conductance`: the read-noise std of one cell at time t,
 * σ = |G(t)|·Q_s(G_prog)·sqrt(ln((t + t_read)/(2·t_read))), µS. aihwkit's t is
 * t_inference + t_0; ohmic's `readTimeSeconds` is that t.
 */
export function pcmReadStd(gProg: number, gNow: number, tSeconds: number, gMax: number): number {
  return math.abs(gNow) * pcmFlickerQs(gProg, gMax) * math.sqrt(pcmFlickerLog(tSeconds));
}

/**
 * NeuRRAM (Wan et al., Nature 608, 504–512, 2022) as CrossSim models it: `RRAMWan`
 * in simulator/devices/custom/RRAM_Wan.py (sandialabs/cross-sim v3.2.0, commit
 * 0a2eb1e): "a cubic fit to Extended Data Fig. 3 of the paper (t = 1s data)",
 * σ_G = max(A·G³ + B·G² + C·G + D, 0) with G in µS; the file allows G_max <= 39.26 µS.
 */
export const RERAM_NEURRAM_CROSSSIM = {
  /** RRAM_Wan.py `A, B, C, D = 1.536e-4, -1.167e-2, 2.374e-1, 1.053`. */
  cubic: { a: 1.536e-4, b: -1.167e-2, c: 2.374e-1, d: 1.053 },
  /**
   * Highest conductance ohmic accepts with this law: NeuRRAM's own g_max (40 µS,
   * weierwan/Neurram_48core mnist_cnn/mnist_chip_inference.ipynb `g_max = 4e-5`),
   * 0.74 µS beyond CrossSim's fit range (σ 1.68 → 1.71 µS there).
   */
  gMaxLimitMicroSiemens: 40,
} as const;

/** CrossSim `RRAMWan.programming_error`: state-dependent but nearly flat, 1.05–2.41 µS over 0–40 µS. */
export function reramNeurramProgrammingStd(gTarget: number): number {
  const { a, b, c, d } = RERAM_NEURRAM_CROSSSIM.cubic;
  const g = gTarget;
  return math.max(((a * g + b) * g + c) * g + d, 0);
}

/**
 * The 40 nm SONOS charge-trap cell read in subthreshold (Agrawal et al., IEDM 2022,
 * 21.7) as CrossSim models it: `SONOS` in simulator/devices/custom/SONOS.py
 * (sandialabs/cross-sim v3.2.0). Laws in cell current I (nA): programming spread
 * σ_I = A − A·exp(−I/B) (t = 0 coefficients), read noise σ_I = A_n − A_n·exp(−I/B_n)
 * per MVM; I = G·V_read as in SONOS.py's `Imax = Gmax * Vread`.
 */
export const SONOS_CROSSSIM = {
  /** SONOS.py `As[0], Bs[0] = 19.88665, 176.3115` (variability at t = 0), nA. */
  programming: { aNanoAmps: 19.88665, bNanoAmps: 176.3115 },
  /** SONOS.py `A_noise, B_noise = 12.58037, 215.36557`, nA. */
  read: { aNanoAmps: 12.58037, bNanoAmps: 215.36557 },
  /** SONOS.py v3.2.0 range check `if self.Imax > 3200: raise ValueError(...)`, nA. */
  iMaxNanoAmps: 3200,
} as const;

/** Cell current in nA of a conductance in µS read at `volts`. */
function nanoAmps(gMicroSiemens: number, volts: number): number {
  return gMicroSiemens * volts * 1000;
}

/** CrossSim `SONOS.programming_error` (t = 0): σ in µS of a cell with target G read at V_read. */
export function sonosProgrammingStd(gTarget: number, readVolts: number): number {
  const { aNanoAmps: a, bNanoAmps: b } = SONOS_CROSSSIM.programming;
  return math.max(a - a * math.exp(-nanoAmps(gTarget, readVolts) / b), 0) / (1000 * readVolts);
}

/** CrossSim `SONOS.read_noise`: σ in µS of a programmed cell per MVM. */
export function sonosReadStd(gProg: number, readVolts: number): number {
  const { aNanoAmps: a, bNanoAmps: b } = SONOS_CROSSSIM.read;
  return math.max(a - a * math.exp(-nanoAmps(gProg, readVolts) / b), 0) / (1000 * readVolts);
}

/** Whether a model draws its own drift exponents (then driftNuMean/Std must be 0). */
export function hasOwnDriftLaw(model: NoiseModel): boolean {
  return model === 'pcmAihwkit';
}
