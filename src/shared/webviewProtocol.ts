// Typed messages between the extension host and the ProtoLab webview (the pattern of
// microsoft/vscode-hexeditor's shared/protocol.ts). The webview posts `ready` first; the host answers
// with `init` (which view, saved state, settings). Every other webview message is a request with a
// numeric `id`; the host answers with a message whose `inReplyTo` is that id (or `error`). Long jobs
// (eval, training) also stream `progress` / `evalRecords` / `runMetrics` / `runStatus`.
//
// Images and masks travel as binary (Uint8Array PNG bytes; ArrayBuffer is accepted too because some
// hosts hand typed arrays over as plain buffers), never as JSON number arrays.
//
// Both sides validate every incoming message with validateHostMessage / validateWebviewMessage, which
// throw WebviewProtocolError naming what is wrong. This file is imported by the extension host AND the
// browser bundle: no node, no DOM, no engine code (the engine's types come from engineProtocol.ts).
import type {
  AnnotationKind, BackboneId, DatasetInfo, DatasetKind, EpisodeSetRef, EpisodeSummary, EpisodeView, ListName, SplitConvention,
} from './engineProtocol';
import {
  isLabelHostType, isLabelWebviewType, validateLabelHostMessage, validateLabelWebviewMessage,
  type LabelHostMessage, type LabelWebviewMessage,
} from './webviewLabelProtocol';
import { WebviewProtocolError } from './protocolErrors';
import { isObj, validatorKit, type Obj } from './validate';

export type { AnnotationKind, BackboneId, DatasetInfo, DatasetKind, EpisodeSummary, EpisodeView, ListName, SplitConvention };
export { WebviewProtocolError };

export const WEBVIEW_PROTOCOL_VERSION = 1;

export type ViewKind = 'episodes' | 'failures' | 'report' | 'compare' | 'runs' | 'label';
export const VIEW_KINDS: readonly ViewKind[] = ['episodes', 'failures', 'report', 'compare', 'runs', 'label'];

export type Bytes = Uint8Array | ArrayBuffer;

/** The knobs the settings bar edits (the episode set's split, fold, ways, shots, seed and list among
 *  them); the host fills in defaults from the VS Code settings. */
export interface UiSettings extends Pick<EpisodeSetRef, 'split' | 'fold' | 'ways' | 'shots' | 'seed' | 'list'> {
  /** dataset root (a configured one; the host knows its kind) */
  dataset?: string;
  datasetKind?: DatasetKind;
  size: number;
  backbone?: BackboneId;
  /** checkpoint used for predictions and eval (none: backbone + weights) */
  checkpoint?: string;
  weights?: string;
  annotation: AnnotationKind;
  /** eval protocol: episodes per run and runs (PANet: 1000 × 5) */
  episodes: number;
  runs: number;
}

/** A dataset the user configured (settings bar drop-down). */
export interface DatasetChoice { label: string; root: string; kind: DatasetKind }

/**
 * One query image of an episode as the overlay viewer gets it: EpisodeView's, plus an optional
 * pseudo-mask (weak supervision) as an index PNG in dataset ordinals, 0 = background, 255 = unsure.
 */
export type QueryPayload = EpisodeView['queries'][number] & { pseudo?: Bytes };
export type SupportPayload = EpisodeView['supports'][number][number] & { pseudo?: Bytes };
/** EpisodeView as the webview receives it (pseudo-masks from weak supervision when the host has them). */
export interface UiEpisodeView extends Omit<EpisodeView, 'supports' | 'queries'> {
  supports: SupportPayload[][];
  queries: QueryPayload[];
}

/** One scored query of an evaluation (engine EpisodeOutcome: EpisodeRecord + where it came from). */
export interface EvalRecord {
  /** `r<run>e<index>` or `r<run>e<index>q<q>` for episodes with several queries */
  id: string;
  run?: number;
  index?: number;
  classes: number[];
  classIoU: Array<number | null>;
  fgIoU: number | null;
  confusions: Array<{ trueClass: number; predClass: number; pixels: number }>;
  pixels: number;
  queries?: string[];
  supports?: string[][];
}

export interface MeanStd { mean: number; std: number; n: number }

/** The part of the engine's EvalResult (engine/eval/evaluate.ts) the report view reads. */
export interface ReportData {
  createdAt?: string;
  complete?: boolean;
  settings: {
    method?: string; dataset?: string; split?: string; fold?: number; ways?: number; shots?: number;
    episodes?: number; runs?: number; seed?: number; size?: number; list?: string; annotation?: string;
  } & Record<string, unknown>;
  data?: { root?: string; fingerprint?: string; foldClasses: Array<{ cls: number; name: string }> };
  backbone?: { id?: string; weightsHash?: string; weightsSource?: string; trainedOn?: string };
  /** Set by the engine when the numbers cannot stand beside the papers' (a COCO-trained backbone). */
  protocolWarning?: string;
  backend?: string;
  miou: number;
  fbiou: number;
  summary?: { mIoU: MeanStd; fbIoU: MeanStd; classIoU: Array<{ cls: number } & MeanStd> };
  runs?: Array<{ run: number; seed?: number; miou: number | null; fbiou: number | null; classIoU: Array<{ cls: number; name: string; iou: number | null }> }>;
  baselines?: { allBackground: { miou: number; fbiou: number }; allForeground: { miou: number; fbiou: number } };
  episodesScored?: number;
  skipped?: Array<{ episode: string; error: string }>;
  timing?: { seconds: number; episodesPerSecond: number } & Record<string, unknown>;
  /** annotation 'pseudo' only (engine EvalResult.weak): what made the support pseudo masks and how good they were */
  weak?: WeakReport;
}

/** Weak supervision in a report: supports known by image-level labels only, turned into pseudo masks. */
export interface WeakReport {
  supervision: 'image-labels';
  /** the parts that made the pseudo masks (engine PseudoMaskParts); unknownLabels: class names the word
   *  similarity knew nothing of, whose masks are the saliency alone */
  parts: { cam: string; similarity: string; saliency: string; threshold: number; unknownLabels: string[] };
  /** the support pseudo masks scored against their ground truth (mean over runs) */
  pseudoMasks: { miou: number | null; fbiou: number | null; masks: number; classIoU: Array<{ cls: number; name: string; iou: number | null }> };
}

/** A report with its records and a label (file name) for the report / compare / failure views. */
export interface ReportBundle { label: string; result: ReportData; records: EvalRecord[] }

/** The training form. */
export interface TrainingParams {
  method: 'panet' | 'metasegnet' | 'pixelmeta';
  fold: number;
  ways: number;
  shots: number;
  steps: number;
  lr: number;
  /** PAR loss weight λ (0 = off) */
  par: number;
  freezeBackbone: boolean;
  /** checkpoint to start from (empty: backbone weights) */
  init?: string;
  /** 'image-labels': weak supervision, supports and queries known by their image-level labels only
   *  (pseudo masks; the pixel-level meta-learner's setting). Absent: 'masks'. */
  supervision?: 'masks' | 'image-labels';
}

/** One training metrics row (engine `metrics` event). */
/** loss parts: seg (PANet / MetaSegNet segmentation), par (PANet's alignment), meta (the pixel-level meta-learner's loss) */
/** diverged: the reason, on the row of the step whose loss diverged (the run stopped there); divergedLoss: where to mark it on the loss chart */
export interface MetricsRow { step: number; loss: number; seg?: number; par?: number; meta?: number; lr?: number; valMiou?: number; ms?: number; diverged?: string; divergedLoss?: number }

export type RunState = 'starting' | 'running' | 'paused' | 'cancelled' | 'completed' | 'failed' | 'diverged';
export interface RunInfo { runId: string; state: RunState; step?: number; steps?: number; message?: string; checkpoint?: string; params?: Partial<TrainingParams> }

// ---- webview → host -------------------------------------------------------------------------------

export type WebviewMessage =
  | { type: 'ready'; protocol: number }
  | { type: 'listEpisodes'; id: number; from: number; count: number; run?: number }
  | { type: 'openEpisode'; id: number; episodeId: string; annotation: AnnotationKind; query?: number }
  | { type: 'runEval'; id: number }
  | { type: 'cancel'; id: number; requestId: number }
  /** open a saved report (path given, or the host asks with a file picker); `compare` opens it as the second one */
  | { type: 'openReport'; id: number; path?: string; compare?: boolean }
  | { type: 'startTraining'; id: number; params: TrainingParams }
  | { type: 'pauseTraining'; id: number; runId: string }
  | { type: 'resumeTraining'; id: number; runId: string }
  | { type: 'cancelTraining'; id: number; runId: string }
  | { type: 'setSettings'; id: number; settings: Partial<UiSettings> }
  /** the labeling view's messages (webviewLabelProtocol.ts) */
  | LabelWebviewMessage;

export type WebviewMessageType = WebviewMessage['type'];
export type WebviewRequest = Exclude<WebviewMessage, { type: 'ready' }>;

// ---- host → webview -------------------------------------------------------------------------------

export interface InitMessage {
  type: 'init';
  view: ViewKind;
  /** what the webview saved with setState (the host's serializer hands it back on restore) */
  state?: unknown;
  settings: UiSettings;
  datasetInfo?: DatasetInfo;
  datasets?: DatasetChoice[];
  checkpoints?: string[];
  /** episodes per run in the browser's list (default settings.episodes) */
  totalEpisodes?: number;
  /** trust: false disables training in the UI (the host enforces it too) */
  trusted?: boolean;
}

export type HostMessage =
  | InitMessage
  /** reply to listEpisodes */
  | { type: 'episodes'; inReplyTo: number; from: number; total: number; episodes: EpisodeSummary[]; run?: number }
  /** reply to openEpisode */
  | { type: 'episode'; inReplyTo: number; view: UiEpisodeView }
  /** reply to setSettings: the settings now in force (and the dataset, if it changed) */
  | { type: 'settings'; inReplyTo?: number; settings: UiSettings; datasetInfo?: DatasetInfo; totalEpisodes?: number }
  /** generic reply for requests without data (runEval started, cancel done, training started …) */
  | { type: 'ack'; inReplyTo: number; runId?: string }
  | { type: 'progress'; requestId: number; done: number; total: number; note?: string }
  /** records streamed while an eval runs */
  | { type: 'evalRecords'; requestId: number; records: EvalRecord[] }
  /** a finished eval or an opened report; `slot: 'b'` is the second report of a comparison */
  | { type: 'evalResult'; requestId?: number; label?: string; result: ReportData; records: EvalRecord[]; slot?: 'a' | 'b' }
  | { type: 'runMetrics'; runId: string; rows: MetricsRow[]; reset?: boolean }
  | { type: 'runStatus'; run: RunInfo }
  | { type: 'error'; inReplyTo?: number; message: string }
  /** the labeling view's messages (webviewLabelProtocol.ts) */
  | LabelHostMessage;

export type HostMessageType = HostMessage['type'];

// ---- validation -----------------------------------------------------------------------------------

// Bounds above as well as below: a message is data from a webview, and `count: 1e12` or a 100 MB string
// must be refused here rather than reach the engine or the workspace state.
const kit = validatorKit((what) => new WebviewProtocolError(what));
const { need, int, optInt, num, str, optStr, optBool, onlyKeys, oneOf, arr, obj } = kit;
/** Absent, null (NaN through JSON) or a finite number. */
const optNumOrNull = (o: Obj, k: string): void => {
  if (o[k] !== undefined && o[k] !== null) num(o, k);
};
const SETTINGS_KEYS = ['dataset', 'datasetKind', 'split', 'fold', 'ways', 'shots', 'seed', 'list', 'size', 'backbone', 'checkpoint', 'weights', 'annotation', 'episodes', 'runs'] as const;
const TRAINING_KEYS = ['method', 'fold', 'ways', 'shots', 'steps', 'lr', 'par', 'freezeBackbone', 'init', 'supervision'] as const;
/** The fields of each webview request besides type and id (the labeling view's messages check their own). */
const REQUEST_KEYS: Record<string, readonly string[]> = {
  listEpisodes: ['from', 'count', 'run'], openEpisode: ['episodeId', 'annotation', 'query'], runEval: [], cancel: ['requestId'],
  openReport: ['path', 'compare'], startTraining: ['params'], pauseTraining: ['runId'], resumeTraining: ['runId'], cancelTraining: ['runId'],
  setSettings: ['settings'],
};
const SPLITS = ['panet', 'fwb'] as const;
const LISTS = ['train', 'val', 'trainaug'] as const;
const ANNOTATIONS = ['dense', 'scribble', 'box', 'pseudo'] as const;
const BACKBONES = ['vgg16', 'mobilenetv2', 'nanodet', 'centernet'] as const;
const METHODS = ['panet', 'metasegnet', 'pixelmeta'] as const;
const SUPERVISIONS = ['masks', 'image-labels'] as const;
const RUN_STATES = ['starting', 'running', 'paused', 'cancelled', 'completed', 'failed', 'diverged'] as const;

/** Partial settings (setSettings) or full settings (init / settings) — `full` requires every field. */
function checkSettings(o: unknown, full: boolean): void {
  need(isObj(o), 'settings must be an object');
  const s = o as Obj;
  // From a webview (partial settings) nothing else may ride along into the workspace state; the host's
  // own full settings may carry fields of other versions, which the webview ignores.
  if (!full) onlyKeys(s, SETTINGS_KEYS, 'settings');
  const has = (k: string): boolean => full || s[k] !== undefined;
  optStr(s, 'dataset');
  if (s.datasetKind !== undefined) oneOf(s, 'datasetKind', ['voc', 'coco']);
  if (has('split')) oneOf(s, 'split', SPLITS);
  if (has('fold')) int(s, 'fold', 0, 3);
  if (has('ways')) int(s, 'ways', 1, 100);
  if (has('shots')) int(s, 'shots', 1, 1000);
  if (has('seed')) int(s, 'seed');
  if (has('list')) oneOf(s, 'list', LISTS);
  if (has('size')) int(s, 'size', 16, 4096);
  if (s.backbone !== undefined) oneOf(s, 'backbone', BACKBONES);
  optStr(s, 'checkpoint');
  optStr(s, 'weights');
  if (has('annotation')) oneOf(s, 'annotation', ANNOTATIONS);
  if (has('episodes')) int(s, 'episodes', 1, 1e7);
  if (has('runs')) int(s, 'runs', 1, 100);
}

function checkTraining(o: unknown): void {
  need(isObj(o), 'params must be an object');
  const p = o as Obj;
  onlyKeys(p, TRAINING_KEYS, 'params');
  oneOf(p, 'method', METHODS);
  int(p, 'fold', 0, 3);
  int(p, 'ways', 1, 100);
  int(p, 'shots', 1, 1000);
  int(p, 'steps', 1, 1e9);
  num(p, 'lr');
  need((p.lr as number) > 0 && (p.lr as number) <= 100, 'lr must be in (0, 100]');
  num(p, 'par');
  need((p.par as number) >= 0 && (p.par as number) <= 1e6, 'par must be in [0, 1e6]');
  kit.bool(p, 'freezeBackbone');
  optStr(p, 'init');
  if (p.supervision !== undefined) oneOf(p, 'supervision', SUPERVISIONS);
}

/** Check a message the webview posted (the extension host's side). */
export function validateWebviewMessage(x: unknown): WebviewMessage {
  need(isObj(x), 'a webview message must be an object');
  const m = x as Obj;
  if (m.type === 'ready') {
    onlyKeys(m, ['type', 'protocol'], 'ready');
    int(m, 'protocol', 1);
    return x as WebviewMessage;
  }
  int(m, 'id');
  if (typeof m.type === 'string' && Object.hasOwn(REQUEST_KEYS, m.type)) onlyKeys(m, ['type', 'id', ...REQUEST_KEYS[m.type]], m.type);
  switch (m.type) {
    case 'listEpisodes':
      int(m, 'from', 0, 1e9);
      int(m, 'count', 1, 1000);
      optInt(m, 'run');
      break;
    case 'openEpisode':
      str(m, 'episodeId');
      oneOf(m, 'annotation', ANNOTATIONS);
      optInt(m, 'query');
      break;
    case 'runEval':
      break;
    case 'cancel':
      int(m, 'requestId');
      break;
    case 'openReport':
      optStr(m, 'path');
      optBool(m, 'compare');
      break;
    case 'startTraining':
      checkTraining(m.params);
      break;
    case 'pauseTraining':
    case 'resumeTraining':
    case 'cancelTraining':
      str(m, 'runId');
      break;
    case 'setSettings':
      checkSettings(m.settings, false);
      break;
    default:
      if (isLabelWebviewType(m.type)) return validateLabelWebviewMessage(x);
      throw new WebviewProtocolError(`unknown webview message type ${JSON.stringify(m.type)}`);
  }
  return x as WebviewMessage;
}

function checkImage(o: unknown, where: string): Obj {
  need(isObj(o), `${where} must be an object`);
  const p = o as Obj;
  str(p, 'imageId');
  int(p, 'width', 1);
  int(p, 'height', 1);
  const at = kit.at(`${where}.`);
  at.bytes(p, 'image');
  at.bytes(p, 'gt');
  at.optBytes(p, 'pseudo');
  return p;
}

function checkEpisodeView(o: unknown): void {
  need(isObj(o), 'view must be an object');
  const v = o as Obj;
  const ep = obj(v, 'episode');
  str(ep, 'id');
  need(arr(ep, 'classes').every((c) => Number.isInteger(c)), 'episode.classes must be integers');
  need(arr(v, 'classNames').every((c) => typeof c === 'string'), 'classNames must be strings');
  arr(v, 'supports').forEach((way, w) => {
    need(Array.isArray(way), `supports[${w}] must be an array`);
    (way as unknown[]).forEach((s, k) => kit.at(`supports[${w}][${k}].`).bytes(checkImage(s, `supports[${w}][${k}]`), 'annotation'));
  });
  arr(v, 'queries').forEach((q, i) => {
    const p = checkImage(q, `queries[${i}]`);
    kit.at(`queries[${i}].`).bytes(p, 'pred');
    need(Array.isArray(p.classIoU), `queries[${i}].classIoU must be an array`);
  });
}

function checkRecord(o: unknown, i: number): void {
  need(isObj(o), `records[${i}] must be an object`);
  const r = o as Obj;
  str(r, 'id');
  need(arr(r, 'classes').every((c) => Number.isInteger(c)), `records[${i}].classes must be integers`);
  need(arr(r, 'classIoU').every((c) => c === null || typeof c === 'number'), `records[${i}].classIoU must be numbers or null`);
  need(r.fgIoU === null || typeof r.fgIoU === 'number', `records[${i}].fgIoU must be a number or null`);
  need(arr(r, 'confusions').every((c) => isObj(c) && Number.isInteger(c.trueClass) && Number.isInteger(c.predClass) && typeof c.pixels === 'number'),
    `records[${i}].confusions must be {trueClass, predClass, pixels}`);
}

function checkReport(o: unknown): void {
  need(isObj(o), 'result must be an object');
  const r = o as Obj;
  need(typeof r.miou === 'number', 'result.miou must be a number');
  need(typeof r.fbiou === 'number', 'result.fbiou must be a number');
  obj(r, 'settings');
  if (r.data !== undefined) arr(obj(r, 'data'), 'foldClasses');
  if (r.weak !== undefined && r.weak !== null) checkWeak(obj(r, 'weak'));
}

function checkWeak(w: Obj): void {
  need(w.supervision === 'image-labels', 'result.weak.supervision must be image-labels');
  const p = obj(w, 'parts');
  for (const k of ['cam', 'similarity', 'saliency']) need(typeof p[k] === 'string', `result.weak.parts.${k} must be a string`);
  need(typeof p.threshold === 'number' && Number.isFinite(p.threshold), 'result.weak.parts.threshold must be a finite number');
  need(arr(p, 'unknownLabels').every((n) => typeof n === 'string'), 'result.weak.parts.unknownLabels must be strings');
  const m = obj(w, 'pseudoMasks');
  // NaN (no mask scored) arrives as null through JSON
  for (const k of ['miou', 'fbiou']) need(m[k] === null || typeof m[k] === 'number', `result.weak.pseudoMasks.${k} must be a number`);
  int(m, 'masks');
  need(arr(m, 'classIoU').every((c) => isObj(c) && Number.isInteger(c.cls) && (c.iou === null || typeof c.iou === 'number')),
    'result.weak.pseudoMasks.classIoU must be {cls, name, iou}');
}

/** Check a message the host posted (the webview's side). */
export function validateHostMessage(x: unknown): HostMessage {
  need(isObj(x), 'a host message must be an object');
  const m = x as Obj;
  switch (m.type) {
    case 'init':
      oneOf(m, 'view', VIEW_KINDS);
      checkSettings(m.settings, true);
      if (m.datasetInfo !== undefined) need(isObj(m.datasetInfo) && Array.isArray((m.datasetInfo as Obj).classNames), 'datasetInfo.classNames must be an array');
      if (m.datasets !== undefined) need(arr(m, 'datasets').every((d) => isObj(d) && typeof d.root === 'string'), 'datasets must be {label, root, kind}');
      if (m.checkpoints !== undefined) need(arr(m, 'checkpoints').every((c) => typeof c === 'string'), 'checkpoints must be strings');
      optInt(m, 'totalEpisodes');
      break;
    case 'episodes':
      int(m, 'inReplyTo');
      int(m, 'from');
      int(m, 'total');
      need(arr(m, 'episodes').every((e) => isObj(e) && typeof e.id === 'string' && Array.isArray(e.classes)), 'episodes must be {id, classes, …}');
      break;
    case 'episode':
      int(m, 'inReplyTo');
      checkEpisodeView(m.view);
      break;
    case 'settings':
      optInt(m, 'inReplyTo');
      checkSettings(m.settings, true);
      optInt(m, 'totalEpisodes');
      break;
    case 'ack':
      int(m, 'inReplyTo');
      optStr(m, 'runId');
      break;
    case 'progress':
      int(m, 'requestId');
      int(m, 'done');
      int(m, 'total');
      optStr(m, 'note');
      break;
    case 'evalRecords':
      int(m, 'requestId');
      arr(m, 'records').forEach(checkRecord);
      break;
    case 'evalResult':
      optInt(m, 'requestId');
      optStr(m, 'label');
      checkReport(m.result);
      arr(m, 'records').forEach(checkRecord);
      need(m.slot === undefined || m.slot === 'a' || m.slot === 'b', 'slot must be a|b');
      break;
    case 'runMetrics':
      str(m, 'runId');
      arr(m, 'rows').forEach((r, i) => {
        need(isObj(r), `rows[${i}] must be an object`);
        const row = r as Obj;
        int(row, 'step');
        num(row, 'loss');
        for (const k of ['seg', 'par', 'meta', 'lr', 'valMiou', 'ms', 'divergedLoss']) optNumOrNull(row, k);
        optStr(row, 'diverged');
      });
      break;
    case 'runStatus': {
      const run = obj(m, 'run');
      str(run, 'runId');
      oneOf(run, 'state', RUN_STATES);
      optInt(run, 'step');
      optInt(run, 'steps');
      optStr(run, 'message');
      if (run.params !== undefined) {
        need(isObj(run.params), 'run.params must be an object');
        const rp = run.params as Obj;
        if (rp.supervision !== undefined) oneOf(rp, 'supervision', SUPERVISIONS);
      }
      break;
    }
    case 'error':
      optInt(m, 'inReplyTo');
      str(m, 'message');
      break;
    default:
      if (isLabelHostType(m.type)) return validateLabelHostMessage(x);
      throw new WebviewProtocolError(`unknown host message type ${JSON.stringify(m.type)}`);
  }
  return x as HostMessage;
}
