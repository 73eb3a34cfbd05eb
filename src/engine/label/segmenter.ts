// The segmenter of the label service: what turns the supports into a model and an image into its
// prediction. It holds the images at S×S (decoded once), their features (LabelFeatureStore), the
// annotation rasters at S×S, each image's mean feature (for suggestNext), the fitted model of the
// current supports and the last predictions, all memoised; the label service (service.ts) owns it and
// answers for the state it reads (SegmenterHost).
//
// The model = the supports (images flagged `support`, with their annotation rasters) fitted by the
// method's predictor. Its key (modelKey) hashes the encoder, the predictor's settings, K and every
// support's annotation; a prediction records the key it was made with, so a changed support set shows
// which predictions are stale, also across sessions.
import { createHash } from 'crypto';
import { DataError, UsageError } from '../errors';
import { readPhotoAt } from '../image/photo';
import type { RawImage } from '../types';
import { LruMap } from '../features/lruMap';
import type { PredictResult } from './events';
import type { LabelFeatureStore } from './featureStore';
import type { LabelModel } from './methods';
import { UNLABELED, type FittedModel, type LabelImage, type LabelSupport, type Prediction } from './predictor';
import { hasEvidence, paintShapes, rasterizeShapes, sameShape, type Shape } from './shapes';
import type { ImageRecord } from './state';

/** What the segmenter reads from the service that owns it. */
export interface SegmenterHost {
  /** The records by id, as they are now (a rescan may replace them). */
  images(): Record<string, ImageRecord>;
  /** An image's record; throws when the service is closed or holds no such image. */
  record(id: string): ImageRecord;
  file(id: string): string;
  /** Read the image's header (size, orientation) if not yet read; an unreadable file is marked broken. */
  probe(id: string): Promise<void>;
  /** How many classes there are (K). */
  classes(): number;
  /** The support images (flagged, not broken, annotated), in path order. */
  supportIds(): string[];
  /** A prediction asked for at annotation `seq` of the image is no longer wanted (a newer one, or closed). */
  superseded(id: string, seq: number): boolean;
  /** The image could not be read or encoded: note it (a DataError marks it broken) and rethrow. */
  failed(id: string, e: unknown): never;
  /** Record a prediction (`fresh`: not the memoised one) and say what the caller gets. */
  predicted(id: string, r: ImageRecord, modelKey: string, pred: Prediction, labels: Uint8Array, fresh: boolean): PredictResult;
}

const RGB_KEEP = 24;
const PRED_KEEP = 6;

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}

export class Segmenter {
  private readonly rgbMemo = new LruMap<string, Promise<RawImage>>({ maxEntries: RGB_KEEP });
  private readonly predMemo = new LruMap<string, { key: string; pred: Prediction }>({ maxEntries: PRED_KEEP });
  private readonly rasterMemo = new WeakMap<Shape[], { key: string; raster: Uint8Array }>();
  private readonly lastRaster = new LruMap<string, { key: string; shapes: Shape[]; raster: Uint8Array }>({ maxEntries: RGB_KEEP });
  private readonly shapesHash = new WeakMap<Shape[], string>();
  /** Each encoded image's mean feature (last level), by content hash. */
  readonly meanFeature = new Map<string, Float32Array>();
  private fittedCache?: { key: string; model: Promise<FittedModel | undefined> };

  constructor(private readonly model: LabelModel, private readonly features: LabelFeatureStore, private readonly host: SegmenterHost) {}

  /** The working grid's side S (the encoder's input size). */
  get size(): number {
    return this.model.encoder.size;
  }

  /** The raw prediction last made for an image (S×S probabilities included), if still memoised. */
  lastPrediction(id: string): Prediction | undefined {
    return this.predMemo.peek(id)?.pred;
  }

  /** The image at S×S (decoded once; a failed read is forgotten so it can be retried). */
  rgb(id: string): Promise<RawImage> {
    const r = this.host.images()[id];
    const k = `${r.hash}`;
    const hit = this.rgbMemo.get(k);
    if (hit) return hit;
    const S = this.size;
    const p = readPhotoAt(this.host.file(id), S, S);
    p.catch(() => this.rgbMemo.delete(k));
    this.rgbMemo.set(k, p);
    return p;
  }

  /** The image at S×S with its feature levels (encoded once per content; its mean feature noted for suggestNext). */
  async labelImage(id: string): Promise<LabelImage> {
    const r = this.host.images()[id];
    const rgb = await this.rgb(id);
    const features = await this.features.get(r.hash, async () => rgb);
    if (!this.meanFeature.has(r.hash)) this.meanFeature.set(r.hash, meanOf(features[features.length - 1]));
    return { id, rgb, features };
  }

  /** The annotation raster at S×S (memoised per shapes array). When the shapes extend the ones last
   *  rasterised for this image (a stroke added), only the new shapes are painted. */
  raster(r: ImageRecord): Uint8Array {
    const S = this.size;
    const W = r.width ?? S, H = r.height ?? S;
    const k = `${W}x${H}@${S}`;
    const hit = this.rasterMemo.get(r.shapes);
    if (hit && hit.key === k) return hit.raster;
    const grid = { width: S, height: S };
    const last = this.lastRaster.peek(r.hash);
    let raster: Uint8Array;
    if (last && last.key === k && last.shapes.length <= r.shapes.length && last.shapes.every((s, i) => sameShape(s, r.shapes[i]))) {
      raster = last.raster.slice();
      paintShapes(raster, r.shapes.slice(last.shapes.length), W, H, grid);
    } else {
      raster = rasterizeShapes(r.shapes, W, H, grid);
    }
    this.rasterMemo.set(r.shapes, { key: k, raster });
    this.lastRaster.set(r.hash, { key: k, shapes: r.shapes, raster });
    return raster;
  }

  private hashShapes(shapes: Shape[]): string {
    let h = this.shapesHash.get(shapes);
    if (!h) this.shapesHash.set(shapes, (h = sha(JSON.stringify(shapes))));
    return h;
  }

  /** Which model the supports make now (see the header). */
  modelKey(): string {
    const sup = this.host.supportIds().map((id) => `${id}:${this.host.images()[id].hash}:${this.hashShapes(this.host.images()[id].shapes)}`);
    return sha(JSON.stringify([this.model.info.encoderKey, this.model.predictor.id, this.model.predictor.describe(), this.host.classes(), sup]));
  }

  /** The fitted model of the current supports; undefined when no support marks a pixel. */
  fitted(): Promise<FittedModel | undefined> {
    const key = this.modelKey();
    if (this.fittedCache?.key === key) return this.fittedCache.model;
    const old = this.fittedCache?.model;
    const model = (async () => {
      const supports: LabelSupport[] = [];
      for (const id of this.host.supportIds()) {
        const r = this.host.images()[id];
        await this.host.probe(id);
        if (r.status === 'broken') continue;
        const labels = this.raster(r);
        if (!hasEvidence(labels)) continue;
        supports.push({ image: await this.labelImage(id), labels });
      }
      return supports.length ? this.model.predictor.fit(supports, this.host.classes()) : undefined;
    })();
    model.catch(() => {
      if (this.fittedCache?.model === model) this.fittedCache = undefined;
    });
    this.fittedCache = { key, model };
    // disposed on the next macrotask: a prediction that already awaited the old model uses it
    // synchronously right after its await, so it runs first
    old?.then((m) => setImmediate(() => m?.dispose())).catch(() => undefined);
    return model;
  }

  /**
   * The current prediction of one image, with its own marks painted over it, handed to host.predicted
   * (which records it). `mySeq` is the image's annotation count when the request was made: a newer
   * annotation makes this one return undefined. Memoised per (model, the image's shapes).
   */
  async predict(id: string, mySeq: number): Promise<PredictResult | undefined> {
    const r = this.host.record(id);
    await this.host.probe(id);
    if (r.status === 'broken') throw new DataError(this.host.file(id), r.reason ?? 'broken');
    if (this.host.classes() === 0) throw new UsageError('no classes defined: name at least one class');
    const key = this.modelKey();
    const memo = this.predMemo.peek(id);
    const shapesKey = `${key}:${this.hashShapes(r.shapes)}`;
    let pred: Prediction;
    if (memo && memo.key === shapesKey) {
      pred = memo.pred;
    } else {
      let img: LabelImage;
      try {
        img = await this.labelImage(id);
      } catch (e) {
        this.host.failed(id, e);
      }
      const own = this.raster(r);
      let fitted = await this.fitted();
      if (this.host.superseded(id, mySeq)) return undefined; // a newer annotation of this image won (or the service closed)
      let temporary: FittedModel | undefined;
      if (!fitted) {
        if (!hasEvidence(own)) return undefined; // nothing annotated anywhere
        fitted = temporary = this.model.predictor.fit([{ image: img, labels: own }], this.host.classes());
      }
      try {
        pred = fitted.predict(img, r.support || temporary ? undefined : own);
      } finally {
        temporary?.dispose();
      }
      this.predMemo.set(id, { key: shapesKey, pred });
    }
    const own = this.raster(r);
    const labels = new Uint8Array(pred.labels.length);
    for (let i = 0; i < labels.length; i++) labels[i] = own[i] !== UNLABELED ? own[i] : pred.labels[i];
    return this.host.predicted(id, r, key, pred, labels, !(memo && memo.key === shapesKey));
  }

  /** Free the fitted model (once any prediction using it is done). */
  async dispose(): Promise<void> {
    const fitted = this.fittedCache?.model;
    this.fittedCache = undefined;
    await fitted?.then((m) => m?.dispose()).catch(() => undefined);
  }
}

function meanOf(f: { shape: [number, number, number]; data: Float32Array }): Float32Array {
  const [h, w, c] = f.shape;
  const m = new Float32Array(c);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) m[k] += f.data[i * c + k];
  for (let k = 0; k < c; k++) m[k] /= h * w;
  return m;
}
