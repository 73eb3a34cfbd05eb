// Worker-thread side of EncoderPool: one tfjs instance with its own backend and its own copy of the
// backbone. tfjs-wasm runs single-threaded under Node, so one worker per core is how an evaluation
// uses every core (FACTS.md). A multi-level encoder (mobilenetv2 taps, or a graph backbone's strides)
// returns its levels packed into one entry.
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend';
import { createBackbone, type Backbone, type CreateBackboneOptions } from '../nets/backbone';
import { MobileNetV2Features } from '../nets/mobilenetv2';
import { isGraphBackboneId, loadGraphBackbone } from '../nets/graphModels';
import { packLevels } from './levels';

export interface EncoderWorkerData {
  backbone: CreateBackboneOptions;
  backend: 'wasm' | 'cpu';
  /** mobilenetv2 only: output these layers (the labeling encoder's levels), packed into one entry as
   *  levels.ts packLevels does */
  taps?: string[];
  /** graph backbones (nanodet, centernet) only: output these strides, packed like `taps` */
  levels?: number[];
}

/** px: [size, size, 3] RGB 0..255, as float32, or as bytes (onnx models with a uint8 input). */
export type EncodeRequest = { id: number; px: Float32Array | Uint8Array; size: number };
export type EncodeReply =
  | { id: number; shape: [number, number, number]; data: Float32Array }
  | { id: number; error: string };

async function start(): Promise<void> {
  const wd = workerData as EncoderWorkerData;
  await selectBackend({ prefer: wd.backend, log: () => undefined });
  const taps = wd.taps?.length ? wd.taps : undefined;
  const levels = wd.levels?.length ? wd.levels : undefined;
  if (taps && wd.backbone.id !== 'mobilenetv2') throw new Error(`feature taps need the mobilenetv2 backbone, not ${wd.backbone.id}`);
  if (levels && !isGraphBackboneId(wd.backbone.id)) throw new Error(`feature levels need a graph backbone (nanodet, centernet), not ${wd.backbone.id}`);
  const multi: { featuresAll(x: tf.Tensor4D): tf.Tensor4D[]; dispose(): void } | undefined = taps
    ? await MobileNetV2Features.load(wd.backbone.nsfwjsDir, taps)
    : levels && isGraphBackboneId(wd.backbone.id)
      ? (await loadGraphBackbone(wd.backbone.id, levels, { centernetDir: wd.backbone.centernetDir })).net
      : undefined;
  const net = multi ?? (await createBackbone(wd.backbone));
  const encode = async (x: tf.Tensor4D): Promise<{ shape: [number, number, number]; data: Float32Array }> => {
    if (!multi) {
      const out = tf.tidy(() => (net as Backbone).features(x));
      try {
        return { shape: [out.shape[1], out.shape[2], out.shape[3]], data: (await out.data()) as Float32Array };
      } finally {
        out.dispose();
      }
    }
    const outs = tf.tidy(() => multi.featuresAll(x));
    try {
      const datas = await Promise.all(outs.map((o) => o.data() as Promise<Float32Array>));
      const packed = packLevels(outs.map((o, i) => ({ shape: [o.shape[1], o.shape[2], o.shape[3]] as [number, number, number], data: datas[i] })));
      return { shape: packed.shape, data: packed.data };
    } finally {
      tf.dispose(outs);
    }
  };
  parentPort!.on('message', async (req: EncodeRequest | 'close') => {
    if (req === 'close') {
      net.dispose();
      parentPort!.close();
      return;
    }
    const x = tf.tensor4d(req.px instanceof Uint8Array ? new Float32Array(req.px) : req.px, [1, req.size, req.size, 3]);
    try {
      const { shape, data } = await encode(x);
      const reply: EncodeReply = { id: req.id, shape, data };
      parentPort!.postMessage(reply, [data.buffer as ArrayBuffer]);
    } catch (e) {
      parentPort!.postMessage({ id: req.id, error: (e as Error).message } satisfies EncodeReply);
    } finally {
      x.dispose();
    }
  });
  parentPort!.postMessage('ready');
}

start().catch((e) => {
  parentPort!.postMessage({ id: -1, error: `encoder worker failed to start: ${(e as Error).message}` } satisfies EncodeReply);
});
