// Every shortcut of the labeling view in one table: the key handler matches against it, and the
// tooltips and the help overlay ('?') are written from it, so what the UI says is what the keys do.
import { h } from '../../dom';

export type Command =
  | 'tool-brush' | 'tool-eraser' | 'tool-box' | 'tool-polygon' | 'tool-fill'
  | 'label-background' | 'label-unsure' | 'label-class'
  | 'undo' | 'redo' | 'size-down' | 'size-up' | 'opacity-down' | 'opacity-up'
  | 'zoom-in' | 'zoom-out' | 'fit' | 'accept' | 'support' | 'suggest' | 'next-image' | 'prev-image' | 'help';

export interface Shortcut {
  command: Command;
  /** how the help overlay and tooltips write it */
  keys: string;
  what: string;
  match(e: KeyboardEvent): boolean;
}

const plain = (e: KeyboardEvent): boolean => !e.ctrlKey && !e.metaKey && !e.altKey;
const ctrl = (e: KeyboardEvent): boolean => (e.ctrlKey || e.metaKey) && !e.altKey;
const letter = (k: string) => (e: KeyboardEvent): boolean => plain(e) && !e.shiftKey && e.key.toLowerCase() === k;

export const SHORTCUTS: readonly Shortcut[] = [
  { command: 'tool-brush', keys: 'B', what: 'Brush (paints the selected label)', match: letter('b') },
  { command: 'label-class', keys: '1 – 9', what: 'Brush with class 1 – 9', match: (e) => plain(e) && /^[1-9]$/.test(e.key) },
  { command: 'label-background', keys: 'G', what: 'Background brush', match: letter('g') },
  { command: 'label-unsure', keys: 'U', what: 'Unsure brush (label 255: ignored in training)', match: letter('u') },
  { command: 'tool-eraser', keys: 'E', what: 'Eraser (back to unlabeled)', match: letter('e') },
  { command: 'tool-box', keys: 'R', what: 'Box: drag a rectangle', match: letter('r') },
  { command: 'tool-polygon', keys: 'P', what: 'Polygon: click the corners; double-click, Shift+Enter or the first corner closes', match: letter('p') },
  { command: 'tool-fill', keys: 'F', what: 'Fill: click a predicted region to make it yours', match: letter('f') },
  { command: 'undo', keys: 'Ctrl+Z', what: 'Undo', match: (e) => ctrl(e) && !e.shiftKey && e.key.toLowerCase() === 'z' },
  { command: 'redo', keys: 'Ctrl+Shift+Z / Ctrl+Y', what: 'Redo', match: (e) => ctrl(e) && ((e.shiftKey && e.key.toLowerCase() === 'z') || (!e.shiftKey && e.key.toLowerCase() === 'y')) },
  { command: 'size-down', keys: '[', what: 'Smaller brush', match: (e) => plain(e) && e.key === '[' },
  { command: 'size-up', keys: ']', what: 'Larger brush', match: (e) => plain(e) && e.key === ']' },
  { command: 'opacity-down', keys: ',', what: 'Masks more transparent', match: (e) => plain(e) && e.key === ',' },
  { command: 'opacity-up', keys: '.', what: 'Masks more opaque', match: (e) => plain(e) && e.key === '.' },
  { command: 'zoom-in', keys: '+', what: 'Zoom in (or the mouse wheel)', match: (e) => plain(e) && (e.key === '+' || e.key === '=') },
  { command: 'zoom-out', keys: '−', what: 'Zoom out', match: (e) => plain(e) && (e.key === '-' || e.key === '_') },
  { command: 'fit', keys: '0', what: 'Fit the image to the view', match: (e) => plain(e) && e.key === '0' },
  { command: 'accept', keys: 'A', what: 'Accept this image\'s mask', match: letter('a') },
  { command: 'support', keys: 'S', what: 'Use this image as a support (or stop)', match: letter('s') },
  { command: 'suggest', keys: 'N', what: 'Suggest the next image to label', match: letter('n') },
  { command: 'next-image', keys: 'PageDown', what: 'Next image in the grid', match: (e) => plain(e) && e.key === 'PageDown' },
  { command: 'prev-image', keys: 'PageUp', what: 'Previous image in the grid', match: (e) => plain(e) && e.key === 'PageUp' },
  { command: 'help', keys: '?', what: 'Show or hide this help', match: (e) => !e.ctrlKey && !e.metaKey && e.key === '?' },
];

/** Keys that work on the focused canvas (the keyboard-only way of drawing). */
export const CANVAS_KEYS: ReadonlyArray<[string, string]> = [
  ['Arrow keys', 'Move the keyboard cursor (Shift: 4× further)'],
  ['Alt+Arrow keys', 'Pan the image'],
  ['Enter', 'Brush/eraser: pen down / pen up (arrows draw while down) · Box: first corner, then second · Polygon: add a corner · Fill: fill under the cursor'],
  ['Shift+Enter', 'Close the polygon'],
  ['Backspace', 'Remove the last polygon corner'],
  ['Escape', 'Cancel the shape being drawn; close this help'],
  ['Space + drag', 'Pan (or drag with the middle button)'],
];

export function shortcutFor(c: Command): Shortcut | undefined {
  return SHORTCUTS.find((s) => s.command === c);
}

/** "Undo (Ctrl+Z)" */
export function tooltip(c: Command, what?: string): string {
  const s = shortcutFor(c);
  return s ? `${what ?? s.what} (${s.keys})` : what ?? c;
}

export function matchShortcut(e: KeyboardEvent): Shortcut | undefined {
  return SHORTCUTS.find((s) => s.match(e));
}

/** Whether a key event comes from a text field or a drop-down (shortcuts stay out of typing). */
export function isTyping(e: Event): boolean {
  for (const t of e.composedPath()) {
    if (!(t instanceof HTMLElement)) continue;
    const tag = t.tagName;
    if (tag === 'INPUT' && !['range', 'checkbox', 'radio', 'button'].includes((t as HTMLInputElement).type)) return true;
    if (tag === 'TEXTAREA' || tag === 'VSCODE-TEXTFIELD' || tag === 'VSCODE-TEXTAREA' || t.isContentEditable) return true;
    // a focused drop-down takes letters for type-ahead
    if (tag === 'VSCODE-SINGLE-SELECT' || tag === 'VSCODE-MULTI-SELECT' || tag === 'SELECT') return true;
  }
  return false;
}

/** The '?' overlay: a modal dialog listing every key. */
export function helpOverlay(onClose: () => void): HTMLElement {
  const close = h('button', { class: 'help-close', type: 'button', 'aria-label': 'Close help' }, '×');
  close.addEventListener('click', onClose);
  const row = (keys: string, what: string): HTMLElement => h('tr', {}, h('th', { scope: 'row' }, h('kbd', {}, keys)), h('td', {}, what));
  const el = h('div', { class: 'help-overlay', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'label-help-title', tabindex: -1, hidden: true },
    h('div', { class: 'help-box' },
      h('div', { class: 'help-head' }, h('h2', { id: 'label-help-title' }, 'Labeling shortcuts'), close),
      h('div', { class: 'help-cols' },
        h('table', { class: 'help-table' }, h('caption', {}, 'Anywhere in the view'), ...SHORTCUTS.map((s) => row(s.keys, s.what))),
        h('table', { class: 'help-table' }, h('caption', {}, 'On the focused image'), ...CANVAS_KEYS.map(([k, w]) => row(k, w)))),
      h('p', { class: 'muted' }, 'Strokes are sent when they end; the mask of this image updates, then the grid re-segments in the background. Tab moves between the toolbar, the labels, the image and the grid.')));
  el.addEventListener('click', (e) => {
    if (e.target === el) onClose();
  });
  // modal: Tab stays on the dialog's one control
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Tab') {
      e.preventDefault();
      close.focus();
    }
  });
  return el;
}
