// The labeling view: the open image large with the drawing tools, every image of the folder in a grid
// beside it. This file wires the parts together and speaks the label protocol
// (shared/webviewLabelProtocol.ts); the parts draw, keep history, lay out the grid.
//
// The loop that must feel instant: a stroke is drawn locally as the pointer moves; when it ends the
// whole shape list goes to the host (labelSetShapes, generation n); the host answers with the new
// prediction for generation n, painted on arrival. What is sent, retried and dropped is the edit
// loop's (editLoop.ts, DOM-free, unit-tested); this file draws.
import '../../../../media/label.css';
import { onThemeChange, themePalette } from '../../colors';
import type { AppContext, View } from '../../context';
import { h } from '../../dom';
import { decodeImage } from '../../masks';
import type { HostMessage } from '../../../shared/webviewProtocol';
import {
  UNSURE, type ExportFormat, type LabelClass, type LabelImageMessage, type LabelMode, type LabelPredictionMessage,
  type LabelShape, type LabelStateMessage,
} from '../../../shared/webviewLabelProtocol';
import { AcceptAbove } from './acceptAbove';
import { LabelCanvas } from './canvas';
import { ClassList } from './classList';
import { encodeRegion, regionAt } from './fill';
import { ImageGrid } from './grid';
import { GridProgress } from './gridProgress';
import { EditLoop } from './editLoop';
import { ImageBar } from './imageBar';
import { helpOverlay, isTyping, matchShortcut, type Command } from './keyboard';
import { labelColors, type LabelColors } from './labelColors';
import { LatencyMeter, quantile } from './metrics';
import type { LabelSavedState } from './savedState';
import { ThumbCache } from './thumbs';
import { Toolbar } from './toolbar';
import type { ToolId } from './tools';
import { TopBar } from './topbar';

/** What tests and benches read (window.__protolabLabel): latency samples, dropped replies, geometry. */
export interface LabelDebugHook {
  /** stroke end → mask painted, ms (the whole loop) */
  latencies(): number[];
  stats(): { n: number; p50: number; p95: number; max: number };
  /** the webview's own share of each loop, ms */
  ownStats(): { n: number; p50: number; p95: number; max: number };
  /** the webview's own share per sample, in the order of latencies() */
  ownLatencies(): number[];
  dropped(): number;
  painted(): number;
  generation(): number;
  openId(): string | undefined;
  shapes(): readonly LabelShape[];
  toClient(x: number, y: number): [number, number];
  thumbRequests(): number;
}

declare global {
  interface Window { __protolabLabel?: LabelDebugHook }
}

export class LabelView implements View {
  readonly el = h('div', { class: 'view view-label' });
  private colors: LabelColors;
  private readonly canvas: LabelCanvas;
  private readonly toolbar: Toolbar;
  private readonly classList: ClassList;
  private readonly grid: ImageGrid;
  private readonly thumbs: ThumbCache;
  private readonly imageBar: ImageBar;
  private readonly progress: GridProgress;
  private readonly topbar: TopBar;
  private readonly help: HTMLElement;
  private readonly meter: LatencyMeter;
  private readonly edits: EditLoop;
  private classes: LabelClass[] = [];
  private openId: string | undefined;
  /** the open request in flight (a newer click wins) */
  private opening = 0;
  private mode: LabelMode = 'draw';
  private paintedCount = 0;
  private saved: LabelSavedState;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private lastFocus: HTMLElement | null = null;
  private openNote = '';

  constructor(private readonly ctx: AppContext) {
    this.saved = { ...ctx.store.get().label };
    this.colors = labelColors([]);
    this.meter = new LatencyMeter((ms, own) => {
      this.ctx.host.request({ type: 'labelMetrics', strokeToPaintMs: ms, webviewMs: own }).reply.catch(() => undefined);
    });
    this.toolbar = new Toolbar({
      tool: (t) => this.setTool(t),
      radius: (r) => this.setRadius(r),
      opacity: (o) => this.setOpacity(o),
      command: (c) => this.run(c),
    });
    this.edits = new EditLoop({
      send: (edit) => this.ctx.host.request({ type: 'labelSetShapes', ...edit }).reply,
      editEnded: (generation) => this.meter.editEnded(generation),
      posted: (generation) => this.meter.posted(generation),
      history: (canUndo, canRedo) => this.toolbar.setHistory(canUndo, canRedo),
      failed: (message, retrying) => this.imageBar.say(`Not saved yet (${message}).${retrying ? ' Trying again…' : ' Your next change sends everything again.'}`, 'error'),
    });
    this.canvas = new LabelCanvas(this.colors, {
      commit: (s) => this.commit(s),
      fill: (x, y) => this.fill(x, y),
      shapes: () => this.edits.history?.list ?? [],
      transformChanged: (t) => {
        if (this.openId) this.save({ transform: { ...t, imageId: this.openId } });
      },
    });
    this.classList = new ClassList(this.colors, {
      select: (label) => this.setLabel(label),
      setClasses: (classes) => this.sendClasses(classes),
    });
    this.thumbs = new ThumbCache(
      async (ids) => {
        const m = await this.ctx.host.request({ type: 'labelThumbs', imageIds: ids }).reply;
        return m.type === 'labelThumbs' ? m.thumbs : [];
      },
      (ids) => this.grid.refresh(ids),
      this.colors,
    );
    this.grid = new ImageGrid(this.thumbs, {
      open: (id) => this.open(id),
      setTags: (id, tags) => this.request({ type: 'labelSetTags', imageId: id, tags }, 'Saving the tags'),
      changed: (sort, filter, gridScroll) => this.save({ sort, filter, gridScroll }),
    }, this.saved.sort, this.saved.filter);
    this.imageBar = new ImageBar({
      accept: () => this.run('accept'),
      support: (on) => this.setSupport(on),
    });
    this.progress = new GridProgress((pass) => this.request({ type: 'labelCancelGrid', pass }, 'Cancelling'));
    const accept = new AcceptAbove({
      count: async (threshold) => {
        const m = await this.ctx.host.request({ type: 'labelCountAbove', threshold }).reply;
        if (m.type !== 'labelCount') throw new Error(`unexpected reply ${m.type}`);
        return m.count;
      },
      accept: async (threshold) => {
        const m = await this.ctx.host.request({ type: 'labelAcceptAbove', threshold }).reply;
        if (m.type !== 'labelCount') throw new Error(`unexpected reply ${m.type}`);
        return m.count;
      },
    });
    this.topbar = new TopBar({
      options: (change) => this.request({ type: 'labelSetOptions', ...change }, 'Changing the model'),
      mode: (mode, folderTags) => this.setMode(mode, folderTags),
      suggest: () => this.run('suggest'),
      exportTo: (formats) => this.exportTo(formats),
    });
    this.help = helpOverlay(() => this.toggleHelp(false));

    this.el.append(
      this.topbar.el,
      this.progress.el,
      h('div', { class: 'label-split' },
        h('div', { class: 'label-side' }, this.classList.el),
        h('div', { class: 'label-main' }, this.toolbar.el, this.canvas.el, this.imageBar.el),
        h('div', { class: 'label-gridpane' }, h('div', { class: 'pane-header' }, 'Images'), this.grid.el, accept.el)),
      this.help,
    );
    // shortcuts work wherever focus is in the view, also on the body after a click on empty space
    const onKey = (e: KeyboardEvent): void => {
      if (!this.el.isConnected) window.removeEventListener('keydown', onKey);
      else this.key(e);
    };
    window.addEventListener('keydown', onKey);
    // the panel is going away (hidden without retained context, closed, reloaded): a stroke being drawn
    // is sent now, and so are the latency samples not yet reported
    const leaving = (): void => {
      this.canvas.tools.finish();
      this.meter.flush();
    };
    window.addEventListener('pagehide', leaving);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') leaving();
    });
    onThemeChange(() => this.recolor(), this.el);

    this.setTool(this.saved.tool ?? 'brush');
    this.canvas.tools.label = this.saved.label ?? 1;
    this.setRadius(this.saved.radius ?? 8);
    this.setOpacity(this.saved.opacity ?? 0.5);
    this.toolbar.setHistory(false, false);
    this.canvas.showMessage('Loading the folder…');
    this.installDebugHook();
    this.sync();
  }

  // ---- host messages ------------------------------------------------------------------------------

  private sync(): void {
    this.ctx.host.request({ type: 'labelSync' }).reply.catch((e: Error) => {
      this.canvas.showMessage(`Cannot load the labeling state: ${e.message}`);
    });
  }

  onMessage(m: HostMessage): void {
    switch (m.type) {
      case 'labelState':
        this.applyState(m);
        break;
      case 'labelImage':
        // replies are handled where they were asked for (open); an unasked one is the host re-sending
        if (m.inReplyTo === undefined && m.imageId === this.openId) void this.showImage(m, ++this.opening);
        break;
      case 'labelPrediction':
        this.prediction(m);
        break;
      case 'labelImages':
        this.grid.patch(m.images, m.removed);
        if (this.openId && m.images.some((i) => i.id === this.openId)) this.imageBar.set(this.grid.get(this.openId), this.canvas.pred.confidence);
        if (this.openId && m.removed?.includes(this.openId)) {
          this.imageBar.say('This image was removed from the folder.', 'error');
        }
        break;
      case 'labelThumbs':
        if (m.inReplyTo === undefined) void this.thumbs.ingest(m.thumbs);
        break;
      case 'labelClasses':
        this.setClasses(m.classes);
        break;
      case 'labelOptions':
        this.topbar.setOptions(m.options);
        break;
      case 'labelGridProgress':
        this.progress.update(m);
        break;
      default:
        break;
    }
  }

  private applyState(m: LabelStateMessage): void {
    this.setClasses(m.classes);
    this.topbar.setOptions(m.options);
    this.applyMode(m.mode, m.folderTags);
    this.grid.setImages(m.images);
    if (m.progress) this.progress.update(m.progress);
    if (this.saved.gridScroll) {
      const y = this.saved.gridScroll;
      requestAnimationFrame(() => this.grid.setScrollTop(y));
    }
    const want = [this.openId, this.saved.open, m.open].find((id) => id !== undefined && this.grid.get(id) !== undefined);
    const first = want ?? this.grid.ids().find((id) => this.grid.get(id)?.status !== 'broken');
    if (first) this.open(first);
    else this.canvas.showMessage(m.images.length ? 'Pick an image in the grid.' : 'This folder has no images.');
  }

  private setClasses(classes: readonly LabelClass[]): void {
    this.classes = [...classes];
    this.classList.setClasses(this.classes);
    this.recolor();
    const label = this.canvas.tools.label;
    if (label !== 0 && label !== UNSURE && !this.classes.some((c) => c.id === label)) this.setLabel(this.classes[0]?.id ?? 0);
    else this.classList.setSelected(label);
  }

  private recolor(): void {
    this.colors = labelColors(this.classes, themePalette());
    this.classList.setColors(this.colors);
    this.canvas.setColors(this.colors);
    this.thumbs.setColors(this.colors);
    this.grid.refresh();
  }

  // ---- the open image -----------------------------------------------------------------------------

  /** Open an image (`note`: what to say under it once it is shown). */
  open(imageId: string, note = ''): void {
    if (imageId === this.openId && this.edits.history) {
      this.imageBar.say(note);
      return;
    }
    this.openNote = note;
    this.canvas.tools.finish(); // a stroke in progress belongs to the image it was drawn on
    const token = ++this.opening;
    const info = this.grid.get(imageId);
    this.canvas.showMessage(`Loading ${info?.name ?? imageId}…`);
    this.grid.setOpen(imageId);
    const { reply } = this.ctx.host.request({ type: 'labelOpenImage', imageId });
    reply.then((m) => {
      if (m.type === 'labelImage' && token === this.opening) void this.showImage(m, token);
    }, (e: Error) => {
      if (token !== this.opening) return;
      this.canvas.showMessage(`Cannot open ${info?.name ?? imageId}: ${e.message}`);
    });
  }

  private async showImage(m: LabelImageMessage, token: number): Promise<void> {
    const bitmap = await decodeImage(m.image).catch((e: Error) => {
      console.warn(`ProtoLab: cannot decode image ${m.imageId}: ${e.message}`);
      return null;
    });
    if (token !== this.opening) {
      bitmap?.close();
      return;
    }
    if (!bitmap) {
      this.canvas.showMessage(`Cannot decode ${this.grid.get(m.imageId)?.name ?? m.imageId}.`);
      return;
    }
    this.meter.reset();
    this.openId = m.imageId;
    this.edits.open(m.imageId, m.shapes, m.redo, m.generation);
    const t = this.saved.transform?.imageId === m.imageId ? this.saved.transform : undefined;
    try {
      this.canvas.pred.set(m.mask, m.confidence);
    } catch (e) {
      console.warn(`ProtoLab: the prediction of ${m.imageId} is not an index PNG: ${(e as Error).message}`);
      this.canvas.pred.clear();
    }
    this.canvas.setImage(bitmap, m.width, m.height, t);
    this.canvas.showMessage(this.classes.length || this.mode === 'tags' ? '' : 'Add a class (left) to start labeling.');
    this.grid.setOpen(m.imageId);
    this.imageBar.set(this.grid.get(m.imageId), m.mask ? m.confidence : undefined);
    this.imageBar.say(this.openNote);
    this.openNote = '';
    this.save({ open: m.imageId });
  }

  // ---- edits --------------------------------------------------------------------------------------

  private commit(shape: LabelShape): void {
    if (!this.edits.history) return;
    // strokes are on the layer already (drawn while moving); boxes and polygons appear now
    if (shape.kind === 'box' || shape.kind === 'polygon' || shape.kind === 'mask') this.canvas.ann.draw(shape);
    this.canvas.requestDraw();
    this.edits.add(shape);
  }

  private fill(x: number, y: number): void {
    const hist = this.edits.history, mask = this.canvas.pred.mask;
    if (!hist) return;
    if (!mask || this.canvas.pred.labelAt(x, y, this.canvas.width, this.canvas.height) === undefined) {
      this.imageBar.say('Nothing predicted here yet to fill from: draw a few strokes first.');
      return;
    }
    const r = regionAt(mask, x, y, this.canvas.width, this.canvas.height);
    if (r.label >= 254) {
      this.imageBar.say('That region is not a class or background.');
      return;
    }
    // the region shows at once; its full-size PNG (slow on a large photo) is made after that frame
    const colored = this.canvas.ann.drawIndexMask(r.preview);
    this.canvas.requestDraw();
    const { width, height } = this.canvas;
    requestAnimationFrame(() => setTimeout(() => {
      if (hist !== this.edits.history) return; // another image was opened meanwhile: its layer was redrawn
      const { png, area } = encodeRegion(r.preview, width, height);
      const shape: LabelShape = { kind: 'mask', png };
      this.canvas.ann.primeCanvas(shape, colored);
      this.edits.add(shape);
      this.canvas.renderShapes();
      const name = r.label === 0 ? 'background' : this.classes.find((c) => c.id === r.label)?.name ?? `class ${r.label}`;
      this.imageBar.say(`Filled a ${name} region (${area.toLocaleString('en-US')} pixels).`);
    }, 0));
  }

  private undo(): void {
    this.canvas.tools.finish();
    if (this.edits.undo()) this.canvas.renderShapes();
  }

  private redo(): void {
    this.canvas.tools.finish();
    if (this.edits.redo()) this.canvas.renderShapes();
  }

  private prediction(m: LabelPredictionMessage): void {
    const received = performance.now();
    if (!this.edits.takes(m.imageId, m.generation)) return;
    try {
      this.canvas.pred.set(m.mask, m.confidence);
    } catch (e) {
      console.warn(`ProtoLab: ignored a prediction that is not an index PNG: ${(e as Error).message}`);
      return;
    }
    this.canvas.draw();
    this.paintedCount++;
    this.meter.painted(m.generation, received);
    this.imageBar.set(this.grid.get(m.imageId), m.mask ? m.confidence : undefined);
    if (m.note) this.imageBar.say(m.note);
    else if (this.imageBar.note.classList.contains('error')) this.imageBar.say('');
  }

  // ---- tools and settings -------------------------------------------------------------------------

  private setTool(t: ToolId): void {
    this.canvas.tools.setTool(t);
    this.toolbar.setTool(t);
    this.save({ tool: t });
  }

  private setLabel(label: number): void {
    this.canvas.tools.setLabel(label);
    this.classList.setSelected(label);
    this.toolbar.setTool(this.canvas.tools.tool);
    this.save({ label, tool: this.canvas.tools.tool });
  }

  private setRadius(r: number): void {
    this.canvas.tools.setRadius(r);
    this.toolbar.setRadius(this.canvas.tools.radius);
    this.save({ radius: this.canvas.tools.radius });
  }

  private setOpacity(o: number): void {
    this.canvas.opacity = Math.min(1, Math.max(0, o));
    this.toolbar.setOpacity(this.canvas.opacity);
    this.canvas.requestDraw();
    this.save({ opacity: this.canvas.opacity });
  }

  private sendClasses(classes: LabelClass[]): void {
    this.setClasses(classes); // optimistic; the host's labelClasses reply is what stays
    this.request({ type: 'labelSetClasses', classes }, 'Saving the classes');
  }

  private setMode(mode: LabelMode, folderTags: boolean): void {
    this.applyMode(mode, folderTags);
    this.request({ type: 'labelSetMode', mode, folderTags }, 'Changing the mode');
  }

  private applyMode(mode: LabelMode, folderTags: boolean): void {
    this.mode = mode;
    this.topbar.setMode(mode, folderTags);
    this.grid.setTagsMode(mode === 'tags', folderTags);
    this.el.classList.toggle('tags-mode', mode === 'tags');
    if (mode === 'tags') this.imageBar.say(folderTags ? 'Classes come from the sub-folder names; pseudo masks appear in the grid.' : 'Type the class names of each image under its thumbnail; no drawing needed. Pseudo masks appear in the grid.');
  }

  private setSupport(on: boolean): void {
    if (!this.openId) return;
    this.request({ type: 'labelUseAsSupport', imageId: this.openId, support: on }, on ? 'Adding the support' : 'Removing the support');
  }

  private exportTo(formats: ExportFormat[]): void {
    this.imageBar.say('Choose the export folder…');
    this.ctx.host.request({ type: 'labelExport', formats }).reply.then((m) => {
      if (m.type === 'labelExported') this.imageBar.say(`Exported ${m.images.toLocaleString('en-US')} image${m.images === 1 ? '' : 's'} (${m.formats.map((f) => f.toUpperCase()).join(', ')}) to ${m.folder}`);
      else this.imageBar.say('Export cancelled.');
    }, (e: Error) => this.imageBar.say(`Export failed: ${e.message}`, 'error'));
  }

  /** A request whose reply is only an ack; failures are said under the image. */
  private request(body: Parameters<AppContext['host']['request']>[0], doing: string): void {
    this.ctx.host.request(body).reply.catch((e: Error) => this.imageBar.say(`${doing} failed: ${e.message}`, 'error'));
  }

  // ---- keyboard -----------------------------------------------------------------------------------

  private key(e: KeyboardEvent): void {
    if (!this.help.hidden) {
      if (e.key === 'Escape' || e.key === '?') {
        this.toggleHelp(false);
        e.preventDefault();
      }
      return;
    }
    // not `e.defaultPrevented`: VS Code's webview preload prevents Ctrl+Z / Ctrl+Y itself (to forward them to
    // the workbench) before this runs; parts of the view that handle a key stop its propagation instead
    if (isTyping(e)) return;
    const s = matchShortcut(e);
    if (!s) return;
    e.preventDefault();
    e.stopPropagation();
    if (s.command === 'label-class') {
      const c = this.classes[Number(e.key) - 1];
      if (c) this.setLabel(c.id);
      return;
    }
    this.run(s.command);
  }

  private run(c: Command): void {
    const t = this.canvas.tools;
    switch (c) {
      case 'tool-brush': this.setTool('brush'); break;
      case 'tool-eraser': this.setTool('eraser'); break;
      case 'tool-box': this.setTool('box'); break;
      case 'tool-polygon': this.setTool('polygon'); break;
      case 'tool-fill': this.setTool('fill'); break;
      case 'label-background': this.setLabel(0); break;
      case 'label-unsure': this.setLabel(UNSURE); break;
      case 'label-class': break;
      case 'undo': this.undo(); break;
      case 'redo': this.redo(); break;
      case 'size-down': this.setRadius(t.radius > 2 ? t.radius / 1.25 : t.radius - 0.5); break;
      case 'size-up': this.setRadius(t.radius < 2 ? t.radius + 0.5 : t.radius * 1.25); break;
      case 'opacity-down': this.setOpacity(this.canvas.opacity - 0.1); break;
      case 'opacity-up': this.setOpacity(this.canvas.opacity + 0.1); break;
      case 'zoom-in': this.canvas.zoom(1.25); break;
      case 'zoom-out': this.canvas.zoom(0.8); break;
      case 'fit': this.canvas.fit(); break;
      case 'accept':
        if (this.openId && this.grid.get(this.openId)?.status !== 'broken') {
          const id = this.openId;
          this.ctx.host.request({ type: 'labelAccept', imageIds: [id] }).reply.then(
            () => this.imageBar.say(`Accepted ${this.grid.get(id)?.name ?? id}.`),
            (e: Error) => this.imageBar.say(`Accepting failed: ${e.message}`, 'error'));
        }
        break;
      case 'support':
        if (this.openId) this.setSupport(!this.grid.get(this.openId)?.support);
        break;
      case 'suggest':
        this.ctx.host.request({ type: 'labelSuggest' }).reply.then((m) => {
          if (m.type !== 'labelSuggestion') return;
          if (m.imageId && this.grid.get(m.imageId)) this.open(m.imageId, `Suggested ${this.grid.get(m.imageId)?.name}: ${m.reason}`);
          else this.imageBar.say(m.reason);
        }, (e: Error) => this.imageBar.say(`No suggestion: ${e.message}`, 'error'));
        break;
      case 'next-image':
      case 'prev-image': {
        const id = this.grid.neighbour(c === 'next-image' ? 1 : -1);
        if (id) this.open(id);
        break;
      }
      case 'help': this.toggleHelp(this.help.hidden); break;
    }
  }

  private toggleHelp(show: boolean): void {
    if (show) {
      this.lastFocus = document.activeElement as HTMLElement | null;
      this.help.hidden = false;
      this.help.querySelector<HTMLElement>('.help-close')?.focus();
    } else {
      this.help.hidden = true;
      this.lastFocus?.focus();
    }
  }

  // ---- state --------------------------------------------------------------------------------------

  private save(p: Partial<LabelSavedState>): void {
    this.saved = { ...this.saved, ...p };
    // the transform and the scroll change continuously: write a little later, once
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.ctx.store.patch({ label: this.saved }), 150);
  }

  private installDebugHook(): void {
    const lat = (): number[] => this.meter.samples.values();
    const stats = (xs: number[]): { n: number; p50: number; p95: number; max: number } => ({ n: xs.length, p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), max: xs.length ? Math.max(...xs) : NaN });
    window.__protolabLabel = {
      latencies: lat,
      stats: () => stats(lat()),
      ownStats: () => stats(this.meter.own.values()),
      ownLatencies: () => this.meter.own.values(),
      dropped: () => this.edits.dropped,
      painted: () => this.paintedCount,
      generation: () => this.edits.history?.generation ?? 0,
      openId: () => this.openId,
      shapes: () => this.edits.history?.list ?? [],
      toClient: (x, y) => this.canvas.toClient(x, y),
      thumbRequests: () => this.thumbs.requests,
    };
  }
}
