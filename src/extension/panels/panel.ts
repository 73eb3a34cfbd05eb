// One webview panel (episodes | failures | report | compare | runs), all served by the same bundle
// (dist/webview/main.js) which picks its view from `init`. Strict CSP with a nonce (panels/html.ts),
// local resources limited to the extension's dist/ and media/ and the configured dataset roots, a
// `ready` handshake before anything is posted, and every incoming message validated.
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { webviewHtml } from './html';
import {
  WEBVIEW_PROTOCOL_VERSION, validateHostMessage,
  type HostMessage, type ReportBundle, type UiSettings, type ViewKind,
} from '../../shared/webviewProtocol';
import { readSettings } from '../config';
import { describeError } from '../engineHost';
import type { Services } from '../services';
import { receiveWebviewMessage } from './gate';
import { handleRequest } from './handlers';
import type { PanelPort } from './port';
import { datasetChoices, defaultUiSettings } from './uiSettings';
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
  private ready = false;
  private readonly queue: HostMessage[] = [];
  settings: UiSettings;
  /** Reports shown here (slot a, b), re-sent on `ready` */
  reports: Array<ReportBundle & { path?: string }> = [];
  /** running jobs started from this panel, by the webview request id (for `cancel`) */
  readonly jobs = new Map<number, { cancel: () => Promise<boolean> }>();
  private readonly disposables: vscode.Disposable[] = [];
  /** messages that failed validation (tests read it; the log says why) */
  rejected = 0;
  /** messages received from the webview, valid or not (diagnostics) */
  received = 0;

  private constructor(readonly view: ViewKind, readonly panel: vscode.WebviewPanel, readonly svc: Services, private webviewState: unknown, host: PanelHostState) {
    this.settings = defaultUiSettings(svc.ctx, host.settings);
    const dist = vscode.Uri.joinPath(svc.ctx.extensionUri, 'dist');
    panel.webview.options = { enableScripts: true, localResourceRoots: ProtoLabPanel.resourceRoots(svc.ctx) };
    const nonce = crypto.randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '').padEnd(24, 'N');
    panel.webview.html = webviewHtml({
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'main.js')).toString(),
      cssUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'main.css')).toString(),
      nonce,
      cspSource: panel.webview.cspSource,
      title: TITLE[view],
    });
    panel.iconPath = vscode.Uri.joinPath(svc.ctx.extensionUri, 'media', 'activity.svg');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m) => void this.receive(m)),
      panel.onDidDispose(() => this.dispose()),
    );
    ProtoLabPanel.all.add(this);
  }

  /** true once the webview said `ready` and got `init` (integration tests wait for it) */
  get isReady(): boolean {
    return this.ready;
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

  /** Queue until the webview said `ready`; in development builds, check our own messages too. */
  post(msg: HostMessage): void {
    try {
      validateHostMessage(msg);
    } catch (e) {
      this.svc.host.log(`BUG: host message ${msg.type} fails the webview protocol: ${(e as Error).message}`);
    }
    if (!this.ready) {
      this.queue.push(msg);
      return;
    }
    void this.panel.webview.postMessage(msg);
  }

  /** Every message goes through the gate (gate.ts): validated, or logged and dropped. */
  private async receive(raw: unknown): Promise<void> {
    this.received++;
    await receiveWebviewMessage(raw, {
      log: (line) => this.svc.host.log(`webview (${this.view}) ${line}`),
      rejected: (id, reason) => {
        this.rejected++;
        if (id !== undefined) void this.panel.webview.postMessage({ type: 'error', inReplyTo: id, message: `invalid message: ${reason}` } satisfies HostMessage);
      },
      ready: async (msg) => {
        if (msg.protocol !== WEBVIEW_PROTOCOL_VERSION) {
          this.svc.host.log(`webview speaks protocol ${msg.protocol}, host ${WEBVIEW_PROTOCOL_VERSION}: reload the window after updating ProtoLab`);
        }
        await this.sendInit();
      },
      request: (msg) => handleRequest(this, this.svc, msg),
      failed: (msg, e) => this.post({ type: 'error', inReplyTo: msg.id, message: describeError(e) }),
    });
  }

  private async sendInit(): Promise<void> {
    // The webview reloads (hidden → shown) and says ready again: start a fresh queue each time.
    this.ready = false;
    const scan = await this.svc.store.scan();
    const init: HostMessage = {
      type: 'init', view: this.view, state: this.webviewState, settings: this.settings,
      datasets: datasetChoices(),
      checkpoints: [...scan.files, ...scan.runs.flatMap((r) => r.checkpoints)],
      totalEpisodes: this.settings.episodes,
      trusted: vscode.workspace.isTrusted,
    };
    const ds = this.svc.datasetFor(this.settings.dataset);
    if (ds && this.view === 'episodes') {
      try {
        init.datasetInfo = await this.svc.datasets.info(ds);
      } catch (e) {
        this.queue.unshift({ type: 'error', message: describeError(e) });
      }
    }
    this.ready = true;
    void this.panel.webview.postMessage(init);
    this.reports.forEach((r, i) => void this.panel.webview.postMessage({ type: 'evalResult', label: r.label, result: r.result, records: r.records, slot: i === 0 ? 'a' : 'b' } satisfies HostMessage));
    for (const m of this.queue.splice(0)) void this.panel.webview.postMessage(m);
    if (this.view === 'runs') void this.svc.postRuns(this);
  }

  dispose(): void {
    ProtoLabPanel.all.delete(this);
    this.disposables.forEach((d) => d.dispose());
    // Jobs started here keep running (their notification has a cancel button); just stop forwarding.
    this.jobs.clear();
  }
}
