// The labeling part of the engine protocol (engineProtocol.ts adds these to its unions): the requests
// the labeling workbench sends for one folder, their results, and the events of a folder's watch
// stream. One LabelService per open folder lives in the engine process (server/label.ts); every request
// names the folder it is about (an absolute path). Masks and images travel as Uint8Array (PNG / JPEG
// bytes). The words (statuses, modes, classes, backbones) are labelVocabulary.ts's.
//
// Shapes are checked here only as far as the envelope goes (an array, bounded); the service validates
// each shape against the image (label/shapes.ts) and answers a bad one with a usage error naming it.
//
// Types only and small validators: no DOM, no node, nothing of the engine.
import { LABEL_BACKBONES, LABEL_MODES, isHexColor, type LabelBackbone, type LabelClassDef, type LabelMode, type LabelShape, type LabelStatus } from './labelVocabulary';
import { ProtocolError } from './protocolErrors';
import { isObj, validatorKit, type Obj } from './validate';

/** What model segments the folder: method (label/methods.ts), backbone, weights or a checkpoint, working size. */
export interface LabelModelChoice {
  method?: string;
  backbone?: LabelBackbone;
  /** .safetensors VGG-16 weights (vgg16 only). */
  weights?: string;
  /** A ProtoLab training checkpoint (file or run folder): its backbone and weights are used. */
  checkpoint?: string;
  size?: number;
}

/** One image as the engine reports it (label/service.ts ImageSummary). */
export interface LabelImageSummary {
  id: string;
  status: LabelStatus;
  width?: number;
  height?: number;
  support: boolean;
  shapes: number;
  origin?: 'human' | 'pseudo' | 'accepted-prediction';
  confidence?: number;
  /** a prediction exists but the supports changed since it was made */
  stale: boolean;
  reason?: string;
  note?: string;
  tags?: string[];
}

export interface LabelModelDescription {
  method: string;
  backbone: string;
  weightsHash: string;
  weightsSource: string;
  size: number;
}

export interface LabelPredictionPayload {
  /** S×S index PNG: 0 background, 1..K classes, 255 unsure (the image's own marks painted over the prediction) */
  mask: Uint8Array;
  size: number;
  confidence: number;
}

export type LabelRequest =
  | {
    type: 'labelOpen'; id: number; folder: string;
    /** Class names or definitions for a new state; for an existing one the same list or an extension of it. */
    classes?: Array<string | LabelClassDef>;
    spec?: LabelModelChoice;
    /** Where state.json, masks/ and the lock live (default `<folder>/.protolab/label`). */
    stateDir?: string;
    /** Names the holder in the folder lock ('ProtoLab workbench (…)'). */
    tool?: string;
    /** Coalesced saves happen this long after a change (default 300 ms; tests hold edits unsaved with a long one). */
    saveDelayMs?: number;
  }
  /** Streams `label` events for the folder until it is closed (result { closed: true }) or cancelled. */
  | { type: 'labelWatch'; id: number; folder: string }
  | { type: 'labelClose'; id: number; folder: string }
  | { type: 'labelList'; id: number; folder: string; images?: string[] }
  /** Re-list the folder (files added, removed, renamed, edited); work on the others is kept. */
  | { type: 'labelRescan'; id: number; folder: string }
  /** The image to draw on: display bytes (JPEG, longest side ≤ maxSide), its shapes and last prediction. */
  | { type: 'labelImage'; id: number; folder: string; image: string; maxSide?: number }
  | { type: 'labelThumbs'; id: number; folder: string; images: string[]; side?: number }
  /**
   * Store an image's whole shape list (and the workbench's redo stack) and re-segment it. `seq` is the
   * host's counter of edits to this folder: the watch stream's `saved` event says up to which seq every
   * edit is on disk. A newer request for the same image supersedes an older one still running.
   */
  | { type: 'labelSetShapes'; id: number; folder: string; image: string; shapes: unknown[]; redo?: unknown[]; seq: number; autoSupport?: boolean }
  /** The image's current prediction (computed when missing or stale). */
  | { type: 'labelPredict'; id: number; folder: string; image: string }
  /** A progressive pass predicting every image that lacks a current prediction; progress events; cancel stops it. */
  | { type: 'labelGrid'; id: number; folder: string; order?: string[] }
  | { type: 'labelSuggest'; id: number; folder: string; count?: number }
  | { type: 'labelAccept'; id: number; folder: string; images: string[] }
  /** Images with a current prediction of at least `threshold` confidence: counted (dryRun) or accepted. */
  | { type: 'labelAcceptAbove'; id: number; folder: string; threshold: number; dryRun: boolean }
  | { type: 'labelSetSupport'; id: number; folder: string; image: string; on: boolean }
  /** The whole class list: classes keep their index (rename), new ones are added at the end (a bare name gets the palette's colour). */
  | { type: 'labelSetClasses'; id: number; folder: string; classes: Array<string | LabelClassDef> }
  | { type: 'labelSetMode'; id: number; folder: string; mode: LabelMode; folderTags: boolean }
  /** Image tags → pseudo masks (image → class names; null clears). Unknown names are added as classes. Progress events. */
  | { type: 'labelTags'; id: number; folder: string; tags: Record<string, string[] | null> }
  | {
    type: 'labelExport'; id: number; folder: string; out: string; formats: Array<'voc' | 'coco'>;
    include?: 'all' | 'accepted'; force?: boolean; cocoMode?: 'instance' | 'class'; images?: 'link' | 'copy'; valFraction?: number;
  };

export type LabelRequestType = LabelRequest['type'];

/** Events of a folder's watch stream. */
export type LabelChange =
  /** images whose summary changed (status, prediction, support, tags); `removed`: ids gone from the folder */
  | { type: 'images'; images: LabelImageSummary[]; removed?: string[] }
  /** state.json was written: every labelSetShapes with seq ≤ `seq` is on disk */
  | { type: 'saved'; seq: number }
  /** the supports changed: predictions made before are stale */
  | { type: 'generation'; generation: number }
  | { type: 'classes'; classes: LabelClassDef[] };

export interface LabelOpenInfo {
  folder: string;
  stateDir: string;
  classes: LabelClassDef[];
  images: LabelImageSummary[];
  mode: LabelMode;
  folderTags: boolean;
  model: LabelModelDescription;
  generation: number;
  methods: Array<{ id: string; summary: string }>;
  backbones: LabelBackbone[];
  /** the folder was open in this engine already (same model): nothing was reloaded */
  reused: boolean;
}

export interface LabelResultOf {
  labelOpen: LabelOpenInfo;
  labelWatch: { closed: true };
  labelClose: { closed: boolean };
  labelList: { images: LabelImageSummary[] };
  labelRescan: { added: string[]; removed: string[]; renamed: Array<{ from: string; to: string }>; changed: string[]; images: LabelImageSummary[] };
  labelImage: {
    summary: LabelImageSummary; width: number; height: number;
    /** JPEG bytes of the oriented image, longest side ≤ maxSide */
    bytes: Uint8Array;
    /** the image's shapes and redo stack (the engine validated them when they were stored) */
    shapes: LabelShape[]; redo: LabelShape[];
    /** the last prediction, if any (current: made by today's supports) */
    prediction?: LabelPredictionPayload & { current: boolean };
  };
  labelThumbs: { thumbs: Array<{ id: string; image: Uint8Array; mask?: Uint8Array }> };
  labelSetShapes: {
    status: LabelStatus; generation: number; superseded: boolean; prediction?: LabelPredictionPayload; support: boolean;
    /** where the engine's time went (ms, this process's clock): storing + predicting, and the mask PNG;
     *  total is from the request's dispatch to the reply (the rest of it is queueing behind other work) */
    timing?: { totalMs: number; predictMs: number; encodeMs: number };
  };
  labelPredict: { status: LabelStatus; generation: number; prediction?: LabelPredictionPayload };
  labelGrid: { generation: number; completed: boolean; predicted: number; skipped: number; broken: number; stopped?: string };
  labelSuggest: { suggestions: Array<{ id: string; score: number; confidence: number; reason: string }>; why?: string };
  labelAccept: { accepted: string[] };
  labelAcceptAbove: { count: number; ids: string[] };
  labelSetSupport: { generation: number; summary: LabelImageSummary };
  labelSetClasses: { classes: LabelClassDef[]; generation: number };
  labelSetMode: { mode: LabelMode; folderTags: boolean };
  labelTags: { done: string[]; failed: Array<{ id: string; reason: string }>; classes: LabelClassDef[] };
  labelExport: { out: string; exported: number; broken: number; skipped: number };
}

// ---- validation -----------------------------------------------------------------------------------

const v = validatorKit((what) => new ProtocolError(what));

/** Bounds that keep a malformed message from costing the engine much. */
export const LABEL_LIMITS = { ids: 100000, shapes: 20000, classes: 253, name: 200, path: 4096, tags: 100 } as const;

export const LABEL_REQUEST_TYPES: readonly LabelRequestType[] = [
  'labelOpen', 'labelWatch', 'labelClose', 'labelList', 'labelRescan', 'labelImage', 'labelThumbs', 'labelSetShapes', 'labelPredict',
  'labelGrid', 'labelSuggest', 'labelAccept', 'labelAcceptAbove', 'labelSetSupport', 'labelSetClasses', 'labelSetMode', 'labelTags', 'labelExport',
];

export const isLabelRequestType = (t: unknown): t is LabelRequestType => LABEL_REQUEST_TYPES.includes(t as LabelRequestType);

/** Check a label request's fields (after the envelope: object, integer id); throws ProtocolError. */
export function checkLabelRequest(r: Obj): void {
  const { need, str, optStr, int, optInt, bool, optBool, arr, ids } = v;
  const classList = (k: string) => arr(r, k, LABEL_LIMITS.classes).forEach((c, i) => {
    if (typeof c === 'string') need(c.trim().length > 0 && c.length <= LABEL_LIMITS.name, `${k}[${i}] must be a non-empty name`);
    else {
      need(isObj(c), `${k}[${i}] must be {name, color}`);
      const o = c as Obj;
      need(typeof o.name === 'string' && o.name.trim().length > 0 && (o.name as string).length <= LABEL_LIMITS.name, `${k}[${i}].name must be a non-empty name`);
      need(isHexColor(o.color), `${k}[${i}].color must be #rrggbb`);
    }
  });
  str(r, 'folder');
  switch (r.type) {
    case 'labelOpen': {
      if (r.classes !== undefined) classList('classes');
      if (r.spec !== undefined) {
        need(isObj(r.spec), 'spec must be an object');
        const s = r.spec as Obj;
        optStr(s, 'method', LABEL_LIMITS.name);
        need(s.backbone === undefined || LABEL_BACKBONES.includes(s.backbone as LabelBackbone), `spec.backbone must be ${LABEL_BACKBONES.join('|')}`);
        optStr(s, 'weights');
        optStr(s, 'checkpoint');
        optInt(s, 'size', 32, 2048);
      }
      optStr(r, 'stateDir');
      optStr(r, 'tool', 500);
      optInt(r, 'saveDelayMs', 0, 600000);
      break;
    }
    case 'labelWatch':
    case 'labelClose':
    case 'labelRescan':
    case 'labelSuggest':
      optInt(r, 'count', 1, 1000);
      break;
    case 'labelList':
      if (r.images !== undefined) ids(r, 'images', LABEL_LIMITS.ids);
      break;
    case 'labelImage':
      str(r, 'image');
      optInt(r, 'maxSide', 16, 16384);
      break;
    case 'labelThumbs':
      ids(r, 'images', LABEL_LIMITS.ids);
      optInt(r, 'side', 8, 1024);
      break;
    case 'labelSetShapes':
      str(r, 'image');
      arr(r, 'shapes', LABEL_LIMITS.shapes);
      if (r.redo !== undefined) arr(r, 'redo', LABEL_LIMITS.shapes);
      int(r, 'seq', 0, Number.MAX_SAFE_INTEGER);
      optBool(r, 'autoSupport');
      break;
    case 'labelPredict':
      str(r, 'image');
      break;
    case 'labelGrid':
      if (r.order !== undefined) ids(r, 'order', LABEL_LIMITS.ids);
      break;
    case 'labelAccept':
      ids(r, 'images', LABEL_LIMITS.ids);
      break;
    case 'labelAcceptAbove':
      v.unit(r, 'threshold');
      bool(r, 'dryRun');
      break;
    case 'labelSetSupport':
      str(r, 'image');
      bool(r, 'on');
      break;
    case 'labelSetClasses':
      classList('classes');
      break;
    case 'labelSetMode':
      need(LABEL_MODES.includes(r.mode as LabelMode), 'mode must be draw|tags');
      bool(r, 'folderTags');
      break;
    case 'labelTags': {
      need(isObj(r.tags), 'tags must be an object (image id → class names, or null to clear)');
      const entries = Object.entries(r.tags as Obj);
      need(entries.length <= LABEL_LIMITS.ids, `tags has more than ${LABEL_LIMITS.ids} images`);
      for (const [id, t] of entries) {
        if (t === null) continue;
        need(Array.isArray(t) && t.length <= LABEL_LIMITS.tags && t.every((x) => typeof x === 'string' && x.trim().length > 0 && x.length <= LABEL_LIMITS.name), `tags[${JSON.stringify(id)}] must be a list of class names or null`);
      }
      break;
    }
    case 'labelExport': {
      str(r, 'out');
      const f = arr(r, 'formats', 2);
      need(f.length > 0 && f.every((x) => x === 'voc' || x === 'coco') && new Set(f).size === f.length, 'formats must be distinct values of voc|coco');
      need(r.include === undefined || r.include === 'all' || r.include === 'accepted', 'include must be all|accepted');
      optBool(r, 'force');
      need(r.cocoMode === undefined || r.cocoMode === 'instance' || r.cocoMode === 'class', 'cocoMode must be instance|class');
      need(r.images === undefined || r.images === 'link' || r.images === 'copy', 'images must be link|copy');
      need(r.valFraction === undefined || (typeof r.valFraction === 'number' && r.valFraction >= 0 && r.valFraction < 1), 'valFraction must be in [0, 1)');
      break;
    }
    default:
      need(false, `unknown label request type ${JSON.stringify(r.type)}`);
  }
}

/** Check a `label` event's payload (the host's side); throws ProtocolError. */
export function checkLabelChange(e: Obj): void {
  const { need } = v;
  need(typeof e.folder === 'string', 'label event without folder');
  need(isObj(e.change), 'label event without change');
  const c = e.change as Obj;
  switch (c.type) {
    case 'images':
      need(Array.isArray(c.images) && c.images.every((i) => isObj(i) && typeof i.id === 'string' && typeof i.status === 'string'), 'images must be image summaries');
      need(c.removed === undefined || (Array.isArray(c.removed) && c.removed.every((x) => typeof x === 'string')), 'removed must be image ids');
      break;
    case 'saved':
      need(Number.isInteger(c.seq), 'saved.seq must be an integer');
      break;
    case 'generation':
      need(Number.isInteger(c.generation), 'generation must be an integer');
      break;
    case 'classes':
      need(Array.isArray(c.classes), 'classes must be an array');
      break;
    default:
      need(false, `unknown label change ${JSON.stringify(c.type)}`);
  }
}
