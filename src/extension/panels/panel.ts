// One webview panel (episodes | failures | report | compare | runs), all served by the same bundle
// (dist/webview/main.js) which picks its view from `init`. The page, the handshake and the checks of
// every message in and out are webviewHost.ts's (the same for the labeling panel); local resources are
// the extension's dist/webview and media/ and the configured dataset roots. This view's messages are
// the protocol's non-label requests (handlers.ts answers them).
import * as vscode from 'vscode';
import { isLabelWebviewMessage } from '../../shared/webviewLabelProtocol';
import type { HostMessage, ReportBundle, UiSettings, ViewKind, WebviewRequest } from '../../shared/webviewProtocol';
import { readSettings } from '../config';
import { describeError } from '../engineHost';
import type { Services } from '../services';
import { handleRequest, type PanelRequest } from './handlers';
import type { PanelPort } from './port';
import { datasetChoices, defaultUiSettings } from './uiSettings';
import { WebviewHost } from './webviewHost';
import { webviewResourceRoots } from './webviewOptions';

export const VIEW_TYPE: Record<ViewKind, string> = {
  episodes: 'protolab.episodes', failures: 'protolab.failures', report: 'protolab.report', compare: 'protolab.compare', runs: 'protolab.runs',
  label: 'protolab.label',
};
const TITLE: Record<ViewKind, string> = {
  episodes: 'ProtoLab Episodes', failures: 'ProtoLab Failures', report: 'ProtoLab Report', compare: 'ProtoLab Compare', runs: 'ProtoLab Runs',
  label: 'ProtoLab Labeling',
};

/** What the host remembers about a panel so it can be rebuilt after a reload. */
export interface PanelHostState {
  settings?: Partial<UiSettings>;
  /** report / failures: [a]; compare: [a, b] */
  reports?: string[];
}

export class ProtoLabPanel implements PanelPort {
  static readonly all = new Set<ProtoLabPanel>();
  /** the page, the handshake, the checks in and out (tests read its isReady / received / rejected / invalidPosts) */
  readonly webview: WebviewHost<PanelRequest>;
  settings: UiSettings;
  /** Reports shown here (slot a, b), re-sent on `ready` */
  reports: Array<ReportBundle & { path?: string }> = [];
  /** running jobs started from this panel, by the webview request id (for `cancel`) */
  readonly jobs = new Map<number, { cancel: () => Promise<boolean> }>();
  private readonly disposables: vscode.Disposable[] = [];

  private constructor(readonly view: ViewKind, readonly panel: vscode.WebviewPanel, readonly svc: Services, private webviewState: unknown, host: PanelHostState) {
    this.settings = defaultUiSettings(svc.ctx, host.settings);
    this.webview = new WebviewHost<PanelRequest>({
      panel, extensionUri: svc.ctx.extensionUri, title: TITLE[view], resourceRoots: ProtoLabPanel.resourceRoots(svc.ctx),
      log: (line) => svc.host.log(`webview (${view}) ${line}`),
      handles: (msg: WebviewRequest): msg is PanelRequest => !isLabelWebviewMessage(msg),
      request: (msg) => handleRequest(this, this.svc, msg),
      init: () => this.initMessages(),
      afterInit: () => {
        if (this.view === 'runs') void this.svc.postRuns(this);
      },
    });
    this.disposables.push(this.webview, panel.onDidDispose(() => this.dispose()));
    ProtoLabPanel.all.add(this);
  }

  static resourceRoots(ctx: vscode.ExtensionContext): vscode.Uri[] {
    return webviewResourceRoots(ctx.extensionUri.fsPath, readSettings().datasets).map((p) => vscode.Uri.file(p));
  }

  static create(svc: Services, view: ViewKind, host: PanelHostState = {}, column = vscode.ViewColumn.Active): ProtoLabPanel {
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE[view], TITLE[view], { viewColumn: column }, {
      enableScripts: true,
      retainContextWhenHidden: false, // state survives through getState/setState + init, not a hidden DOM
      localResourceRoots: ProtoLabPanel.resourceRoots(svc.ctx),
    });
    const p = new ProtoLabPanel(view, panel, svc, undefined, host);
    p.loadReports(host.reports ?? []);
    p.saveHostState();
    return p;
  }

  /** registerWebviewPanelSerializer: rebuild after a reload with what the webview and the host saved. */
  static revive(svc: Services, view: ViewKind, panel: vscode.WebviewPanel, webviewState: unknown): ProtoLabPanel {
    const host = svc.ctx.workspaceState.get<PanelHostState>(`protolab.panel.${view}`) ?? {};
    const p = new ProtoLabPanel(view, panel, svc, webviewState, host);
    p.loadReports(host.reports ?? []);
    return p;
  }

  /** Read report files into slots a, b (errors shown, the panel still opens). */
  loadReports(paths: string[]): void {
    this.reports = [];
    for (const file of paths) {
      try {
        this.reports.push({ ...this.svc.loadReport(file), path: file });
      } catch (e) {
        void vscode.window.showErrorMessage(`ProtoLab: ${describeError(e)}`);
      }
    }
    if (this.reports.length) this.panel.title = `${TITLE[this.view]}: ${this.reports.map((r) => r.label).join(' vs ')}`;
  }

  /** Show another report here (slot b for compare) and post it if the webview is up. */
  showReport(file: string, slot: 'a' | 'b' = 'a'): void {
    const bundle = { ...this.svc.loadReport(file), path: file };
    if (slot === 'a') this.reports[0] = bundle;
    else this.reports[1] = bundle;
    this.post({ type: 'evalResult', label: bundle.label, result: bundle.result, records: bundle.records, slot });
    this.saveHostState();
  }

  saveHostState(): void {
    const state: PanelHostState = { settings: this.settings, reports: this.reports.map((r) => r.path).filter((p): p is string => !!p) };
    void this.svc.ctx.workspaceState.update(`protolab.panel.${this.view}`, state);
  }

  /** Checked, and queued until the webview said `ready` (webviewHost.ts). */
  post(msg: HostMessage): void {
    this.webview.post(msg);
  }

  /** The handshake: init (view, saved state, settings, datasets, checkpoints), then the reports shown here. */
  private async initMessages(): Promise<HostMessage[]> {
    const scan = await this.svc.store.scan();
    const init: HostMessage = {
      type: 'init', view: this.view, state: this.webviewState, settings: this.settings,
      datasets: datasetChoices(),
      checkpoints: [...scan.files, ...scan.runs.flatMap((r) => r.checkpoints)],
      totalEpisodes: this.settings.episodes,
      trusted: vscode.workspace.isTrusted,
    };
    let problem: HostMessage | undefined;
    const ds = this.svc.datasetFor(this.settings.dataset);
    if (ds && this.view === 'episodes') {
      try {
        init.datasetInfo = await this.svc.datasets.info(ds);
      } catch (e) {
        problem = { type: 'error', message: describeError(e) };
      }
    }
    const reports = this.reports.map((r, i): HostMessage => ({ type: 'evalResult', label: r.label, result: r.result, records: r.records, slot: i === 0 ? 'a' : 'b' }));
    return [init, ...reports, ...(problem ? [problem] : [])];
  }

  dispose(): void {
    ProtoLabPanel.all.delete(this);
    this.disposables.forEach((d) => d.dispose());
    // Jobs started here keep running (their notification has a cancel button); just stop forwarding.
    this.jobs.clear();
  }
}
