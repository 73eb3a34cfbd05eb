// The one owner of the engine child process (DESIGN.md "Process model"). Free of the `vscode` import on
// purpose: a plain mocha test drives it against the compiled engine (test/unit/engineClient.test.ts),
// and the extension injects its OutputChannel as the logger.
//
// Lifecycle: fork → hello (protocol check) → requests. If the process dies unexpectedly every pending
// request is rejected with "engine restarted …" and a fresh process is started (bounded, so a crash loop
// does not spin). stop() asks politely (shutdown) and kills after a grace period.
import { fork, type ChildProcess } from 'child_process';
import { EventEmitter } from 'events';
import {
  PROTOCOL_VERSION, ProtocolError, validateReply,
  type EngineEvent, type ErrorKind, type Reply, type Request, type RequestType, type ResultOf,
} from '../shared/engineProtocol';

/** A request as the caller writes it: the client assigns the id. */
export type RequestOf<T extends RequestType> = Omit<Extract<Request, { type: T }>, 'id'> & { type: T };

export interface EngineClientOptions {
  /** The engine entry (dist/engine/server.js when bundled, out/src/engine/server.js in unit tests). */
  serverPath: string;
  /** node binary for the child (default: the current runtime, process.execPath). */
  execPath?: string;
  /** Extra node flags for the child, e.g. --max-old-space-size=8192. */
  execArgv?: string[];
  /** Environment additions (PROTOLAB_BACKEND, PROTOLAB_CACHE_DIR, PROTOLAB_WASM_DIR, …). */
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  /** Restart after an unexpected exit (default true). */
  autoRestart?: boolean;
  /** At most this many automatic restarts per minute (default 3); beyond it, the next request restarts. */
  maxRestartsPerMinute?: number;
  /** hello must answer within this (backend selection included). Default 60 s. */
  helloTimeoutMs?: number;
  /** Grace period between shutdown and SIGKILL. Default 2 s. */
  stopTimeoutMs?: number;
}

export type HelloInfo = ResultOf['hello'];

/** A failed request: the engine's error kind (data/usage/cancelled/internal/protocol) and file. */
export class EngineError extends Error {
  constructor(readonly kind: ErrorKind | 'restarted' | 'stopped', message: string, readonly file?: string) {
    super(message);
    this.name = 'EngineError';
  }
}

interface Pending {
  type: RequestType;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: (e: EngineEvent) => void;
  /** which process generation it was sent to: a crash rejects only that generation's requests */
  generation: number;
}

export interface RequestHandle<T> {
  id: number;
  result: Promise<T>;
  cancel: () => Promise<boolean>;
}

/** Events: 'started' (HelloInfo), 'crashed' (message: string), 'event' (id, EngineEvent), 'stopped'. */
export class EngineClient extends EventEmitter {
  private child?: ChildProcess;
  private generation = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private starting?: Promise<HelloInfo>;
  /** generations whose exit we caused (stop, failed hello): not a crash, no restart */
  private readonly expectedExits = new Set<number>();
  private crashTimes: number[] = [];
  private hello?: HelloInfo;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: EngineClientOptions) {
    super();
    this.log = opts.log ?? (() => undefined);
  }

  /** The engine's hello answer once started (backend, version, pid). */
  get info(): HelloInfo | undefined {
    return this.hello;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Start the process if needed and complete the hello handshake. Idempotent. */
  start(): Promise<HelloInfo> {
    if (this.running && this.hello) return Promise.resolve(this.hello);
    this.starting ??= this.spawn().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async spawn(): Promise<HelloInfo> {
    const gen = ++this.generation;
    this.hello = undefined;
    this.log(`starting engine: ${this.opts.serverPath}${this.opts.execArgv?.length ? ` (${this.opts.execArgv.join(' ')})` : ''}`);
    const child = fork(this.opts.serverPath, [], {
      serialization: 'advanced', // structured clone: PNG payloads arrive as Uint8Array
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execPath: this.opts.execPath,
      execArgv: this.opts.execArgv ?? [],
      env: { ...process.env, ...this.opts.env },
    });
    this.child = child;
    const pipe = (s: NodeJS.ReadableStream | null, tag: string) =>
      s?.on('data', (b: Buffer) => b.toString('utf8').split(/\r?\n/).filter(Boolean).forEach((l) => this.log(`[engine ${tag}] ${l}`)));
    pipe(child.stdout, 'out');
    pipe(child.stderr, 'err');
    child.on('message', (m) => this.onMessage(m));
    child.on('error', (e) => this.log(`engine process error: ${e.message}`));
    child.on('exit', (code, signal) => this.onExit(gen, code, signal));

    const timeout = this.opts.helloTimeoutMs ?? 60000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const hello = await Promise.race([
        this.send('hello', { type: 'hello', protocol: PROTOCOL_VERSION }).result,
        new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new EngineError('internal', `the engine did not answer hello within ${timeout} ms`)), timeout))),
      ]);
      if (!hello || typeof hello !== 'object' || hello.protocol !== PROTOCOL_VERSION) {
        throw new EngineError('protocol', `engine speaks protocol ${String((hello as { protocol?: unknown })?.protocol)}, this extension ${PROTOCOL_VERSION}: rebuild or reinstall ProtoLab`);
      }
      this.hello = hello;
      this.log(`engine ready: pid ${hello.pid}, version ${hello.version}, backend ${hello.backend}`);
      for (const r of hello.backendReasons) this.log(`  ${r}`);
      this.emit('started', hello);
      return hello;
    } catch (e) {
      // A half-started engine is useless: kill it so the next start() begins clean.
      if (this.child === child && child.exitCode === null && child.signalCode === null) {
        this.expectedExits.add(gen);
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Send a typed request; waits for the engine to be started. */
  request<T extends RequestType>(req: RequestOf<T>, onEvent?: (e: EngineEvent) => void): RequestHandle<ResultOf[T]> {
    const id = this.nextId++;
    let cancelled = false;
    const result = this.start().then(() => {
      if (cancelled) throw new EngineError('cancelled', 'cancelled before it started');
      return this.sendWithId(id, req.type as T, req, onEvent).result;
    });
    return {
      id,
      result,
      cancel: async () => {
        cancelled = true;
        return this.pending.has(id) ? this.cancel(id) : false;
      },
    };
  }

  /** Request and await the result. */
  call<T extends RequestType>(req: RequestOf<T>, onEvent?: (e: EngineEvent) => void): Promise<ResultOf[T]> {
    return this.request(req, onEvent).result;
  }

  /** Ask the engine to stop request `id` at its next boundary. True if the engine knew the job. */
  async cancel(id: number): Promise<boolean> {
    if (!this.pending.has(id) || !this.running) return false;
    const r = await this.send('cancel', { type: 'cancel', target: id }).result;
    return r.cancelled;
  }

  private send<T extends RequestType>(type: T, req: RequestOf<T>, onEvent?: (e: EngineEvent) => void): { id: number; result: Promise<ResultOf[T]> } {
    return this.sendWithId(this.nextId++, type, req, onEvent);
  }

  private sendWithId<T extends RequestType>(id: number, type: T, req: RequestOf<T>, onEvent?: (e: EngineEvent) => void): { id: number; result: Promise<ResultOf[T]> } {
    const child = this.child;
    const result = new Promise<ResultOf[T]>((resolve, reject) => {
      if (!child || !child.connected) {
        reject(new EngineError('restarted', 'the engine is not running'));
        return;
      }
      this.pending.set(id, { type, resolve: resolve as (v: unknown) => void, reject, onEvent, generation: this.generation });
      child.send({ ...req, id }, (err) => {
        if (err && this.pending.delete(id)) reject(new EngineError('internal', `could not send ${type} to the engine: ${err.message}`));
      });
    });
    return { id, result };
  }

  private onMessage(raw: unknown): void {
    let reply: Reply;
    try {
      reply = validateReply(raw);
    } catch (e) {
      // A malformed reply still fails its request (if we can tell which) rather than hanging it.
      const id = (raw as { inReplyTo?: unknown })?.inReplyTo;
      this.log(`engine sent an invalid reply (${(e as Error).message}): ${preview(raw)}`);
      const p = typeof id === 'number' ? this.pending.get(id) : undefined;
      if (p && typeof id === 'number') {
        this.pending.delete(id);
        p.reject(new EngineError('protocol', `invalid reply from the engine: ${(e as Error).message}`));
      }
      return;
    }
    const p = this.pending.get(reply.inReplyTo);
    if (reply.type === 'event') {
      if (reply.event.kind === 'log') this.log(`[engine] ${reply.event.line}`);
      this.emit('event', reply.inReplyTo, reply.event);
      try {
        p?.onEvent?.(reply.event);
      } catch (e) {
        this.log(`event handler failed: ${(e as Error).message}`);
      }
      return;
    }
    if (!p) {
      if (reply.type === 'error') this.log(`engine error for unknown request ${reply.inReplyTo}: ${reply.message}`);
      return;
    }
    this.pending.delete(reply.inReplyTo);
    if (reply.type === 'result') p.resolve(reply.value);
    else p.reject(new EngineError(reply.kind, reply.message, reply.file));
  }

  private onExit(gen: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (gen !== this.generation) return; // an old process we already replaced
    this.child = undefined;
    this.hello = undefined;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    const expected = this.expectedExits.delete(gen);
    const msg = expected ? `engine stopped (${how})` : `engine restarted: the engine process exited unexpectedly (${how})`;
    this.log(msg);
    for (const [id, p] of this.pending) {
      if (p.generation !== gen) continue;
      this.pending.delete(id);
      p.reject(new EngineError(expected ? 'stopped' : 'restarted', msg));
    }
    if (expected) {
      this.emit('stopped');
      return;
    }
    this.emit('crashed', msg);
    if (this.opts.autoRestart === false) return;
    const now = Date.now();
    this.crashTimes = this.crashTimes.filter((t) => now - t < 60000).concat(now);
    if (this.crashTimes.length > (this.opts.maxRestartsPerMinute ?? 3)) {
      this.log('engine crashed too often in the last minute: not restarting automatically (the next request will try)');
      return;
    }
    this.start().catch((e) => this.log(`engine restart failed: ${(e as Error).message}`));
  }

  /** Kill and start again (the "Restart Engine" command). Pending requests are rejected. */
  async restart(): Promise<HelloInfo> {
    await this.stop();
    return this.start();
  }

  /** shutdown, then SIGKILL after the grace period. Pending requests are rejected with 'engine stopped'. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectedExits.add(this.generation);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    if (child.connected) {
      try {
        child.send({ type: 'shutdown', id: this.nextId++ });
      } catch {
        /* the channel closed between the check and the send: kill below */
      }
    }
    const grace = this.opts.stopTimeoutMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, grace)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      this.log('engine did not exit after shutdown: killing it');
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** Synchronous last resort for deactivate paths that cannot await. */
  killNow(): void {
    this.expectedExits.add(this.generation);
    this.child?.kill('SIGKILL');
  }
}

function preview(x: unknown): string {
  try {
    const s = JSON.stringify(x);
    return s.length > 200 ? s.slice(0, 200) + '…' : s;
  } catch {
    return String(x);
  }
}
