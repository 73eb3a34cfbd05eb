// The labeling controller's hold on its folder in the engine: opened once (labelOpen, then the folder's
// watch stream), and opened again whenever the engine is lost. Engine loss comes two ways: a crash (the
// EngineClient restarts its process) or Restart Engine (EngineHost replaces the client, found through
// `engine()`). Either way the next request, or a reconnect shortly after the watch stream ends, opens
// the folder again and replays the edit journal (edits the last engine had not saved) before any other
// request reaches the new engine. Plain module (no vscode).
import type { EngineEvent, LabelOpenInfo, RequestType, ResultOf } from '../../shared/engineProtocol';
import { EngineError, type RequestHandle, type RequestOf } from '../engineClient';
import type { EditJournal } from './journal';

/** The part of EngineClient the controller uses (tests may pass a client of their own). */
export interface EngineLike {
  request<T extends RequestType>(req: RequestOf<T>, onEvent?: (e: EngineEvent) => void): RequestHandle<ResultOf[T]>;
  call<T extends RequestType>(req: RequestOf<T>, onEvent?: (e: EngineEvent) => void): Promise<ResultOf[T]>;
}

/** What the session tells its controller. */
export interface SessionHooks {
  /** The labelOpen request as it stands now (classes, model choice, state folder, tool). */
  openRequest(): RequestOf<'labelOpen'>;
  /** The folder is open (again) in this engine. */
  opened(info: LabelOpenInfo): void;
  /** An event of the folder's watch stream. */
  event(ev: EngineEvent): void;
  /** Unsaved edits of these images were re-applied to a new engine. */
  replayed(images: string[]): Promise<void>;
  /** Opened and replayed: ready for requests. */
  ready(): void;
  /** The engine is gone, and what ran there with it. */
  lost(): void;
  log(line: string): void;
}

/** How long after the watch stream ended the folder is reopened unasked. */
const RECONNECT_MS = 500;

export class EngineSession {
  private session?: Promise<void>;
  private engineUsed?: EngineLike;
  /** bumps with every (re)connection: events of an older watch stream are ignored */
  private token = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private closed = false;
  /** journal entries re-applied to a new engine (tests wait for it) */
  replayed = 0;

  constructor(
    private readonly folder: string,
    /** The engine in use now (EngineHost replaces its client on Restart Engine). */
    private readonly engine: () => EngineLike,
    private readonly journal: EditJournal,
    private readonly hooks: SessionHooks,
  ) {}

  /** The engine the folder is open in (after ensure()). */
  get current(): EngineLike {
    return this.engineUsed!;
  }

  /** Open in some engine (or being opened). */
  get isOpen(): boolean {
    return this.session !== undefined;
  }

  /** The folder open in today's engine: reuse the session, or open it (again). */
  ensure(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the labeling view is closed'));
    if (this.session && this.engineUsed === this.engine()) return this.session;
    const s = this.connect();
    this.session = s;
    s.catch(() => {
      if (this.session === s) this.session = undefined; // the next request tries again
    });
    return s;
  }

  /** Forget the session: the next ensure() opens the folder again (a new model choice). */
  reset(): void {
    this.session = undefined;
  }

  /** One engine call; an engine that died meanwhile is reopened (journal replayed) and asked once more. */
  async call<T extends RequestType>(req: RequestOf<T>, onEvent?: (e: EngineEvent) => void): Promise<ResultOf[T]> {
    await this.ensure();
    try {
      return await this.engineUsed!.call(req, onEvent);
    } catch (e) {
      if (!(e instanceof EngineError && (e.kind === 'restarted' || e.kind === 'stopped'))) throw e;
      this.session = undefined;
      await this.ensure();
      return this.engineUsed!.call(req, onEvent);
    }
  }

  private async connect(): Promise<void> {
    const engine = this.engine();
    const token = ++this.token;
    this.engineUsed = engine;
    const info = await engine.call(this.hooks.openRequest());
    if (token !== this.token) return;
    this.hooks.opened(info);
    const watch = engine.request({ type: 'labelWatch', folder: this.folder }, (ev) => {
      if (token === this.token) this.hooks.event(ev);
    });
    watch.result.then(() => this.lost(token, 'the folder was closed in the engine'), (e: unknown) => this.lost(token, e));
    // what the last engine did not save yet, before anything else reaches this one
    const pending = this.journal.pending();
    for (const j of pending) {
      try {
        await engine.call({ type: 'labelSetShapes', folder: this.folder, image: j.image, shapes: j.shapes, redo: j.redo, seq: j.seq, autoSupport: true });
        this.replayed++;
      } catch (e) {
        this.hooks.log(`labeling: could not re-apply the unsaved edit of ${j.image}: ${(e as Error).message}`);
      }
    }
    if (pending.length) {
      this.hooks.log(`labeling ${this.folder}: re-applied ${pending.length} unsaved edit(s) to the new engine`);
      await this.hooks.replayed(pending.map((j) => j.image));
    }
    this.hooks.ready();
  }

  /** The engine's watch stream ended: the engine crashed or stopped, or the folder was closed there. */
  private lost(token: number, why: unknown): void {
    if (token !== this.token || this.closed) return;
    this.session = undefined;
    this.hooks.lost();
    this.hooks.log(`labeling ${this.folder}: lost the engine (${why instanceof Error ? why.message : String(why)}); reopening`);
    // a crashed engine is restarted by its client; a replaced one (Restart Engine) is found through engine()
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (!this.closed && !this.session) this.ensure().catch((e: Error) => this.hooks.log(`labeling ${this.folder}: reopening failed: ${e.message}`));
    }, RECONNECT_MS);
  }

  /** Stop: no reconnect, events of the watch stream ignored. Returns the engine the folder was open in, if any. */
  stop(): EngineLike | undefined {
    const open = this.session ? this.engineUsed : undefined;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.token++;
    return open;
  }
}
