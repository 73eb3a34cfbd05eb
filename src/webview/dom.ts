// A tiny element builder: the views build DOM nodes directly (never HTML strings with style
// attributes, which a CSP without 'unsafe-inline' blocks); styles go through the CSSOM.

type Attrs = Record<string, string | number | boolean | undefined | null | ((e: Event) => void)>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Attrs, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, '').toLowerCase(), v);
    else if (k === 'class') el.className = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export const fmtIoU = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '–' : (100 * x).toFixed(1));

/** Mean of the defined values (null when none). */
export function meanDefined(xs: ReadonlyArray<number | null | undefined>): number | null {
  const d = xs.filter((x): x is number => typeof x === 'number' && !Number.isNaN(x));
  return d.length ? d.reduce((a, b) => a + b, 0) / d.length : null;
}

/** `r0e12q1` → `r0e12` (records of multi-query episodes carry a query suffix). */
export const episodeOf = (recordId: string): string => recordId.replace(/q\d+$/, '');
export const queryOf = (recordId: string): number => {
  const m = /q(\d+)$/.exec(recordId);
  return m ? Number(m[1]) : 0;
};
