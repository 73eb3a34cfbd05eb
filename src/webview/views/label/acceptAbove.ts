// "Accept all above a confidence": the count first (the host counts), then a confirm with that number.
import { h } from '../../dom';

type Field = HTMLElement & { value: string };

export interface AcceptAboveEvents {
  count(threshold: number): Promise<number>;
  accept(threshold: number): Promise<number>;
}

export class AcceptAbove {
  readonly el = h('div', { class: 'accept-above' });
  private readonly field = h('vscode-textfield', { class: 'accept-threshold narrow', type: 'number', min: 0, max: 1, step: 0.05, 'aria-label': 'Confidence threshold (0 to 1)' }) as Field;
  private readonly ask = h('vscode-button', { class: 'accept-count', secondary: true, title: 'Count the predicted images at or above this confidence, then confirm' }, 'Accept all ≥');
  private readonly confirm = h('div', { class: 'accept-confirm', role: 'alert', hidden: true });
  private readonly text = h('span', {});
  private readonly yes = h('vscode-button', { class: 'accept-yes' }, 'Accept');
  private readonly no = h('vscode-button', { class: 'accept-no', secondary: true }, 'Cancel');
  private threshold = 0.9;

  constructor(private readonly on: AcceptAboveEvents) {
    this.field.value = '0.9';
    // the element names its inner <input> from this property (aria-label stays on the element itself)
    (this.field as Field & { label: string }).label = 'Confidence threshold (0 to 1)';
    this.confirm.append(this.text, this.yes, this.no);
    this.ask.addEventListener('click', () => void this.count());
    this.no.addEventListener('click', () => {
      this.confirm.hidden = true;
    });
    this.yes.addEventListener('click', () => void this.accept());
    this.el.append(h('div', { class: 'accept-row' }, this.ask, this.field), this.confirm);
  }

  private async count(): Promise<void> {
    const t = Number(this.field.value);
    if (!(t >= 0 && t <= 1) || this.field.value.trim() === '') {
      this.field.setAttribute('invalid', '');
      this.show('The threshold is a confidence between 0 and 1.', false);
      return;
    }
    this.field.removeAttribute('invalid');
    this.threshold = t;
    try {
      const n = await this.on.count(t);
      this.show(n ? `Accept ${n.toLocaleString('en-US')} image${n === 1 ? '' : 's'} with confidence ≥ ${t}?` : `No predicted image has confidence ≥ ${t}.`, n > 0, n);
    } catch (e) {
      this.show(`Cannot count: ${(e as Error).message}`, false);
    }
  }

  private async accept(): Promise<void> {
    this.yes.setAttribute('disabled', '');
    try {
      const n = await this.on.accept(this.threshold);
      this.show(`Accepted ${n.toLocaleString('en-US')} image${n === 1 ? '' : 's'}.`, false);
    } catch (e) {
      this.show(`Accepting failed: ${(e as Error).message}`, false);
    } finally {
      this.yes.removeAttribute('disabled');
    }
  }

  private show(text: string, askYes: boolean, n?: number): void {
    this.text.textContent = text;
    this.yes.hidden = !askYes;
    this.no.textContent = askYes ? 'Cancel' : 'OK';
    if (n !== undefined) this.yes.textContent = `Accept ${n.toLocaleString('en-US')}`;
    this.confirm.hidden = false;
    (askYes ? this.yes : this.no).focus();
  }
}
