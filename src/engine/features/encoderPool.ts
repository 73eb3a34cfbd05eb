// Backbone forward passes on a pool of worker threads: tfjs workers (encoderWorker.ts) or onnxruntime
// workers (onnxWorker.ts), which speak the same messages. Requests go to the worker with the fewest in
// flight; replies come back as transferred Float32Arrays (no copy). Off the main thread either way:
// onnxruntime-node's run() is synchronous underneath, so in-process it would stall episode scoring.
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { CreateBackboneOptions } from '../nets/backbone';
import type { FeatureEntry } from './featureCache';
import type { EncodeReply, EncoderWorkerData } from './encoderWorker';
import type { OnnxWorkerData } from './onnxWorker';

interface Slot {
  worker: Worker;
  inFlight: number;
}

export class EncoderPool {
  private readonly waiting = new Map<number, { resolve: (e: FeatureEntry) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private closed = false;

  private constructor(private readonly slots: Slot[]) {
    for (const s of slots) {
      s.worker.on('message', (m: EncodeReply) => this.onReply(s, m));
      s.worker.on('error', (e) => this.failAll(new Error(`encoder worker crashed: ${e.message}`)));
      s.worker.on('exit', (code) => {
        if (!this.closed && code !== 0) this.failAll(new Error(`encoder worker exited with code ${code}`));
      });
    }
  }

  /** n tfjs workers, each with its own backend instance and copy of the backbone; `taps` (mobilenetv2)
   *  or `levels` (graph backbones: output strides): what each encode returns, packed into one entry
   *  (levels.ts packLevels). */
  static create(n: number, backbone: CreateBackboneOptions, backend: 'wasm' | 'cpu', taps?: string[], levels?: number[]): Promise<EncoderPool> {
    return EncoderPool.start(n, 'encoderWorker.js', { backbone, backend, ...(taps ? { taps } : {}), ...(levels ? { levels } : {}) } satisfies EncoderWorkerData);
  }

  /** n onnxruntime workers, each with a session on the same model file. */
  static onnx(n: number, data: OnnxWorkerData): Promise<EncoderPool> {
    return EncoderPool.start(n, 'onnxWorker.js', data);
  }

  private static async start(n: number, workerFile: string, workerData: unknown): Promise<EncoderPool> {
    const file = path.join(__dirname, workerFile);
    const slots = await Promise.all(
      Array.from({ length: n }, async () => {
        const worker = new Worker(file, { workerData });
        await new Promise<void>((resolve, reject) => {
          worker.once('message', (m: 'ready' | EncodeReply) => (m === 'ready' ? resolve() : reject(new Error('error' in m ? m.error : String(m)))));
          worker.once('error', reject);
        }).catch(async (e) => {
          await worker.terminate();
          throw e;
        });
        return { worker, inFlight: 0 };
      }),
    );
    return new EncoderPool(slots);
  }

  get size(): number {
    return this.slots.length;
  }

  /** px: [size, size, 3] RGB 0..255 (float32, or bytes for a uint8 onnx model); its buffer is transferred. */
  encode(px: Float32Array | Uint8Array, size: number): Promise<FeatureEntry> {
    if (this.closed) return Promise.reject(new Error('encoder pool is closed'));
    const slot = this.slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = this.nextId++;
    slot.inFlight++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      slot.worker.postMessage({ id, px, size }, [px.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.failAll(new Error('encoder pool closed'));
  }

  private onReply(slot: Slot, m: EncodeReply): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    slot.inFlight--;
    if ('error' in m) w.reject(new Error(m.error));
    else w.resolve({ shape: m.shape, data: m.data });
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
