// Under the open image: its name, status and confidence, what the last action said (a suggestion's
// reason, an export's folder, an error), Use as support and Accept.
import { h } from '../../dom';
import type { LabelImageInfo } from '../../../shared/webviewLabelProtocol';
import { STATUS_TEXT } from './grid';
import { tooltip } from './keyboard';

type Button = HTMLElement & { disabled: boolean };

export interface ImageBarEvents {
  accept(): void;
  support(on: boolean): void;
}

export class ImageBar {
  readonly el = h('div', { class: 'label-imagebar' });
  private readonly name = h('span', { class: 'image-name' });
  private readonly status = h('span', { class: 'image-status' });
  private readonly conf = h('span', { class: 'image-conf muted' });
  readonly note = h('div', { class: 'label-note', role: 'status', 'aria-live': 'polite' });
  private readonly supportB: Button;
  private readonly acceptB: Button;
  private info: LabelImageInfo | undefined;

  constructor(private readonly on: ImageBarEvents) {
    this.supportB = h('vscode-button', { class: 'label-support', secondary: true, title: tooltip('support', 'Use this image (with its strokes) as a support: everything re-segments') }, 'Use as support') as Button;
    this.supportB.addEventListener('click', () => this.on.support(!this.info?.support));
    this.acceptB = h('vscode-button', { class: 'label-accept', title: tooltip('accept', 'Accept this image\'s mask') }, 'Accept') as Button;
    this.acceptB.addEventListener('click', () => this.on.accept());
    this.el.append(h('div', { class: 'image-info' }, this.name, this.status, this.conf), this.note, h('span', { class: 'spacer' }), this.supportB, this.acceptB);
    this.set(undefined, undefined);
  }

  set(info: LabelImageInfo | undefined, confidence: number | undefined): void {
    this.info = info;
    this.name.textContent = info?.name ?? 'No image open';
    this.status.textContent = info ? STATUS_TEXT[info.status] : '';
    this.status.className = `image-status chip status-${info?.status ?? 'none'}`;
    this.status.hidden = !info;
    const c = confidence ?? (typeof info?.confidence === 'number' ? info.confidence : undefined);
    this.conf.textContent = c === undefined ? '' : `confidence ${Math.round(c * 100)}%`;
    this.supportB.textContent = info?.support ? 'Remove from supports' : 'Use as support';
    this.supportB.disabled = !info || info.status === 'broken';
    this.acceptB.disabled = !info || info.status === 'broken' || info.status === 'accepted' || info.status === 'unlabeled';
  }

  say(text: string, kind: 'info' | 'error' = 'info'): void {
    this.note.textContent = text;
    this.note.classList.toggle('error', kind === 'error');
  }
}
