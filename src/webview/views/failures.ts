// Failure browser: the last eval's episodes sorted worst first (mean IoU of the episode's classes),
// a class filter, and the confusion heatmap; clicking a cell keeps the episodes whose wrong pixels went
// there, clicking an episode opens it in the overlay viewer.
import { onThemeChange, themePalette } from '../colors';
import { buildConfusion, recordsInCell } from '../confusion';
import { className, type AppContext, type View } from '../context';
import { clear, episodeOf, fmtIoU, h, meanDefined, queryOf } from '../dom';
import type { EvalRecord, HostMessage } from '../../shared/webviewProtocol';
import { DEFAULT_VIEWER, OverlayViewer } from '../viewer';
import { VirtualList } from '../virtualList';

interface Row { record: EvalRecord; score: number | null; cellPixels?: number }

/** Mean IoU of a record's classes (null when none is defined). */
export const recordScore = (r: EvalRecord): number | null => meanDefined(r.classIoU);

export function sortWorstFirst(rows: Row[]): Row[] {
  return rows.sort((a, b) => (a.score ?? Infinity) - (b.score ?? Infinity) || a.record.id.localeCompare(b.record.id, 'en', { numeric: true }));
}

export class FailuresView implements View {
  readonly el = h('div', { class: 'view view-failures' });
  private rows: Row[] = [];
  private readonly list: VirtualList;
  private readonly viewer: OverlayViewer;
  private readonly heat = h('div', { class: 'heatmap-host' });
  private readonly filterHost = h('div', { class: 'filters' });
  private readonly summary = h('div', { class: 'muted summary' });
  private classFilter: number | undefined;
  private cell: [number, number] | undefined;
  private openRequest = -1;

  constructor(private readonly ctx: AppContext) {
    const saved = ctx.store.get();
    this.classFilter = saved.failures?.classFilter;
    this.cell = saved.failures?.cell;
    this.viewer = new OverlayViewer(saved.viewer ?? { ...DEFAULT_VIEWER, error: true }, (viewer) => ctx.store.patch({ viewer }));
    this.list = new VirtualList({ rowHeight: 30, render: (i, el) => this.renderRow(i, el), onSelect: (i) => this.open(i) });
    this.el.append(
      h('div', { class: 'topbar' }, this.filterHost, this.summary),
      h('div', { class: 'split' },
        h('div', { class: 'pane failures-left' },
          h('div', { class: 'pane-header' }, 'Confusion (wrong pixels: true → predicted)'), this.heat,
          h('div', { class: 'pane-header' }, 'Episodes, worst first'), this.list.el),
        h('div', { class: 'pane viewer-pane' }, this.viewer.el)),
    );
    this.rebuild();
    if (saved.failures?.selected) this.openRecord(saved.failures.selected);
    // the heatmap is in the theme's colour (the viewer redraws itself)
    onThemeChange(() => this.drawHeatmap(buildConfusion(this.records(), this.ctx.reports.a?.result.data?.foldClasses.map((f) => f.cls) ?? [])), this.el);
  }

  private records(): EvalRecord[] {
    return this.ctx.reports.a?.records ?? this.ctx.liveRecords;
  }

  private save(): void {
    this.ctx.store.patch({ failures: { classFilter: this.classFilter, cell: this.cell, selected: this.ctx.store.get().failures?.selected } });
  }

  rebuild(): void {
    const records = this.records();
    const fold = this.ctx.reports.a?.result.data?.foldClasses.map((f) => f.cls) ?? [];
    // filter bar
    clear(this.filterHost);
    const classes = [...new Set([...fold, ...records.flatMap((r) => r.classes)])].sort((a, b) => a - b);
    const sel = h('vscode-single-select', { class: 'class-filter', 'aria-label': 'Filter by class' }) as HTMLElement & { value: string };
    sel.appendChild(h('vscode-option', { value: '', selected: this.classFilter === undefined }, 'All classes'));
    for (const c of classes) sel.appendChild(h('vscode-option', { value: String(c), selected: this.classFilter === c }, className(this.ctx, c)));
    sel.value = this.classFilter === undefined ? '' : String(this.classFilter);
    sel.addEventListener('change', () => {
      this.classFilter = sel.value === '' ? undefined : Number(sel.value);
      this.save();
      this.refreshRows();
    });
    this.filterHost.append(h('span', { class: 'setting-label' }, 'Class'), sel);
    if (this.cell) {
      const [t, p] = this.cell;
      const clearCell = h('vscode-button', { secondary: true, class: 'clear-cell' }, `${className(this.ctx, t)} → ${className(this.ctx, p)} ✕`);
      clearCell.addEventListener('click', () => {
        this.cell = undefined;
        this.save();
        this.rebuild();
      });
      this.filterHost.appendChild(clearCell);
    }
    this.drawHeatmap(buildConfusion(records, fold));
    this.refreshRows();
  }

  private drawHeatmap(m: ReturnType<typeof buildConfusion>): void {
    clear(this.heat);
    if (!this.records().length) {
      this.heat.appendChild(h('div', { class: 'empty' }, 'Run an evaluation (or open a report) to see where the wrong pixels go.'));
      return;
    }
    const base = themePalette().fn;
    const table = h('table', { class: 'heatmap' });
    const head = h('tr', {}, h('th', { class: 'corner' }, 'true \\ pred'));
    for (const p of m.cols) head.appendChild(h('th', { class: 'col-head', title: className(this.ctx, p) }, h('span', {}, className(this.ctx, p))));
    table.appendChild(head);
    m.rows.forEach((t, r) => {
      const tr = h('tr', {}, h('th', { class: 'row-head' }, className(this.ctx, t)));
      m.cols.forEach((p, c) => {
        const v = m.pixels[r][c];
        const td = h('td', {
          class: 'cell', 'data-true': t, 'data-pred': p, 'data-pixels': v,
          title: `${className(this.ctx, t)} → ${className(this.ctx, p)}: ${v.toLocaleString('en-US')} px`,
        }, v ? compact(v) : '');
        if (v > 0) {
          // sqrt keeps small-but-real confusions visible next to the big bg↔fg ones
          const a = 0.12 + 0.88 * Math.sqrt(v / m.max);
          td.style.backgroundColor = `rgba(${base[0]}, ${base[1]}, ${base[2]}, ${a.toFixed(3)})`;
          if (a > 0.55) td.classList.add('strong');
          td.addEventListener('click', () => {
            this.cell = [t, p];
            this.save();
            this.rebuild();
          });
        } else td.classList.add('zero');
        if (this.cell && this.cell[0] === t && this.cell[1] === p) td.classList.add('active');
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    this.heat.appendChild(table);
  }

  private refreshRows(): void {
    let recs = this.records();
    if (this.classFilter !== undefined) recs = recs.filter((r) => r.classes.includes(this.classFilter as number));
    if (this.cell) {
      const [t, p] = this.cell;
      this.rows = recordsInCell(recs, t, p).map(({ record, pixels }) => ({ record, score: recordScore(record), cellPixels: pixels }));
    } else this.rows = sortWorstFirst(recs.map((record) => ({ record, score: recordScore(record) })));
    this.summary.textContent = `${this.rows.length.toLocaleString('en-US')} of ${this.records().length.toLocaleString('en-US')} scored queries`
      + (this.cell ? ' · by wrong pixels in the selected cell' : ' · sorted by mean IoU, worst first');
    this.list.select(-1, false);
    this.list.setTotal(this.rows.length);
  }

  private renderRow(i: number, el: HTMLElement): void {
    clear(el);
    const row = this.rows[i];
    if (!row) return;
    const r = row.record;
    el.dataset.record = r.id;
    el.append(h('span', { class: 'row-id' }, r.id), h('span', { class: 'score' }, fmtIoU(row.score)));
    r.classes.forEach((c, j) => el.appendChild(h('span', { class: 'chip' }, className(this.ctx, c), h('span', { class: 'iou-badge' }, fmtIoU(r.classIoU[j])))));
    if (row.cellPixels !== undefined) el.appendChild(h('span', { class: 'muted cell-pixels' }, `${compact(row.cellPixels)} px`));
  }

  private open(i: number): void {
    const row = this.rows[i];
    if (row) this.openRecord(row.record.id);
  }

  private openRecord(recordId: string): void {
    this.ctx.store.patch({ failures: { classFilter: this.classFilter, cell: this.cell, selected: recordId } });
    const episodeId = episodeOf(recordId);
    this.viewer.showLoading(episodeId);
    const { id, reply } = this.ctx.host.request({ type: 'openEpisode', episodeId, annotation: this.ctx.settings.annotation, query: queryOf(recordId) });
    this.openRequest = id;
    reply.then((m) => {
      if (id === this.openRequest && m.type === 'episode') void this.viewer.show(m.view);
    }, (e: Error) => {
      if (id === this.openRequest) this.viewer.showEmpty(`Cannot open ${episodeId}: ${e.message}`);
    });
  }

  onMessage(m: HostMessage): void {
    if (m.type === 'evalResult' && m.slot !== 'b') {
      this.cell = undefined;
      this.rebuild();
    } else if (m.type === 'evalRecords' && !this.ctx.reports.a) this.rebuild();
  }
}

export function compact(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}
