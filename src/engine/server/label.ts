// The labeling workbench's half of the engine process: one LabelService per open folder, the label*
// requests of shared/engineLabelProtocol.ts, and each folder's watch stream (image summaries, saves, generations).
//
// Two promises the workbench relies on are kept here:
//   - drawing never waits behind grid work: labelSetShapes / labelImage / labelPredict count as
//     interactive; a grid pass waits between images while any is running (LabelService.requestGrid's
//     `pause`), so a stroke is served next. (An encode already running finishes first: one image.)
//   - nothing drawn is lost: every labelSetShapes carries the host's edit counter `seq`; after each save
//     of state.json the watch stream says `saved` with the highest seq such that every edit up to it is
//     stored (or was refused). The host keeps edits until then and replays them to a restarted engine.
import * as path from 'path';
import { DataError, throwIfAborted, UsageError } from '../errors';
import { createPseudoMaskSource, WEAK_DEFAULTS, type PseudoMaskSource } from '../fewshot/weak/pseudoSource';
import { displayJpeg } from '../image/photo';
import { encodeIndexPng } from '../image/png';
import { defaultLabelWorkers, LABEL_METHODS, type LabelModelSpec } from '../label/methods';
import { applyPseudoMask, clearPseudoMask } from '../label/pseudo';
import { LabelService, type LabelEvent, type PredictResult } from '../label/service';
import type { ClassDef } from '../label/state';
import type { EngineEvent, LabelChange, LabelModelChoice, LabelOpenInfo, LabelPredictionPayload, LabelRequest, LabelResultOf } from '../../shared/engineProtocol';
import { LABEL_BACKBONES } from '../../shared/labelVocabulary';
import { readTrainMeta } from '../train/checkpoint';
import { resolveCheckpoint } from '../train/runDir';
import { LruMap } from '../features/lruMap';

type Event = (e: EngineEvent) => void;

interface Entry {
  folder: string;
  svc: LabelService;
  specKey: string;
  watchers: Set<(c: LabelChange) => void>;
  /** watch requests to end when the folder closes */
  ends: Set<() => void>;
  /** edits received and not yet stored (or refused) */
  inFlight: Set<number>;
  /** the highest seq received */
  maxSeq: number;
  /** image → seq of its newest labelSetShapes (an older one still running is superseded) */
  latest: Map<string, number>;
  interactive: number;
  idle: Array<() => void>;
  changed: Set<string>;
  flushScheduled: boolean;
  thumbs: LruMap<string, Uint8Array>;
  pseudo?: { key: string; source: Promise<PseudoMaskSource & { dispose(): void }> };
}

/** Forget an image's thumbnail JPEGs at every size (kept under `${id}@${side}`). */
function dropThumbs(e: Entry, id: string): void {
  for (const k of [...e.thumbs.keys()]) if (k.startsWith(`${id}@`) && !k.slice(id.length + 1).includes('@')) e.thumbs.delete(k);
}

/** Display and thumbnail sizes (longest side, px). */
const DISPLAY_SIDE = 2048;
const THUMB_SIDE = 128;
const THUMB_KEEP = 3000;

/** The spec a model choice asks for: a checkpoint brings its backbone (and, for VGG-16, its weights). */
export function resolveModelChoice(c: LabelModelChoice | undefined): Partial<LabelModelSpec> {
  if (!c) return {};
  const out: Partial<LabelModelSpec> = {};
  if (c.method) out.method = c.method;
  if (c.backbone) out.backbone = c.backbone;
  if (c.weights) out.weights = path.resolve(c.weights);
  if (c.size) out.size = c.size;
  if (c.checkpoint) {
    const file = resolveCheckpoint(c.checkpoint);
    let backbone: string | undefined;
    try {
      backbone = readTrainMeta(file).backbone;
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      backbone = undefined; // not a ProtoLab checkpoint: plain VGG-16 weights
    }
    if (backbone !== undefined && !(LABEL_BACKBONES as readonly string[]).includes(backbone)) throw new DataError(file, `checkpoint backbone ${backbone} cannot label`);
    out.backbone = (backbone ?? 'vgg16') as LabelModelSpec['backbone'];
    // a MobileNetV2 checkpoint trained only its head: the labeling encoder is the same nsfwjs backbone
    out.weights = out.backbone === 'vgg16' ? file : undefined;
  }
  if (out.backbone === 'mobilenetv2') delete out.weights;
  return out;
}

const specKeyOf = (s: Partial<LabelModelSpec>) => JSON.stringify([s.method ?? '', s.backbone ?? '', s.weights ?? '', s.size ?? 0]);

function predictionOut(r: PredictResult): LabelPredictionPayload {
  return { mask: encodeIndexPng({ width: r.size, height: r.size, data: r.labels }, { fast: true }), size: r.size, confidence: r.confidence };
}

export class LabelSessions {
  private readonly entries = new Map<string, Entry>();
  private readonly opening = new Map<string, Promise<Entry>>();

  constructor(private readonly ready: () => Promise<unknown>, private readonly cacheDir?: string) {}

  /** Open folders (tests and the shutdown path read it). */
  get folders(): string[] {
    return [...this.entries.keys()];
  }

  private entry(folder: string): Entry {
    const e = this.entries.get(path.resolve(folder));
    if (!e) throw new UsageError(`the folder ${folder} is not open for labeling (labelOpen first)`);
    return e;
  }

  async dispatch(req: LabelRequest, signal: AbortSignal, event: Event): Promise<unknown> {
    switch (req.type) {
      case 'labelOpen':
        return this.open(req);
      case 'labelWatch':
        return this.watch(this.entry(req.folder), signal, event);
      case 'labelClose': {
        const e = this.entries.get(path.resolve(req.folder));
        if (!e) return { closed: false } satisfies LabelResultOf['labelClose'];
        await this.close(e);
        return { closed: true } satisfies LabelResultOf['labelClose'];
      }
      case 'labelList': {
        const e = this.entry(req.folder);
        return { images: (req.images ?? e.svc.ids()).filter((id) => e.svc.ids().includes(id)).map((id) => e.svc.summary(id)) } satisfies LabelResultOf['labelList'];
      }
      case 'labelRescan': {
        const e = this.entry(req.folder);
        const c = await e.svc.rescan();
        const touched = [...c.added, ...c.renamed.map((r) => r.to), ...c.changed];
        for (const id of [...touched, ...c.removed, ...c.renamed.map((r) => r.from)]) dropThumbs(e, id);
        return { ...c, images: touched.filter((id) => e.svc.ids().includes(id)).map((id) => e.svc.summary(id)) } satisfies LabelResultOf['labelRescan'];
      }
      case 'labelImage':
        return this.interactive(this.entry(req.folder), async (e) => {
          const summary = await e.svc.probed(req.image);
          if (summary.status === 'broken') throw new DataError(e.svc.file(req.image), summary.reason ?? 'cannot be read');
          const bytes = await displayJpeg(e.svc.file(req.image), req.maxSide ?? DISPLAY_SIDE);
          const p = e.svc.storedPrediction(req.image);
          return {
            summary, width: summary.width!, height: summary.height!, bytes, shapes: e.svc.shapes(req.image), redo: e.svc.redo(req.image),
            ...(p ? { prediction: { mask: p.png, size: p.size, confidence: p.confidence, current: p.current } } : {}),
          } satisfies LabelResultOf['labelImage'];
        });
      case 'labelThumbs':
        return this.thumbs(this.entry(req.folder), req.images, req.side ?? THUMB_SIDE);
      case 'labelSetShapes':
        return this.setShapes(this.entry(req.folder), req);
      case 'labelPredict':
        return this.interactive(this.entry(req.folder), async (e) => {
          const r = await e.svc.predict(req.image);
          return { status: e.svc.summary(req.image).status, generation: e.svc.generation, ...(r ? { prediction: predictionOut(r) } : {}) } satisfies LabelResultOf['labelPredict'];
        });
      case 'labelGrid': {
        const e = this.entry(req.folder);
        const run = e.svc.requestGrid({
          order: req.order,
          pause: () => this.whenIdle(e),
          onProgress: (done, total, id) => event({ kind: 'progress', done, total, note: id }),
        });
        const stop = () => run.cancel();
        signal.addEventListener('abort', stop);
        try {
          return { ...(await run.done) } satisfies LabelResultOf['labelGrid'];
        } finally {
          signal.removeEventListener('abort', stop);
        }
      }
      case 'labelSuggest': {
        const e = this.entry(req.folder);
        const suggestions = e.svc.suggestNext(req.count ?? 5).map((s) => ({ id: s.id, score: s.score, confidence: s.confidence, reason: s.reason }));
        const out: LabelResultOf['labelSuggest'] = { suggestions };
        if (!suggestions.length) out.why = this.nothingToSuggest(e);
        return out;
      }
      case 'labelAccept': {
        const e = this.entry(req.folder);
        const accepted: string[] = [];
        for (const id of req.images) {
          await e.svc.accept(id);
          accepted.push(id);
        }
        e.svc.flush();
        return { accepted } satisfies LabelResultOf['labelAccept'];
      }
      case 'labelAcceptAbove': {
        const e = this.entry(req.folder);
        const r = await e.svc.acceptAbove(req.threshold, { dryRun: req.dryRun });
        if (!req.dryRun) e.svc.flush();
        return r satisfies LabelResultOf['labelAcceptAbove'];
      }
      case 'labelSetSupport': {
        const e = this.entry(req.folder);
        await e.svc.setSupport(req.image, req.on);
        e.svc.flush();
        return { generation: e.svc.generation, summary: e.svc.summary(req.image) } satisfies LabelResultOf['labelSetSupport'];
      }
      case 'labelSetClasses': {
        const e = this.entry(req.folder);
        e.svc.setClasses(req.classes);
        e.svc.flush();
        return { classes: e.svc.classes, generation: e.svc.generation } satisfies LabelResultOf['labelSetClasses'];
      }
      case 'labelSetMode': {
        const e = this.entry(req.folder);
        e.svc.setMode(req.mode, req.folderTags);
        e.svc.flush();
        return { mode: req.mode, folderTags: req.folderTags } satisfies LabelResultOf['labelSetMode'];
      }
      case 'labelTags':
        return this.tags(this.entry(req.folder), req.tags, signal, event);
      case 'labelExport': {
        const e = this.entry(req.folder);
        const r = await e.svc.exportTo(req.out, {
          formats: req.formats, include: req.include, force: req.force, cocoMode: req.cocoMode, images: req.images, valFraction: req.valFraction,
          signal, manifest: { exportedBy: 'ProtoLab labeling workbench' },
          onProgress: (done, total, id) => event({ kind: 'progress', done, total, note: id }),
        });
        return { out: r.out, exported: r.exported, broken: r.broken.length, skipped: r.skipped.length } satisfies LabelResultOf['labelExport'];
      }
    }
  }

  // ---- open / close ----

  private async open(req: Extract<LabelRequest, { type: 'labelOpen' }>): Promise<LabelOpenInfo> {
    const folder = path.resolve(req.folder);
    const spec = resolveModelChoice(req.spec);
    const key = specKeyOf(spec);
    // one open at a time per folder (two panels of a window asking at once get the same service)
    for (;;) {
      const pending = this.opening.get(folder);
      if (!pending) break;
      await pending.catch(() => undefined);
    }
    let reused = false;
    const existing = this.entries.get(folder);
    let e: Entry;
    if (existing && (req.spec === undefined || existing.specKey === key)) {
      e = existing;
      reused = true;
      if (req.classes?.length) {
        // the same list or an extension of it (LabelService.open's rule, applied to the open state)
        const have = e.svc.classes;
        const given = req.classes.map((c) => (typeof c === 'string' ? c : c.name));
        const clash = given.findIndex((n, i) => i < have.length && have[i].name !== n);
        if (clash >= 0) throw new UsageError(`class ${clash + 1} of ${folder} is "${have[clash].name}", not "${given[clash]}" (classes so far: ${have.map((c) => c.name).join(', ')}); rename it in the labeling view`);
        if (given.length > have.length) {
          e.svc.setClasses([...have, ...req.classes.slice(have.length)] as Array<string | ClassDef>);
          e.svc.flush();
        }
      }
    } else {
      if (existing) await this.close(existing);
      const p = this.create(folder, spec, key, req);
      this.opening.set(folder, p);
      try {
        e = await p;
      } finally {
        this.opening.delete(folder);
      }
    }
    const st = e.svc.settings;
    const info = e.svc.modelInfo;
    return {
      folder, stateDir: e.svc.stateDir, classes: e.svc.classes, images: e.svc.list(),
      mode: st.mode ?? 'draw', folderTags: st.folderTags ?? false,
      model: { method: info.method, backbone: info.backbone, weightsHash: info.weightsHash, weightsSource: info.weightsSource, size: info.size },
      generation: e.svc.generation,
      methods: LABEL_METHODS.map((m) => ({ id: m.id, summary: m.summary })),
      backbones: [...LABEL_BACKBONES],
      reused,
    };
  }

  private async create(folder: string, spec: Partial<LabelModelSpec>, specKey: string, req: Extract<LabelRequest, { type: 'labelOpen' }>): Promise<Entry> {
    await this.ready();
    let entry: Entry | undefined;
    const early: LabelEvent[] = [];
    // wasm/cpu: encode in worker threads (one per core, as protolab label), so a grid pass never holds a
    // stroke behind a forward pass on this thread
    const svc = await LabelService.open(folder, {
      classes: req.classes as Array<string | ClassDef> | undefined,
      spec: { workers: defaultLabelWorkers(), ...spec },
      stateDir: req.stateDir,
      // features are a cache: they live with the engine's other caches, not in the user's folder
      featureDir: this.cacheDir ? path.join(this.cacheDir, 'label-features') : undefined,
      tool: req.tool ?? 'ProtoLab engine',
      saveDelayMs: req.saveDelayMs,
      onEvent: (ev) => (entry ? this.onEvent(entry, ev) : early.push(ev)),
    });
    entry = {
      folder, svc, specKey, watchers: new Set(), ends: new Set(), inFlight: new Set(), maxSeq: 0, latest: new Map(),
      interactive: 0, idle: [], changed: new Set(), flushScheduled: false, thumbs: new LruMap({ maxEntries: THUMB_KEEP }),
    };
    this.entries.set(folder, entry);
    return entry;
  }

  private async close(e: Entry): Promise<void> {
    if (this.entries.get(e.folder) === e) this.entries.delete(e.folder);
    for (const end of e.ends) end();
    e.ends.clear();
    e.watchers.clear();
    for (const w of e.idle.splice(0)) w();
    const pseudo = e.pseudo?.source;
    e.pseudo = undefined;
    await pseudo?.then((s) => s.dispose()).catch(() => undefined);
    await e.svc.close();
  }

  /** Close every folder (shutdown): state saved, locks released. */
  async closeAll(): Promise<void> {
    for (const e of [...this.entries.values()]) await this.close(e).catch(() => undefined);
  }

  /** Last resort when the process must exit now (the host went away): save and release, synchronously. */
  flushAllSync(): void {
    // close()'s synchronous part saves state.json; the lock stays behind with this (dying) pid, which
    // the next opener recognises as stale (lock.ts)
    for (const e of this.entries.values()) void e.svc.close().catch(() => undefined);
    this.entries.clear();
  }

  // ---- events ----

  private emit(e: Entry, c: LabelChange): void {
    for (const w of e.watchers) w(c);
  }

  private onEvent(e: Entry, ev: LabelEvent): void {
    switch (ev.type) {
      case 'status':
      case 'prediction':
      case 'broken':
        this.touch(e, [ev.id]);
        // the JPEG part of a thumbnail changes only with the file (rescan drops those); its mask is made per request
        if (ev.type === 'broken') dropThumbs(e, ev.id);
        break;
      case 'scan': {
        const c = ev.changes;
        const removed = [...c.removed, ...c.renamed.map((r) => r.from)];
        for (const id of [...removed, ...c.changed]) dropThumbs(e, id);
        this.flushChanged(e);
        const images = [...c.added, ...c.renamed.map((r) => r.to), ...c.changed].filter((id) => e.svc.ids().includes(id)).map((id) => e.svc.summary(id));
        if (images.length || removed.length) this.emit(e, { type: 'images', images, ...(removed.length ? { removed } : {}) });
        break;
      }
      case 'generation':
        this.emit(e, { type: 'generation', generation: ev.generation });
        break;
      case 'saved':
        this.emit(e, { type: 'saved', seq: e.inFlight.size ? Math.min(...e.inFlight) - 1 : e.maxSeq });
        break;
      default:
        break; // grid progress goes to the labelGrid request that asked for the pass
    }
  }

  /** Summaries of changed images go out once per turn of the event loop (a grid pass changes many). */
  private touch(e: Entry, ids: string[]): void {
    for (const id of ids) e.changed.add(id);
    if (e.flushScheduled) return;
    e.flushScheduled = true;
    setImmediate(() => this.flushChanged(e));
  }

  private flushChanged(e: Entry): void {
    e.flushScheduled = false;
    if (!e.changed.size) return;
    const ids = [...e.changed].filter((id) => e.svc.ids().includes(id));
    e.changed.clear();
    if (ids.length && this.entries.get(e.folder) === e) this.emit(e, { type: 'images', images: ids.map((id) => e.svc.summary(id)) });
  }

  private watch(e: Entry, signal: AbortSignal, event: Event): Promise<LabelResultOf['labelWatch']> {
    return new Promise((resolve) => {
      const w = (change: LabelChange) => event({ kind: 'label', folder: e.folder, change });
      const end = () => {
        e.watchers.delete(w);
        e.ends.delete(end);
        signal.removeEventListener('abort', end);
        resolve({ closed: true });
      };
      e.watchers.add(w);
      e.ends.add(end);
      signal.addEventListener('abort', end);
    });
  }

  // ---- interactive work ----

  private async interactive<T>(e: Entry, f: (e: Entry) => Promise<T>): Promise<T> {
    e.interactive++;
    try {
      return await f(e);
    } finally {
      e.interactive--;
      if (e.interactive === 0) for (const w of e.idle.splice(0)) w();
    }
  }

  private whenIdle(e: Entry): Promise<void> {
    return e.interactive === 0 ? Promise.resolve() : new Promise((r) => e.idle.push(r));
  }

  private setShapes(e: Entry, req: Extract<LabelRequest, { type: 'labelSetShapes' }>): Promise<LabelResultOf['labelSetShapes']> {
    // registered before the first await: a save that happens meanwhile knows this edit is not stored yet
    const { seq, image } = req;
    const t0 = performance.now();
    e.inFlight.add(seq);
    e.maxSeq = Math.max(e.maxSeq, seq);
    e.latest.set(image, Math.max(e.latest.get(image) ?? -1, seq));
    return this.interactive(e, async () => {
      try {
        if ((e.latest.get(image) ?? seq) > seq) {
          // a newer edit of this image arrived before this one started: it alone is stored
          return { status: e.svc.summary(image).status, generation: e.svc.generation, superseded: true, support: e.svc.summary(image).support };
        }
        const t1 = performance.now();
        const r = await e.svc.setShapes(image, req.shapes, { redo: req.redo ?? [], supportIfFirst: req.autoSupport, onStored: () => e.inFlight.delete(seq) });
        const t2 = performance.now();
        const superseded = (e.latest.get(image) ?? seq) > seq;
        const s = e.svc.summary(image);
        const prediction = r && !superseded ? predictionOut(r) : undefined;
        const t3 = performance.now();
        const timing = { totalMs: t3 - t0, predictMs: t2 - t1, encodeMs: t3 - t2 };
        return { status: s.status, generation: e.svc.generation, superseded, support: s.support, ...(prediction ? { prediction } : {}), timing };
      } finally {
        e.inFlight.delete(seq);
      }
    });
  }

  private async thumbs(e: Entry, ids: string[], side: number): Promise<LabelResultOf['labelThumbs']> {
    const out: LabelResultOf['labelThumbs']['thumbs'] = [];
    for (const id of ids) {
      if (!e.svc.ids().includes(id)) continue;
      const s = await e.svc.probed(id);
      if (s.status === 'broken') continue;
      let image = e.thumbs.peek(`${id}@${side}`);
      if (!image) {
        try {
          image = await displayJpeg(e.svc.file(id), side, 80);
        } catch (err) {
          if (!(err instanceof DataError)) throw err;
          continue; // unreadable now: the next scan marks it
        }
        e.thumbs.set(`${id}@${side}`, image);
      }
      const m = e.svc.thumbMask(id, side);
      out.push({ id, image, ...(m ? { mask: encodeIndexPng(m, { fast: true }) } : {}) });
    }
    return { thumbs: out };
  }

  private nothingToSuggest(e: Entry): string {
    const all = e.svc.list();
    if (!all.some((s) => s.support)) return 'Nothing to suggest yet: draw on one image first — every other image is then predicted.';
    if (!all.some((s) => s.status === 'predicted' && !s.stale)) return 'Nothing to suggest: no image has a current prediction (the grid is still running, or every image is accepted or drawn).';
    return 'Nothing to suggest: predict the images first (the grid pass).';
  }

  // ---- image tags ----

  private async tags(e: Entry, tags: Record<string, string[] | null>, signal: AbortSignal, event: Event): Promise<LabelResultOf['labelTags']> {
    const ids = Object.keys(tags);
    for (const id of ids) if (!e.svc.ids().includes(id)) throw new UsageError(`no image "${id}" in ${e.folder}`);
    // a name typed as a tag that is not a class yet becomes one (at the end: existing indices stay)
    const names = e.svc.classes.map((c) => c.name);
    const added = [...new Set(Object.values(tags).flatMap((t) => t ?? []).map((t) => t.trim()))].filter((t) => t && !names.includes(t));
    if (added.length) {
      e.svc.setClasses([...e.svc.classes, ...added]);
      this.emit(e, { type: 'classes', classes: e.svc.classes });
    }
    const done: string[] = [];
    const failed: Array<{ id: string; reason: string }> = [];
    const wanted = ids.filter((id) => tags[id] !== null);
    const source = wanted.length ? await this.pseudoSource(e) : undefined;
    for (const [i, id] of ids.entries()) {
      throwIfAborted(signal);
      const t = tags[id];
      try {
        if (t === null) await clearPseudoMask(e.svc, id);
        else await applyPseudoMask(e.svc, source!, id, t.map((x) => x.trim()), WEAK_DEFAULTS.threshold);
        done.push(id);
      } catch (err) {
        if (!(err instanceof DataError)) throw err;
        failed.push({ id, reason: err.problem });
      }
      event({ kind: 'progress', done: i + 1, total: ids.length, note: id });
    }
    e.svc.flush();
    return { done, failed, classes: e.svc.classes };
  }

  /** The pseudo-mask pipeline (CAM × word similarity × saliency) for the folder's current classes. */
  private pseudoSource(e: Entry): Promise<PseudoMaskSource> {
    const names = ['background', ...e.svc.classes.map((c) => c.name)];
    const key = JSON.stringify(names);
    if (e.pseudo?.key !== key) {
      const old = e.pseudo?.source;
      const source = createPseudoMaskSource(WEAK_DEFAULTS, names);
      source.catch(() => {
        if (e.pseudo?.source === source) e.pseudo = undefined;
      });
      e.pseudo = { key, source };
      old?.then((s) => s.dispose()).catch(() => undefined);
    }
    return e.pseudo.source;
  }
}
