// Worker-thread side of EncoderPool.onnx: one onnxruntime session on a built model file (nets/onnx/).
// Same messages as encoderWorker.ts. intraOpNumThreads is the pool's choice (frozenEncoder.ts says why).
import { parentPort, workerData } from 'worker_threads';
import { loadOrt } from '../nets/onnx/runtime';
import type { EncodeReply, EncodeRequest } from './encoderWorker';

export interface OnnxWorkerData {
  modelFile: string;
  /** onnxruntime intra-op threads for this session. */
  threads: number;
}

async function start(): Promise<void> {
  const wd = workerData as OnnxWorkerData;
  const o = loadOrt();
  if (!o.ok) throw new Error(o.reason);
  const session = await o.ort.InferenceSession.create(wd.modelFile, {
    executionProviders: ['cpu'],
    intraOpNumThreads: wd.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const [input] = session.inputNames;
  const [output] = session.outputNames;
  parentPort!.on('message', async (req: EncodeRequest) => {
    try {
      const res = await session.run({ [input]: new o.ort.Tensor('float32', req.px, [1, req.size, req.size, 3]) });
      const t = res[output];
      const [, h, w, c] = t.dims;
      // Copy out of onnxruntime's buffer (it may not be transferable), then hand the copy over.
      const data = new Float32Array(t.data as Float32Array);
      t.dispose();
      parentPort!.postMessage({ id: req.id, shape: [h, w, c], data } satisfies EncodeReply, [data.buffer]);
    } catch (e) {
      parentPort!.postMessage({ id: req.id, error: (e as Error).message } satisfies EncodeReply);
    }
  });
  parentPort!.postMessage('ready');
}

start().catch((e) => {
  parentPort!.postMessage({ id: -1, error: `onnx encoder worker failed to start: ${(e as Error).message}` } satisfies EncodeReply);
});
