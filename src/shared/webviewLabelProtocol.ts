// Messages of the labeling view between the extension host and the webview, with validators for both
// directions. webviewProtocol.ts adds these to its unions and hands every `label*` message to the
// validators here, so the rest of the protocol (ready handshake, request ids, `ack` / `error` replies)
// is shared.
//
// The flow:
//   webview → labelSync                  host → labelState   (classes, all images, options, mode, grid pass)
//   webview → labelOpenImage(imageId)    host → labelImage   (bytes, full-res size, shapes, redo, generation, prediction)
//   webview → labelSetShapes(imageId, generation, shapes, redo) after every stroke / undo / redo
//                                        host → labelPrediction(imageId, generation, mask, confidence)
//   host → labelImages / labelGridProgress / labelThumbs / labelPrediction at any time (the grid pass)
//
// Why the WHOLE shape list per edit (not addShape): every edit the view offers appends one shape and
// undo / redo move the last shape between `shapes` and `redo`. Sending both lists makes each message
// idempotent and self-contained: the host can drop any older generation unseen (newest wins), a lost
// or failed message is repaired by the next one, and the host holds exactly what the webview shows,
// including the redo stack, so a reload restores undo/redo too. The cost is small (a long stroke is a
// few hundred numbers; hosts may diff against the stored list, whose prefix is unchanged by a draw).
//
// Coordinates are the image's pixels as the user sees it (EXIF orientation applied), full resolution
// (`labelImage.width/height`), floats allowed; the displayed bytes may be a downscaled copy.
// Shapes follow the labeling contract (src/engine/label/shapes.ts); the shapes, the raster codes
// (0 background, 1..253 a class, 254 unlabeled, 255 unsure), statuses and modes are
// labelVocabulary.ts's, re-exported here for the view.
//
// Imported by the extension host AND the browser bundle: no node, no DOM, no engine code.
import {
  EXPORT_FORMATS, LABEL_MODES, LABEL_STATUSES, MAX_CLASS, UNSURE, isHexColor, isPaintLabel,
  type ExportFormat, type LabelMode, type LabelShape, type LabelStatus,
} from './labelVocabulary';
import { WebviewProtocolError } from './protocolErrors';
import { finite, isObj, validatorKit, type Obj } from './validate';

export * from './labelVocabulary';

type Bytes = Uint8Array | ArrayBuffer;

export interface LabelClass {
  /** 1..253, stable for the life of the labeling state (names can change) */
  id: number;
  name: string;
  /** '#rrggbb' when the state fixes one; otherwise the view takes a theme colour */
  color?: string;
}

export interface LabelImageInfo {
  id: string;
  /** display name (file name relative to the folder) */
  name: string;
  status: LabelStatus;
  /** 0..1 for predicted / accepted images; null or absent when there is none */
  confidence?: number | null;
  /** broken: why the file cannot be used */
  reason?: string;
  /** in the support set */
  support?: boolean;
  /** image-tags mode: the class names given for the image */
  tags?: string[];
  /** the prediction is a pseudo mask made from image tags */
  pseudo?: boolean;
  /** bumps whenever its thumbnail or prediction changes (cached thumbnails of an older rev are refetched) */
  rev?: number;
}

export interface LabelChoice { id: string; label: string }
export interface LabelOptions {
  methods: LabelChoice[];
  backbones: LabelChoice[];
  checkpoints: LabelChoice[];
  method: string;
  backbone: string;
  /** '' or absent: the backbone's weights, no checkpoint */
  checkpoint?: string;
}

/** The background grid pass (re-segmenting every image after a change). */
export interface LabelGridProgress { pass: number; done: number; total: number; note?: string }

export interface LabelThumb {
  imageId: string;
  rev?: number;
  /** a small encoded image (PNG or JPEG bytes) */
  image: Bytes;
  /** index PNG of its prediction (any size; stretched over the thumbnail) */
  mask?: Bytes;
}

// ---- webview → host -------------------------------------------------------------------------------

export type LabelWebviewMessage =
  /** → labelState */
  | { type: 'labelSync'; id: number }
  /** → labelImage */
  | { type: 'labelOpenImage'; id: number; imageId: string }
  /** → labelPrediction of the same generation (or error); generation grows by one per edit and image */
  | { type: 'labelSetShapes'; id: number; imageId: string; generation: number; shapes: LabelShape[]; redo: LabelShape[] }
  /** → labelThumbs */
  | { type: 'labelThumbs'; id: number; imageIds: string[] }
  /** the whole class list (add / rename) → labelClasses */
  | { type: 'labelSetClasses'; id: number; classes: LabelClass[] }
  /** → labelSuggestion */
  | { type: 'labelSuggest'; id: number }
  /** → ack */
  | { type: 'labelUseAsSupport'; id: number; imageId: string; support: boolean }
  /** → ack */
  | { type: 'labelAccept'; id: number; imageIds: string[] }
  /** how many images an accept-above would accept → labelCount (accepted: false) */
  | { type: 'labelCountAbove'; id: number; threshold: number }
  /** → labelCount (accepted: true) */
  | { type: 'labelAcceptAbove'; id: number; threshold: number }
  /** the host asks for a folder (the webview never names one) → labelExported, or ack when the user cancels */
  | { type: 'labelExport'; id: number; formats: ExportFormat[] }
  /** → labelOptions */
  | { type: 'labelSetOptions'; id: number; method?: string; backbone?: string; checkpoint?: string }
  /** 'tags': labels from image tags only (folderTags: one sub-folder per class) → ack */
  | { type: 'labelSetMode'; id: number; mode: LabelMode; folderTags: boolean }
  /** → ack */
  | { type: 'labelSetTags'; id: number; imageId: string; tags: string[] }
  /** → ack */
  | { type: 'labelCancelGrid'; id: number; pass: number }
  /** stroke end → new mask painted, ms, measured in the webview (samples since the last report), and the
   *  webview's own share of each (posting + decoding + painting), same order → ack */
  | { type: 'labelMetrics'; id: number; strokeToPaintMs: number[]; webviewMs?: number[] };

export type LabelWebviewType = LabelWebviewMessage['type'];

// ---- host → webview -------------------------------------------------------------------------------

export interface LabelStateMessage {
  type: 'labelState';
  inReplyTo?: number;
  classes: LabelClass[];
  images: LabelImageInfo[];
  options: LabelOptions;
  mode: LabelMode;
  folderTags: boolean;
  /** the image the host last had open (the webview's own saved choice wins) */
  open?: string;
  progress?: LabelGridProgress;
}

export interface LabelImageMessage {
  type: 'labelImage';
  inReplyTo?: number;
  imageId: string;
  /** full resolution as the user sees it: the coordinate system of the shapes */
  width: number;
  height: number;
  /** encoded image (PNG or JPEG); may be smaller than width × height */
  image: Bytes;
  shapes: LabelShape[];
  redo: LabelShape[];
  /** the last generation the host stored for this image (0: none); the webview continues from it */
  generation: number;
  /** index PNG of the current prediction (any size), with its confidence */
  mask?: Bytes;
  confidence?: number;
}

export interface LabelPredictionMessage {
  type: 'labelPrediction';
  inReplyTo?: number;
  imageId: string;
  /** the shapes generation it was computed from */
  generation: number;
  /** absent: no prediction (e.g. no class has a stroke yet) */
  mask?: Bytes;
  confidence?: number;
  note?: string;
}

export type LabelHostMessage =
  | LabelStateMessage
  | LabelImageMessage
  | LabelPredictionMessage
  | { type: 'labelThumbs'; inReplyTo?: number; thumbs: LabelThumb[] }
  /** changed or new images (by id); `removed`: ids gone from the folder */
  | { type: 'labelImages'; images: LabelImageInfo[]; removed?: string[] }
  | { type: 'labelClasses'; inReplyTo?: number; classes: LabelClass[] }
  | { type: 'labelOptions'; inReplyTo?: number; options: LabelOptions }
  /** imageId absent: nothing left to suggest (reason says why) */
  | { type: 'labelSuggestion'; inReplyTo: number; imageId?: string; reason: string }
  | { type: 'labelCount'; inReplyTo: number; threshold: number; count: number; accepted: boolean }
  | { type: 'labelExported'; inReplyTo: number; folder: string; images: number; formats: ExportFormat[] }
  /** done === total: the pass ended; cancelled: it was stopped */
  | ({ type: 'labelGridProgress'; cancelled?: boolean } & LabelGridProgress);

export type LabelHostType = LabelHostMessage['type'];

// ---- validation -----------------------------------------------------------------------------------

const WEBVIEW_TYPES: readonly LabelWebviewType[] = [
  'labelSync', 'labelOpenImage', 'labelSetShapes', 'labelThumbs', 'labelSetClasses', 'labelSuggest', 'labelUseAsSupport',
  'labelAccept', 'labelCountAbove', 'labelAcceptAbove', 'labelExport', 'labelSetOptions', 'labelSetMode', 'labelSetTags',
  'labelCancelGrid', 'labelMetrics',
];
const HOST_TYPES: readonly LabelHostType[] = [
  'labelState', 'labelImage', 'labelPrediction', 'labelThumbs', 'labelImages', 'labelClasses', 'labelOptions',
  'labelSuggestion', 'labelCount', 'labelExported', 'labelGridProgress',
];

export const isLabelWebviewType = (t: unknown): t is LabelWebviewType => WEBVIEW_TYPES.includes(t as LabelWebviewType);
export const isLabelHostType = (t: unknown): t is LabelHostType => HOST_TYPES.includes(t as LabelHostType);
export const isLabelWebviewMessage = <T extends { type: string }>(m: T): m is Extract<T, LabelWebviewMessage> => isLabelWebviewType(m.type);

/** Limits that keep a malformed or hostile message from costing the other side much. */
export const LIMITS = {
  shapes: 20000,
  /** numbers in one shape's points (x,y pairs) */
  points: 400000,
  coord: 1e6,
  radius: 10000,
  ids: 1000,
  idLength: 4096,
  nameLength: 200,
  tags: 100,
  /** base64 characters of one mask shape (≈ 48 MB of PNG) */
  maskChars: 64 * 1024 * 1024,
  metrics: 1000,
} as const;

const v = validatorKit((what) => new WebviewProtocolError(what), { maxInt: Number.MAX_SAFE_INTEGER });
const { need, int, optInt, unit, optUnit, str, optStr, bool, optBool, arr, oneOf } = v;
/** Binary and not empty. */
const bytes = (o: Obj, k: string, where = ''): void => {
  v.at(where).bytes(o, k);
  need(((o[k] as Uint8Array).byteLength ?? 0) > 0, `${where}${k} is empty`);
};
const optBytes = (o: Obj, k: string, where = ''): void => {
  if (o[k] !== undefined) bytes(o, k, where);
};
const ids = (o: Obj, k: string, max: number = LIMITS.ids): void => void v.ids(o, k, max);

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function checkPoints(s: Obj, where: string, minPairs: number): void {
  const p = v.at(where).arr(s, 'points', LIMITS.points);
  need(p.length % 2 === 0, `${where}points must hold x,y pairs (even length), got ${p.length}`);
  need(p.length >= 2 * minPairs, `${where}points must hold at least ${minPairs} point${minPairs > 1 ? 's' : ''}`);
  for (let i = 0; i < p.length; i++) need(finite(p[i]) && Math.abs(p[i] as number) <= LIMITS.coord, `${where}points[${i}] must be a finite coordinate`);
}

/** Check one shape of the labeling contract; throws naming the field (`where` prefixes it). */
export function validateShape(x: unknown, where = 'shape.'): LabelShape {
  need(isObj(x), `${where.replace(/\.$/, '')} must be an object`);
  const s = x as Obj;
  const label = (): void => need(isPaintLabel(s.label), `${where}label must be 0 (background), 1..${MAX_CLASS} or ${UNSURE} (unsure)`);
  const radius = (): void => need(finite(s.radius) && (s.radius as number) > 0 && (s.radius as number) <= LIMITS.radius, `${where}radius must be a number in (0, ${LIMITS.radius}]`);
  switch (s.kind) {
    case 'stroke':
      label();
      radius();
      checkPoints(s, where, 1);
      break;
    case 'erase':
      radius();
      checkPoints(s, where, 1);
      break;
    case 'box':
      label();
      for (const k of ['x0', 'y0', 'x1', 'y1']) need(finite(s[k]) && Math.abs(s[k] as number) <= LIMITS.coord, `${where}${k} must be a finite coordinate`);
      break;
    case 'polygon':
      label();
      checkPoints(s, where, 3);
      break;
    case 'mask':
      need(typeof s.png === 'string' && s.png.length > 0 && s.png.length <= LIMITS.maskChars, `${where}png must be a non-empty base64 string`);
      need(BASE64.test(s.png as string), `${where}png must be base64`);
      break;
    default:
      throw new WebviewProtocolError(`${where}kind must be one of stroke|erase|box|polygon|mask`);
  }
  return x as LabelShape;
}

function checkShapes(o: Obj, k: string): void {
  arr(o, k, LIMITS.shapes).forEach((s, i) => validateShape(s, `${k}[${i}].`));
}

function checkClasses(o: Obj, k: string): void {
  const seenIds = new Set<number>(), seenNames = new Set<string>();
  arr(o, k, MAX_CLASS).forEach((c, i) => {
    const w = `${k}[${i}].`;
    need(isObj(c), `${k}[${i}] must be an object`);
    const cl = c as Obj;
    const id = v.at(w).int(cl, 'id', 1, MAX_CLASS);
    const name = v.at(w).str(cl, 'name', LIMITS.nameLength);
    need(name.trim() === name, `${w}name must not start or end with spaces`);
    if (cl.color !== undefined) need(isHexColor(cl.color), `${w}color must be #rrggbb`);
    need(!seenIds.has(id), `${w}id ${id} is used twice`);
    need(!seenNames.has(name.toLowerCase()), `${w}name ${JSON.stringify(name)} is used twice`);
    seenIds.add(id);
    seenNames.add(name.toLowerCase());
  });
}

function checkTags(o: Obj, k: string, where: string): void {
  v.at(where).arr(o, k, LIMITS.tags).forEach((t, i) => need(typeof t === 'string' && t.trim().length > 0 && t.length <= LIMITS.nameLength, `${where}${k}[${i}] must be a non-empty class name`));
}

function checkThreshold(o: Obj): void {
  unit(o, 'threshold');
}

/** Check a label* message the webview posted (the extension host's side). */
export function validateLabelWebviewMessage(x: unknown): LabelWebviewMessage {
  need(isObj(x), 'a webview message must be an object');
  const m = x as Obj;
  int(m, 'id');
  switch (m.type) {
    case 'labelSync':
    case 'labelSuggest':
      break;
    case 'labelOpenImage':
      str(m, 'imageId');
      break;
    case 'labelSetShapes':
      str(m, 'imageId');
      int(m, 'generation', 1);
      checkShapes(m, 'shapes');
      checkShapes(m, 'redo');
      break;
    case 'labelThumbs':
      ids(m, 'imageIds');
      break;
    case 'labelSetClasses':
      checkClasses(m, 'classes');
      break;
    case 'labelUseAsSupport':
      str(m, 'imageId');
      bool(m, 'support');
      break;
    case 'labelAccept':
      ids(m, 'imageIds');
      need((m.imageIds as unknown[]).length > 0, 'imageIds must not be empty');
      break;
    case 'labelCountAbove':
    case 'labelAcceptAbove':
      checkThreshold(m);
      break;
    case 'labelExport': {
      const f = arr(m, 'formats', EXPORT_FORMATS.length);
      need(f.length > 0 && f.every((x) => EXPORT_FORMATS.includes(x as ExportFormat)) && new Set(f).size === f.length, `formats must be distinct values of ${EXPORT_FORMATS.join('|')}`);
      break;
    }
    case 'labelSetOptions':
      optStr(m, 'method');
      optStr(m, 'backbone');
      optStr(m, 'checkpoint');
      need(m.method !== undefined || m.backbone !== undefined || m.checkpoint !== undefined, 'labelSetOptions must change method, backbone or checkpoint');
      break;
    case 'labelSetMode':
      oneOf(m, 'mode', LABEL_MODES);
      bool(m, 'folderTags');
      break;
    case 'labelSetTags':
      str(m, 'imageId');
      checkTags(m, 'tags', '');
      break;
    case 'labelCancelGrid':
      int(m, 'pass');
      break;
    case 'labelMetrics': {
      const ms = arr(m, 'strokeToPaintMs', LIMITS.metrics);
      ms.forEach((x, i) => need(finite(x) && (x as number) >= 0, `strokeToPaintMs[${i}] must be a number ≥ 0`));
      if (m.webviewMs !== undefined) {
        const own = arr(m, 'webviewMs', LIMITS.metrics);
        need(own.length === ms.length, 'webviewMs must have one value per strokeToPaintMs value');
        own.forEach((x, i) => need(finite(x) && (x as number) >= 0, `webviewMs[${i}] must be a number ≥ 0`));
      }
      break;
    }
    default:
      throw new WebviewProtocolError(`unknown webview message type ${JSON.stringify(m.type)}`);
  }
  return x as LabelWebviewMessage;
}

function checkImageInfo(x: unknown, where: string): void {
  need(isObj(x), `${where} must be an object`);
  const o = x as Obj, w = `${where}.`;
  v.at(w).str(o, 'id');
  v.at(w).str(o, 'name');
  v.at(w).oneOf(o, 'status', LABEL_STATUSES);
  if (o.confidence !== undefined && o.confidence !== null) v.at(w).unit(o, 'confidence');
  v.at(w).optStr(o, 'reason', 10000);
  v.at(w).optBool(o, 'support');
  v.at(w).optBool(o, 'pseudo');
  if (o.tags !== undefined) checkTags(o, 'tags', w);
  v.at(w).optInt(o, 'rev');
}

function checkChoices(o: Obj, k: string, where: string): void {
  v.at(where).arr(o, k, 10000).forEach((c, i) => {
    need(isObj(c), `${where}${k}[${i}] must be {id, label}`);
    need(typeof (c as Obj).id === 'string' && typeof (c as Obj).label === 'string', `${where}${k}[${i}] must be {id, label}`);
  });
}

function checkOptions(x: unknown): void {
  need(isObj(x), 'options must be an object');
  const o = x as Obj;
  checkChoices(o, 'methods', 'options.');
  checkChoices(o, 'backbones', 'options.');
  checkChoices(o, 'checkpoints', 'options.');
  const at = v.at('options.');
  at.str(o, 'method');
  at.str(o, 'backbone');
  at.optStr(o, 'checkpoint');
}

function checkProgress(o: Obj, where: string): void {
  v.at(where).int(o, 'pass');
  const done = v.at(where).int(o, 'done');
  const total = v.at(where).int(o, 'total');
  need(done <= total, `${where}done must be ≤ total`);
  v.at(where).optStr(o, 'note', 10000);
}

/** Check a label* message the host posted (the webview's side). */
export function validateLabelHostMessage(x: unknown): LabelHostMessage {
  need(isObj(x), 'a host message must be an object');
  const m = x as Obj;
  switch (m.type) {
    case 'labelState': {
      optInt(m, 'inReplyTo');
      checkClasses(m, 'classes');
      const seen = new Set<string>();
      arr(m, 'images', 10_000_000).forEach((im, i) => {
        checkImageInfo(im, `images[${i}]`);
        const id = (im as Obj).id as string;
        need(!seen.has(id), `images[${i}].id ${JSON.stringify(id)} is used twice`);
        seen.add(id);
      });
      checkOptions(m.options);
      oneOf(m, 'mode', LABEL_MODES);
      bool(m, 'folderTags');
      optStr(m, 'open');
      if (m.progress !== undefined) {
        need(isObj(m.progress), 'progress must be an object');
        checkProgress(m.progress as Obj, 'progress.');
      }
      break;
    }
    case 'labelImage':
      optInt(m, 'inReplyTo');
      str(m, 'imageId');
      int(m, 'width', 1, 1 << 16);
      int(m, 'height', 1, 1 << 16);
      bytes(m, 'image');
      checkShapes(m, 'shapes');
      checkShapes(m, 'redo');
      int(m, 'generation');
      optBytes(m, 'mask');
      optUnit(m, 'confidence');
      break;
    case 'labelPrediction':
      optInt(m, 'inReplyTo');
      str(m, 'imageId');
      int(m, 'generation');
      optBytes(m, 'mask');
      optUnit(m, 'confidence');
      optStr(m, 'note', 10000);
      break;
    case 'labelThumbs':
      optInt(m, 'inReplyTo');
      arr(m, 'thumbs', LIMITS.ids).forEach((t, i) => {
        const w = `thumbs[${i}].`;
        need(isObj(t), `thumbs[${i}] must be an object`);
        const o = t as Obj;
        v.at(w).str(o, 'imageId');
        v.at(w).optInt(o, 'rev');
        bytes(o, 'image', w);
        optBytes(o, 'mask', w);
      });
      break;
    case 'labelImages':
      arr(m, 'images', 10_000_000).forEach((im, i) => checkImageInfo(im, `images[${i}]`));
      if (m.removed !== undefined) ids(m, 'removed', 10_000_000);
      break;
    case 'labelClasses':
      optInt(m, 'inReplyTo');
      checkClasses(m, 'classes');
      break;
    case 'labelOptions':
      optInt(m, 'inReplyTo');
      checkOptions(m.options);
      break;
    case 'labelSuggestion':
      int(m, 'inReplyTo');
      optStr(m, 'imageId');
      str(m, 'reason', 10000);
      break;
    case 'labelCount':
      int(m, 'inReplyTo');
      checkThreshold(m);
      int(m, 'count');
      bool(m, 'accepted');
      break;
    case 'labelExported': {
      int(m, 'inReplyTo');
      str(m, 'folder', 100000);
      int(m, 'images');
      const f = arr(m, 'formats', EXPORT_FORMATS.length);
      need(f.every((x) => EXPORT_FORMATS.includes(x as ExportFormat)), `formats must be values of ${EXPORT_FORMATS.join('|')}`);
      break;
    }
    case 'labelGridProgress':
      checkProgress(m, '');
      optBool(m, 'cancelled');
      break;
    default:
      throw new WebviewProtocolError(`unknown host message type ${JSON.stringify(m.type)}`);
  }
  return x as LabelHostMessage;
}
