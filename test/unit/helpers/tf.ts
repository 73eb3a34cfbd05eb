// Tests run on the wasm backend (what CI's CPU machine uses in production), set up once.
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let ready: Promise<void> | undefined;

export function useTestBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  if (!ready) {
    setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
    ready = Promise.resolve();
  }
  return ready.then(async () => {
    if (tf.getBackend() !== name) {
      const ok = await tf.setBackend(name);
      if (!ok) throw new Error(`tfjs backend ${name} failed to initialise`);
    }
    await tf.ready();
  });
}

export { tf };
