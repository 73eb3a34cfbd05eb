// Engine process entry (DESIGN.md "Process model"): the extension host forks this file with an IPC
// channel (serialization 'advanced'), sends protocol Requests, and gets events + one result or error
// per request. Long jobs run concurrently with quick ones (listing episodes while an evaluation runs);
// `cancel` aborts a job at its next episode/step boundary. A crash here never takes the editor down.
import * as fs from 'fs';
import * as path from 'path';
import { selectBackend, type BackendChoice } from './backend';
import { foldClasses, NUM_FOLDS } from './data/splits';
import { CancelledError, DataError, TrainingDivergedError, UsageError } from './errors';
import { ShapeError } from './label/shapes';
import { evaluate } from './eval/evaluate';
import { resolveCheckpoint } from './train/runDir';
import { resolveTrainConfig, Trainer, type TrainConfigInput } from './train/trainer';
import { writeFileAtomic } from './fsutil';
import { parsePixelCount, setMaxImagePixels } from './image/limits';
import {
  PROTOCOL_VERSION, ProtocolError, validateRequest,
  type EngineEvent, type ErrorKind, type Reply, type Request, type ResultOf, type TrainParams,
} from '../shared/engineProtocol';
import { episodeView } from './server/episodeView';
import { LabelSessions } from './server/label';
import { Session } from './server/session';
import { INFERENCE_CHOICES, type InferencePreference } from './features/frozenEncoder';

type Send = (r: Reply) => void;

const version: string = (() => {
  try {
    // out/src/engine/server.js (tsc) sits three levels below package.json, dist/engine/server.js (bundle) two.
    for (const up of [['..', '..', '..'], ['..', '..']]) {
      const pj = path.join(__dirname, ...up, 'package.json');
      if (fs.existsSync(pj)) {
        const j = JSON.parse(fs.readFileSync(pj, 'utf8'));
        if (j.name === 'protolab') return j.version as string;
      }
    }
  } catch {
    /* unreadable package.json: report 'dev' */
  }
  return 'dev';
})();

export class EngineServer {
  private readonly jobs = new Map<number, AbortController>();
  private backend?: Promise<BackendChoice>;
  readonly session: Session;
  /** The labeling workbench's open folders (one LabelService each). */
  readonly labels: LabelSessions;

  constructor(
    private readonly send: Send,
    private readonly opts: {
      backend?: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
      cacheDir?: string;
      wasmDir?: string;
      tfjsNodePath?: string;
      inference?: InferencePreference;
      /** Largest image (width × height) decoded; bigger ones are refused from their header (image/limits.ts). */
      maxPixels?: number;
    } = {},
  ) {
    this.session = new Session({ cacheDir: opts.cacheDir, inference: opts.inference });
    this.labels = new LabelSessions(() => this.ready(), opts.cacheDir);
    if (opts.maxPixels !== undefined) setMaxImagePixels(opts.maxPixels);
  }

  private ready(): Promise<BackendChoice> {
    this.backend ??= selectBackend({ prefer: this.opts.backend, wasmDir: this.opts.wasmDir, tfjsNodePath: this.opts.tfjsNodePath, log: () => undefined });
    return this.backend;
  }

  /** Handle one raw incoming message. Never throws: every failure becomes an `error` reply. */
  async handle(raw: unknown): Promise<void> {
    let req: Request;
    try {
      req = validateRequest(raw);
    } catch (e) {
      const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
      this.send({ type: 'error', inReplyTo: id, kind: 'protocol', message: (e as Error).message });
      return;
    }
    const abort = new AbortController();
    this.jobs.set(req.id, abort);
    const event = (ev: EngineEvent) => this.send({ type: 'event', inReplyTo: req.id, event: ev });
    try {
      const value = await this.dispatch(req, abort.signal, event);
      this.send({ type: 'result', inReplyTo: req.id, value });
    } catch (e) {
      this.send({ type: 'error', inReplyTo: req.id, ...describe(e) });
    } finally {
      this.jobs.delete(req.id);
    }
  }

  /** Episodic training (train/trainer.ts): progress + metrics rows + checkpoints as events; cancel stops
   *  at a step boundary with a checkpoint that `resume` continues exactly. */
  private async train(p: TrainParams, signal: AbortSignal, event: (e: EngineEvent) => void): Promise<ResultOf['train']> {
    const be = await this.ready();
    const ds = await this.session.dataset(p.data);
    const log = (line: string) => event({ kind: 'log', line });
    let trainer: Trainer;
    let runDir: string;
    if (p.resume) {
      runDir = path.resolve(p.resume);
      trainer = await Trainer.resume(ds, runDir, { backendName: be.name, log, steps: p.steps });
    } else {
      if (!p.out) throw new UsageError('train needs `out` (the run folder) or `resume`');
      const cfg = resolveTrainConfig(trainInput(p), ds);
      runDir = path.resolve(p.out);
      trainer = await Trainer.create(ds, cfg, { runDir, backendName: be.name, log });
    }
    const total = trainer.config.steps;
    const out = await trainer.run({
      signal,
      onStep: (r) => {
        event({ kind: 'metrics', row: { ...r } });
        event({ kind: 'progress', done: r.step, total });
      },
      onValidation: (r) => event({ kind: 'metrics', row: { ...r } }),
      onCheckpoint: (file, step) => event({ kind: 'checkpoint', path: file, step }),
    }).finally(() => trainer.dispose());
    return { runDir, checkpoint: out.checkpoint ?? '', step: out.step, complete: !out.cancelled };
  }

  private async dispatch(req: Request, signal: AbortSignal, event: (e: EngineEvent) => void): Promise<unknown> {
    switch (req.type) {
      case 'hello': {
        if (req.protocol !== PROTOCOL_VERSION) throw new UsageError(`protocol ${req.protocol} requested, engine speaks ${PROTOCOL_VERSION}`);
        const be = await this.ready();
        return { protocol: PROTOCOL_VERSION, version, backend: be.name, backendReasons: be.reason, pid: process.pid } satisfies ResultOf['hello'];
      }
      case 'openDataset': {
        const ds = await this.session.dataset(req.ref);
        const n = ds.classNames.length - 1;
        const folds = (split: 'panet' | 'fwb') => (n % NUM_FOLDS === 0 ? Array.from({ length: NUM_FOLDS }, (_, f) => foldClasses(ds.kind, n, f, split)) : []);
        return { kind: ds.kind, root: ds.root, fingerprint: ds.fingerprint, classNames: [...ds.classNames], lists: ds.lists(), folds: { panet: folds('panet'), fwb: folds('fwb') } } satisfies ResultOf['openDataset'];
      }
      case 'listEpisodes': {
        const s = await this.session.sampler(req.set);
        const episodes = Array.from({ length: req.count }, (_, i) => {
          const e = s.episode(req.run, req.from + i);
          return { id: e.id, run: e.run, index: e.index, classes: e.classes, supports: e.supports, queries: e.queries, key: e.key };
        });
        return { episodes, usableClasses: s.usableClasses } satisfies ResultOf['listEpisodes'];
      }
      case 'episodeView':
        return episodeView(this.session, await this.ready(), req.set, req.model, req.annotation, req.episode, req.maxSide);
      case 'evaluate': {
        const be = await this.ready();
        const p = req.params;
        const ds = await this.session.dataset(p.set);
        const { backbone, method, methodId, weak } = await this.session.model(p.model);
        const encoder = await this.session.encoder(p.model, be, (line) => event({ kind: 'log', line }));
        let last = 0;
        const records: string[] = [];
        const result = await evaluate(
          ds, backbone, method,
          {
            method: methodId, dataset: p.set.dataset, split: p.set.split, fold: p.set.fold, ways: p.set.ways, shots: p.set.shots,
            episodes: p.episodes, runs: p.runs, seed: p.set.seed, size: p.model.size, list: p.set.list, annotation: p.annotation,
            minPixels: p.set.minPixels ?? 1, queriesPerClass: 1,
          },
          be.name,
          {
            signal,
            featureCache: this.session.featureCache(backbone, p.model.size),
            encode: (px, size) => encoder.encode(px, size),
            encoder: encoder.report,
            pseudo: p.annotation === 'pseudo' ? await this.session.pseudo(ds, weak) : undefined,
            onProgress: (done, total) => {
              // at most ~10 progress events a second: the host redraws on each
              if (done === total || Date.now() - last > 100) {
                last = Date.now();
                event({ kind: 'progress', done, total });
              }
            },
            onEpisode: (record) => {
              if (p.records) records.push(JSON.stringify(record));
              event({ kind: 'episode', record });
            },
          },
        );
        if (p.json) writeFileAtomic(p.json, JSON.stringify(result, null, 2) + '\n');
        if (p.records) writeFileAtomic(p.records, records.map((r) => r + '\n').join(''));
        return result;
      }
      case 'train':
        return this.train(req.params, signal, event);
      case 'cancel': {
        const job = this.jobs.get(req.target);
        job?.abort();
        return { cancelled: !!job } satisfies ResultOf['cancel'];
      }
      case 'shutdown':
        for (const j of this.jobs.values()) j.abort();
        // labelling folders are saved and their locks released before the process goes
        await this.labels.closeAll();
        setImmediate(() => process.exit(0));
        return { ok: true } satisfies ResultOf['shutdown'];
      default:
        return this.labels.dispatch(req, signal, event);
    }
  }
}

export function trainInput(p: TrainParams): TrainConfigInput {
  return {
    method: p.method,
    // λ (PAR) is PANet's; the other methods have their own settings
    methodConfig: p.par === undefined || p.method !== 'panet' ? {} : { par: p.par },
    dataset: p.data.dataset,
    split: p.split,
    fold: p.fold,
    ways: p.ways,
    shots: p.shots,
    steps: p.steps,
    supervision: p.supervision,
    lr: p.lr,
    freezeBackbone: p.freezeBackbone,
    backbone: p.backbone,
    size: p.size,
    weights: p.weights,
    init: p.init ? resolveCheckpoint(p.init) : undefined,
    checkpointEvery: p.checkpointEvery,
    valEvery: p.valEvery,
    valEpisodes: p.valEpisodes,
  };
}

function describe(e: unknown): { kind: ErrorKind; message: string; file?: string } {
  if (e instanceof DataError) return { kind: 'data', message: e.message, file: e.file };
  if (e instanceof UsageError || e instanceof ShapeError) return { kind: 'usage', message: e.message };
  if (e instanceof CancelledError) return { kind: 'cancelled', message: e.message };
  if (e instanceof ProtocolError) return { kind: 'protocol', message: e.message };
  if (e instanceof TrainingDivergedError) return { kind: 'diverged', message: e.message };
  return { kind: 'internal', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

// Run as a forked child: talk over the IPC channel.
if (require.main === module) {
  if (!process.send) {
    console.error('protolab engine server: start me with child_process.fork (an IPC channel is required)');
    process.exit(2);
  }
  const backend = process.env.PROTOLAB_BACKEND as 'wasm' | 'cpu' | 'webgpu' | 'tensorflow' | undefined;
  const inference = INFERENCE_CHOICES.find((c) => c === process.env.PROTOLAB_INFERENCE);
  // The extension host passes its settings as environment: the bundled .wasm dir (dist/engine), a
  // user's tfjs-node install (only in trusted workspaces), the feature cache dir, the inference engine,
  // the image size limit.
  let maxPixels: number | undefined;
  try {
    maxPixels = process.env.PROTOLAB_MAX_PIXELS ? parsePixelCount(process.env.PROTOLAB_MAX_PIXELS, 'PROTOLAB_MAX_PIXELS') : undefined;
  } catch (e) {
    console.error(`${(e as Error).message}; keeping the default image size limit`);
  }
  const server = new EngineServer((r) => process.send!(r), {
    backend,
    cacheDir: process.env.PROTOLAB_CACHE_DIR || undefined,
    wasmDir: process.env.PROTOLAB_WASM_DIR || undefined,
    tfjsNodePath: process.env.PROTOLAB_TFJS_NODE_PATH || undefined,
    inference,
    maxPixels,
  });
  process.on('message', (m) => void server.handle(m));
  // Every request's failure becomes its error reply (handle never throws). A promise that fails with no
  // one waiting (a prefetch, a cache write) is logged, not allowed to end the process and every job in it.
  process.on('unhandledRejection', (e) => console.error(`engine: a background task failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
  process.on('disconnect', () => {
    // the host went away: save what is being labelled, then do not linger
    server.labels.flushAllSync();
    process.exit(0);
  });
}
