import { initBackend, compile, loadZooModel, loadMnist, embeddedMnistDir, IDEAL_CHIP } from './src';
(async () => {
  await initBackend();
  const m = await loadZooModel(process.argv[2] ?? 'cnn6-mnist-mult-0');
  const n = 2560;
  const d = loadMnist(embeddedMnistDir(), 'test', { limit: n });
  const devs = (process.argv[4] ?? 'exact,signal').split(',');
  for (const threads of (process.argv[3] ?? '1,2').split(',').map(Number)) for (const dev of devs) {
    const model = compile(m, { chip: dev === 'reram' ? { device: 'reram' } : IDEAL_CHIP });
    const exec = dev === 'exact' ? { kind: 'exact' as const } : dev === 'signal' ? { kind: 'signal' as const, noise: { kind: 'multiplicative' as const, sigma: 0.4 } } : { kind: 'chip' as const, chip: model.program(1) };
    const r = await model.runner(exec, { threads });
    await r.run(d.images.subarray(0, 256 * 784), { seed: 1 });
    let t0 = performance.now();
    for (let s = 0; s < n; s += 256) await r.run(d.images.subarray(s * 784, (s + 256) * 784), { seed: 1, sampleOffset: s });
    const seq = n / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    await r.runAll(d.images, { seed: 1 });
    const pipe = n / ((performance.now() - t0) / 1000);
    console.log(dev, 'threads', threads, 'sequential', seq.toFixed(0), 'pipelined', pipe.toFixed(0), 'img/s');
    await r.dispose();
  }
})();
