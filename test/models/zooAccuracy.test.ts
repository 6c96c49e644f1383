/**
 * The committed zoo's CNN-6 (σ_train = 0) on the first 1,000 embedded test digits,
 * loaded the way users load it (`loadZooModel`, sha256-checked) and also compiled
 * onto the ideal chip: both must score ≥ 99.0 %.
 */
import { initBackend, tf } from '../../src/backend';
import { loadZooModel, readZooManifest } from '../../src/models/zoo';
import { loadMnist, embeddedMnistDir } from '../../src/data';
import { compile, IDEAL_CHIP } from '../../src/compiler';

const NAME = 'cnn6-mnist-mult-0';
const present = readZooManifest().models.some((m) => m.name === NAME);

beforeAll(async () => {
  await initBackend();
});

(present ? describe : describe.skip)(`zoo ${NAME}${present ? '' : ' (not in zoo/manifest.json yet: skipped)'}`, () => {
  it('scores ≥ 99.0 % on the first 1,000 embedded MNIST test digits, directly and compiled on the ideal chip', async () => {
    const model = await loadZooModel(NAME);
    const data = loadMnist(embeddedMnistDir(), 'test', { limit: 1000 });
    const x = tf.tensor4d(data.images, [1000, 28, 28, 1]);
    const accuracy = (logits: tf.Tensor) => {
      const pred = tf.argMax(logits, 1).dataSync();
      return Array.from(pred).filter((p, i) => p === data.labels[i]).length / 1000;
    };
    expect(accuracy(model.predict(x) as tf.Tensor)).toBeGreaterThanOrEqual(0.99);
    const compiled = compile(model, { chip: IDEAL_CHIP });
    const chip = compiled.program(0);
    expect(accuracy(chip.run(x, { seed: 0 }))).toBeGreaterThanOrEqual(0.99);
    chip.dispose();
    compiled.dispose();
  });
});
