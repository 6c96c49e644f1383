import { Rng, ZIGGURAT_TAIL_RADIUS } from '../src/rng';
import { ConfigError } from '../src/errors';
import { mean, variance, ksStatistic, normalCdf } from './helpers/stats';

describe('Rng', () => {
  it('draws standard normals: mean, variance, kurtosis and KS against N(0,1)', () => {
    const n = 200_000;
    const a = new Float64Array(n);
    Rng.fromSeed(12345).fillNormal(a);
    // mean ~ N(0, 1/n): 5σ = 0.011; variance ~ 1 ± sqrt(2/n): 5σ = 0.016
    expect(Math.abs(mean(a))).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(variance(a) - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    let k4 = 0;
    for (const x of a) k4 += x ** 4;
    expect(Math.abs(k4 / n - 3)).toBeLessThan(0.1); // 4th moment std ≈ sqrt(96/n) = 0.022
    // KS critical value at α = 0.001 is 1.95/sqrt(n) = 0.0044
    expect(ksStatistic(a.subarray(0, 50_000), normalCdf)).toBeLessThan(1.95 / Math.sqrt(50_000));
  });

  it('draws the tails: P(|x| > R) (the ziggurat tail) and P(|x| > 4) match the normal', () => {
    const n = 1_000_000;
    const a = new Float32Array(n);
    Rng.fromSeed(3).fillNormal(a);
    for (const r of [ZIGGURAT_TAIL_RADIUS, 4]) {
      let tail = 0;
      for (const x of a) if (Math.abs(x) > r) tail++;
      const p = 2 * (1 - normalCdf(r)); // R = 3.654…: 2.58e-4; 4: 6.33e-5
      expect(Math.abs(tail / n - p)).toBeLessThan(5 * Math.sqrt(p / n));
    }
    expect(ZIGGURAT_TAIL_RADIUS).toBeCloseTo(3.6541528853610088, 12);
  });

  it('draws the wedges: the histogram of |x| in 64 bins over [0, 4] matches the normal (χ²)', () => {
    const n = 1_000_000;
    const a = new Float64Array(n);
    Rng.fromSeed(17).fillNormal(a);
    const bins = 64;
    const counts = new Float64Array(bins);
    for (const x of a) {
      const b = Math.floor((Math.abs(x) / 4) * bins);
      if (b < bins) counts[b]++;
    }
    let chi2 = 0;
    for (let b = 0; b < bins; b++) {
      const p = 2 * (normalCdf(((b + 1) * 4) / bins) - normalCdf((b * 4) / bins));
      chi2 += (counts[b] - n * p) ** 2 / (n * p);
    }
    // χ² with 64 degrees of freedom (63 plus the tail left out): 99.9th percentile ≈ 110.
    expect(chi2).toBeLessThan(110);
  });

  it('gives the same draws however the output is split across calls', () => {
    const whole = new Float32Array(50_000);
    Rng.fromSeed(8).fold('x').fillNormal(whole, 1, 0.4);
    const parts = new Float32Array(50_000);
    const r = Rng.fromSeed(8).fold('x');
    for (const [a, b] of [[0, 7], [7, 20_000], [20_000, 20_001], [20_001, 50_000]]) r.fillNormal(parts.subarray(a, b), 1, 0.4);
    expect(Array.from(parts)).toEqual(Array.from(whole));
  });

  it('gives the same bits for the same seed and path, and different streams otherwise', () => {
    const draw = (r: Rng) => {
      const a = new Float32Array(64);
      r.fillNormal(a);
      return Array.from(a);
    };
    expect(draw(Rng.fromSeed(0).fold('a').fold(3))).toEqual(draw(Rng.fromSeed(0).fold('a').fold(3)));
    expect(draw(Rng.fromSeed(0))).not.toEqual(draw(Rng.fromSeed(1)));
    expect(draw(Rng.fromSeed(7).fold(1))).not.toEqual(draw(Rng.fromSeed(7).fold('1')));
  });

  it('keeps the keys and streams of the BigInt SplitMix64 it replaced, bit for bit', () => {
    // Recorded from the BigInt implementation (until 2026-12-02): key, first two outputs,
    // for 4 roots × 9 labels (0, 1, 2^32 − 1, 2^32, 2^53 − 1, '', 'run', 'conv2d_1', 'τ-layer').
    const want = [
      'a8ebec2cbcd3dc59:-1149526273:329927167',
      '01b1a5b852b530fb:1112103895:-1051887240',
      'da2a6e82843b0164:-1197965346:-569855345',
      '791b21f7e4670402:-1763166419:-970710823',
      '7acde6ace32d204d:849133667:-1095988845',
      '9f4ccb560c7fc1a3:62531898:-225853060',
      '802288e411e824f3:1617981191:-552928476',
      '7d25659637ba7e2c:-1346581057:269832365',
      'bb7d367928473d25:1917463206:204894479',
      '9c70abea8d76eafc:516733006:-368959730',
      '458c1c3a4752712c:-1804167256:-1968779705',
      '866e10a5adb4d69b:1793806378:77535348',
      'cf482292695ebfa7:-1144054622:-1135594768',
      'e4493eddba62cecc:-531918979:132422752',
      'a37a3c0dd9e07034:1721997411:-2039133085',
      '40fca2580492a7fa:-607560586:-1423941438',
      'c6b93f609e037660:3021629:1759827738',
      '1edea4b6696c7b10:-581926915:258339062',
      'd75e225f00119b3e:-15962770:1155220605',
      'd772b9436f72fdcd:-2035342178:711151629',
      '9abbd6520a563410:-457578300:370021224',
      'c648f7038125607e:-660954511:-867862571',
      '3007af072314416c:45772629:-911879020',
      'edd7b03065286d89:256932:-1187203609',
      '1f177679228ea9fb:-836664620:848860874',
      '7f7b98a3ee715d72:-1966962511:1514449404',
      'f6581029f81089e0:-1948074898:-316282378',
      'afbb2c3b45af2752:-1599939871:-663920779',
      '1d9992f39ac13f49:-909018794:-2131995754',
      '1d1c87bfc1c1519f:-1740510471:1537607300',
      'c9b30b96f3b45876:-1754534087:-1365383620',
      '26c677d0660cfda5:1673596721:-1720374264',
      '2778ef0b6b0ee00d:300774848:-501451778',
      '56e23a082ed96d22:1145246781:1804138759',
      '8ee43ff2c0ae6c16:-1220400330:-1035385268',
      '53d68cee3769f29e:408049957:-599864413',
    ];
    const got: string[] = [];
    for (const r of [Rng.fromSeed(0), Rng.fromSeed(7), Rng.fromSeed(2 ** 53 - 1), Rng.fromKey('ffffffffffffffff', 'k')]) {
      for (const label of [0, 1, 4294967295, 4294967296, 2 ** 53 - 1, '', 'run', 'conv2d_1', 'τ-layer']) {
        const c = r.fold(label);
        got.push(`${c.keyHex}:${c.nextInt32()}:${c.nextInt32()}`);
      }
    }
    expect(got).toEqual(want);
    expect(Rng.fromSeed(3).fold('a').fold(2).path).toBe('seed(3)/a/2');
  });

  it('derives children from the key only, not from how much the parent has drawn', () => {
    const parent = Rng.fromSeed(42);
    const before = parent.fold('x').uniform();
    parent.fillNormal(new Float32Array(1000));
    expect(parent.fold('x').uniform()).toBe(before);
    expect(Rng.fromSeed(42).fold('x').keyHex).toBe(parent.fold('x').keyHex);
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    const a = new Float64Array(100_000);
    Rng.fromSeed(9).fillUniform(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
    expect(Math.abs(mean(a) - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / a.length));
    expect(Math.abs(variance(a) - 1 / 12)).toBeLessThan(0.002);
  });

  it('rejects seeds that are not non-negative safe integers', () => {
    expect(() => Rng.fromSeed(-1)).toThrow(ConfigError);
    expect(() => Rng.fromSeed(1.5)).toThrow(/seed = 1.5: expected an integer in \[0, 2\^53\)/);
    expect(() => Rng.fromSeed(0).fold(-2)).toThrow(/rng.fold label = -2/);
  });
});
