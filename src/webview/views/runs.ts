// Runs dashboard: the training form (posts startTraining), the runs with their state, and live loss /
// validation-mIoU curves of the selected run with pause / resume / cancel. PAR (PANet's prototype
// alignment) is PANet's only: its λ field shows for PANet alone, and the loss chart draws only the
// parts a run logs. Supervision: dense masks, or image-level labels only (weak: pseudo masks, the
// pixel-level meta-learner's setting; any method can train that way).
import { lossCurve, valCurve } from '../charts';
import { onThemeChange } from '../colors';
import type { AppContext, View } from '../context';
import { clear, h } from '../dom';
import type { HostMessage, MetricsRow, RunInfo, TrainingParams } from '../../shared/webviewProtocol';

type Field = HTMLElement & { value: string; checked?: boolean; disabled?: boolean };

export const DEFAULT_FORM: TrainingParams = { method: 'panet', fold: 0, ways: 1, shots: 1, steps: 1000, lr: 1e-3, par: 1, freezeBackbone: false, supervision: 'masks' };

type Supervision = NonNullable<TrainingParams['supervision']>;
const SUPERVISION_LABELS: Record<Supervision, string> = { masks: 'masks', 'image-labels': 'image labels (weak)' };

/** ' · image labels' for a weakly supervised run (status line, run list), '' otherwise. */
export const supervisionNote = (p?: Partial<TrainingParams>): string => (p?.supervision === 'image-labels' ? ' · image labels' : '');

export class RunsView implements View {
  readonly el = h('div', { class: 'view view-runs' });
  private readonly runs = new Map<string, RunInfo>();
  private readonly metrics = new Map<string, MetricsRow[]>();
  private selected: string | undefined;
  private readonly fields = new Map<keyof TrainingParams, Field>();
  private readonly runList = h('div', { class: 'run-list' });
  private readonly loss = lossCurve();
  private readonly val = valCurve();
  private readonly status = h('div', { class: 'run-status muted' });
  private readonly buttons: Record<'pause' | 'resume' | 'cancel', Field>;
  private readonly formError = h('div', { class: 'form-error' });
  private parRow: HTMLElement | undefined;
  /** the method picked in the form (tracked here, not read back from the select, which may not have rendered its options yet) */
  private method: TrainingParams['method'] = DEFAULT_FORM.method;
  /** the supervision picked in the form (tracked for the same reason) */
  private supervision: Supervision = 'masks';

  constructor(private readonly ctx: AppContext) {
    const saved = ctx.store.get().runs;
    this.selected = saved?.selectedRun;
    const f = { ...DEFAULT_FORM, fold: ctx.settings.fold, ways: ctx.settings.ways, shots: ctx.settings.shots, ...saved?.form };
    const text = (k: keyof TrainingParams, label: string, type = 'number'): HTMLElement => {
      const el = h('vscode-textfield', { type, name: k, 'aria-label': label, class: `field-${k}` }) as Field;
      el.value = String(f[k] ?? '');
      el.addEventListener('change', () => this.saveForm());
      this.fields.set(k, el);
      return h('label', { class: 'form-row' }, h('span', { class: 'setting-label' }, label), el);
    };
    const method = h('vscode-single-select', { name: 'method', class: 'field-method', 'aria-label': 'Method' }) as Field;
    for (const [v, t] of [['panet', 'PANet'], ['metasegnet', 'MetaSegNet'], ['pixelmeta', 'Pixel-level meta-learner']]) method.appendChild(h('vscode-option', { value: v, selected: v === f.method }, t));
    method.value = f.method;
    this.method = f.method;
    method.addEventListener('change', () => {
      if (method.value) this.method = method.value as TrainingParams['method'];
      // each paper's default: the pixel-level meta-learner trains its encoder on a frozen backbone
      const freeze = this.fields.get('freezeBackbone');
      if (freeze) freeze.checked = this.method === 'pixelmeta';
      this.showMethodFields();
      this.saveForm();
    });
    this.fields.set('method', method);
    const supervision = h('vscode-single-select', { name: 'supervision', class: 'field-supervision', 'aria-label': 'Supervision' }) as Field;
    this.supervision = f.supervision === 'image-labels' ? 'image-labels' : 'masks';
    for (const [v, t] of Object.entries(SUPERVISION_LABELS)) supervision.appendChild(h('vscode-option', { value: v, selected: v === this.supervision }, t));
    supervision.value = this.supervision;
    supervision.title = 'masks: dense support/query masks. image labels (weak): only which classes each image holds; pseudo masks stand in for the masks (pixel-level meta-learner)';
    supervision.addEventListener('change', () => {
      if (supervision.value === 'masks' || supervision.value === 'image-labels') this.supervision = supervision.value;
      this.saveForm();
    });
    this.fields.set('supervision', supervision);
    const freeze = h('vscode-checkbox', { label: 'Freeze backbone', class: 'field-freezeBackbone' }) as Field;
    freeze.checked = f.freezeBackbone;
    freeze.addEventListener('change', () => this.saveForm());
    this.fields.set('freezeBackbone', freeze);
    const init = h('vscode-single-select', { name: 'init', class: 'field-init', 'aria-label': 'Initial checkpoint' }) as Field;
    init.appendChild(h('vscode-option', { value: '' }, '(backbone weights)'));
    for (const c of ctx.init.checkpoints ?? []) init.appendChild(h('vscode-option', { value: c, selected: c === f.init }, c));
    init.value = f.init ?? '';
    init.addEventListener('change', () => this.saveForm());
    this.fields.set('init', init);
    const start = h('vscode-button', { class: 'start-training', disabled: ctx.init.trusted === false }, 'Start training');
    if (ctx.init.trusted === false) start.title = 'Training is disabled in an untrusted workspace';
    start.addEventListener('click', () => this.start());
    this.parRow = text('par', 'PAR λ', 'text');
    this.parRow.classList.add('row-par');
    this.parRow.title = 'Prototype alignment regularisation weight (PANet only; 0 = off)';
    const form = h('form', { class: 'train-form', 'aria-label': 'New training run' },
      h('label', { class: 'form-row' }, h('span', { class: 'setting-label' }, 'Method'), method),
      h('label', { class: 'form-row' }, h('span', { class: 'setting-label' }, 'Supervision'), supervision),
      text('fold', 'Fold'), text('ways', 'Ways'), text('shots', 'Shots'), text('steps', 'Steps'),
      text('lr', 'Learning rate', 'text'), this.parRow,
      h('div', { class: 'form-row' }, h('span', { class: 'setting-label' }, ''), freeze),
      h('label', { class: 'form-row' }, h('span', { class: 'setting-label' }, 'Init checkpoint'), init),
      h('div', { class: 'form-row' }, h('span', { class: 'setting-label' }, ''), start), this.formError);
    form.addEventListener('submit', (e) => e.preventDefault());
    const btn = (name: 'pause' | 'resume' | 'cancel', label: string): Field => {
      const b = h('vscode-button', { secondary: true, class: `run-${name}`, disabled: true }, label) as Field;
      b.addEventListener('click', () => {
        if (!this.selected) return;
        this.ctx.host.send({ type: name === 'pause' ? 'pauseTraining' : name === 'resume' ? 'resumeTraining' : 'cancelTraining', runId: this.selected });
      });
      return b;
    };
    this.buttons = { pause: btn('pause', 'Pause'), resume: btn('resume', 'Resume'), cancel: btn('cancel', 'Cancel') };
    this.el.append(h('div', { class: 'split' },
      h('div', { class: 'pane runs-left' }, h('div', { class: 'pane-header' }, 'New run'), form, h('div', { class: 'pane-header' }, 'Runs'), this.runList),
      h('div', { class: 'pane runs-right' },
        h('div', { class: 'topbar' }, this.status, this.buttons.pause, this.buttons.resume, this.buttons.cancel),
        this.loss.el, this.val.el)));
    this.showMethodFields();
    this.renderRuns();
    onThemeChange(() => {
      this.loss.retheme();
      this.val.retheme();
    }, this.el);
  }

  /** PAR is PANet's: hide its field for the other methods. */
  private showMethodFields(): void {
    if (this.parRow) this.parRow.hidden = this.method !== 'panet';
  }

  private read(): TrainingParams | string {
    const v = (k: keyof TrainingParams): string => this.fields.get(k)?.value.trim() ?? '';
    const intOf = (k: keyof TrainingParams, min: number): number | string => {
      const n = Number(v(k));
      return Number.isInteger(n) && n >= min ? n : `${k} must be an integer ≥ ${min}`;
    };
    const fold = intOf('fold', 0), ways = intOf('ways', 1), shots = intOf('shots', 1), steps = intOf('steps', 1);
    const lr = Number(v('lr'));
    let par = Number(v('par'));
    const method = (v('method') || this.method) as TrainingParams['method'];
    const sv = v('supervision');
    const supervision: Supervision = sv === 'masks' || sv === 'image-labels' ? sv : this.supervision;
    const panet = method === 'panet';
    for (const x of [fold, ways, shots, steps]) if (typeof x === 'string') return x;
    if (!(lr > 0) || !Number.isFinite(lr)) return 'learning rate must be a number > 0';
    // the PAR field is hidden for the other methods: what it holds does not matter there
    if (!(par >= 0) || !Number.isFinite(par)) {
      if (panet) return 'PAR λ must be a number ≥ 0';
      par = DEFAULT_FORM.par;
    }
    const init = v('init');
    return {
      method, fold: fold as number, ways: ways as number, shots: shots as number, steps: steps as number,
      lr, par, freezeBackbone: Boolean(this.fields.get('freezeBackbone')?.checked), ...(init ? { init } : {}), supervision,
    };
  }

  private saveForm(): void {
    const p = this.read();
    if (typeof p !== 'string') this.ctx.store.patch({ runs: { selectedRun: this.selected, form: p } });
  }

  private start(): void {
    const p = this.read();
    this.formError.textContent = typeof p === 'string' ? p : '';
    if (typeof p === 'string') return;
    this.ctx.store.patch({ runs: { selectedRun: this.selected, form: p } });
    // the form keeps the λ typed for PANet; a run of another method has no PAR term
    const params: TrainingParams = p.method === 'panet' ? p : { ...p, par: 0 };
    this.ctx.host.request({ type: 'startTraining', params }).reply.then((m) => {
      if (m.type === 'ack' && m.runId) {
        if (!this.runs.has(m.runId)) this.runs.set(m.runId, { runId: m.runId, state: 'starting', steps: params.steps, params });
        this.select(m.runId);
      }
    }, (e: Error) => {
      this.formError.textContent = e.message;
    });
  }

  private select(runId: string): void {
    this.selected = runId;
    const form = this.read();
    this.ctx.store.patch({ runs: { selectedRun: runId, form: typeof form === 'string' ? undefined : form } });
    this.renderRuns();
    this.loss.set(this.metrics.get(runId) ?? []);
    this.val.set(this.metrics.get(runId) ?? []);
  }

  private renderRuns(): void {
    clear(this.runList);
    if (!this.runs.size) this.runList.appendChild(h('div', { class: 'empty' }, 'No runs yet.'));
    for (const r of [...this.runs.values()].reverse()) {
      const item = h('div', { class: `run-item${r.runId === this.selected ? ' selected' : ''}`, 'data-run': r.runId, tabindex: 0 },
        h('span', { class: 'run-id' }, r.runId),
        h('span', { class: `badge state-${r.state}` }, r.state),
        ...(r.params?.supervision === 'image-labels' ? [h('span', { class: 'badge run-weak', title: 'weakly supervised: trained from image-level labels (pseudo masks)' }, 'image labels')] : []),
        h('span', { class: 'muted' }, r.step !== undefined ? `${r.step}${r.steps ? ` / ${r.steps}` : ''}` : ''));
      item.addEventListener('click', () => this.select(r.runId));
      this.runList.appendChild(item);
    }
    const r = this.selected ? this.runs.get(this.selected) : undefined;
    this.status.textContent = r ? `${r.runId}: ${r.state}${supervisionNote(r.params)}${r.message ? ` — ${r.message}` : ''}${r.checkpoint ? ` · ${r.checkpoint}` : ''}` : 'No run selected';
    const live = r?.state === 'running' || r?.state === 'starting';
    this.buttons.pause.disabled = !live;
    this.buttons.resume.disabled = r?.state !== 'paused';
    this.buttons.cancel.disabled = !(live || r?.state === 'paused');
  }

  onMessage(m: HostMessage): void {
    if (m.type === 'runStatus') {
      this.runs.set(m.run.runId, { ...this.runs.get(m.run.runId), ...m.run });
      if (!this.selected) this.selected = m.run.runId;
      this.renderRuns();
    } else if (m.type === 'runMetrics') {
      const rows = m.reset ? [...m.rows] : [...(this.metrics.get(m.runId) ?? []), ...m.rows];
      this.metrics.set(m.runId, rows);
      if (!this.runs.has(m.runId)) {
        this.runs.set(m.runId, { runId: m.runId, state: 'running' });
        this.renderRuns();
      }
      this.selected ??= m.runId;
      if (m.runId === this.selected) {
        this.loss.set(rows);
        this.val.set(rows);
      }
    }
  }
}
