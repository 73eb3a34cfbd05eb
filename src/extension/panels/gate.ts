// The one door from a webview into the extension host: every message is validated against the protocol
// (shared/webviewProtocol.ts) before anything acts on it; a malformed one is logged (briefly: its size is the
// sender's choice) and dropped — with an error reply when it carried a usable request id — and never
// reaches a handler. Nothing a webview sends makes this throw. Free of the `vscode` import, so the
// hardening suite fuzzes it directly with a few hundred wrong messages.
import { validateWebviewMessage, WebviewProtocolError, type WebviewMessage, type WebviewRequest } from '../../shared/webviewProtocol';

export interface GateHandlers {
  log(line: string): void;
  /** A message failed validation; `id` when it carried a usable request id (for an error reply). */
  rejected(id: number | undefined, reason: string): void;
  ready(msg: Extract<WebviewMessage, { type: 'ready' }>): Promise<void> | void;
  request(msg: WebviewRequest): Promise<void>;
  /** A handler threw: reply to the request with the error. */
  failed(msg: WebviewRequest, e: unknown): void;
}

export type GateOutcome = 'rejected' | 'ready' | 'handled' | 'failed';

/** The request id of a message that failed validation, if it has a usable one. */
function usableId(raw: unknown): number | undefined {
  try {
    const id = (raw as { id?: unknown } | null)?.id;
    return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 2 ** 31 - 1 ? id : undefined;
  } catch {
    return undefined;
  }
}

export async function receiveWebviewMessage(raw: unknown, h: GateHandlers): Promise<GateOutcome> {
  let msg: WebviewMessage;
  try {
    msg = validateWebviewMessage(raw);
  } catch (e) {
    // The validator only throws WebviewProtocolError; anything else is its bug, and still no way in.
    const reason = e instanceof WebviewProtocolError ? e.message : `the validator failed on it (${String((e as Error)?.message ?? e).slice(0, 200)})`;
    h.log(`sent an invalid message, ignored: ${reason.slice(0, 300)}`);
    h.rejected(usableId(raw), reason.slice(0, 300));
    return 'rejected';
  }
  if (msg.type === 'ready') {
    await h.ready(msg);
    return 'ready';
  }
  try {
    await h.request(msg as WebviewRequest);
    return 'handled';
  } catch (e) {
    h.failed(msg as WebviewRequest, e);
    return 'failed';
  }
}
