// Every image of the folder as a grid of thumbnails beside the open image: virtualised (rows of tiles
// in a VirtualList, so 5,000 images keep a few dozen tiles in the DOM), sorted by uncertainty, name or
// status, filtered by status; each tile shows its mask, confidence and status (broken ones say why on
// hover). Keyboard: arrows move between tiles, Enter opens. In image-tags mode each tile has a field
// for the image's class names.
import { h } from '../../dom';
import { LABEL_STATUSES, type LabelImageInfo, type LabelStatus } from '../../../shared/webviewLabelProtocol';
import { VirtualList } from '../../virtualList';
import type { ThumbCache } from './thumbs';

export type SortKey = 'uncertainty' | 'name' | 'status';
export type StatusFilter = 'all' | LabelStatus;
export const TILE_W = 132;
const THUMB_W = 120, THUMB_H = 90;
const TILE_H = 116, TAGS_H = 26;
const OVERSCAN = 2;

const STATUS_ORDER: Record<LabelStatus, number> = { unlabeled: 0, predicted: 1, drawn: 2, accepted: 3, broken: 4 };
export const STATUS_TEXT: Record<LabelStatus, string> = { unlabeled: 'unlabeled', predicted: 'predicted', accepted: 'accepted', drawn: 'drawn', broken: 'broken' };

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** The order the grid shows: filtered by status, then sorted (uncertainty: least confident first; no confidence last). */
export function arrange(images: Iterable<LabelImageInfo>, sort: SortKey, filter: StatusFilter): LabelImageInfo[] {
  const out = [...images].filter((i) => filter === 'all' || i.status === filter);
  const byName = (a: LabelImageInfo, b: LabelImageInfo): number => collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const conf = (i: LabelImageInfo): number => (typeof i.confidence === 'number' ? i.confidence : Infinity);
  out.sort(sort === 'name' ? byName
    : sort === 'status' ? (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || byName(a, b)
    : (a, b) => conf(a) - conf(b) || byName(a, b));
  return out;
}

export interface GridEvents {
  open(id: string): void;
  setTags(id: string, tags: string[]): void;
  changed(sort: SortKey, filter: StatusFilter, scrollTop: number): void;
}

type Select = HTMLElement & { value: string };
interface TileParts {
  canvas: HTMLCanvasElement;
  conf: HTMLElement;
  support: HTMLElement;
  broken: HTMLElement;
  name: HTMLElement;
  status: HTMLElement;
  tags: HTMLInputElement;
  tagsText: HTMLElement;
}

export class ImageGrid {
  readonly el = h('div', { class: 'label-grid' });
  private readonly images = new Map<string, LabelImageInfo>();
  private order: LabelImageInfo[] = [];
  private list: VirtualList;
  private cols = 2;
  private active = -1;
  private openId: string | undefined;
  private tagsMode = false;
  private folderTags = false;
  private readonly countEl = h('span', { class: 'grid-count muted', 'aria-live': 'polite' });
  private readonly sortSel: Select;
  private readonly filterSel: Select;
  private arrangeFrame = 0;
  private readonly parts = new WeakMap<HTMLElement, TileParts>();
  /** ids patched since the last arrange (re-rendered alone when the order did not change) */
  private readonly changed = new Set<string>();
  /** rows on screen (last onRange) */
  private range: [number, number] = [0, 0];

  constructor(private readonly thumbs: ThumbCache, private readonly on: GridEvents, public sort: SortKey = 'uncertainty', public filter: StatusFilter = 'all') {
    this.sortSel = this.select('grid-sort', 'Sort images by', [['uncertainty', 'Uncertainty'], ['name', 'Name'], ['status', 'Status']], sort);
    this.filterSel = this.select('grid-filter', 'Show images with status', [['all', 'All'], ...LABEL_STATUSES.map((s): [string, string] => [s, STATUS_TEXT[s]])], filter);
    this.sortSel.addEventListener('change', () => {
      this.sort = (this.sortSel.value || 'uncertainty') as SortKey;
      this.rearrange(true);
    });
    this.filterSel.addEventListener('change', () => {
      this.filter = (this.filterSel.value || 'all') as StatusFilter;
      this.rearrange(true);
    });
    this.list = this.makeList();
    this.el.append(
      h('div', { class: 'grid-controls' },
        h('label', { class: 'setting' }, h('span', { class: 'setting-label' }, 'Sort'), this.sortSel),
        h('label', { class: 'setting' }, h('span', { class: 'setting-label' }, 'Show'), this.filterSel),
        this.countEl),
      this.list.el);
    new ResizeObserver(() => this.relayout()).observe(this.list.el);
  }

  private select(cls: string, label: string, options: Array<[string, string]>, value: string): Select {
    const s = h('vscode-single-select', { class: cls, 'aria-label': label }) as Select;
    for (const [v, t] of options) s.appendChild(h('vscode-option', { value: v, selected: v === value }, t));
    s.value = value;
    return s;
  }

  private makeList(): VirtualList {
    const list = new VirtualList({
      rowHeight: this.tagsMode && !this.folderTags ? TILE_H + TAGS_H : TILE_H,
      overscan: OVERSCAN,
      render: (row, el) => this.renderRow(row, el),
      onRange: (from, to) => this.visible(from, to),
      onScroll: (top) => this.on.changed(this.sort, this.filter, top),
      onKey: (e) => this.key(e),
    });
    list.el.setAttribute('role', 'grid');
    list.el.setAttribute('aria-label', 'Images');
    list.el.classList.add('label-grid-list');
    list.el.addEventListener('click', (e) => {
      const t = e.target as HTMLElement;
      if (t.classList.contains('tile-tags')) return;
      const tile = t.closest<HTMLElement>('.tile');
      if (!tile?.dataset.id) return;
      this.active = Number(tile.dataset.index);
      this.on.open(tile.dataset.id);
    });
    list.el.addEventListener('change', (e) => {
      const t = e.target as HTMLInputElement;
      const id = t.closest<HTMLElement>('.tile')?.dataset.id;
      if (t.classList.contains('tile-tags') && id) this.on.setTags(id, parseTags(t.value));
    });
    // typing in a tags field is not a shortcut, nor grid navigation
    list.el.addEventListener('keydown', (e) => {
      if ((e.target as HTMLElement).classList.contains('tile-tags')) e.stopPropagation();
    }, true);
    return list;
  }

  setTagsMode(on: boolean, folderTags: boolean): void {
    if (on === this.tagsMode && folderTags === this.folderTags) return;
    this.tagsMode = on;
    this.folderTags = folderTags;
    const top = this.list.el.scrollTop;
    const fresh = this.makeList();
    this.list.el.replaceWith(fresh.el);
    this.list = fresh;
    new ResizeObserver(() => this.relayout()).observe(this.list.el);
    this.relayout(true);
    this.list.setScrollTop(top);
  }

  get scrollTop(): number {
    return this.list.el.scrollTop;
  }

  setScrollTop(y: number): void {
    this.list.setScrollTop(y);
  }

  /** All images (a sync or restore). */
  setImages(images: readonly LabelImageInfo[]): void {
    this.images.clear();
    for (const i of images) this.images.set(i.id, i);
    this.rearrange(false);
  }

  /** Changed, new or removed images. */
  patch(images: readonly LabelImageInfo[], removed: readonly string[] = []): void {
    for (const id of removed) this.images.delete(id);
    for (const i of images) {
      this.images.set(i.id, i);
      this.changed.add(i.id);
    }
    if (removed.length) this.changed.add('\u0000'); // the order changes for sure
    // many patches arrive while the grid pass runs: arrange once per frame
    if (!this.arrangeFrame) this.arrangeFrame = requestAnimationFrame(() => {
      this.arrangeFrame = 0;
      this.rearrange(false);
    });
  }

  get(id: string): LabelImageInfo | undefined {
    return this.images.get(id);
  }

  get size(): number {
    return this.images.size;
  }

  /** Ids in grid order (current sort and filter). */
  ids(): string[] {
    return this.order.map((i) => i.id);
  }

  setOpen(id: string | undefined): void {
    this.openId = id;
    const i = id === undefined ? -1 : this.order.findIndex((x) => x.id === id);
    if (i >= 0) {
      this.active = i;
      this.list.scrollToIndex(Math.floor(i / this.cols));
    }
    this.list.refresh();
  }

  /** The image `delta` places after the open one in grid order. */
  neighbour(delta: number): string | undefined {
    if (!this.order.length) return undefined;
    const i = this.order.findIndex((x) => x.id === this.openId);
    const j = i < 0 ? 0 : Math.min(this.order.length - 1, Math.max(0, i + delta));
    return this.order[j].id;
  }

  /** Redraw tiles (thumbnails arrived, colours changed). */
  refresh(ids?: readonly string[]): void {
    if (!ids) {
      this.list.refresh();
      return;
    }
    for (const id of ids) {
      const tile = this.list.el.querySelector<HTMLElement>(`.tile[data-id="${CSS.escape(id)}"]`);
      const canvas = tile?.querySelector('canvas');
      if (tile && canvas && !tile.classList.contains('status-broken')) tile.classList.toggle('loading', !this.thumbs.draw(id, canvas, 0.5));
    }
  }

  private refreshTiles(ids: readonly string[]): void {
    for (const id of ids) {
      const tile = this.list.el.querySelector<HTMLElement>(`.tile[data-id="${CSS.escape(id)}"]`);
      if (tile) this.fillTile(tile, Number(tile.dataset.index));
    }
    // a changed rev may need a new thumbnail: ask for the visible ones again (the cache skips fresh ones)
    this.visible(...this.range);
  }

  private rearrange(userChange: boolean): void {
    const before = this.order;
    this.order = arrange(this.images.values(), this.sort, this.filter);
    const changed = [...this.changed];
    this.changed.clear();
    if (!userChange && changed.length && !changed.includes('\u0000') && sameIds(before, this.order)) {
      // statuses or confidences changed but not the order: re-render just those tiles
      this.refreshTiles(changed);
      return;
    }
    const open = this.openId ? this.order.findIndex((x) => x.id === this.openId) : -1;
    if (open >= 0) this.active = open;
    else this.active = Math.min(this.active, this.order.length - 1);
    const n = this.order.length, all = this.images.size;
    this.countEl.textContent = n === all ? `${all.toLocaleString('en-US')} images` : `${n.toLocaleString('en-US')} of ${all.toLocaleString('en-US')}`;
    this.list.setTotal(Math.ceil(n / this.cols));
    if (userChange) {
      this.list.setScrollTop(0);
      this.on.changed(this.sort, this.filter, 0);
    }
  }

  private relayout(force = false): void {
    const w = this.list.el.clientWidth;
    if (!w) return;
    const cols = Math.max(1, Math.floor(w / TILE_W));
    if (cols === this.cols && !force) return;
    this.cols = cols;
    this.list.setTotal(Math.ceil(this.order.length / cols));
  }

  private visible(fromRow: number, toRow: number): void {
    this.range = [fromRow, toRow];
    const want: Array<[string, number]> = [];
    // the rows on screen and the overscan rows the list renders around them
    const from = Math.max(0, fromRow - OVERSCAN) * this.cols, to = Math.min(this.order.length, (toRow + OVERSCAN) * this.cols);
    for (let i = from; i < to; i++) {
      const im = this.order[i];
      if (im.status !== 'broken') want.push([im.id, im.rev ?? 0]);
    }
    this.thumbs.want(want);
  }

  private renderRow(row: number, el: HTMLElement): void {
    el.setAttribute('role', 'row');
    el.removeAttribute('aria-selected');
    el.classList.add('grid-row');
    const n = Math.max(0, Math.min(this.cols, this.order.length - row * this.cols));
    // tiles are reused in place (their canvases too): scrolling creates almost no DOM
    while (el.children.length > n) el.lastElementChild?.remove();
    while (el.children.length < n) el.appendChild(this.makeTile());
    for (let k = 0; k < n; k++) this.fillTile(el.children[k] as HTMLElement, row * this.cols + k);
  }

  private makeTile(): HTMLElement {
    const parts: TileParts = {
      canvas: h('canvas', { width: THUMB_W, height: THUMB_H, class: 'tile-thumb', 'aria-hidden': 'true' }),
      conf: h('span', { class: 'tile-conf' }),
      support: h('span', { class: 'tile-support', title: 'support image' }, '★'),
      broken: h('span', { class: 'tile-broken' }, '⚠'),
      name: h('span', { class: 'tile-name' }),
      status: h('span', { class: 'tile-status' }),
      tags: h('input', { type: 'text', class: 'tile-tags', placeholder: 'class names' }),
      tagsText: h('div', { class: 'tile-tags-text muted' }),
    };
    const el = h('div', { class: 'tile', role: 'gridcell' },
      h('div', { class: 'tile-img' }, parts.canvas, parts.conf, parts.support, parts.broken),
      h('div', { class: 'tile-caption' }, parts.name, parts.status), parts.tags, parts.tagsText);
    this.parts.set(el, parts);
    return el;
  }

  private fillTile(el: HTMLElement, i: number): void {
    const im = this.order[i], p = this.parts.get(el);
    if (!p) return;
    const conf = typeof im.confidence === 'number' ? `${Math.round(im.confidence * 100)}%` : '';
    const status = STATUS_TEXT[im.status], open = im.id === this.openId;
    const focusedTags = document.activeElement === p.tags && el.dataset.id === im.id;
    el.className = `tile status-${im.status}${open ? ' open' : ''}${i === this.active ? ' active' : ''}`;
    el.id = `tile-${i}`;
    el.dataset.id = im.id;
    el.dataset.index = String(i);
    el.dataset.name = im.name;
    el.setAttribute('aria-selected', String(open));
    el.setAttribute('aria-label', `${im.name}, ${status}${conf ? `, confidence ${conf}` : ''}${im.support ? ', support' : ''}${im.reason ? `: ${im.reason}` : ''}`);
    el.title = im.status === 'broken' ? `${im.name}: ${im.reason ?? 'cannot be read'}`
      : `${im.name} · ${status}${conf ? ` · confidence ${conf}` : ''}${im.pseudo ? ' · pseudo mask from tags' : ''}`;
    p.conf.textContent = conf;
    p.conf.hidden = !conf;
    p.support.hidden = !im.support;
    p.broken.hidden = im.status !== 'broken';
    p.name.textContent = shortName(im.name);
    p.status.textContent = status;
    p.status.className = `tile-status status-${im.status}`;
    const tagsField = this.tagsMode && !this.folderTags;
    p.tags.hidden = !tagsField;
    p.tags.setAttribute('aria-label', `Class names in ${im.name}`);
    if (tagsField && !focusedTags) p.tags.value = (im.tags ?? []).join(', ');
    p.tagsText.hidden = !(this.tagsMode && this.folderTags && im.tags?.length);
    p.tagsText.textContent = (im.tags ?? []).join(', ');
    if (im.status === 'broken') {
      p.canvas.getContext('2d')?.clearRect(0, 0, THUMB_W, THUMB_H);
      el.classList.remove('loading');
    } else el.classList.toggle('loading', !this.thumbs.draw(im.id, p.canvas, 0.5));
    if (i === this.active) this.list.el.setAttribute('aria-activedescendant', el.id);
  }

  private key(e: KeyboardEvent): boolean {
    // the list's own row navigation never runs: tiles move by cell here
    if (e.target !== this.list.el || e.ctrlKey || e.metaKey || e.altKey) return true;
    const n = this.order.length;
    if (!n) return true;
    const rows = Math.max(1, Math.floor(this.list.el.clientHeight / (TILE_H)) - 1);
    const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -this.cols, ArrowDown: this.cols, PageUp: -rows * this.cols, PageDown: rows * this.cols, Home: -n, End: n };
    if (e.key in moves) {
      this.active = Math.max(0, Math.min(n - 1, (this.active < 0 ? 0 : this.active) + moves[e.key]));
      this.list.scrollToIndex(Math.floor(this.active / this.cols));
      this.list.refresh();
      e.preventDefault();
      e.stopPropagation();
      return true;
    }
    if ((e.key === 'Enter' || e.key === ' ') && this.active >= 0) {
      this.on.open(this.order[this.active].id);
      e.preventDefault();
      e.stopPropagation();
      return true;
    }
    return true;
  }
}

/** A tile has room for about ten characters: keep the end of long names (where the numbers differ). */
export function shortName(name: string, max = 11): string {
  return name.length <= max ? name : `…${name.slice(-(max - 1))}`;
}

function sameIds(a: readonly LabelImageInfo[], b: readonly LabelImageInfo[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].id !== b[i].id) return false;
  return true;
}

export function parseTags(text: string): string[] {
  const seen = new Set<string>();
  return text.split(/[,;\n]/).map((t) => t.trim()).filter((t) => t && !seen.has(t.toLowerCase()) && (seen.add(t.toLowerCase()), true));
}
