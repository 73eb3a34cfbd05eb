// Worker-thread side of EncoderPool: one tfjs instance with its own backend and its own copy of the
// backbone. tfjs-wasm runs single-threaded under Node, so one worker per core is how an evaluation
// uses every core (FACTS.md).
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend';
import { createBackbone, type CreateBackboneOptions } from '../nets/backbone';

export interface EncoderWorkerData {
  backbone: CreateBackboneOptions;
  backend: 'wasm' | 'cpu';
}

export type EncodeRequest = { id: number; px: Float32Array; size: number };
export type EncodeReply =
  | { id: number; shape: [number, number, number]; data: Float32Array }
  | { id: number; error: string };

async function start(): Promise<void> {
  const wd = workerData as EncoderWorkerData;
  await selectBackend({ prefer: wd.backend, log: () => undefined });
  const backbone = await createBackbone(wd.backbone);
  parentPort!.on('message', async (req: EncodeRequest | 'close') => {
    if (req === 'close') {
      backbone.dispose();
      parentPort!.close();
      return;
    }
    try {
      const out = tf.tidy(() => backbone.features(tf.tensor4d(req.px, [1, req.size, req.size, 3])));
      const data = (await out.data()) as Float32Array;
      const shape: [number, number, number] = [out.shape[1], out.shape[2], out.shape[3]];
      out.dispose();
      const reply: EncodeReply = { id: req.id, shape, data };
      parentPort!.postMessage(reply, [data.buffer as ArrayBuffer]);
    } catch (e) {
      parentPort!.postMessage({ id: req.id, error: (e as Error).message } satisfies EncodeReply);
    }
  });
  parentPort!.postMessage('ready');
}

start().catch((e) => {
  parentPort!.postMessage({ id: -1, error: `encoder worker failed to start: ${(e as Error).message}` } satisfies EncodeReply);
});
