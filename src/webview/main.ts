// Webview entry: connects to the host, says `ready`, and builds the view `init` asks for. App-level
// state (settings, the latest reports) lives in the context; views render it and ask the host for more.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import 'uplot/dist/uPlot.min.css';
import '../../media/webview.css';
import type { AppContext, View } from './context';
import { clear, h } from './dom';
import { Host } from './host';
import type { HostMessage, InitMessage, ReportBundle } from '../shared/webviewProtocol';
import { StateStore, trimBundle } from './state';
import { EpisodesView } from './views/episodes';
import { FailuresView } from './views/failures';
import { LabelView } from './views/label/labelView';
import { ReportView } from './views/report';
import { RunsView } from './views/runs';

const root = document.getElementById('app') ?? document.body.appendChild(h('div', { id: 'app', class: 'app' }));
const api = acquireVsCodeApi();
const host = new Host(api);
let ctx: AppContext | null = null;
let view: View | null = null;
const banner = h('div', { class: 'banner', role: 'alert', hidden: true });

function showError(message: string): void {
  banner.textContent = message;
  banner.hidden = false;
  const close = h('vscode-button', { secondary: true, class: 'banner-close' }, 'Dismiss');
  close.addEventListener('click', () => {
    banner.hidden = true;
  });
  banner.appendChild(close);
}

function build(init: InitMessage): void {
  const store = new StateStore(api, init.state);
  const saved = store.get();
  ctx = {
    host, init, store,
    settings: init.settings,
    datasetInfo: init.datasetInfo,
    reports: { a: saved.reports?.a, b: saved.reports?.b },
    liveRecords: [],
  };
  store.patch({ view: init.view });
  clear(root);
  root.append(banner);
  switch (init.view) {
    case 'episodes': view = new EpisodesView(ctx); break;
    case 'failures': view = new FailuresView(ctx); break;
    case 'report': view = new ReportView(ctx, false); break;
    case 'compare': view = new ReportView(ctx, true); break;
    case 'runs': view = new RunsView(ctx); break;
    case 'label': view = new LabelView(ctx); break;
  }
  root.appendChild(view.el);
  document.body.dataset.view = init.view;
}

host.on((m: HostMessage) => {
  if (m.type === 'init') {
    build(m);
    return;
  }
  if (!ctx || !view) {
    console.warn(`ProtoLab: ${m.type} before init, ignored`);
    return;
  }
  if (m.type === 'evalResult') {
    const bundle: ReportBundle = { label: m.label ?? (m.slot === 'b' ? 'B' : 'A'), result: m.result, records: m.records };
    if (m.slot === 'b') ctx.reports.b = bundle;
    else ctx.reports.a = bundle;
    ctx.liveRecords = [];
    ctx.store.patch({ reports: { a: ctx.reports.a && trimBundle(ctx.reports.a), b: ctx.reports.b && trimBundle(ctx.reports.b) } });
  } else if (m.type === 'evalRecords') {
    ctx.liveRecords.push(...m.records);
  } else if (m.type === 'settings') {
    ctx.settings = m.settings;
    if (m.datasetInfo) ctx.datasetInfo = m.datasetInfo;
  } else if (m.type === 'error' && m.inReplyTo === undefined) {
    showError(m.message);
  }
  view.onMessage(m);
});

host.ready();
