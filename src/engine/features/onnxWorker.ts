// Worker-thread side of EncoderPool.onnx: one onnxruntime session on a built model file (nets/onnx/).
// Same messages as encoderWorker.ts. intraOpNumThreads is the pool's choice (frozenEncoder.ts says why).
// A model with several outputs (a detector tapped at several strides) is asked for `outputs`, in that
// order, and replies with them packed into one entry (levels.ts packLevels), as the tfjs workers do.
import { parentPort, workerData } from 'worker_threads';
import { loadOrt } from '../nets/onnx/runtime';
import type { EncodeReply, EncodeRequest } from './encoderWorker';
import { packLevels } from './levels';

export interface OnnxWorkerData {
  modelFile: string;
  /** onnxruntime intra-op threads for this session. */
  threads: number;
  /** Output names to return packed, in this order; absent: the model's single output, unpacked. */
  outputs?: string[];
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
  const outputs = wd.outputs;
  for (const name of outputs ?? []) if (!session.outputNames.includes(name)) throw new Error(`${wd.modelFile} has no output ${name}`);
  const [output] = session.outputNames;
  parentPort!.on('message', async (req: EncodeRequest) => {
    try {
      const dims = [1, req.size, req.size, 3];
      const feeds = { [session.inputNames[0]]: req.px instanceof Uint8Array ? new o.ort.Tensor('uint8', req.px, dims) : new o.ort.Tensor('float32', req.px, dims) };
      let reply: EncodeReply & { data: Float32Array };
      if (outputs) {
        const res = await session.run(feeds, outputs);
        // packing copies each level out of onnxruntime's buffers once
        const packed = packLevels(outputs.map((name) => {
          const [, h, w, c] = res[name].dims;
          return { shape: [h, w, c], data: res[name].data as Float32Array };
        }));
        for (const name of outputs) res[name].dispose();
        reply = { id: req.id, shape: packed.shape, data: packed.data };
      } else {
        const res = await session.run(feeds);
        const t = res[output];
        const [, h, w, c] = t.dims;
        // Copy out of onnxruntime's buffer (it may not be transferable), then hand the copy over.
        const data = new Float32Array(t.data as Float32Array);
        t.dispose();
        reply = { id: req.id, shape: [h, w, c], data };
      }
      parentPort!.postMessage(reply, [reply.data.buffer as ArrayBuffer]);
    } catch (e) {
      parentPort!.postMessage({ id: req.id, error: (e as Error).message } satisfies EncodeReply);
    }
  });
  parentPort!.postMessage('ready');
}

start().catch((e) => {
  parentPort!.postMessage({ id: -1, error: `onnx encoder worker failed to start: ${(e as Error).message}` } satisfies EncodeReply);
});
