// Episode browser: settings bar, a virtualised list of episodes fetched page by page (listEpisodes),
// and the overlay viewer for the selected one. After an eval the rows show per-class IoU.
import { className, type AppContext, type View } from '../context';
import { clear, episodeOf, fmtIoU, h, meanDefined } from '../dom';
import { EvalProgress } from '../evalProgress';
import type { EpisodeSummary, EvalRecord, HostMessage, UiSettings } from '../../shared/webviewProtocol';
import { settingsBar } from '../settingsBar';
import { DEFAULT_VIEWER, OverlayViewer } from '../viewer';
import { VirtualList } from '../virtualList';

export const PAGE = 100;
export const ROW_HEIGHT = 30;

export class EpisodesView implements View {
  readonly el = h('div', { class: 'view view-episodes' });
  private readonly items = new Map<number, EpisodeSummary>();
  /** page index → request id (pages asked for and not yet answered) */
  private readonly pending = new Map<number, number>();
  private generation = 0;
  /** per episode id: mean IoU per way over its queries (from eval records) */
  private iou = new Map<string, Array<number | null>>();
  private readonly list: VirtualList;
  private readonly viewer: OverlayViewer;
  private readonly progress: EvalProgress;
  private readonly barHost = h('div', { class: 'settings-host' });
  private readonly countEl = h('span', { class: 'muted count' });
  private openRequest = -1;

  constructor(private readonly ctx: AppContext) {
    const saved = ctx.store.get();
    this.viewer = new OverlayViewer(saved.viewer ?? DEFAULT_VIEWER, (viewer) => ctx.store.patch({ viewer }));
    this.progress = new EvalProgress(ctx.host);
    this.list = new VirtualList({
      rowHeight: ROW_HEIGHT,
      render: (i, el) => this.renderRow(i, el),
      onRange: (from, to) => this.fetch(from, to),
      onSelect: (i) => this.open(i),
      onScroll: (scrollTop) => ctx.store.patch({ episodes: { ...ctx.store.get().episodes, scrollTop } }),
    });
    const evalButton = h('vscode-button', { class: 'run-eval', title: 'Evaluate the configured checkpoint on these settings' }, 'Run eval');
    evalButton.addEventListener('click', () => this.runEval());
    this.barHost.appendChild(settingsBar(ctx, (patch) => this.changeSettings(patch)));
    this.el.append(
      h('div', { class: 'topbar' }, this.barHost, evalButton),
      this.progress.el,
      h('div', { class: 'split' },
        h('div', { class: 'pane list-pane' }, h('div', { class: 'pane-header' }, 'Episodes ', this.countEl), this.list.el),
        h('div', { class: 'pane viewer-pane' }, this.viewer.el)),
    );
    this.ingest(ctx.reports.a?.records ?? []);
    this.reset(ctx.init.totalEpisodes ?? ctx.settings.episodes);
    const ep = saved.episodes;
    if (ep) {
      requestAnimationFrame(() => this.list.setScrollTop(ep.scrollTop));
      if (ep.selectedIndex !== undefined && ep.selectedIndex >= 0) {
        this.list.select(ep.selectedIndex, false);
        if (ep.selected) this.openById(ep.selected);
      }
    }
  }

  private reset(total: number): void {
    this.generation++;
    this.items.clear();
    this.pending.clear();
    this.countEl.textContent = `(${total.toLocaleString('en-US')})`;
    this.list.setTotal(total);
  }

  /** Ask for the pages that cover rows [from, to) and are neither loaded nor asked for. */
  private fetch(from: number, to: number): void {
    const total = this.list.getTotal();
    for (let p = Math.floor(from / PAGE); p * PAGE < Math.min(to, total); p++) {
      if (this.pending.has(p) || this.items.has(p * PAGE)) continue;
      const generation = this.generation;
      const { id, reply } = this.ctx.host.request({ type: 'listEpisodes', from: p * PAGE, count: Math.min(PAGE, total - p * PAGE) });
      this.pending.set(p, id);
      reply.then((m) => {
        if (generation !== this.generation || m.type !== 'episodes') return;
        this.pending.delete(p);
        m.episodes.forEach((e, i) => this.items.set(m.from + i, e));
        if (m.total !== this.list.getTotal()) this.reset(m.total);
        else this.list.refresh();
      }, (e: Error) => {
        this.pending.delete(p);
        console.warn(`ProtoLab: listEpisodes failed: ${e.message}`);
      });
    }
  }

  private renderRow(i: number, el: HTMLElement): void {
    clear(el);
    const e = this.items.get(i);
    if (!e) {
      el.append(h('span', { class: 'row-id muted' }, `#${i}`), h('span', { class: 'muted' }, '…'));
      return;
    }
    el.dataset.episode = e.id;
    const ious = this.iou.get(e.id);
    el.append(h('span', { class: 'row-id' }, e.id));
    e.classes.forEach((c, j) => {
      const chip = h('span', { class: 'chip' }, className(this.ctx, c));
      if (ious) {
        const v = ious[j];
        const badge = h('span', { class: 'iou-badge', 'data-iou': v === null ? '' : v.toFixed(4) }, fmtIoU(v));
        if (v !== null) badge.classList.add(v < 0.3 ? 'bad' : v < 0.6 ? 'mid' : 'good');
        chip.appendChild(badge);
      }
      el.appendChild(chip);
    });
  }

  private open(i: number): void {
    const e = this.items.get(i);
    this.ctx.store.patch({ episodes: { scrollTop: this.list.el.scrollTop, selectedIndex: i, selected: e?.id } });
    if (e) this.openById(e.id);
  }

  private openById(episodeId: string): void {
    this.viewer.showLoading(episodeId);
    const { id, reply } = this.ctx.host.request({ type: 'openEpisode', episodeId, annotation: this.ctx.settings.annotation });
    this.openRequest = id;
    reply.then((m) => {
      if (id === this.openRequest && m.type === 'episode') void this.viewer.show(m.view);
    }, (e: Error) => {
      if (id === this.openRequest) this.viewer.showEmpty(`Cannot open ${episodeId}: ${e.message}`);
    });
  }

  private changeSettings(patch: Partial<UiSettings>): void {
    this.ctx.host.request({ type: 'setSettings', settings: patch }).reply.catch((e: Error) => console.warn(`ProtoLab: setSettings failed: ${e.message}`));
  }

  private runEval(): void {
    if (this.progress.active >= 0) return;
    this.ctx.liveRecords = [];
    this.iou.clear();
    const { id, reply } = this.ctx.host.request({ type: 'runEval' });
    this.progress.start(id);
    reply.catch((e: Error) => {
      this.progress.end();
      this.viewer.showEmpty(`Evaluation failed: ${e.message}`);
    });
  }

  private ingest(records: readonly EvalRecord[]): void {
    // queries of one episode arrive as separate records: average their per-class IoU
    const acc = new Map<string, Array<Array<number | null>>>();
    for (const r of records) {
      const ep = episodeOf(r.id);
      const list = acc.get(ep) ?? [];
      list.push(r.classIoU);
      acc.set(ep, list);
    }
    for (const [ep, list] of acc) {
      const prev = this.iou.get(ep);
      const all = prev ? [prev, ...list] : list;
      this.iou.set(ep, all[0].map((_, j) => meanDefined(all.map((x) => x[j]))));
    }
  }

  onMessage(m: HostMessage): void {
    switch (m.type) {
      case 'settings': {
        this.ctx.settings = m.settings;
        if (m.datasetInfo) this.ctx.datasetInfo = m.datasetInfo;
        clear(this.barHost);
        this.barHost.appendChild(settingsBar(this.ctx, (patch) => this.changeSettings(patch)));
        this.iou.clear();
        this.viewer.showEmpty('Select an episode to see its images and masks.');
        this.list.select(-1, false);
        this.reset(m.totalEpisodes ?? m.settings.episodes);
        break;
      }
      case 'progress':
        this.progress.update(m.requestId, m.done, m.total, m.note);
        break;
      case 'evalRecords':
        if (m.requestId === this.progress.active) {
          this.ingest(m.records);
          this.list.refresh();
        }
        break;
      case 'evalResult':
        if (m.slot !== 'b') {
          this.progress.end();
          this.iou.clear();
          this.ingest(m.records);
          this.list.refresh();
        }
        break;
      case 'error':
        if (m.inReplyTo !== undefined && m.inReplyTo === this.progress.active) this.progress.end();
        break;
      default:
        break;
    }
  }
}
