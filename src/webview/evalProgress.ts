// The progress strip of a running evaluation: a bar, a count and a cancel button (the host shows the
// same job in a VS Code progress notification; either cancel stops it).
import { h } from './dom';
import type { Host } from './host';

export class EvalProgress {
  readonly el = h('div', { class: 'eval-progress', hidden: true });
  private requestId = -1;
  private readonly bar = h('vscode-progress-bar', {}) as HTMLElement & { value: number; max: number; indeterminate: boolean };
  private readonly text = h('span', { class: 'progress-text' });
  constructor(private readonly host: Host) {
    const cancel = h('vscode-button', { secondary: true, class: 'cancel-eval' }, 'Cancel');
    cancel.addEventListener('click', () => {
      if (this.requestId >= 0) this.host.send({ type: 'cancel', requestId: this.requestId });
    });
    this.el.append(this.bar, this.text, cancel);
  }

  start(requestId: number): void {
    this.requestId = requestId;
    this.el.hidden = false;
    this.bar.indeterminate = true;
    this.text.textContent = 'Starting evaluation…';
  }

  get active(): number {
    return this.requestId;
  }

  update(requestId: number, done: number, total: number, note?: string): void {
    if (requestId !== this.requestId) return;
    this.bar.indeterminate = false;
    this.bar.max = total;
    this.bar.value = done;
    this.text.textContent = `${done} / ${total} episodes${note ? ` · ${note}` : ''}`;
  }

  end(): void {
    this.requestId = -1;
    this.el.hidden = true;
  }
}
