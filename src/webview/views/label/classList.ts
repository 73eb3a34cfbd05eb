// The labels to paint with: background, each class (its colour, its number key) and unsure. Classes
// can be added and renamed in place (double-click, F2 or the pencil); the whole list goes to the host,
// which answers with the list in force.
import { clear, h } from '../../dom';
import { MAX_CLASS, UNSURE, type LabelClass } from '../../../shared/webviewLabelProtocol';
import { tooltip } from './keyboard';
import type { LabelColors } from './labelColors';

export interface ClassListEvents {
  select(label: number): void;
  setClasses(classes: LabelClass[]): void;
}

/** Why a class name cannot be used, or null. */
export function nameProblem(name: string, classes: readonly LabelClass[], exceptId?: number): string | null {
  const n = name.trim();
  if (!n) return 'A class needs a name.';
  if (n.length > 200) return 'Class names are at most 200 characters.';
  if (/^(background|unsure)$/i.test(n)) return `"${n}" is a built-in label.`;
  if (classes.some((c) => c.id !== exceptId && c.name.toLowerCase() === n.toLowerCase())) return `There is already a class "${n}".`;
  return null;
}

export class ClassList {
  readonly el = h('div', { class: 'label-classes' });
  private readonly group = h('div', { class: 'class-group', role: 'radiogroup', 'aria-label': 'Label to paint with' });
  private readonly error = h('div', { class: 'form-error', role: 'alert' });
  private readonly addButton = h('button', { type: 'button', class: 'class-add', title: 'Add a class' }, '+ Add class');
  private classes: LabelClass[] = [];
  private selected = 1;

  constructor(private colors: LabelColors, private readonly on: ClassListEvents) {
    this.addButton.addEventListener('click', () => this.startAdd());
    this.el.append(h('div', { class: 'pane-header' }, 'Labels'), this.group, this.addButton, this.error);
  }

  setColors(colors: LabelColors): void {
    this.colors = colors;
    this.render();
  }

  setClasses(classes: readonly LabelClass[]): void {
    this.classes = [...classes];
    this.render();
  }

  get list(): readonly LabelClass[] {
    return this.classes;
  }

  setSelected(label: number): void {
    this.selected = label;
    for (const b of this.group.querySelectorAll<HTMLElement>('.class-item')) {
      const on = Number(b.dataset.label) === label;
      b.setAttribute('aria-checked', String(on));
      b.classList.toggle('selected', on);
    }
  }

  private render(): void {
    clear(this.group);
    const entries: Array<[number, string, string]> = [
      [0, 'background', tooltip('label-background')],
      ...this.classes.map((c, i): [number, string, string] => [c.id, c.name, i < 9 ? `Brush with ${c.name} (${i + 1})` : `Brush with ${c.name}`]),
      [UNSURE, 'unsure', tooltip('label-unsure')],
    ];
    for (const [label, name, tip] of entries) {
      const idx = this.classes.findIndex((c) => c.id === label);
      const key = label === 0 ? 'G' : label === UNSURE ? 'U' : idx >= 0 && idx < 9 ? String(idx + 1) : '';
      const sw = h('span', { class: `swatch${label === UNSURE ? ' swatch-unsure' : ''}` });
      sw.style.backgroundColor = this.colors.css(label);
      const item = h('div', {
        class: 'class-item', role: 'radio', tabindex: label === this.selected ? 0 : -1, 'data-label': label,
        'aria-checked': String(label === this.selected), title: tip,
      }, sw, h('span', { class: 'class-name' }, name), key ? h('kbd', { class: 'class-key' }, key) : null);
      if (label !== 0 && label !== UNSURE) {
        const edit = h('button', { type: 'button', class: 'class-rename', title: `Rename ${name} (F2)`, 'aria-label': `Rename ${name}`, tabindex: -1 }, '✎');
        edit.addEventListener('click', (e) => {
          e.stopPropagation();
          this.startRename(label, item);
        });
        item.appendChild(edit);
        item.addEventListener('dblclick', () => this.startRename(label, item));
      }
      item.classList.toggle('selected', label === this.selected);
      item.addEventListener('click', () => this.on.select(label));
      item.addEventListener('keydown', (e) => this.itemKey(e, label, item));
      this.group.appendChild(item);
    }
    this.addButton.disabled = this.classes.length >= MAX_CLASS;
  }

  private itemKey(e: KeyboardEvent, label: number, item: HTMLElement): void {
    const items = [...this.group.querySelectorAll<HTMLElement>('.class-item')];
    const i = items.indexOf(item);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const next = items[(i + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length];
      this.on.select(Number(next.dataset.label));
      next.focus();
    } else if (e.key === ' ' || e.key === 'Enter') {
      this.on.select(label);
    } else if (e.key === 'F2' && label !== 0 && label !== UNSURE) {
      this.startRename(label, item);
    } else return;
    e.preventDefault();
    e.stopPropagation();
  }

  /** An inline text field in place of `anchor`; resolves with the text on Enter / blur, null on Escape. */
  private editField(anchor: HTMLElement, value: string, label: string, done: (text: string | null) => void): void {
    const input = h('input', { type: 'text', class: 'class-input', 'aria-label': label, value });
    input.value = value;
    let finished = false;
    const finish = (text: string | null): void => {
      if (finished) return;
      finished = true;
      done(text);
    };
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key !== 'Enter' && e.key !== 'Escape') return;
      // no default: focus moves to a button now, and Enter's key press must not click it
      e.preventDefault();
      finish(e.key === 'Enter' ? input.value : null);
    });
    input.addEventListener('blur', () => finish(input.value));
    anchor.replaceWith(input);
    input.focus();
    input.select();
  }

  private startRename(id: number, item: HTMLElement): void {
    const c = this.classes.find((x) => x.id === id);
    if (!c) return;
    this.editField(item, c.name, `New name for ${c.name}`, (text) => {
      const problem = text === null || text.trim() === c.name ? null : nameProblem(text, this.classes, id);
      this.error.textContent = problem ?? '';
      if (text !== null && !problem && text.trim() !== c.name) {
        this.classes = this.classes.map((x) => (x.id === id ? { ...x, name: text.trim() } : x));
        this.on.setClasses(this.classes);
      }
      this.render();
      this.group.querySelector<HTMLElement>(`.class-item[data-label="${id}"]`)?.focus();
    });
  }

  private startAdd(): void {
    const placeholder = h('span', {});
    this.addButton.before(placeholder);
    this.addButton.hidden = true;
    this.editField(placeholder, '', 'Name of the new class', (text) => {
      this.addButton.hidden = false;
      const problem = text === null || !text.trim() ? null : nameProblem(text, this.classes);
      this.error.textContent = problem ?? '';
      if (text !== null && text.trim() && !problem) {
        const used = new Set(this.classes.map((c) => c.id));
        let id = 1;
        while (used.has(id)) id++;
        this.classes = [...this.classes, { id, name: text.trim() }];
        this.on.setClasses(this.classes);
        this.on.select(id);
      }
      this.render();
      this.el.querySelector('input.class-input')?.remove();
      this.addButton.focus();
    });
  }
}
