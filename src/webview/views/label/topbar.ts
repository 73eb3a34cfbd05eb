// The labeling view's top bar: method / backbone / checkpoint (options from the host), the mode
// (draw, or image tags only — per image, or one sub-folder per class), Suggest next, and Export (the
// host asks for the folder; the webview only says which formats).
import { h } from '../../dom';
import type { ExportFormat, LabelMode, LabelOptions } from '../../../shared/webviewLabelProtocol';
import { tooltip } from './keyboard';

type Select = HTMLElement & { value: string; disabled: boolean };
type Check = HTMLElement & { checked: boolean; disabled: boolean };

export interface TopBarEvents {
  options(change: { method?: string; backbone?: string; checkpoint?: string }): void;
  mode(mode: LabelMode, folderTags: boolean): void;
  suggest(): void;
  exportTo(formats: ExportFormat[]): void;
}

export class TopBar {
  readonly el = h('div', { class: 'topbar label-topbar' });
  private readonly selects: Record<'method' | 'backbone' | 'checkpoint', Select>;
  private readonly modeSel: Select;
  private readonly folders: Check;
  private readonly formats: Record<ExportFormat, Check>;
  readonly suggestButton: HTMLElement;
  readonly exportButton: HTMLElement;
  private mode: LabelMode = 'draw';

  constructor(private readonly on: TopBarEvents) {
    const sel = (k: 'method' | 'backbone' | 'checkpoint', label: string): Select => {
      const s = h('vscode-single-select', { class: `label-${k}`, 'aria-label': label, 'data-option': k }) as Select;
      s.addEventListener('change', () => {
        if (this.building) return;
        this.on.options({ [k]: s.value });
      });
      return s;
    };
    this.selects = { method: sel('method', 'Method'), backbone: sel('backbone', 'Backbone'), checkpoint: sel('checkpoint', 'Checkpoint') };
    this.modeSel = h('vscode-single-select', { class: 'label-mode', 'aria-label': 'Labeling mode' }) as Select;
    this.modeSel.append(h('vscode-option', { value: 'draw', selected: true }, 'Draw on images'), h('vscode-option', { value: 'tags' }, 'From image tags only'));
    this.modeSel.value = 'draw';
    this.folders = h('vscode-checkbox', { class: 'label-folder-tags', label: 'One sub-folder per class', title: 'Each image\'s class is the name of its sub-folder' }) as Check;
    this.modeSel.addEventListener('change', () => {
      if (this.building) return;
      this.mode = (this.modeSel.value || 'draw') as LabelMode;
      this.folders.hidden = this.mode !== 'tags';
      this.on.mode(this.mode, this.folders.checked);
    });
    this.folders.addEventListener('change', () => {
      if (!this.building) this.on.mode(this.mode, this.folders.checked);
    });
    this.folders.hidden = true;
    this.suggestButton = h('vscode-button', { class: 'label-suggest', title: tooltip('suggest', 'Open the image whose labeling should help most') }, 'Suggest next');
    this.suggestButton.addEventListener('click', () => this.on.suggest());
    this.formats = {
      voc: h('vscode-checkbox', { class: 'export-voc', label: 'VOC', checked: true }) as Check,
      coco: h('vscode-checkbox', { class: 'export-coco', label: 'COCO', checked: true }) as Check,
    };
    this.formats.voc.checked = true;
    this.formats.coco.checked = true;
    this.exportButton = h('vscode-button', { class: 'label-export', secondary: true, title: 'Export the masks (VOC and/or COCO) into a folder you pick' }, 'Export…');
    this.exportButton.addEventListener('click', () => {
      const f = (Object.keys(this.formats) as ExportFormat[]).filter((k) => this.formats[k].checked);
      if (f.length) this.on.exportTo(f);
    });
    const field = (label: string, el: HTMLElement): HTMLElement => h('label', { class: 'setting' }, h('span', { class: 'setting-label' }, label), el);
    this.el.append(
      field('Method', this.selects.method), field('Backbone', this.selects.backbone), field('Checkpoint', this.selects.checkpoint),
      field('Mode', this.modeSel), this.folders,
      h('span', { class: 'spacer' }),
      this.suggestButton,
      h('span', { class: 'export-group', role: 'group', 'aria-label': 'Export' }, this.formats.voc, this.formats.coco, this.exportButton),
    );
  }

  private building = false;

  setOptions(o: LabelOptions): void {
    this.building = true;
    const fill = (s: Select, choices: LabelOptions['methods'], value: string): void => {
      while (s.firstChild) s.removeChild(s.firstChild);
      for (const c of choices) s.appendChild(h('vscode-option', { value: c.id, selected: c.id === value }, c.label));
      s.value = value;
      s.disabled = choices.length < 2 && choices.every((c) => c.id === value);
    };
    fill(this.selects.method, o.methods, o.method);
    fill(this.selects.backbone, o.backbones, o.backbone);
    fill(this.selects.checkpoint, [{ id: '', label: 'none (backbone weights)' }, ...o.checkpoints], o.checkpoint ?? '');
    this.building = false;
  }

  setMode(mode: LabelMode, folderTags: boolean): void {
    this.building = true;
    this.mode = mode;
    this.modeSel.value = mode;
    this.folders.checked = folderTags;
    this.folders.hidden = mode !== 'tags';
    this.building = false;
  }
}
