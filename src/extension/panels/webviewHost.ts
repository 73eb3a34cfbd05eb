// The host end of one ProtoLab webview, the same for every panel (episodes, failures, report, compare,
// runs, labeling), so the rules hold everywhere alike:
//   - the page: the bundle (dist/webview/main.js + main.css) in the strict CSP shell of html.ts, with a
//     fresh nonce per render, scripts enabled, local resources limited to what the panel allows;
//   - the `ready` handshake: nothing is posted before the webview said ready; until then posts queue,
//     and each ready (the webview reloads when hidden and shown) gets `init` first, then the queue;
//   - incoming: every message through the validating gate (gate.ts); an invalid one is counted, logged
//     and answered with an error when it carried an id; a valid one outside the view's own message set
//     is answered with an error too; the rest goes to the view's handler, whose failure becomes an
//     error reply;
//   - outgoing: every message checked against the webview protocol before it is posted; one that
//     fails is a host bug: logged, counted (tests assert 0) and not sent (the webview would drop it).
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { WEBVIEW_PROTOCOL_VERSION, validateHostMessage, type HostMessage, type WebviewRequest } from '../../shared/webviewProtocol';
import { describeError } from '../engineHost';
import { receiveWebviewMessage } from './gate';
import { makeNonce, webviewHtml } from './html';

export interface WebviewHostOptions<R extends WebviewRequest> {
  panel: vscode.WebviewPanel;
  extensionUri: vscode.Uri;
  /** the page's <title> */
  title: string;
  /** localResourceRoots: what the page may load */
  resourceRoots: vscode.Uri[];
  /** log lines about this webview (the panel prefixes them with which one it is) */
  log(line: string): void;
  /** the view's own message set: any other (valid) webview request is answered with an error */
  handles(msg: WebviewRequest): msg is R;
  /** answer one validated request of the view's set (exactly one reply carrying its id) */
  request(msg: R): Promise<void>;
  /** the handshake: `init` and whatever must follow it before the queued messages */
  init(): HostMessage[] | Promise<HostMessage[]>;
  /** after init and the queue went out */
  afterInit?(): void;
}

export class WebviewHost<R extends WebviewRequest> {
  private ready = false;
  private readonly queue: HostMessage[] = [];
  private readonly disposable: vscode.Disposable;
  /** messages that failed validation (tests read it; the log says why) */
  rejected = 0;
  /** messages received from the webview, valid or not (diagnostics) */
  received = 0;
  /** host messages that failed the protocol (a bug: tests assert 0) */
  invalidPosts = 0;

  constructor(private readonly o: WebviewHostOptions<R>) {
    const { panel } = o;
    panel.webview.options = { enableScripts: true, localResourceRoots: o.resourceRoots };
    const dist = vscode.Uri.joinPath(o.extensionUri, 'dist', 'webview');
    panel.webview.html = webviewHtml({
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'main.js')).toString(),
      cssUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'main.css')).toString(),
      nonce: makeNonce((n) => crypto.randomBytes(n)),
      cspSource: panel.webview.cspSource,
      title: o.title,
    });
    panel.iconPath = vscode.Uri.joinPath(o.extensionUri, 'media', 'activity.svg');
    this.disposable = panel.webview.onDidReceiveMessage((m) => void this.receive(m));
  }

  /** true once the webview said `ready` and got `init` (integration tests wait for it) */
  get isReady(): boolean {
    return this.ready;
  }

  /** Check, then post (or queue until the webview is ready). */
  post(msg: HostMessage): void {
    if (!this.valid(msg)) return;
    if (!this.ready) {
      this.queue.push(msg);
      return;
    }
    void this.o.panel.webview.postMessage(msg);
  }

  private valid(msg: HostMessage): boolean {
    try {
      validateHostMessage(msg);
      return true;
    } catch (e) {
      this.invalidPosts++;
      this.o.log(`BUG: host message ${msg.type} fails the webview protocol (${(e as Error).message}); not sent`);
      return false;
    }
  }

  /** Post now, ahead of the queue (the handshake's own messages). */
  private send(msg: HostMessage): void {
    if (this.valid(msg)) void this.o.panel.webview.postMessage(msg);
  }

  /** Every message goes through the gate (gate.ts): validated, or logged and dropped. */
  private async receive(raw: unknown): Promise<void> {
    this.received++;
    await receiveWebviewMessage(raw, {
      log: (line) => this.o.log(line),
      rejected: (id, reason) => {
        this.rejected++;
        if (id !== undefined) this.send({ type: 'error', inReplyTo: id, message: `invalid message: ${reason}` });
      },
      ready: async (msg) => {
        if (msg.protocol !== WEBVIEW_PROTOCOL_VERSION) {
          this.o.log(`speaks protocol ${msg.protocol}, host ${WEBVIEW_PROTOCOL_VERSION}: reload the window after updating ProtoLab`);
        }
        await this.handshake();
      },
      request: async (msg) => {
        if (!this.o.handles(msg)) {
          this.post({ type: 'error', inReplyTo: msg.id, message: `this view does not handle ${msg.type}` });
          return;
        }
        await this.o.request(msg);
      },
      failed: (msg, e) => this.post({ type: 'error', inReplyTo: msg.id, message: describeError(e) }),
    });
  }

  private async handshake(): Promise<void> {
    // The webview reloads (hidden → shown) and says ready again: a fresh queue each time.
    this.ready = false;
    const first = await this.o.init();
    this.ready = true;
    for (const m of first) this.send(m);
    for (const m of this.queue.splice(0)) void this.o.panel.webview.postMessage(m);
    this.o.afterInit?.();
  }

  dispose(): void {
    this.disposable.dispose();
  }
}
