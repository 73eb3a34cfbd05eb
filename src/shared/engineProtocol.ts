// Typed messages between the extension host and the engine process (DESIGN.md "Process model").
// The host forks engine/server.js with `serialization: 'advanced'` (structured clone), so images and
// masks travel as Uint8Array (PNG bytes), never as JSON number arrays. Every request has an `id`; the
// engine answers with events (`inReplyTo` = that id) while it works and exactly one `result` or
// `error` at the end. `cancel` names the id of the request to stop.
//
// Shared by the engine (server.ts validates every request) and the extension host (EngineClient
// validates every reply): no DOM, no node, nothing of the engine. The labeling requests (one
// LabelService per open folder) are in engineLabelProtocol.ts.
import { checkLabelChange, checkLabelRequest, isLabelRequestType, type LabelChange, type LabelRequest, type LabelResultOf } from './engineLabelProtocol';
import { ProtocolError } from './protocolErrors';
import { isObj, validatorKit, type Obj } from './validate';

export * from './engineLabelProtocol';
export { ProtocolError };

export const PROTOCOL_VERSION = 1;

export type DatasetKind = 'voc' | 'coco';
export type ListName = 'train' | 'val' | 'trainaug';
export type SplitConvention = 'panet' | 'fwb';
export const ANNOTATION_KINDS: readonly AnnotationKind[] = ['dense', 'scribble', 'box', 'pseudo'];
/** 'pseudo': weak supervision — supports known by their image-level label only, annotated by pseudo masks. */
export type AnnotationKind = 'dense' | 'scribble' | 'box' | 'pseudo';
/** nanodet, centernet: COCO-trained detector backbones, frozen (centernet: installed by the user). */
export type BackboneId = 'vgg16' | 'mobilenetv2' | 'nanodet' | 'centernet';
export const BACKBONE_IDS: readonly BackboneId[] = ['vgg16', 'mobilenetv2', 'nanodet', 'centernet'];

/** Where a dataset is and how to read it (the CLI's --data/--dataset/--images/--crowd). */
export interface DatasetRef {
  data: string;
  dataset: DatasetKind;
  images?: string;
  crowd?: 'ignore' | 'class';
}

/** Everything that fixes a set of episodes: same ref ⇒ same episodes, byte for byte. */
export interface EpisodeSetRef extends DatasetRef {
  split: SplitConvention;
  fold: number;
  ways: number;
  shots: number;
  seed: number;
  list: ListName;
  minPixels?: number;
}

/** Which model: a backbone (+ weights) or a ProtoLab checkpoint (method + backbone from its config). */
export interface ModelRef {
  backbone?: BackboneId;
  weights?: string;
  checkpoint?: string;
  initSeed?: number;
  size: number;
}

export interface DatasetInfo {
  kind: DatasetKind;
  root: string;
  fingerprint: string;
  /** names[c], c = 0..C; names[0] = 'background' */
  classNames: string[];
  lists: ListName[];
  /** folds[f] = class ordinals of fold f under the requested split convention ('panet' for VOC) */
  folds: { panet: number[][]; fwb: number[][] };
}

/** One episode of an EpisodeSpec (the engine's Episode adds the way each query was drawn for). */
export interface EpisodeSummary {
  /** Stable within an EpisodeSpec: `r<run>e<index>`. */
  id: string;
  run: number;
  index: number;
  /** Episode classes (ordinals), way j = classes[j] (episode label j+1). */
  classes: number[];
  /** supports[j][k] = image id of shot k of way j. */
  supports: string[][];
  /** Query image ids. */
  queries: string[];
  /** Short content hash of the draw (classes, supports, queries): detects a changed dataset index. */
  key: string;
}

/** A picture for the UI: PNG bytes of the image at display size, and index masks (PNG, VOC palette). */
export interface ImagePayload {
  imageId: string;
  file: string;
  width: number;
  height: number;
  /** PNG bytes of the RGB image at width×height */
  image: Uint8Array;
  /** ground truth, dataset ordinals, 255 ignore (PNG bytes) */
  gt: Uint8Array;
}

export interface EpisodeView {
  episode: EpisodeSummary;
  classNames: string[];
  /** supports[way][shot], with the support annotation actually used (1 fg, 0 bg, 255 unlabeled) */
  supports: Array<Array<ImagePayload & { annotation: Uint8Array }>>;
  /** one per query, with the prediction in dataset ordinals and per-class IoU of this episode */
  queries: Array<ImagePayload & { pred: Uint8Array; classIoU: Array<number | null>; fgIoU: number | null; pseudo?: Uint8Array }>;
  model: { backbone: string; weightsHash: string; method: string };
}

export interface EvaluateParams {
  set: EpisodeSetRef;
  model: ModelRef;
  episodes: number;
  runs: number;
  annotation: AnnotationKind;
  /** Optional files the engine writes atomically when done. */
  json?: string;
  records?: string;
}

export interface TrainParams {
  data: DatasetRef;
  fold: number;
  split: SplitConvention;
  ways: number;
  shots: number;
  steps: number;
  method: 'panet' | 'metasegnet' | 'pixelmeta';
  /** 'image-labels': weak supervision (pseudo masks from image-level labels, the pixel-level meta-learner's
   *  setting; the pseudo-mask pipeline with its defaults). Default 'masks'. */
  supervision?: 'masks' | 'image-labels';
  par?: number;
  freezeBackbone?: boolean;
  lr?: number;
  init?: string;
  weights?: string;
  backbone?: BackboneId;
  size?: number;
  out?: string;
  resume?: string;
  checkpointEvery?: number;
  valEvery?: number;
  valEpisodes?: number;
}

export type Request =
  | { type: 'hello'; id: number; protocol: number }
  | { type: 'openDataset'; id: number; ref: DatasetRef }
  | { type: 'listEpisodes'; id: number; set: EpisodeSetRef; run: number; from: number; count: number }
  | { type: 'episodeView'; id: number; set: EpisodeSetRef; model: ModelRef; annotation: AnnotationKind; episode: string; maxSide?: number }
  | { type: 'evaluate'; id: number; params: EvaluateParams }
  | { type: 'train'; id: number; params: TrainParams }
  | { type: 'cancel'; id: number; target: number }
  | { type: 'shutdown'; id: number }
  | LabelRequest;

export type RequestType = Request['type'];

export type EngineEvent =
  | { kind: 'progress'; done: number; total: number; note?: string }
  | { kind: 'log'; line: string }
  /** one scored query of an evaluation (failure browser rows) */
  | { kind: 'episode'; record: unknown }
  /** one training metrics row (step, loss, parts, lr, ms, val mIoU…) */
  | { kind: 'metrics'; row: Record<string, unknown> }
  | { kind: 'checkpoint'; path: string; step: number }
  /** a labelled folder changed (labelWatch stream; also sent while label requests work) */
  | { kind: 'label'; folder: string; change: LabelChange };

/** 'diverged': a training run stopped because its loss diverged (train/divergence.ts); not a bug. */
export type ErrorKind = 'data' | 'usage' | 'cancelled' | 'internal' | 'protocol' | 'diverged';

export type Reply =
  | { type: 'result'; inReplyTo: number; value: unknown }
  | { type: 'error'; inReplyTo: number; kind: ErrorKind; message: string; file?: string }
  | { type: 'event'; inReplyTo: number; event: EngineEvent };

/** Result types by request type (what `result.value` holds). */
export interface ResultOf extends LabelResultOf {
  hello: { protocol: number; version: string; backend: string; backendReasons: string[]; pid: number };
  openDataset: DatasetInfo;
  listEpisodes: { episodes: EpisodeSummary[]; usableClasses: number[] };
  episodeView: EpisodeView;
  evaluate: unknown; // an EvalResult (engine/eval/evaluate.ts), passed through as JSON-like data
  train: { runDir: string; checkpoint: string; step: number; complete: boolean };
  cancel: { cancelled: boolean };
  shutdown: { ok: true };
}

// ---- validation: every incoming message is checked before use -------------------------------------

// Upper bounds too: a request is data from another process, and `count: 1e9` must be an error reply, not
// an allocation that takes the engine down.
const { need, int, str, optStr, optNum, oneOf, optBool } = validatorKit((what) => new ProtocolError(what));

function checkDatasetRef(o: unknown, where: string): void {
  need(isObj(o), `${where} must be an object`);
  const r = o as Obj;
  str(r, 'data');
  oneOf(r, 'dataset', ['voc', 'coco']);
  optStr(r, 'images');
  need(r.crowd === undefined || r.crowd === 'ignore' || r.crowd === 'class', 'crowd must be ignore|class');
}

function checkEpisodeSet(o: unknown): void {
  checkDatasetRef(o, 'set');
  const s = o as Obj;
  oneOf(s, 'split', ['panet', 'fwb']);
  int(s, 'fold', 0, 3);
  int(s, 'ways', 1, 100);
  int(s, 'shots', 1, 1000);
  int(s, 'seed');
  oneOf(s, 'list', ['train', 'val', 'trainaug']);
  if (s.minPixels !== undefined) int(s, 'minPixels', 1);
}

function checkModel(o: unknown): void {
  need(isObj(o), 'model must be an object');
  const m = o as Obj;
  need(m.backbone === undefined || BACKBONE_IDS.includes(m.backbone as BackboneId), `backbone must be ${BACKBONE_IDS.join('|')}`);
  optStr(m, 'weights');
  optStr(m, 'checkpoint');
  int(m, 'size', 16, 4096);
  if (m.initSeed !== undefined) int(m, 'initSeed');
}

/** Check an incoming message's shape; throws ProtocolError saying what is wrong. */
export function validateRequest(x: unknown): Request {
  need(isObj(x), 'a request must be an object');
  const r = x as Obj;
  int(r, 'id');
  switch (r.type) {
    case 'hello':
      int(r, 'protocol', 1);
      break;
    case 'openDataset':
      checkDatasetRef(r.ref, 'ref');
      break;
    case 'listEpisodes':
      checkEpisodeSet(r.set);
      int(r, 'run', 0, 10000);
      int(r, 'from', 0, 1e9);
      int(r, 'count', 1, 10000);
      break;
    case 'episodeView':
      checkEpisodeSet(r.set);
      checkModel(r.model);
      oneOf(r, 'annotation', ANNOTATION_KINDS);
      str(r, 'episode');
      if (r.maxSide !== undefined) int(r, 'maxSide', 16, 8192);
      break;
    case 'evaluate': {
      need(isObj(r.params), 'params must be an object');
      const p = r.params as Obj;
      checkEpisodeSet(p.set);
      checkModel(p.model);
      int(p, 'episodes', 1, 1e7);
      int(p, 'runs', 1, 100);
      oneOf(p, 'annotation', ANNOTATION_KINDS);
      optStr(p, 'json');
      optStr(p, 'records');
      break;
    }
    case 'train': {
      need(isObj(r.params), 'params must be an object');
      const p = r.params as Obj;
      checkDatasetRef(p.data, 'params.data');
      int(p, 'fold', 0, 3);
      oneOf(p, 'split', ['panet', 'fwb']);
      int(p, 'ways', 1, 100);
      int(p, 'shots', 1, 1000);
      int(p, 'steps', 1, 1e9);
      oneOf(p, 'method', ['panet', 'metasegnet', 'pixelmeta']);
      if (p.supervision !== undefined) oneOf(p, 'supervision', ['masks', 'image-labels']);
      optNum(p, 'par', 0);
      optNum(p, 'lr', Number.MIN_VALUE);
      optBool(p, 'freezeBackbone');
      for (const k of ['init', 'weights', 'out', 'resume']) optStr(p, k);
      need(p.backbone === undefined || BACKBONE_IDS.includes(p.backbone as BackboneId), `backbone must be ${BACKBONE_IDS.join('|')}`);
      if (p.size !== undefined) int(p, 'size', 32, 4096);
      if (p.checkpointEvery !== undefined) int(p, 'checkpointEvery');
      if (p.valEvery !== undefined) int(p, 'valEvery');
      if (p.valEpisodes !== undefined) int(p, 'valEpisodes', 1, 1e6);
      break;
    }
    case 'cancel':
      int(r, 'target');
      break;
    case 'shutdown':
      break;
    default:
      if (isLabelRequestType(r.type)) {
        checkLabelRequest(r);
        break;
      }
      throw new ProtocolError(`unknown request type ${JSON.stringify(r.type)}`);
  }
  return x as Request;
}

/** Check a reply's envelope (the host's side of "every message is validated"). */
export function validateReply(x: unknown): Reply {
  need(isObj(x), 'a reply must be an object');
  const r = x as Obj;
  int(r, 'inReplyTo');
  if (r.type === 'result') need('value' in r, 'result without value');
  else if (r.type === 'error') {
    str(r, 'message');
    oneOf(r, 'kind', ['data', 'usage', 'cancelled', 'internal', 'protocol', 'diverged']);
  } else if (r.type === 'event') {
    need(isObj(r.event), 'event must be an object');
    oneOf(r.event as Obj, 'kind', ['progress', 'log', 'episode', 'metrics', 'checkpoint', 'label']);
    if ((r.event as Obj).kind === 'label') checkLabelChange(r.event as Obj);
  } else throw new ProtocolError(`unknown reply type ${JSON.stringify(r.type)}`);
  return x as Reply;
}
