// The host side of the labeling view for one folder: the webview's label* messages
// (shared/webviewLabelProtocol.ts) become engine requests (shared/engineLabelProtocol.ts) and the engine's answers and watch events become host
// messages. Plain module (no vscode): the panel (label/panel.ts) gives it a way to post, a few UI
// hooks (export folder, progress, datasets) and the engine; the unit tests give it the real engine.
//
// What it keeps:
//   - the folder's image summaries and a `rev` per image (bumped on every change, so the webview
//     refetches just the thumbnails that changed);
//   - per image, the last shapes generation the webview sent (the webview continues from it after its
//     own reload);
//   - the edit journal (journal.ts): edits not yet on disk, replayed to a restarted engine.
// Its parts: the folder's session in the engine, reopened after engine loss with the journal replayed
// before anything else (engineSession.ts), and the grid pass (gridScheduler.ts).
import * as path from 'path';
import type { EngineEvent, LabelChange, LabelImageSummary, LabelModelChoice, LabelOpenInfo, ResultOf } from '../../shared/engineProtocol';
import { EngineError } from '../engineClient';
import type { ExportFormat } from '../../shared/labelVocabulary';
import type {
  LabelChoice, LabelClass, LabelGridProgress, LabelImageInfo, LabelOptions, LabelWebviewMessage,
} from '../../shared/webviewLabelProtocol';
import type { HostMessage } from '../../shared/webviewProtocol';
import { EngineSession, type EngineLike } from './engineSession';
import { GridScheduler } from './gridScheduler';
import { EditJournal } from './journal';

export interface ExportChoice {
  out: string;
  /** replace `out` (an empty folder the user picked) */
  force: boolean;
  include: 'all' | 'accepted';
}

/** What the controller needs from the editor. */
export interface LabelUi {
  log(line: string): void;
  /** Where to export (undefined: the user cancelled). `counts` lets the host ask whether to include predictions. */
  pickExport(folder: string, counts: { total: number; reviewed: number; predicted: number }): Promise<ExportChoice | undefined>;
  /** Run `work` with a progress notification; `onCancel` registers what the notification's Cancel does. */
  withProgress<T>(title: string, work: (report: (done: number, total: number) => void, onCancel: (f: () => void) => void) => Promise<T>): Promise<T>;
  /** An export finished: open it as a dataset. */
  exported(out: string, formats: ExportFormat[], images: number): Promise<void>;
  checkpoints(): Promise<LabelChoice[]>;
  /** VGG-16 weights from the settings (protolab.defaults.weights), if any. */
  vggWeights(): string | undefined;
}

export interface LabelControllerOptions {
  folder: string;
  /** Classes for a new state (or an extension of the existing list). */
  classes?: string[];
  stateDir?: string;
  /** Names the holder in the folder lock. */
  tool: string;
  saveDelayMs?: number;
  /** The engine in use now (EngineHost replaces its client on Restart Engine). */
  engine: () => EngineLike;
  /** Post to the webview (checked, and queued until `ready`, by the panel's WebviewHost). */
  post: (m: HostMessage) => void;
  ui: LabelUi;
  /** Start the grid pass this long after the last change (default 300 ms). */
  gridDelayMs?: number;
}

const LABELS: Record<string, string> = { baseline: 'PANet prototypes (baseline)' };
const BACKBONES: LabelChoice[] = [
  { id: 'nanodet', label: 'NanoDet (COCO-trained, bundled; default)' },
  { id: 'mobilenetv2', label: 'MobileNetV2 (nsfwjs)' },
  { id: 'vgg16', label: 'VGG-16' },
  { id: 'centernet', label: 'CenterNet (COCO-trained, install it yourself)' },
];

type Msg<T extends LabelWebviewMessage['type']> = Extract<LabelWebviewMessage, { type: T }>;

export class LabelController {
  readonly folder: string;
  private info?: LabelOpenInfo;
  private readonly images = new Map<string, LabelImageSummary>();
  private readonly revs = new Map<string, number>();
  private readonly gens = new Map<string, number>();
  readonly journal = new EditJournal();
  private readonly session: EngineSession;
  private readonly grid: GridScheduler;
  private spec: LabelModelChoice = {};
  private generation = 0;
  private openImage?: string;
  /** confidence of the last mask posted for the open image (a summary change with the same one needs no refetch) */
  private shown?: number;
  /** images with a labelSetShapes in flight (their prediction arrives with its reply) */
  private readonly editing = new Map<string, number>();
  private closed = false;
  /** stroke → paint latencies the webview reported (ms), newest last */
  readonly strokeToPaintMs: number[] = [];
  /** labelState answers sent (tests wait for the first) */
  synced = 0;

  constructor(private readonly opts: LabelControllerOptions) {
    this.folder = path.resolve(opts.folder);
    this.session = new EngineSession(this.folder, opts.engine, this.journal, {
      openRequest: () => ({
        type: 'labelOpen', folder: this.folder, tool: opts.tool,
        ...(opts.classes?.length ? { classes: opts.classes } : {}),
        ...(Object.keys(this.spec).length ? { spec: this.spec } : {}),
        ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
        ...(opts.saveDelayMs !== undefined ? { saveDelayMs: opts.saveDelayMs } : {}),
      }),
      opened: (info) => this.applyInfo(info),
      event: (ev) => this.onEngineEvent(ev),
      replayed: async (images) => {
        const list = await this.session.current.call({ type: 'labelList', folder: this.folder, images });
        this.updateImages(list.images, []);
        if (this.openImage && images.includes(this.openImage)) void this.refreshPrediction(this.openImage);
      },
      ready: () => this.grid.schedule(0),
      lost: () => this.grid.forget(),
      log: (line) => opts.ui.log(line),
    });
    this.grid = new GridScheduler({
      folder: this.folder, session: this.session, openImage: () => this.openImage,
      post: (m) => this.post(m), log: (line) => opts.ui.log(line), delayMs: opts.gridDelayMs,
    });
  }

  /** journal entries re-applied to a restarted engine (tests wait for it) */
  get replayed(): number {
    return this.session.replayed;
  }

  get name(): string {
    return path.basename(this.folder);
  }

  /** Image ids as the engine last reported them (tests). */
  get imageIds(): string[] {
    return [...this.images.keys()].sort();
  }

  get classes(): LabelClass[] {
    return (this.info?.classes ?? []).map((c, i) => ({ id: i + 1, name: c.name, color: c.color }));
  }

  /** Open the folder in the engine (lock, state, images). Throws what the engine says (e.g. the lock's holder). */
  start(): Promise<LabelOpenInfo> {
    return this.session.ensure().then(() => this.info!);
  }

  private applyInfo(info: LabelOpenInfo): void {
    this.info = info;
    this.generation = info.generation;
    const seen = new Set(info.images.map((i) => i.id));
    for (const id of [...this.images.keys()]) if (!seen.has(id)) this.images.delete(id);
    for (const s of info.images) {
      const old = this.images.get(s.id);
      if (!old || JSON.stringify(old) !== JSON.stringify(s)) this.revs.set(s.id, (this.revs.get(s.id) ?? 0) + 1);
      this.images.set(s.id, s);
    }
  }

  private imageInfo(s: LabelImageSummary): LabelImageInfo {
    return {
      id: s.id, name: s.id, status: s.status,
      ...(s.confidence !== undefined ? { confidence: s.confidence } : {}),
      ...(s.reason ? { reason: s.reason } : {}),
      support: s.support,
      ...(s.tags ? { tags: s.tags } : {}),
      ...(s.origin === 'pseudo' ? { pseudo: true } : {}),
      rev: this.revs.get(s.id) ?? 0,
    };
  }

  private async options(): Promise<LabelOptions> {
    const info = this.info!;
    return {
      methods: info.methods.map((m) => ({ id: m.id, label: LABELS[m.id] ?? m.id })),
      backbones: BACKBONES,
      checkpoints: await this.opts.ui.checkpoints().catch(() => []),
      method: info.model.method,
      backbone: info.model.backbone,
      checkpoint: this.spec.checkpoint ?? '',
    };
  }

  // ---- engine → webview ----

  /** To the webview (the panel's WebviewHost checks every message against the protocol). */
  private post(m: HostMessage): void {
    this.opts.post(m);
  }

  private onEngineEvent(ev: EngineEvent): void {
    if (ev.kind !== 'label') return;
    const c: LabelChange = ev.change;
    switch (c.type) {
      case 'images':
        this.updateImages(c.images, c.removed ?? []);
        break;
      case 'saved':
        this.journal.confirm(c.seq);
        break;
      case 'generation':
        this.generation = c.generation;
        this.grid.schedule();
        break;
      case 'classes':
        if (this.info) this.info.classes = c.classes;
        this.post({ type: 'labelClasses', classes: this.classes });
        break;
    }
  }

  private updateImages(list: LabelImageSummary[], removed: string[]): void {
    const changed: LabelImageInfo[] = [];
    let refreshOpen = false;
    let added = false;
    for (const s of list) {
      const old = this.images.get(s.id);
      if (old && JSON.stringify(old) === JSON.stringify(s)) continue;
      added ||= !old;
      this.images.set(s.id, s);
      this.revs.set(s.id, (this.revs.get(s.id) ?? 0) + 1);
      changed.push(this.imageInfo(s));
      // the grid re-predicted the open image: show it (its own edits bring their prediction with them)
      if (s.id === this.openImage && !this.editing.has(s.id) && s.confidence !== undefined && s.confidence !== this.shown && old?.confidence !== s.confidence) refreshOpen = true;
    }
    const gone = removed.filter((id) => this.images.delete(id));
    if (changed.length || gone.length) this.post({ type: 'labelImages', images: changed, ...(gone.length ? { removed: gone } : {}) });
    if (refreshOpen && this.openImage) void this.refreshPrediction(this.openImage);
    if (added) this.grid.schedule();
  }

  private async refreshPrediction(id: string): Promise<void> {
    try {
      await this.session.ensure();
      const r = await this.session.current.call({ type: 'labelPredict', folder: this.folder, image: id });
      if (id !== this.openImage || !r.prediction) return;
      this.shown = r.prediction.confidence;
      this.post({ type: 'labelPrediction', imageId: id, generation: this.gens.get(id) ?? 0, mask: r.prediction.mask, confidence: r.prediction.confidence });
    } catch (e) {
      this.opts.ui.log(`labeling: no prediction for ${id}: ${(e as Error).message}`);
    }
  }

  // ---- webview → engine ----

  /** Handle one validated label* message from the webview; every request gets exactly one reply. */
  async handle(msg: LabelWebviewMessage): Promise<void> {
    try {
      await this.dispatch(msg);
    } catch (e) {
      this.post({ type: 'error', inReplyTo: msg.id, message: describe(e) });
    }
  }

  /** One engine call; an engine that died meanwhile is reopened (journal replayed) and asked once more. */
  private readonly call: EngineSession['call'] = (req, onEvent) => this.session.call(req, onEvent);

  private async dispatch(msg: LabelWebviewMessage): Promise<void> {
    const folder = this.folder;
    const ack = () => this.post({ type: 'ack', inReplyTo: msg.id });
    switch (msg.type) {
      case 'labelSync': {
        await this.session.ensure();
        const mode = this.info!.mode;
        this.post({
          type: 'labelState', inReplyTo: msg.id, classes: this.classes, images: [...this.images.values()].map((s) => this.imageInfo(s)),
          options: await this.options(), mode, folderTags: this.info!.folderTags,
          ...(this.openImage && this.images.has(this.openImage) ? { open: this.openImage } : {}),
          ...(this.grid.running ? { progress: this.grid.running } : {}),
        });
        this.synced++;
        return;
      }
      case 'labelOpenImage': {
        const r = await this.call({ type: 'labelImage', folder, image: msg.imageId, maxSide: 2048 });
        this.openImage = msg.imageId;
        this.shown = r.prediction?.confidence;
        this.post({
          type: 'labelImage', inReplyTo: msg.id, imageId: msg.imageId, width: r.width, height: r.height, image: r.bytes,
          shapes: r.shapes, redo: r.redo, generation: this.gens.get(msg.imageId) ?? 0,
          ...(r.prediction ? { mask: r.prediction.mask, confidence: r.prediction.confidence } : {}),
        });
        if (!r.prediction?.current) void this.refreshPrediction(msg.imageId);
        return;
      }
      case 'labelSetShapes':
        return this.setShapes(msg);
      case 'labelThumbs': {
        const r = await this.call({ type: 'labelThumbs', folder, images: msg.imageIds, side: 128 });
        this.post({ type: 'labelThumbs', inReplyTo: msg.id, thumbs: r.thumbs.map((t) => ({ imageId: t.id, rev: this.revs.get(t.id) ?? 0, image: t.image, ...(t.mask ? { mask: t.mask } : {}) })) });
        return;
      }
      case 'labelSetClasses': {
        const list = [...msg.classes].sort((a, b) => a.id - b.id);
        if (list.some((c, i) => c.id !== i + 1)) throw new Error('classes can be renamed or added at the end; removing one is not supported (its pixels would change meaning)');
        const have = this.info?.classes ?? [];
        const r = await this.call({ type: 'labelSetClasses', folder, classes: list.map((c, i) => (c.color ? { name: c.name, color: c.color } : have[i] ? { name: c.name, color: have[i].color } : c.name)) });
        this.info!.classes = r.classes;
        this.post({ type: 'labelClasses', inReplyTo: msg.id, classes: this.classes });
        if (r.generation !== this.generation) {
          this.generation = r.generation;
          this.grid.schedule();
        }
        return;
      }
      case 'labelSuggest': {
        const r = await this.call({ type: 'labelSuggest', folder, count: 1 });
        const s = r.suggestions[0];
        this.post(s ? { type: 'labelSuggestion', inReplyTo: msg.id, imageId: s.id, reason: s.reason } : { type: 'labelSuggestion', inReplyTo: msg.id, reason: r.why ?? 'Nothing to suggest.' });
        return;
      }
      case 'labelUseAsSupport': {
        const r = await this.call({ type: 'labelSetSupport', folder, image: msg.imageId, on: msg.support });
        this.updateImages([r.summary], []);
        ack();
        if (r.generation !== this.generation) {
          this.generation = r.generation;
          this.grid.schedule();
        }
        return;
      }
      case 'labelAccept':
        await this.call({ type: 'labelAccept', folder, images: msg.imageIds });
        ack();
        return;
      case 'labelCountAbove':
      case 'labelAcceptAbove': {
        const dryRun = msg.type === 'labelCountAbove';
        const r = await this.call({ type: 'labelAcceptAbove', folder, threshold: msg.threshold, dryRun });
        this.post({ type: 'labelCount', inReplyTo: msg.id, threshold: msg.threshold, count: r.count, accepted: !dryRun });
        return;
      }
      case 'labelExport':
        return this.exportTo(msg);
      case 'labelSetOptions':
        return this.setOptions(msg);
      case 'labelSetMode': {
        await this.call({ type: 'labelSetMode', folder, mode: msg.mode, folderTags: msg.folderTags });
        this.info!.mode = msg.mode;
        this.info!.folderTags = msg.folderTags;
        ack();
        if (msg.mode === 'tags' && msg.folderTags) {
          // one sub-folder per class: an image's class is the first folder of its path
          const tags: Record<string, string[]> = {};
          for (const id of this.images.keys()) if (id.includes('/') && this.images.get(id)!.status !== 'broken') tags[id] = [id.split('/')[0]];
          if (Object.keys(tags).length) await this.tags(tags);
        }
        return;
      }
      case 'labelSetTags':
        await this.tags({ [msg.imageId]: msg.tags.length ? msg.tags : null });
        ack();
        return;
      case 'labelCancelGrid':
        await this.grid.cancel(msg.pass);
        ack();
        return;
      case 'labelMetrics':
        this.strokeToPaintMs.push(...msg.strokeToPaintMs);
        if (this.strokeToPaintMs.length > 1000) this.strokeToPaintMs.splice(0, this.strokeToPaintMs.length - 1000);
        ack();
        return;
    }
  }

  private async setShapes(msg: Msg<'labelSetShapes'>): Promise<void> {
    const id = msg.imageId;
    this.gens.set(id, Math.max(this.gens.get(id) ?? 0, msg.generation));
    const j = this.journal.record(id, msg.shapes, msg.redo);
    this.editing.set(id, (this.editing.get(id) ?? 0) + 1);
    try {
      await this.session.ensure();
      // an edit recorded after this one (while the engine was being reopened) goes instead: newest wins
      if (this.journal.latest(id) && this.journal.latest(id)!.seq !== j.seq) {
        this.post({ type: 'labelPrediction', inReplyTo: msg.id, imageId: id, generation: msg.generation });
        return;
      }
      const r = await this.call({ type: 'labelSetShapes', folder: this.folder, image: id, shapes: msg.shapes, redo: msg.redo, seq: j.seq, autoSupport: true });
      if (id === this.openImage && r.prediction) this.shown = r.prediction.confidence;
      this.post({
        type: 'labelPrediction', inReplyTo: msg.id, imageId: id, generation: msg.generation,
        ...(r.prediction ? { mask: r.prediction.mask, confidence: r.prediction.confidence } : {}),
        ...(!r.prediction && !r.superseded ? { note: this.classes.length ? 'Draw a class (not only background) to see a prediction.' : 'Add a class to start labeling.' } : {}),
      });
      if (r.generation !== this.generation) {
        this.generation = r.generation;
        this.grid.schedule();
      }
    } finally {
      const n = (this.editing.get(id) ?? 1) - 1;
      if (n > 0) this.editing.set(id, n);
      else this.editing.delete(id);
    }
  }

  private async tags(tags: Record<string, string[] | null>): Promise<void> {
    const pass = this.grid.nextPass();
    const before = JSON.stringify(this.info?.classes);
    const r = await this.call({ type: 'labelTags', folder: this.folder, tags }, (ev) => {
      if (ev.kind === 'progress') this.post({ type: 'labelGridProgress', pass, done: ev.done, total: ev.total, note: `pseudo mask of ${ev.note ?? ''}` });
    });
    if (JSON.stringify(r.classes) !== before) {
      this.info!.classes = r.classes;
      this.post({ type: 'labelClasses', classes: this.classes });
    }
    if (r.failed.length) throw new Error(r.failed.map((f) => `${f.id}: ${f.reason}`).join('; '));
    this.grid.schedule();
  }

  private async setOptions(msg: Msg<'labelSetOptions'>): Promise<void> {
    const next: LabelModelChoice = { ...this.spec };
    if (msg.method !== undefined) next.method = msg.method;
    if (msg.backbone !== undefined) next.backbone = msg.backbone as LabelModelChoice['backbone'];
    if (msg.checkpoint !== undefined) {
      if (msg.checkpoint) next.checkpoint = msg.checkpoint;
      else delete next.checkpoint;
    }
    if (next.backbone === 'vgg16' && !next.checkpoint) {
      const w = this.opts.ui.vggWeights();
      if (!w) throw new Error('VGG-16 needs weights: set protolab.defaults.weights to a .safetensors file, or pick a checkpoint');
      next.weights = w;
    } else delete next.weights;
    if (next.checkpoint) delete next.backbone; // the checkpoint says which backbone
    const old = this.spec;
    this.spec = next;
    this.session.reset(); // reopen with the new model (the engine closes the old service first)
    try {
      await this.session.ensure();
    } catch (e) {
      this.spec = old;
      this.session.reset();
      await this.session.ensure().catch(() => undefined);
      throw e;
    }
    this.post({ type: 'labelOptions', inReplyTo: msg.id, options: await this.options() });
    this.post({ type: 'labelImages', images: [...this.images.values()].map((s) => this.imageInfo(s)) });
    this.grid.schedule(0);
  }

  private async exportTo(msg: Msg<'labelExport'>): Promise<void> {
    await this.session.ensure();
    const all = [...this.images.values()].filter((s) => s.status !== 'broken');
    const reviewed = all.filter((s) => s.status === 'accepted' || s.status === 'drawn').length;
    const pick = await this.opts.ui.pickExport(this.folder, { total: all.length, reviewed, predicted: all.filter((s) => s.status === 'predicted').length });
    if (!pick) {
      this.post({ type: 'ack', inReplyTo: msg.id }); // the user cancelled: the webview says so
      return;
    }
    let r: ResultOf['labelExport'];
    try {
      r = await this.opts.ui.withProgress(`ProtoLab: exporting the labels of ${this.name}`, async (report, onCancel) => {
        const h = this.session.current.request({ type: 'labelExport', folder: this.folder, out: pick.out, formats: msg.formats, include: pick.include, force: pick.force }, (ev) => {
          if (ev.kind === 'progress') report(ev.done, ev.total);
        });
        onCancel(() => void h.cancel());
        return h.result;
      });
    } catch (e) {
      if (e instanceof EngineError && e.kind === 'cancelled') {
        this.post({ type: 'ack', inReplyTo: msg.id });
        return;
      }
      throw e;
    }
    await this.opts.ui.exported(r.out, msg.formats, r.exported);
    this.post({ type: 'labelExported', inReplyTo: msg.id, folder: r.out, images: r.exported, formats: msg.formats });
  }

  /** Files came or went (the panel's file watcher): list the folder again; work on the others stays. */
  async rescan(): Promise<void> {
    if (this.closed) return;
    await this.call({ type: 'labelRescan', folder: this.folder });
  }

  /** The panel closed: save and release the folder (another window may open it now). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.grid.stop();
    const engine = this.session.stop();
    if (engine) await engine.call({ type: 'labelClose', folder: this.folder }).catch(() => undefined);
  }

  /** The window is going away: stop without talking to the engine (its shutdown saves every folder). */
  detach(): void {
    this.closed = true;
    this.grid.stop();
    this.session.stop();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function describe(e: unknown): string {
  if (e instanceof EngineError) {
    if (e.kind === 'data' && e.file && !e.message.includes(e.file)) return `${e.message} (${e.file})`;
    if (e.kind === 'internal') return `engine error: ${e.message.split('\n')[0]}`;
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
