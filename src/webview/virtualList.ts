// A virtualised list: a spacer as tall as all rows and only the visible rows (plus a little overscan)
// in the DOM, positioned with transforms and recycled while scrolling. Items come from a callback, so
// the caller can fetch pages lazily (`onRange` says which rows are on screen).

export interface VirtualListOptions {
  rowHeight: number;
  overscan?: number;
  /** fill `el` for row i; `el` is reused for other rows later */
  render(i: number, el: HTMLElement): void;
  /** rows [from, to) are visible now (fetch what is missing) */
  onRange?(from: number, to: number): void;
  onSelect?(i: number): void;
  onScroll?(scrollTop: number): void;
  /** handle a key first; return true to skip the list's own row navigation (e.g. a grid of tiles) */
  onKey?(e: KeyboardEvent): boolean;
}

export class VirtualList {
  readonly el: HTMLElement;
  private readonly spacer: HTMLElement;
  private total = 0;
  private selected = -1;
  private readonly rows = new Map<number, HTMLElement>();
  private pool: HTMLElement[] = [];
  private frame = 0;

  constructor(private readonly o: VirtualListOptions) {
    this.el = document.createElement('div');
    this.el.className = 'vlist';
    this.el.tabIndex = 0;
    this.el.setAttribute('role', 'listbox');
    this.spacer = document.createElement('div');
    this.spacer.className = 'vlist-spacer';
    this.el.appendChild(this.spacer);
    this.el.addEventListener('scroll', () => {
      this.o.onScroll?.(this.el.scrollTop);
      this.schedule();
    });
    this.el.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.vlist-row');
      if (row?.dataset.index) this.select(Number(row.dataset.index));
    });
    this.el.addEventListener('keydown', (e) => {
      if (this.o.onKey?.(e)) return;
      const step = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : e.key === 'PageDown' ? this.pageRows() : e.key === 'PageUp' ? -this.pageRows() : 0;
      if (!step || !this.total) return;
      e.preventDefault();
      this.select(Math.max(0, Math.min(this.total - 1, (this.selected < 0 ? 0 : this.selected) + step)));
      this.scrollToIndex(this.selected);
    });
    // the list's height is only known once it is laid out (and changes with the panel)
    new ResizeObserver(() => this.schedule()).observe(this.el);
  }

  private pageRows(): number {
    return Math.max(1, Math.floor(this.el.clientHeight / this.o.rowHeight) - 1);
  }

  setTotal(n: number): void {
    this.total = n;
    this.spacer.style.height = `${n * this.o.rowHeight}px`;
    this.refresh();
  }

  getTotal(): number {
    return this.total;
  }

  select(i: number, notify = true): void {
    this.selected = i;
    for (const [j, el] of this.rows) el.classList.toggle('selected', j === i);
    if (notify && i >= 0) this.o.onSelect?.(i);
  }

  getSelected(): number {
    return this.selected;
  }

  scrollToIndex(i: number): void {
    const top = i * this.o.rowHeight, bottom = top + this.o.rowHeight;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (bottom > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = bottom - this.el.clientHeight;
  }

  setScrollTop(y: number): void {
    this.el.scrollTop = y;
    this.refresh();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.update(false);
    });
  }

  /** Re-render every visible row (data changed). */
  refresh(): void {
    this.update(true);
  }

  private update(all: boolean): void {
    const rh = this.o.rowHeight, over = this.o.overscan ?? 6;
    const height = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.el.scrollTop / rh) - over);
    const last = Math.min(this.total, Math.ceil((this.el.scrollTop + height) / rh) + over);
    for (const [i, el] of this.rows) {
      if (i < first || i >= last) {
        this.rows.delete(i);
        el.remove();
        this.pool.push(el);
      }
    }
    for (let i = first; i < last; i++) {
      let el = this.rows.get(i);
      const fresh = !el;
      if (!el) {
        el = this.pool.pop() ?? document.createElement('div');
        el.className = 'vlist-row';
        el.setAttribute('role', 'option');
        el.style.height = `${rh}px`;
        this.rows.set(i, el);
        this.el.appendChild(el);
      }
      if (fresh || all) {
        el.dataset.index = String(i);
        el.style.transform = `translateY(${i * rh}px)`;
        el.classList.toggle('selected', i === this.selected);
        el.setAttribute('aria-selected', String(i === this.selected));
        this.o.render(i, el);
      }
    }
    const visFirst = Math.floor(this.el.scrollTop / rh);
    this.o.onRange?.(Math.min(visFirst, this.total), Math.min(this.total, Math.ceil((this.el.scrollTop + height) / rh)));
  }
}
