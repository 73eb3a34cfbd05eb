// Progress of the background grid pass (the host re-segments every image after a change), with cancel.
import { h } from '../../dom';
import type { LabelGridProgress } from '../../../shared/webviewLabelProtocol';

export class GridProgress {
  readonly el = h('div', { class: 'grid-progress', hidden: true });
  private readonly bar = h('vscode-progress-bar', {}) as HTMLElement & { value: number; max: number; indeterminate: boolean };
  private readonly text = h('span', { class: 'grid-progress-text', 'aria-live': 'polite' });
  private readonly cancelB = h('vscode-button', { class: 'grid-cancel', secondary: true, title: 'Stop this pass (the images not reached keep their last mask)' }, 'Cancel');
  private pass = -1;

  constructor(cancel: (pass: number) => void) {
    this.cancelB.addEventListener('click', () => {
      if (this.pass >= 0) cancel(this.pass);
    });
    this.el.append(this.text, this.bar, this.cancelB);
  }

  update(p: LabelGridProgress & { cancelled?: boolean }): void {
    if (p.cancelled || p.done >= p.total) {
      this.pass = -1;
      this.el.hidden = true;
      return;
    }
    this.pass = p.pass;
    this.el.hidden = false;
    this.bar.indeterminate = false;
    this.bar.max = p.total;
    this.bar.value = p.done;
    this.text.textContent = `Segmenting ${p.done.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')}${p.note ? ` · ${p.note}` : ''}`;
  }

  get active(): number {
    return this.pass;
  }
}
