// The settings bar of the episode browser: dataset, split convention, fold, ways, shots, seed and the
// support annotation. Every change posts setSettings; the host answers with the settings in force.
import { h } from './dom';
import type { AppContext } from './context';
import type { UiSettings } from '../shared/webviewProtocol';

type Select = HTMLElement & { value: string };
type Field = HTMLElement & { value: string };

function select(name: string, label: string, options: Array<[string, string]>, value: string): Select {
  const s = h('vscode-single-select', { 'data-setting': name, 'aria-label': label, class: `setting-${name}` }) as Select;
  for (const [v, text] of options) {
    const o = h('vscode-option', { value: v }, text);
    if (v === value) o.setAttribute('selected', '');
    s.appendChild(o);
  }
  s.value = value;
  return s;
}

function numberField(name: string, label: string, value: number, min: number): Field {
  const f = h('vscode-textfield', { 'data-setting': name, type: 'number', min, 'aria-label': label, class: `setting-${name} narrow` }) as Field;
  f.value = String(value);
  return f;
}

export function settingsBar(ctx: AppContext, onChange: (patch: Partial<UiSettings>) => void): HTMLElement {
  const s = ctx.settings;
  const datasets = ctx.init.datasets ?? (s.dataset ? [{ label: s.dataset, root: s.dataset, kind: s.datasetKind ?? 'voc' }] : []);
  const folds = ctx.datasetInfo ? ctx.datasetInfo.folds[s.split].length : 4;
  const controls: Array<[string, HTMLElement]> = [
    ['Dataset', select('dataset', 'Dataset', datasets.map((d) => [d.root, d.label]), s.dataset ?? '')],
    ['Split', select('split', 'Split convention', [['panet', 'PANet (5i)'], ['fwb', 'FWB']], s.split)],
    ['Fold', select('fold', 'Fold', Array.from({ length: Math.max(1, folds) }, (_, i) => [String(i), String(i)]), String(s.fold))],
    ['Ways', numberField('ways', 'Ways', s.ways, 1)],
    ['Shots', numberField('shots', 'Shots', s.shots, 1)],
    ['Seed', numberField('seed', 'Seed', s.seed, 0)],
    ['Support', select('annotation', 'Support annotation', [['dense', 'dense'], ['scribble', 'scribble'], ['box', 'box'], ['pseudo', 'image labels (pseudo masks)']], s.annotation)],
  ];
  const bar = h('div', { class: 'settings-bar', role: 'toolbar', 'aria-label': 'Episode settings' });
  for (const [label, el] of controls) {
    const name = el.dataset.setting as keyof UiSettings;
    el.addEventListener('change', () => {
      const raw = (el as Field).value;
      const numeric = name === 'fold' || name === 'ways' || name === 'shots' || name === 'seed';
      const value = numeric ? Number(raw) : raw;
      if (numeric && (!Number.isInteger(value) || (value as number) < (name === 'ways' || name === 'shots' ? 1 : 0))) {
        el.setAttribute('invalid', '');
        return;
      }
      el.removeAttribute('invalid');
      onChange({ [name]: value } as Partial<UiSettings>);
    });
    bar.appendChild(h('label', { class: 'setting' }, h('span', { class: 'setting-label' }, label), el));
  }
  return bar;
}
