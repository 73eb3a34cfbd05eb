// Report: headline mIoU / FB-IoU (mean ± std over runs), per-class bars, baselines and the settings
// the numbers hold for. Compare: two reports side by side with per-class and per-episode deltas.
import { onThemeChange, themePalette } from '../colors';
import { className, type AppContext, type View } from '../context';
import { clear, episodeOf, fmtIoU, h, meanDefined } from '../dom';
import type { HostMessage, MeanStd, ReportBundle, ReportData, WeakReport } from '../../shared/webviewProtocol';

const pct = (x: number | null | undefined): string => fmtIoU(x);
const pm = (s: MeanStd | undefined, fallback: number): string => (s && s.n > 1 ? `${pct(s.mean)} ± ${pct(s.std)}` : pct(s?.mean ?? fallback));

function classRows(r: ReportData): Array<{ cls: number; name: string; mean: number | null; std: number | null }> {
  const names = new Map((r.data?.foldClasses ?? []).map((f) => [f.cls, f.name]));
  if (r.summary) return r.summary.classIoU.map((c) => ({ cls: c.cls, name: names.get(c.cls) ?? `class ${c.cls}`, mean: Number.isNaN(c.mean) ? null : c.mean, std: c.n > 1 ? c.std : null }));
  const first = r.runs?.[0]?.classIoU ?? [];
  return first.map((c) => ({ cls: c.cls, name: c.name, mean: meanDefined((r.runs ?? []).map((run) => run.classIoU.find((x) => x.cls === c.cls)?.iou)), std: null }));
}

function settingsLine(r: ReportData): string {
  const s = r.settings;
  const parts = [
    s.method, s.dataset && `${s.dataset}${s.split ? ` (${s.split})` : ''}`, s.fold !== undefined && `fold ${s.fold}`,
    s.ways !== undefined && `${s.ways}-way ${s.shots}-shot`, s.annotation, s.episodes !== undefined && `${s.episodes} episodes × ${s.runs} runs`,
    s.seed !== undefined && `seed ${s.seed}`, s.size !== undefined && `${s.size}px`, r.backbone?.id, r.backend,
  ];
  return parts.filter(Boolean).join(' · ');
}

function bar(value: number | null, color: string, cls = 'bar'): HTMLElement {
  const track = h('div', { class: `${cls}-track` });
  const fill = h('div', { class: `${cls}-fill` });
  fill.style.width = `${Math.max(0, Math.min(1, value ?? 0)) * 100}%`;
  fill.style.backgroundColor = color;
  track.appendChild(fill);
  return track;
}

/** Weak supervision: the supports were image-level labels only; what made their pseudo masks and how good those were. */
function weakSection(ctx: AppContext, w: WeakReport): HTMLElement {
  const p = w.parts, m = w.pseudoMasks;
  const el = h('div', { class: 'weak' },
    h('h3', { class: 'section' }, 'Weak supervision'),
    h('div', { class: 'weak-supervision' }, 'Supports: image-level labels only (pseudo masks), no pixel annotation.'),
    h('div', { class: 'weak-parts muted' }, 'Pseudo masks made by: ',
      h('span', { 'data-part': 'cam' }, `CAM ${p.cam}`), ' · ',
      h('span', { 'data-part': 'similarity' }, `word similarity ${p.similarity}`), ' · ',
      h('span', { 'data-part': 'saliency' }, `saliency ${p.saliency}`), ' · ',
      h('span', { 'data-part': 'threshold' }, `threshold ${p.threshold}`)));
  if (p.unknownLabels.length) el.appendChild(h('div', { class: 'weak-unknown warn' }, `No word similarity for ${p.unknownLabels.join(', ')}: those masks are the saliency alone.`));
  el.appendChild(h('div', { class: 'cards' },
    h('div', { class: 'card', 'data-metric': 'pseudo-miou' }, h('div', { class: 'card-label' }, 'Pseudo-mask mIoU'), h('div', { class: 'card-value' }, pct(m.miou))),
    h('div', { class: 'card', 'data-metric': 'pseudo-fbiou' }, h('div', { class: 'card-label' }, 'Pseudo-mask FB-IoU'), h('div', { class: 'card-value' }, pct(m.fbiou))),
    h('div', { class: 'card', 'data-metric': 'pseudo-masks' }, h('div', { class: 'card-label' }, 'Masks scored'), h('div', { class: 'card-value' }, String(m.masks)))));
  el.appendChild(h('div', { class: 'muted' }, 'The support pseudo masks scored against their ground truth (mean over runs); the numbers above are the model\'s on the queries.'));
  if (m.classIoU.length) {
    const t = h('table', { class: 'plain weak-classes' }, h('tr', {}, h('th', {}, 'class'), h('th', {}, 'pseudo-mask IoU')));
    for (const c of m.classIoU) t.appendChild(h('tr', { 'data-cls': c.cls }, h('td', {}, c.name || className(ctx, c.cls)), h('td', {}, pct(c.iou))));
    el.appendChild(t);
  }
  return el;
}

export function renderReport(ctx: AppContext, b: ReportBundle): HTMLElement {
  const r = b.result, pal = themePalette();
  const el = h('section', { class: 'report' },
    h('h2', {}, b.label, r.complete === false ? h('span', { class: 'badge warn' }, 'incomplete') : null),
    h('div', { class: 'muted' }, settingsLine(r)),
    r.protocolWarning ? h('div', { class: 'warn protocol-warning' }, `Not comparable to the papers: ${r.protocolWarning.replace(/^not comparable to the papers: /, '')}`) : null,
    h('div', { class: 'cards' },
      h('div', { class: 'card', 'data-metric': 'miou' }, h('div', { class: 'card-label' }, 'mIoU'), h('div', { class: 'card-value' }, pm(r.summary?.mIoU, r.miou))),
      h('div', { class: 'card', 'data-metric': 'fbiou' }, h('div', { class: 'card-label' }, 'FB-IoU'), h('div', { class: 'card-value' }, pm(r.summary?.fbIoU, r.fbiou))),
      h('div', { class: 'card' }, h('div', { class: 'card-label' }, 'Scored'), h('div', { class: 'card-value' }, String(r.episodesScored ?? b.records.length))),
    ));
  const table = h('div', { class: 'class-bars' });
  for (const c of classRows(r)) {
    table.appendChild(h('div', { class: 'class-bar', 'data-cls': c.cls },
      h('span', { class: 'class-name' }, c.name || className(ctx, c.cls)),
      bar(c.mean, pal.css(c.cls)),
      h('span', { class: 'class-value' }, c.std !== null ? `${pct(c.mean)} ± ${pct(c.std)}` : pct(c.mean))));
  }
  if (r.weak) el.appendChild(weakSection(ctx, r.weak));
  el.append(h('h3', { class: 'section' }, 'Per class IoU (mean over runs)'), table);
  if (r.baselines) {
    el.append(h('h3', { class: 'section' }, 'Baselines'), h('table', { class: 'plain baselines' },
      h('tr', {}, h('th', {}, ''), h('th', {}, 'mIoU'), h('th', {}, 'FB-IoU')),
      h('tr', {}, h('td', {}, 'this model'), h('td', {}, pct(r.miou)), h('td', {}, pct(r.fbiou))),
      h('tr', {}, h('td', {}, 'all background'), h('td', {}, pct(r.baselines.allBackground.miou)), h('td', {}, pct(r.baselines.allBackground.fbiou))),
      h('tr', {}, h('td', {}, 'all foreground'), h('td', {}, pct(r.baselines.allForeground.miou)), h('td', {}, pct(r.baselines.allForeground.fbiou)))));
  }
  if (r.runs?.length) {
    const runs = h('table', { class: 'plain runs' }, h('tr', {}, h('th', {}, 'run'), h('th', {}, 'seed'), h('th', {}, 'mIoU'), h('th', {}, 'FB-IoU')));
    for (const run of r.runs) runs.appendChild(h('tr', {}, h('td', {}, String(run.run)), h('td', {}, String(run.seed ?? '')), h('td', {}, pct(run.miou)), h('td', {}, pct(run.fbiou))));
    el.append(h('h3', { class: 'section' }, 'Runs'), runs);
  }
  if (r.skipped?.length) el.append(h('div', { class: 'warn' }, `${r.skipped.length} episode(s) skipped: ${r.skipped.slice(0, 3).map((s) => `${s.episode}: ${s.error}`).join('; ')}`));
  if (r.timing) el.append(h('div', { class: 'muted' }, `${r.timing.seconds.toFixed(1)} s · ${r.timing.episodesPerSecond.toFixed(2)} episodes/s`));
  return el;
}

function deltaCell(d: number | null): HTMLElement {
  const el = h('td', { class: 'delta' }, d === null ? '–' : `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)}`);
  if (d !== null && Math.abs(d) >= 0.0005) el.classList.add(d > 0 ? 'up' : 'down');
  return el;
}

export function renderCompare(ctx: AppContext, a: ReportBundle, b: ReportBundle): HTMLElement {
  const el = h('section', { class: 'compare' });
  const ca = new Map(classRows(a.result).map((c) => [c.cls, c]));
  const cb = new Map(classRows(b.result).map((c) => [c.cls, c]));
  const classes = [...new Set([...ca.keys(), ...cb.keys()])].sort((x, y) => x - y);
  const t = h('table', { class: 'plain compare-classes' },
    h('tr', {}, h('th', {}, 'class'), h('th', {}, a.label), h('th', {}, b.label), h('th', {}, 'Δ (B − A)')));
  const row = (name: string, x: number | null, y: number | null, key: string): HTMLElement =>
    h('tr', { 'data-row': key }, h('td', {}, name), h('td', {}, pct(x)), h('td', {}, pct(y)), deltaCell(x !== null && y !== null ? y - x : null));
  t.appendChild(row('mIoU', a.result.miou, b.result.miou, 'miou'));
  t.appendChild(row('FB-IoU', a.result.fbiou, b.result.fbiou, 'fbiou'));
  if (a.result.weak || b.result.weak) {
    // weak supervision on either side: the pseudo masks' own quality (– where a side had real annotations)
    t.appendChild(row('pseudo-mask mIoU', a.result.weak?.pseudoMasks.miou ?? null, b.result.weak?.pseudoMasks.miou ?? null, 'pseudo-miou'));
    t.appendChild(row('pseudo-mask FB-IoU', a.result.weak?.pseudoMasks.fbiou ?? null, b.result.weak?.pseudoMasks.fbiou ?? null, 'pseudo-fbiou'));
  }
  for (const c of classes) {
    const x = ca.get(c)?.mean ?? null, y = cb.get(c)?.mean ?? null;
    t.appendChild(row(ca.get(c)?.name ?? cb.get(c)?.name ?? className(ctx, c), x, y, `c${c}`));
  }
  el.append(h('h3', { class: 'section' }, 'Per class'), t);
  // per episode: only where both reports scored the same query (same settings ⇒ same ids)
  const byId = new Map(a.records.map((r) => [r.id, r]));
  const both = b.records.flatMap((rb) => {
    const ra = byId.get(rb.id);
    if (!ra) return [];
    const x = meanDefined(ra.classIoU), y = meanDefined(rb.classIoU);
    return x === null || y === null ? [] : [{ id: rb.id, x, y, d: y - x }];
  }).sort((p, q) => Math.abs(q.d) - Math.abs(p.d));
  el.appendChild(h('h3', { class: 'section' }, `Per episode (${both.length} in both; largest changes first)`));
  if (both.length) {
    const te = h('table', { class: 'plain compare-episodes' }, h('tr', {}, h('th', {}, 'episode'), h('th', {}, 'A'), h('th', {}, 'B'), h('th', {}, 'Δ')));
    for (const e of both.slice(0, 200)) te.appendChild(h('tr', { 'data-episode': episodeOf(e.id) }, h('td', {}, e.id), h('td', {}, pct(e.x)), h('td', {}, pct(e.y)), deltaCell(e.d)));
    el.appendChild(te);
  } else el.appendChild(h('div', { class: 'muted' }, 'No episode was scored by both reports (different settings or no records).'));
  return el;
}

export class ReportView implements View {
  readonly el = h('div', { class: 'view view-report' });
  private readonly body = h('div', { class: 'report-body' });

  constructor(private readonly ctx: AppContext, private readonly compare: boolean) {
    const open = h('vscode-button', { secondary: true, class: 'open-report' }, 'Open report…');
    open.addEventListener('click', () => ctx.host.send({ type: 'openReport' }));
    const cmp = h('vscode-button', { secondary: true, class: 'compare-report' }, compare ? 'Choose report B…' : 'Compare with…');
    cmp.addEventListener('click', () => ctx.host.send({ type: 'openReport', compare: true }));
    this.el.append(h('div', { class: 'topbar' }, open, cmp), this.body);
    this.render();
    onThemeChange(() => { // class bars are in theme colours
      const top = this.body.scrollTop;
      this.render();
      this.body.scrollTop = top;
    }, this.el);
  }

  private render(): void {
    clear(this.body);
    const { a, b } = this.ctx.reports;
    if (!a) {
      this.body.appendChild(h('div', { class: 'empty' }, 'No report yet: run an evaluation or open a saved report.'));
      return;
    }
    if (this.compare && b) {
      this.body.appendChild(h('div', { class: 'side-by-side' }, renderReport(this.ctx, a), renderReport(this.ctx, b)));
      this.body.appendChild(renderCompare(this.ctx, a, b));
    } else {
      this.body.appendChild(renderReport(this.ctx, a));
      if (this.compare) this.body.appendChild(h('div', { class: 'empty' }, 'Choose a second report to compare with.'));
    }
  }

  onMessage(m: HostMessage): void {
    if (m.type === 'evalResult') this.render();
  }
}
