// The webview's end of the host protocol: posts requests with fresh ids, validates every incoming
// message (invalid ones are dropped with a console warning, never thrown into the UI), and routes
// replies to the promise of the request they answer.
import {
  WEBVIEW_PROTOCOL_VERSION, validateHostMessage,
  type HostMessage, type WebviewMessage, type WebviewRequest,
} from '../shared/webviewProtocol';

/** What acquireVsCodeApi() returns (declared here because the webview has no @types for it). */
export interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare global {
  function acquireVsCodeApi(): VsCodeApi;
}

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;
export type RequestBody = Distribute<WebviewRequest>;
type Listener = (m: HostMessage) => void;

export class Host {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: HostMessage) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<Listener>();

  constructor(readonly api: VsCodeApi, target: Pick<Window, 'addEventListener'> = window) {
    target.addEventListener('message', (e: Event) => this.receive((e as MessageEvent).data));
  }

  ready(): void {
    this.post({ type: 'ready', protocol: WEBVIEW_PROTOCOL_VERSION });
  }

  private post(m: WebviewMessage): void {
    this.api.postMessage(m);
  }

  /** Send a request; the promise settles with its reply (an `error` reply rejects). */
  request(body: RequestBody): { id: number; reply: Promise<HostMessage> } {
    const id = this.nextId++;
    const reply = new Promise<HostMessage>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    reply.catch(() => undefined); // callers that only fire-and-forget must not cause unhandled rejections
    this.post({ ...body, id } as WebviewMessage);
    return { id, reply };
  }

  /** Fire a request whose reply only matters through the broadcast listeners. */
  send(body: RequestBody): number {
    return this.request(body).id;
  }

  on(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  receive(data: unknown): void {
    let m: HostMessage;
    try {
      m = validateHostMessage(data);
    } catch (e) {
      console.warn(`ProtoLab: ignored an invalid host message: ${(e as Error).message}`, data);
      return;
    }
    const inReplyTo = 'inReplyTo' in m ? m.inReplyTo : undefined;
    if (inReplyTo !== undefined) {
      const p = this.pending.get(inReplyTo);
      if (p) {
        this.pending.delete(inReplyTo);
        if (m.type === 'error') p.reject(new Error(m.message));
        else p.resolve(m);
      }
    }
    for (const l of [...this.listeners]) {
      try {
        l(m);
      } catch (e) {
        console.error('ProtoLab: a view failed to handle', m.type, e);
      }
    }
  }
}
