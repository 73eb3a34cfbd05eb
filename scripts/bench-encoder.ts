// Times the PANet VGG-16 encoder (random init) per image on the selected backend.
//   node out/scripts/bench-encoder.js [--size 417] [--runs 5] [--backend wasm] [--wasm-threads] [--backbone vgg16]
// Prints backend, input size and min/median ms over N timed runs after one warm-up run.
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendPreference } from '../src/engine/backend';
import { createBackbone, type BackboneId } from '../src/engine/nets/backbone';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', multiple: true },
      runs: { type: 'string', default: '5' },
      backend: { type: 'string' },
      backbone: { type: 'string', default: 'vgg16' },
      'wasm-threads': { type: 'boolean', default: false },
    },
  });
  const sizes = (values.size ?? ['417']).map(Number);
  const runs = Number(values.runs);
  const be = await selectBackend({
    prefer: values.backend as BackendPreference | undefined,
    wasmThreads: values['wasm-threads'],
    log: (l) => console.log(l),
  });
  const backbone = await createBackbone({ id: values.backbone as BackboneId, seed: 1 });
  for (const size of sizes) {
    const x = tf.randomUniform([1, size, size, 3], 0, 255) as tf.Tensor4D;
    const once = async (): Promise<number> => {
      const t0 = performance.now();
      const y = backbone.features(x);
      await y.data(); // wait for the backend to finish, not just to enqueue
      const ms = performance.now() - t0;
      y.dispose();
      return ms;
    };
    const warm = await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await once());
    times.sort((a, b) => a - b);
    const median = times[Math.floor((times.length - 1) / 2)];
    console.log(
      `${backbone.id} ${size}x${size} backend=${be.name}${be.threads ? `(${be.threads} threads)` : ''}: ` +
        `min ${times[0].toFixed(0)} ms, median ${median.toFixed(0)} ms over ${runs} runs (warm-up ${warm.toFixed(0)} ms)`,
    );
    x.dispose();
  }
  backbone.dispose();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
