// The labeling view's webview panel (viewType protolab.label), one per labelled folder. The page, the
// handshake and the checks of every message in and out are panels/webviewHost.ts's, as for every
// panel; what differs is this view's message set (the label* requests), answered by its own host
// (controller.ts) rather than the other panels' handlers, and its state.
//
// Which folder a restored panel labels: the host puts it into the webview's state in `init`
// (SavedState.labelFolder); the serializer gets that state back after a reload and accepts the folder
// only if this workspace opened it for labeling before (workspaceState), so a webview cannot point the
// host at a folder of its choosing.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { isLabelWebviewMessage, type LabelWebviewMessage } from '../../shared/webviewLabelProtocol';
import type { HostMessage, InitMessage, WebviewRequest } from '../../shared/webviewProtocol';
import { workspaceRoot } from '../config';
import { describeError } from '../engineHost';
import { defaultUiSettings } from '../panels/uiSettings';
import { WebviewHost } from '../panels/webviewHost';
import { webviewResourceRoots } from '../panels/webviewOptions';
import type { Services } from '../services';
import { LabelController } from './controller';
import { labelStateDir } from './paths';
import { labelUi } from './ui';

export const LABEL_VIEW_TYPE = 'protolab.label';
const FOLDERS_KEY = 'protolab.label.folders';

/** Folders this workspace opened for labeling (what a restored panel may reopen). */
function knownFolders(ctx: vscode.ExtensionContext): string[] {
  return ctx.workspaceState.get<string[]>(FOLDERS_KEY) ?? [];
}

function remember(ctx: vscode.ExtensionContext, folder: string): void {
  const list = knownFolders(ctx).filter((f) => f !== folder);
  void ctx.workspaceState.update(FOLDERS_KEY, [folder, ...list].slice(0, 50));
}

export interface LabelPanelOptions {
  classes?: string[];
  /** Tests: hold edits unsaved this long (the engine's coalesced save). */
  saveDelayMs?: number;
}

export class LabelPanel {
  static readonly all = new Map<string, LabelPanel>();
  private static readonly opening = new Map<string, Promise<LabelPanel>>();
  readonly controller: LabelController;
  /** the page, the handshake, the checks in and out (tests read its isReady / received / rejected / invalidPosts) */
  readonly webview: WebviewHost<LabelWebviewMessage>;
  private readonly disposables: vscode.Disposable[] = [];
  private rescanTimer?: NodeJS.Timeout;
  private initSent = false;

  /** The folder's host; `post` is bound later (the folder is opened in the engine before any panel exists). */
  private static controllerFor(svc: Services, folder: string, opts: LabelPanelOptions, post: (m: HostMessage) => void): LabelController {
    return new LabelController({
      folder, classes: opts.classes, saveDelayMs: opts.saveDelayMs,
      stateDir: labelStateDir(folder, workspaceRoot(), svc.ctx.globalStorageUri.fsPath),
      tool: `ProtoLab workbench (VS Code window${vscode.workspace.name ? ` "${vscode.workspace.name}"` : ''})`,
      engine: () => svc.host.engine,
      post,
      ui: labelUi(svc, folder),
    });
  }

  private constructor(readonly folder: string, readonly panel: vscode.WebviewPanel, private readonly svc: Services, private readonly webviewState: unknown, controller?: LabelController) {
    const ctx = svc.ctx;
    this.controller = controller ?? LabelPanel.controllerFor(svc, folder, {}, (m) => this.post(m));
    this.webview = new WebviewHost<LabelWebviewMessage>({
      // the bundle and media only: images and masks reach this view as bytes, never as file URIs
      panel, extensionUri: ctx.extensionUri, title: `Label ${path.basename(folder)}`, resourceRoots: LabelPanel.roots(svc),
      log: (line) => svc.host.log(`labeling webview ${line}`),
      handles: (msg: WebviewRequest): msg is LabelWebviewMessage => isLabelWebviewMessage(msg),
      request: (msg) => this.controller.handle(msg),
      init: () => [this.initMessage()],
    });
    panel.title = `Label: ${path.basename(folder)}`;
    // files added or removed while labeling: list the folder again (state and hidden folders ignored)
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(folder), '**/*'));
    const changed = (u: vscode.Uri) => {
      const rel = path.relative(folder, u.fsPath);
      if (!rel || rel.startsWith('..') || rel.split(path.sep).some((p) => p.startsWith('.'))) return;
      clearTimeout(this.rescanTimer);
      this.rescanTimer = setTimeout(() => this.controller.rescan().catch((e) => svc.host.log(`labeling: rescan of ${folder} failed: ${describeError(e)}`)), 700);
    };
    this.disposables.push(
      watcher, watcher.onDidCreate(changed), watcher.onDidDelete(changed), watcher.onDidChange(changed),
      this.webview, panel.onDidDispose(() => this.dispose()),
    );
    LabelPanel.all.set(folder, this);
    remember(ctx, folder);
  }

  private static roots(svc: Services): vscode.Uri[] {
    return webviewResourceRoots(svc.ctx.extensionUri.fsPath, []).map((r) => vscode.Uri.file(r));
  }

  /**
   * The labeling view for `folder`: the open one is revealed; else the folder is opened in the engine
   * FIRST (so a folder locked by another window is refused with the holder's name, and no panel opens).
   */
  static open(svc: Services, folder: string, opts: LabelPanelOptions = {}): Promise<LabelPanel> {
    const abs = path.resolve(folder);
    // a second click while the first is still opening gets the same panel
    const pending = LabelPanel.opening.get(abs);
    if (pending) return pending;
    const p = LabelPanel.openNow(svc, abs, opts).finally(() => LabelPanel.opening.delete(abs));
    LabelPanel.opening.set(abs, p);
    return p;
  }

  private static async openNow(svc: Services, abs: string, opts: LabelPanelOptions): Promise<LabelPanel> {
    const open = LabelPanel.all.get(abs);
    if (open) {
      open.panel.reveal();
      // a panel restored after a reload may have found the folder locked by another window: say so now
      await open.controller.start();
      if (opts.classes?.length) {
        // more classes for an open folder: the same list or an extension of it
        const have = open.controller.classes.map((c) => c.name);
        const extra = opts.classes.filter((c, i) => i >= have.length || have[i] !== c);
        if (extra.length) void vscode.window.showInformationMessage(`ProtoLab: ${path.basename(abs)} is already open for labeling; add or rename classes in the view (left).`);
      }
      return open;
    }
    // the engine first: a folder locked by another window is refused with the holder's name, no panel opens
    let target: LabelPanel | undefined;
    const early: HostMessage[] = [];
    const controller = LabelPanel.controllerFor(svc, abs, opts, (m) => (target ? target.post(m) : early.push(m)));
    try {
      await controller.start();
    } catch (e) {
      controller.detach();
      throw e;
    }
    const panel = vscode.window.createWebviewPanel(LABEL_VIEW_TYPE, `Label: ${path.basename(abs)}`, { viewColumn: vscode.ViewColumn.Active }, {
      enableScripts: true, retainContextWhenHidden: false,
      localResourceRoots: LabelPanel.roots(svc),
    });
    target = new LabelPanel(abs, panel, svc, { version: 1, view: 'label', labelFolder: abs }, controller);
    for (const m of early.splice(0)) target.post(m);
    return target;
  }

  /** The serializer: a panel restored after a reload reopens its folder (checked against this workspace's list). */
  static revive(svc: Services, panel: vscode.WebviewPanel, state: unknown): LabelPanel | undefined {
    const wanted = typeof (state as { labelFolder?: unknown } | undefined)?.labelFolder === 'string' ? path.resolve((state as { labelFolder: string }).labelFolder) : undefined;
    const folder = wanted && knownFolders(svc.ctx).includes(wanted) ? wanted : undefined;
    if (!folder || !fs.existsSync(folder) || LabelPanel.all.has(folder)) {
      svc.host.log(`labeling: a restored panel names ${wanted ?? 'no folder'}, which this workspace did not open for labeling (or is open already, or is gone): closed`);
      panel.dispose();
      return undefined;
    }
    return new LabelPanel(folder, panel, svc, state);
  }

  /** Checked, and queued until the webview said `ready` (webviewHost.ts). */
  post(msg: HostMessage): void {
    this.webview.post(msg);
  }

  private initMessage(): InitMessage {
    // the state goes once: after a hide/show the webview's own (newer) state is what counts
    const saved = (this.webviewState && typeof this.webviewState === 'object' ? this.webviewState : { version: 1 }) as Record<string, unknown>;
    const init: InitMessage = {
      type: 'init', view: 'label', ...(this.initSent ? {} : { state: { ...saved, version: 1, view: 'label', labelFolder: this.folder } }),
      settings: defaultUiSettings(this.svc.ctx), trusted: vscode.workspace.isTrusted,
    };
    this.initSent = true;
    return init;
  }

  dispose(): void {
    if (LabelPanel.all.get(this.folder) === this) LabelPanel.all.delete(this.folder);
    clearTimeout(this.rescanTimer);
    this.disposables.forEach((d) => d.dispose());
    void this.controller.close();
  }

  /** deactivate: the engine's shutdown saves every folder; the controllers only stop. */
  static detachAll(): void {
    for (const p of LabelPanel.all.values()) p.controller.detach();
  }
}
