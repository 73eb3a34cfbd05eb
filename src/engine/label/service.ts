// The label service: one long-lived object per labelled folder, what the engine process holds for the
// labeling workbench and what `protolab label` drives from a terminal.
//
//   open(folder)        reads (or creates) the state, takes the folder lock, lists the images (rescan);
//                       nothing is encoded until an image is needed
//   setShapes(id, …)    stores an image's annotation and re-segments THAT image from cached features
//                       (refit on the supports + its own marks): the after-every-stroke path
//   requestGrid()       a progressive pass over every image that lacks a current prediction (encoding
//                       those never seen), cancellable; a newer request or a change of the model
//                       (supports, classes) makes a running pass stop at the next image: newest wins
//   suggestNext()       which image to look at next, with the reason
//   accept / acceptAbove / setSupport / fullMask / exportSource
//
// The model = the supports fitted by the method's predictor; its key (modelKey, segmenter.ts) says
// which predictions are stale. `generation` counts model changes in this process; events carry it so
// a client can drop results of an older generation.
//
// Masks at full size: S×S probabilities upsampled bilinearly row by row (upsample.ts) and the image's
// own marks painted over them at full resolution: what a person marked is never overruled.
//
// This file is the façade: opening and closing, the state, and each request routed to its part, which
// lives beside it: segmenter.ts (features, rasters, the fitted model, one image's prediction),
// store.ts (saving state.json and the mask PNGs), gridPass.ts (the progressive pass), previews.ts
// (stored predictions and thumbnail masks) and events.ts (the events and results it hands out).
import * as fs from 'fs';
import * as path from 'path';
import { DataError, UsageError } from '../errors';
import { probePhoto } from '../image/photo';
import { decodeIndexPng, encodeIndexPng } from '../image/png';
import type { IndexMask } from '../types';
import { exportLabels, type ExportOptions, type ExportResult } from './export';
import type { ExportItem, ExportSource } from './exportSource';
import { LabelFeatureStore } from './featureStore';
import { acquireLock, type FileLock } from '../lock';
import { DEFAULT_LABEL_BACKBONE } from '../../shared/labelVocabulary';
import { createLabelModel, LABEL_METHODS, type LabelModel, type LabelModelInfo, type LabelModelSpec } from './methods';
import { UNLABELED, type Prediction } from './predictor';
import { listPhotos, mergeScan, type ScanChanges } from './scan';
import { hasEvidence, maskShape, MAX_CLASSES, rasterizeShapes, validateShapes, type Shape } from './shapes';
import {
  defaultColor, emptyState, loadState, LOCK_FILE, readMask, storeMask, validateClasses,
  type ClassDef, type ImageRecord, type ImageStatus, type LabelMode, type LabelSettings, type LabelStateData, type ShapesOrigin,
} from './state';
import { upsampleArgmax } from './upsample';
import { rankSuggestions, type Suggestion } from './suggest';
import type { GridRun, ImageSummary, LabelEvent, PredictResult } from './events';
import { gridPass } from './gridPass';
import { storedPrediction, thumbMask, type PreviewParts, type StoredPrediction } from './previews';
import { Segmenter } from './segmenter';
import { LabelStore, PENDING } from './store';

export type { Suggestion } from './suggest';
export type { GridRun, GridSummary, ImageSummary, LabelEvent, PredictResult } from './events';
export type { ExportItem, ExportSource } from './exportSource';

export const LABEL_DIR = path.join('.protolab', 'label');

export interface LabelServiceOptions {
  /** Class names (or definitions) for a new state; for an existing one, the same list or an extension of it. */
  classes?: ReadonlyArray<string | ClassDef>;
  /** A ready model (tests, benchmarks); else one is built from `spec` (defaults: baseline, mobilenetv2, 417). */
  model?: LabelModel;
  spec?: Partial<LabelModelSpec>;
  /** Where state.json, masks/ and the lock live (default `<folder>/.protolab/label`). */
  stateDir?: string;
  /** Feature cache on disk (default `<stateDir>/features`); null keeps features in memory only. */
  featureDir?: string | null;
  /** Memory for cached features (default 512 MB ≈ 330 MobileNetV2 images at 417²). */
  featureBytes?: number;
  /** Take the folder lock (default true). */
  lock?: boolean;
  /** Names this process in the lock ('protolab label', 'ProtoLab workbench', …). */
  tool?: string;
  /** Folders below `folder` not to list (e.g. an export target inside it). */
  exclude?: string[];
  onEvent?: (e: LabelEvent) => void;
  /** Saves are coalesced: state.json is written this long after the last change (default 300 ms), but no
   *  later than 1 s (or this delay, if longer) after the first unsaved one, and on close. */
  saveDelayMs?: number;
}

/** A record with `undefined` keys removed (the state round trip is exact only without them). */
function clean(r: ImageRecord): ImageRecord {
  for (const k of Object.keys(r) as (keyof ImageRecord)[]) if (r[k] === undefined) delete r[k];
  return r;
}

export class LabelService {
  private store!: LabelStore;
  private lock?: FileLock;
  private segmenter!: Segmenter;
  /** Annotations stored per image in this process: a prediction asked for at an older count is dropped (newest wins). */
  private readonly seq = new Map<string, number>();
  private gridToken = 0;
  private closed = false;
  private ownsModel = false;
  generation = 0;

  private constructor(readonly folder: string, readonly stateDir: string, private model: LabelModel, private readonly opts: LabelServiceOptions) {}

  static async open(folder: string, opts: LabelServiceOptions = {}): Promise<LabelService> {
    const root = path.resolve(folder);
    if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new DataError(root, 'not a folder');
    const stateDir = path.resolve(opts.stateDir ?? path.join(root, LABEL_DIR));
    const lock = opts.lock === false ? undefined : acquireLock(path.join(stateDir, LOCK_FILE), opts.tool ?? 'ProtoLab labeling', "this folder's labeling state");
    let model: LabelModel | undefined;
    try {
      let data = loadState(stateDir);
      const given = opts.classes ? toClassDefs(opts.classes, []) : undefined;
      if (!data) data = emptyState(given ?? []);
      else if (given) data.classes = mergeClasses(data.classes, given, path.join(stateDir, 'state.json'));
      const s = opts.spec ?? {};
      const spec: LabelModelSpec = {
        method: s.method ?? data.settings.method ?? LABEL_METHODS[0].id,
        // a folder labelled before keeps the backbone it was labelled with (its features are cached under it)
        backbone: s.backbone ?? (data.settings.backbone as LabelModelSpec['backbone'] | undefined) ?? DEFAULT_LABEL_BACKBONE,
        weights: s.weights ?? data.settings.weights,
        size: s.size ?? data.settings.size ?? 417,
        initSeed: s.initSeed,
        options: s.options,
        workers: s.workers,
      };
      model = opts.model ?? (await createLabelModel(spec));
      const svc = new LabelService(root, stateDir, model, opts);
      svc.ownsModel = !opts.model;
      svc.lock = lock;
      svc.store = new LabelStore(stateDir, data, opts.saveDelayMs, () => svc.closed, () => svc.emit({ type: 'saved' }));
      const { mode, folderTags } = data.settings;
      data.settings = {
        method: model.info.method, backbone: model.info.backbone, size: model.info.size, ...(spec.weights ? { weights: spec.weights } : {}),
        ...(mode ? { mode } : {}), ...(folderTags !== undefined ? { folderTags } : {}),
      };
      const featureDir = opts.featureDir === null ? undefined : path.resolve(opts.featureDir ?? path.join(stateDir, 'features'));
      svc.segmenter = new Segmenter(model, new LabelFeatureStore(model.encoder, opts.featureBytes ?? 512 * 1024 * 1024, featureDir), {
        images: () => svc.data.images,
        record: (id) => svc.rec(id),
        file: (id) => svc.file(id),
        probe: (id) => svc.probe(id),
        classes: () => svc.K(),
        supportIds: () => svc.supportIds(),
        superseded: (id, seq) => (svc.seq.get(id) ?? 0) !== seq || svc.closed,
        failed: (id, e) => svc.noteFailure(id, e),
        predicted: (id, r, key, pred, labels, fresh) => svc.recordPrediction(id, r, key, pred, labels, fresh),
      });
      svc.lastKey = svc.modelKey(); // generation 0 = the model the saved state describes
      await svc.rescan();
      return svc;
    } catch (e) {
      if (model && !opts.model) model.dispose();
      lock?.release();
      throw e;
    }
  }

  // ---- what the folder holds ----

  get classes(): ClassDef[] {
    return this.data.classes.map((c) => ({ ...c }));
  }

  get size(): number {
    return this.model.encoder.size;
  }

  get modelInfo(): LabelModelInfo {
    return this.model.info;
  }

  /** Relative paths of the folder's images, in path order. */
  ids(): string[] {
    return Object.keys(this.data.images).sort();
  }

  summary(id: string): ImageSummary {
    const r = this.rec(id);
    const pred = r.prediction;
    const out: ImageSummary = {
      id, status: r.status, width: r.width, height: r.height, support: r.support, shapes: r.shapes.length, origin: r.origin,
      confidence: r.accepted?.confidence ?? pred?.confidence,
      stale: !!pred && r.status === 'predicted' && pred.model !== this.modelKey(),
      reason: r.reason, note: r.note, tags: r.tags?.slice(),
    };
    for (const k of Object.keys(out) as (keyof ImageSummary)[]) if (out[k] === undefined) delete out[k];
    return out;
  }

  /** The summary once the file's header was read (size, orientation; broken when unreadable). */
  async probed(id: string): Promise<ImageSummary> {
    this.rec(id);
    await this.probe(id);
    return this.summary(id);
  }

  list(): ImageSummary[] {
    return this.ids().map((id) => this.summary(id));
  }

  shapes(id: string): Shape[] {
    return this.rec(id).shapes.slice();
  }

  /** The shapes undone in the workbench (newest last). */
  redo(id: string): Shape[] {
    return (this.rec(id).redo ?? []).slice();
  }

  /** Copies of the mode and model settings this state records. */
  get settings(): LabelSettings {
    return { ...this.data.settings };
  }

  /** The workbench's mode (saved with the state; a host restores it on reopen). */
  setMode(mode: LabelMode, folderTags: boolean): void {
    if (this.closed) throw new UsageError('the label service is closed');
    this.data.settings = { ...this.data.settings, mode, folderTags };
    this.scheduleSave();
  }

  /** Store an image's tags (undefined: none); the pseudo mask is made by the caller (label/pseudo.ts). */
  setTags(id: string, tags: string[] | undefined): void {
    const r = this.rec(id);
    if (tags === undefined) delete r.tags;
    else r.tags = [...new Set(tags.map((t) => t.trim()).filter(Boolean))];
    this.scheduleSave();
  }

  file(id: string): string {
    this.rec(id);
    return path.join(this.folder, ...id.split('/'));
  }

  /** Re-list the folder and merge (added, removed, renamed, edited files); new images are probed for size and orientation. */
  async rescan(): Promise<ScanChanges> {
    const exclude = [this.stateDir, ...(this.opts.exclude ?? [])];
    const changes = await mergeScan(this.data, listPhotos(this.folder, exclude));
    const toProbe = this.ids().filter((id) => this.data.images[id].width === undefined && this.data.images[id].status !== 'broken');
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < toProbe.length) await this.probe(toProbe[next++]);
    }));
    if (changes.added.length || changes.removed.length || changes.renamed.length || changes.changed.length || toProbe.length) {
      this.bumpIfModelChanged();
      this.scheduleSave();
    }
    this.emit({ type: 'scan', changes, images: this.ids().length });
    return changes;
  }

  setClasses(classes: ReadonlyArray<string | ClassDef>): void {
    const defs = toClassDefs(classes, this.data.classes);
    const used = this.maxLabelUsed();
    if (used > defs.length) throw new UsageError(`label ${used} is used in the annotations; keep at least ${used} classes`);
    this.data.classes = defs;
    this.bumpIfModelChanged();
    this.scheduleSave();
  }

  // ---- annotation and prediction ----

  /**
   * Store an image's annotation (replacing the previous one) and re-segment that image. `support`
   * sets whether this annotation teaches the other images (unchanged when not given; new images are
   * not supports). `origin` records where the shapes came from (default: drawn by a person).
   * Returns the new prediction, or undefined when nothing is annotated anywhere yet. A newer call for
   * the same image makes an older one return undefined without storing (newest wins).
   */
  async setShapes(
    id: string, shapes: unknown,
    opts: {
      support?: boolean; origin?: ShapesOrigin;
      /** The workbench's redo stack (kept with the annotation; undefined leaves it, [] clears it). */
      redo?: unknown;
      /** A first annotation of an image that has no prediction yet makes it a support (the workbench's
       *  first strokes teach every other image; later strokes on a predicted image correct only it). */
      supportIfFirst?: boolean;
      /** Called once the annotation is stored (before the prediction): a save from then on includes it. */
      onStored?: () => void;
    } = {},
  ): Promise<PredictResult | undefined> {
    const r = this.rec(id);
    await this.probe(id);
    if (r.status === 'broken') throw new DataError(this.file(id), `cannot annotate a broken image: ${r.reason}`);
    const where = { classes: this.K(), width: r.width, height: r.height, where: id };
    const valid = validateShapes(shapes, where);
    const redo = opts.redo === undefined ? undefined : validateShapes(opts.redo, { ...where, where: `${id} (redo)` });
    const mine = this.bumpSeq(id);
    const first = r.shapes.length === 0 && !r.prediction && r.status !== 'accepted';
    r.shapes = valid;
    if (redo !== undefined) {
      if (redo.length) r.redo = redo;
      else delete r.redo;
    }
    if (opts.support !== undefined) r.support = opts.support;
    else if (opts.supportIfFirst && first && valid.length) r.support = true;
    if (valid.length) r.origin = opts.origin ?? 'human';
    else delete r.origin;
    delete r.accepted;
    r.status = this.statusAfterEdit(r);
    this.emit({ type: 'status', id, status: r.status });
    this.bumpIfModelChanged();
    this.scheduleSave();
    opts.onStored?.();
    // a drawn image's mask is its annotation, but it is still predicted: the person sees what the model makes of it
    return this.predictOne(id, mine).catch((e) => this.noteFailure(id, e));
  }

  /** The current prediction of one image (computed when missing or stale). */
  async predict(id: string): Promise<PredictResult | undefined> {
    return this.predictOne(id, this.seq.get(id) ?? 0);
  }

  /** The raw prediction (S×S probabilities included), current model. */
  async prediction(id: string): Promise<Prediction | undefined> {
    await this.predictOne(id, this.seq.get(id) ?? 0);
    return this.segmenter.lastPrediction(id);
  }

  /** Use an image's current mask as a support (on) or stop using it (off). A predicted image's mask
   *  (with the person's corrections) becomes its `mask` shape and counts as accepted. */
  async setSupport(id: string, on: boolean): Promise<void> {
    const r = this.rec(id);
    if (r.status === 'broken') throw new DataError(this.file(id), `cannot use a broken image as a support: ${r.reason}`);
    if (on && (r.status === 'accepted' || r.status === 'predicted')) {
      const full = await this.fullMask(id);
      const png = encodeIndexPng(full);
      r.shapes = [maskShape(full)];
      r.origin = 'accepted-prediction';
      r.accepted = { mask: storeMask(this.stateDir, png), at: new Date().toISOString(), ...(r.prediction ? { confidence: r.prediction.confidence, model: r.prediction.model } : {}) };
      r.status = 'accepted';
    } else if (on && !hasEvidence(this.segmenter.raster(r))) {
      throw new UsageError(`${id} has no annotation and no prediction to use as a support`);
    }
    r.support = on;
    this.bumpSeq(id);
    this.bumpIfModelChanged();
    this.emit({ type: 'status', id, status: r.status });
    this.scheduleSave();
  }

  /** Accept an image's mask as it is now (prediction + the person's marks), frozen at full size. */
  async accept(id: string): Promise<void> {
    const r = this.rec(id);
    if (r.status === 'broken') throw new DataError(this.file(id), `cannot accept a broken image: ${r.reason}`);
    if (r.status === 'accepted' || r.status === 'drawn') return;
    const full = await this.fullMask(id);
    const pred = r.prediction;
    r.accepted = { mask: storeMask(this.stateDir, encodeIndexPng(full)), at: new Date().toISOString(), ...(pred ? { confidence: pred.confidence, model: pred.model } : {}) };
    r.status = 'accepted';
    this.emit({ type: 'status', id, status: 'accepted' });
    this.scheduleSave();
  }

  /** Images with a current prediction at or above `threshold` confidence: their count (dryRun, ask the person first), or accept them all. */
  async acceptAbove(threshold: number, opts: { dryRun?: boolean } = {}): Promise<{ count: number; ids: string[] }> {
    const key = this.modelKey();
    const ids = this.ids().filter((id) => {
      const r = this.data.images[id];
      return r.status === 'predicted' && r.prediction?.model === key && r.prediction.confidence >= threshold;
    });
    if (!opts.dryRun) for (const id of ids) await this.accept(id);
    return { count: ids.length, ids };
  }

  /** The image's mask at its full (oriented) size: drawn → the annotation; accepted → the frozen mask;
   *  else the current prediction upsampled with the person's marks over it. Unlabeled pixels of a
   *  drawn mask are background. */
  async fullMask(id: string): Promise<IndexMask> {
    const r = this.rec(id);
    await this.probe(id);
    if (r.status === 'broken') throw new DataError(this.file(id), r.reason ?? 'broken');
    const W = r.width!, H = r.height!;
    if (r.status === 'accepted' && r.accepted) {
      const m = decodeIndexPng(readMask(this.stateDir, r.accepted.mask), r.accepted.mask);
      if (m.width !== W || m.height !== H) throw new DataError(this.file(id), `accepted mask is ${m.width}×${m.height}, the image ${W}×${H}`);
      return m;
    }
    const human = rasterizeShapes(r.shapes, W, H);
    if (r.status === 'drawn') return { width: W, height: H, data: human.map((v) => (v === UNLABELED ? 0 : v)) };
    await this.predictOne(id, this.seq.get(id) ?? 0);
    const p = this.segmenter.lastPrediction(id);
    if (!p) throw new UsageError(`${id} has no prediction (no support marks any pixel yet)`);
    const data = upsampleArgmax(p.probs, p.size, p.size, p.classes + 1, H, W);
    for (let i = 0; i < data.length; i++) if (human[i] !== UNLABELED) data[i] = human[i];
    return { width: W, height: H, data };
  }

  // ---- the grid pass ----

  /** Start a pass over the images lacking a current prediction (ids in `order` first); any running pass stops. */
  requestGrid(opts: {
    order?: string[];
    /** Awaited between images instead of a bare yield: a host makes the pass wait while strokes are served. */
    pause?: () => Promise<void>;
    /** Progress of THIS pass (the 'grid' events of an older pass may still arrive after a newer starts). */
    onProgress?: (done: number, total: number, id: string) => void;
  } = {}): GridRun {
    const token = ++this.gridToken;
    const generation = this.generation;
    let cancelled = false;
    const stopReason = (): string | undefined =>
      cancelled ? 'cancelled' : this.closed ? 'closed' : token !== this.gridToken ? 'newer request' : generation !== this.generation ? 'model changed' : undefined;
    const done = gridPass({
      generation,
      stopReason,
      order: opts.order,
      record: (id) => this.data.images[id],
      ids: () => this.ids(),
      modelKey: () => this.modelKey(),
      fitted: () => this.segmenter.fitted(),
      encodeAhead: this.model.encodeConcurrency ?? 1,
      decode: (id) => this.segmenter.rgb(id),
      encode: (id) => this.segmenter.labelImage(id),
      predict: (id) => this.predictOne(id, this.seq.get(id) ?? 0),
      emit: (e) => this.emit(e),
      onProgress: opts.onProgress,
      pause: opts.pause,
    }).then((s) => {
      this.emit({ type: 'gridDone', summary: s });
      return s;
    });
    return { generation, done, cancel: () => { cancelled = true; } };
  }

  // ---- what a viewer shows without computing anything ----

  /** The prediction last made for an image (S×S index PNG, the image's own marks painted over it), if
   *  any: `current` says whether the model that made it is today's (else the supports changed since). */
  storedPrediction(id: string): StoredPrediction | undefined {
    return storedPrediction(this.previewParts(), id, this.rec(id));
  }

  /** A small index mask for a thumbnail (longest side ≤ maxSide): the accepted mask, the drawn
   *  annotation (unlabeled as background) or the last prediction; undefined when there is none. */
  thumbMask(id: string, maxSide = 64): IndexMask | undefined {
    return thumbMask(this.previewParts(), id, this.rec(id), maxSide);
  }

  private previewParts(): PreviewParts {
    return { store: this.store, size: this.size, modelKey: () => this.modelKey(), raster: (r) => this.segmenter.raster(r) };
  }

  // ---- suggest next ----

  /** The n images most worth a look: uncertain AND unlike the current supports in feature space. */
  suggestNext(n = 5): Suggestion[] {
    const key = this.modelKey();
    const supports = this.supportIds().flatMap((id) => {
      const m = this.segmenter.meanFeature.get(this.data.images[id].hash);
      return m ? [{ id, mean: m }] : [];
    });
    const candidates = this.ids().flatMap((id) => {
      const r = this.data.images[id];
      const m = this.segmenter.meanFeature.get(r.hash);
      if (r.status !== 'predicted' || !r.prediction || r.prediction.model !== key || !m) return [];
      return [{ id, confidence: r.prediction.confidence, mean: m }];
    });
    return rankSuggestions(candidates, supports, [...this.segmenter.meanFeature.values()], n);
  }

  // ---- export ----

  /** Everything an export needs; include 'all' (every image with a mask) or 'accepted' (accepted and drawn only). */
  exportSource(include: 'all' | 'accepted' = 'all'): ExportSource {
    const items: ExportItem[] = [];
    const skipped: ExportSource['skipped'] = [];
    const key = this.modelKey();
    const canPredict = this.supportIds().some((id) => hasEvidence(this.segmenter.raster(this.data.images[id])));
    for (const id of this.ids()) {
      const r = this.data.images[id];
      if (r.status === 'broken') {
        skipped.push({ id, status: r.status, reason: r.reason ?? 'broken' });
        continue;
      }
      let kind: ExportItem['kind'];
      if (r.status === 'drawn') kind = r.origin === 'pseudo' ? 'pseudo' : r.origin === 'accepted-prediction' ? 'accepted-prediction' : 'human';
      else if (r.status === 'accepted') kind = r.origin === 'pseudo' ? 'pseudo' : 'accepted-prediction';
      else if (include === 'accepted') {
        skipped.push({ id, status: r.status, reason: 'not accepted' });
        continue;
      } else if (canPredict || hasEvidence(this.segmenter.raster(r))) kind = 'prediction';
      else {
        skipped.push({ id, status: r.status, reason: 'no annotation anywhere to predict from' });
        continue;
      }
      const item: ExportItem = {
        id, file: this.file(id), hash: r.hash, width: r.width!, height: r.height!, orientation: r.orientation ?? 1, format: r.format ?? 'unknown',
        kind, status: r.status, support: r.support,
        confidence: kind === 'prediction' ? (r.prediction?.model === key ? r.prediction.confidence : undefined) : r.accepted?.confidence,
        mask: async () => {
          const m = await this.fullMask(id);
          // a prediction is (re)made by fullMask when it was missing or stale: report the one exported
          if (kind === 'prediction') item.confidence = this.data.images[id].prediction?.confidence;
          return m;
        },
      };
      items.push(item);
    }
    return { folder: this.folder, classes: this.classes, items, skipped, model: this.model.info, modelKey: key, supports: this.supportIds() };
  }

  /** Save the state, then export (label/export): what a host calls for "Export…". */
  exportTo(out: string, opts: ExportOptions & { include?: 'all' | 'accepted' } = {}): Promise<ExportResult> {
    this.flush();
    const { include, ...rest } = opts;
    return exportLabels(this.exportSource(include ?? 'all'), out, rest);
  }

  // ---- lifetime ----

  /** Write state.json now (saves are otherwise coalesced). */
  flush(): void {
    this.store.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.gridToken++;
    try {
      this.flush();
      this.store.collectGarbage();
    } finally {
      await this.segmenter.dispose();
      if (this.ownsModel) this.model.dispose();
      this.lock?.release();
    }
  }

  // ---- internals ----

  private emit(e: LabelEvent): void {
    this.opts.onEvent?.(e);
  }

  private K(): number {
    return this.data.classes.length;
  }

  private rec(id: string): ImageRecord {
    if (this.closed) throw new UsageError('the label service is closed');
    const r = this.data.images[id];
    if (!r) throw new UsageError(`no image "${id}" in ${this.folder}`);
    return r;
  }

  private bumpSeq(id: string): number {
    const n = (this.seq.get(id) ?? 0) + 1;
    this.seq.set(id, n);
    return n;
  }

  private get data(): LabelStateData {
    return this.store.data;
  }

  private scheduleSave(): void {
    this.store.scheduleSave();
  }

  private markBroken(id: string, reason: string): void {
    const r = this.data.images[id];
    if (!r) return;
    r.status = 'broken';
    r.reason = reason;
    delete r.prediction;
    this.emit({ type: 'broken', id, reason });
    this.scheduleSave();
  }

  private noteFailure(id: string, e: unknown): never {
    if (e instanceof DataError && this.data.images[id]?.status !== 'broken') this.markBroken(id, e.problem);
    throw e;
  }

  /** Size, orientation and format from the header; a file that cannot be read is marked broken. */
  private async probe(id: string): Promise<void> {
    const r = this.data.images[id];
    if (!r || r.width !== undefined || r.status === 'broken') return;
    try {
      const info = await probePhoto(this.file(id));
      r.width = info.width;
      r.height = info.height;
      r.orientation = info.orientation;
      r.format = info.format;
      if (r.shapes.length) {
        try {
          validateShapes(r.shapes, { classes: this.K(), width: r.width, height: r.height, where: id });
        } catch (e) {
          r.note = `annotation does not fit the image: ${(e as Error).message}`;
        }
      }
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      this.markBroken(id, e.problem);
    }
  }

  /** 'drawn' when the annotation leaves no cell of the working grid unlabeled (checked at S×S: a
   *  full-resolution check would rasterise a 24 MP canvas after every stroke), else predicted/unlabeled. */
  private statusAfterEdit(r: ImageRecord): ImageStatus {
    if (r.shapes.length && !this.segmenter.raster(r).includes(UNLABELED)) return 'drawn';
    return r.prediction ? 'predicted' : 'unlabeled';
  }

  private supportIds(): string[] {
    return this.ids().filter((id) => {
      const r = this.data.images[id];
      return r.support && r.status !== 'broken' && r.shapes.length > 0;
    });
  }

  private maxLabelUsed(): number {
    let mx = 0;
    for (const r of Object.values(this.data.images)) {
      if (!r.shapes.length || r.width === undefined) continue;
      for (const v of this.segmenter.raster(r)) if (v <= MAX_CLASSES && v > mx) mx = v;
    }
    return mx;
  }

  /** Which model the supports make now (segmenter.ts). */
  modelKey(): string {
    return this.segmenter.modelKey();
  }

  private lastKey?: string;

  private bumpIfModelChanged(): void {
    const k = this.modelKey();
    if (k === this.lastKey) return;
    this.lastKey = k;
    this.generation++;
    this.emit({ type: 'generation', generation: this.generation, modelKey: k });
  }

  /** One image's current prediction (segmenter.ts), recorded by recordPrediction. */
  private predictOne(id: string, mySeq: number): Promise<PredictResult | undefined> {
    return this.segmenter.predict(id, mySeq);
  }

  /** A prediction made by the segmenter: a new one is stored (its PNG written with the next save) and
   *  announced; what the caller gets back. */
  private recordPrediction(id: string, r: ImageRecord, key: string, pred: Prediction, labels: Uint8Array, fresh: boolean): PredictResult {
    if (fresh || r.prediction?.model !== key) {
      // the PNG is written with the next save (flushMasks): encoding it here would cost every stroke
      this.store.putPending(id, labels, pred.size);
      r.prediction = { mask: PENDING, size: pred.size, confidence: pred.confidence, model: key, at: new Date().toISOString() };
      if (r.status === 'unlabeled') r.status = 'predicted';
      clean(r);
      this.scheduleSave();
    }
    this.emit({ type: 'prediction', id, generation: this.generation, confidence: pred.confidence, status: r.status });
    return { id, generation: this.generation, size: pred.size, labels, confidence: pred.confidence, status: r.status };
  }
}

/** Class names or definitions → definitions; a name keeps the colour it had in `current`, else the palette's. */
function toClassDefs(list: ReadonlyArray<string | ClassDef>, current: readonly ClassDef[]): ClassDef[] {
  return validateClasses(list.map((c, i) => (typeof c === 'string' ? { name: c, color: current[i]?.name === c ? current[i].color : defaultColor(i + 1) } : c)), 'classes');
}

/** Existing classes stay; a longer list may add classes at the end; a conflicting list is an error. */
function mergeClasses(have: ClassDef[], given: ClassDef[], file: string): ClassDef[] {
  for (let i = 0; i < Math.min(have.length, given.length); i++) {
    if (have[i].name !== given[i].name) {
      throw new UsageError(`${file} labels class ${i + 1} as "${have[i].name}", not "${given[i].name}" (classes so far: ${have.map((c) => c.name).join(', ')}); give the same list, extend it at the end, or use another state folder`);
    }
  }
  return given.length > have.length ? [...have, ...given.slice(have.length)] : have;
}
