// Support annotations for PANet's weak-supervision experiments (§5.3 of the paper: scribbles and
// bounding boxes in place of dense support masks), generated from dense masks.
//
// One annotation type feeds prototypes(): per pixel FG (1), BG (0) or UNLABELED (255), for ONE class
// of an episode. Only labelled pixels enter masked average pooling; a prototype's background comes
// from BG pixels only (so for scribbles: bg scribbles only).
import { DataError } from '../errors';
import { IGNORE, IndexMask } from '../types';
import { Rng } from '../prng';
import { scribbleStrokes } from './scribble';

export const ANN_BG = 0;
export const ANN_FG = 1;
export const ANN_UNLABELED = 255;

/** A binary support annotation for one class: data[i] ∈ {ANN_FG, ANN_BG, ANN_UNLABELED}, row-major. */
export interface Annotation {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * A soft support annotation (weights in [0, 1], e.g. a pseudo-mask or a feathered brush): pixel i
 * contributes fg[i] to the class prototype and bg[i] to the background prototype.
 */
export interface SoftAnnotation {
  width: number;
  height: number;
  fg: Float32Array;
  bg: Float32Array;
}

export type SupportAnnotation = Annotation | SoftAnnotation;

export function isSoft(a: SupportAnnotation): a is SoftAnnotation {
  return (a as SoftAnnotation).fg !== undefined;
}

/** Per-pixel (fg, bg) weights of any support annotation, as plain arrays. */
export function annotationWeights(a: SupportAnnotation): { fg: Float32Array; bg: Float32Array } {
  if (isSoft(a)) return { fg: a.fg, bg: a.bg };
  const n = a.width * a.height, fg = new Float32Array(n), bg = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (a.data[i] === ANN_FG) fg[i] = 1;
    else if (a.data[i] === ANN_BG) bg[i] = 1;
  }
  return { fg, bg };
}

/**
 * The annotation as a label map: `value` where it says foreground (ANN_FG; a soft annotation: fg weight
 * above bg weight), 0 elsewhere (background and unlabelled alike). For scoring a pseudo mask against the
 * truth and for showing or saving it in dataset ordinals.
 */
export function foregroundMap(a: SupportAnnotation, value = 1): Uint8Array {
  return isSoft(a) ? Uint8Array.from(a.fg, (f, i) => (f > a.bg[i] ? value : 0)) : Uint8Array.from(a.data, (v) => (v === ANN_FG ? value : 0));
}

/**
 * Dense annotation, as PANet's getMask (dataloaders/customized.py): fg = 1[M = cls];
 * bg = 1[M ∉ episode classes]. Deviation: PANet's bg also counts the 255 (VOC border) pixels; here
 * they stay UNLABELED, as the ignore label means "unknown". Pixels of the episode's other classes are
 * UNLABELED (neither this class nor background).
 */
export function denseAnnotation(mask: IndexMask, cls: number, episodeClasses: readonly number[] = [cls]): Annotation {
  const data = new Uint8Array(mask.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = mask.data[i];
    data[i] = v === cls ? ANN_FG : v === IGNORE || episodeClasses.includes(v) ? ANN_UNLABELED : ANN_BG;
  }
  return { width: mask.width, height: mask.height, data };
}

interface Box { x0: number; y0: number; x1: number; y1: number; area: number }

/**
 * Connected components of `inside` with 8-connectivity (diagonal neighbours join: a thin diagonal
 * object part stays one object). Returns a label map (0 = outside, 1..n) and n.
 */
export function connectedComponents(inside: Uint8Array, width: number, height: number): { labels: Int32Array; count: number } {
  const labels = new Int32Array(width * height);
  const stack: number[] = [];
  let count = 0;
  for (let start = 0; start < labels.length; start++) {
    if (!inside[start] || labels[start]) continue;
    labels[start] = ++count;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!, x = p % width, y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const q = ny * width + nx;
        if (inside[q] && !labels[q]) { labels[q] = count; stack.push(q); }
      }
    }
  }
  return { labels, count };
}

export interface BoxOptions {
  /**
   * 'random' (default): one instance drawn uniformly with the Rng, as the paper describes;
   * 'largest': the instance with most pixels, what PANet's official get_bbox (util/utils.py) does.
   */
  pick?: 'random' | 'largest';
}

/**
 * Bounding-box annotation of ONE instance of `cls`. Instances come from `instances` (an instance-id
 * map such as VOC's SegmentationObject: pixel value = instance id, restricted to pixels where
 * mask = cls), or, when it is null, from 8-connected components of 1[M = cls].
 * Following PANet's get_bbox: FG = every pixel inside the chosen box; BG = every pixel outside the
 * boxes of ALL instances of the class (other instances' boxes are neither: the annotator drew one box,
 * but we must not call another instance background); ignore (255) pixels stay UNLABELED.
 * A class absent from the mask gives an annotation with no FG pixel.
 */
export function boxAnnotation(mask: IndexMask, instances: IndexMask | null, cls: number, rng: Rng, opts: BoxOptions = {}): Annotation {
  const { width, height } = mask, n = width * height;
  if (instances && (instances.width !== width || instances.height !== height)) {
    throw new DataError('instance mask', `size ${instances.width}x${instances.height} differs from class mask ${width}x${height}`);
  }
  const ids = new Int32Array(n);
  if (instances) {
    for (let i = 0; i < n; i++) ids[i] = mask.data[i] === cls && instances.data[i] !== IGNORE ? instances.data[i] : 0;
  } else {
    const inside = new Uint8Array(n);
    for (let i = 0; i < n; i++) inside[i] = mask.data[i] === cls ? 1 : 0;
    ids.set(connectedComponents(inside, width, height).labels);
  }
  const boxes = new Map<number, Box>();
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (!id) continue;
    const x = i % width, y = (i - x) / width;
    const b = boxes.get(id);
    if (!b) boxes.set(id, { x0: x, y0: y, x1: x, y1: y, area: 1 });
    else { b.x0 = Math.min(b.x0, x); b.y0 = Math.min(b.y0, y); b.x1 = Math.max(b.x1, x); b.y1 = Math.max(b.y1, y); b.area++; }
  }
  const data = new Uint8Array(n).fill(ANN_BG);
  const sorted = [...boxes.keys()].sort((a, b) => a - b); // stable order ⇒ same seed, same box
  for (const id of sorted) paintBox(data, width, boxes.get(id)!, ANN_UNLABELED);
  if (sorted.length) {
    const chosen = (opts.pick ?? 'random') === 'largest'
      ? sorted.reduce((best, id) => (boxes.get(id)!.area > boxes.get(best)!.area ? id : best), sorted[0])
      : rng.pick(sorted);
    paintBox(data, width, boxes.get(chosen)!, ANN_FG);
  }
  for (let i = 0; i < n; i++) if (mask.data[i] === IGNORE) data[i] = ANN_UNLABELED;
  return { width, height, data };
}

function paintBox(data: Uint8Array, width: number, b: Box, value: number): void {
  for (let y = b.y0; y <= b.y1; y++) data.fill(value, y * width + b.x0, y * width + b.x1 + 1);
}

export interface ScribbleOptions {
  /** Bezier-smooth each stroke as the DAVIS scribble robot does (default true). */
  smooth?: boolean;
}

/**
 * Scribble annotation generated from a dense mask. PANet evaluated with "ScribbleAugAuto" scribbles
 * produced by the DAVIS-2018 scribble robot (util/scribbles.py in the official repo): per region,
 * a morphological opening with a disk of radius min(0.15·√area / 2, 16) (shrunk ×0.9 while it
 * empties the region), the skeleton, the longest path of each skeleton component with ≥ 4 pixels,
 * Bezier-smoothed and rasterised with Bresenham. At test time getMask keeps ONE randomly chosen
 * foreground scribble and ALL background scribbles. This follows that procedure (see scribble.ts for
 * the deviations: Zhang-Suen thinning for the medial axis, strokes clipped to their region).
 * Regions: fg = 1[M = cls]; bg = 1[M ∉ episode classes, M ≠ 255].
 * Output: ANN_FG on the chosen fg stroke, ANN_BG on bg strokes, ANN_UNLABELED elsewhere.
 */
export function scribbleAnnotation(mask: IndexMask, cls: number, rng: Rng, episodeClasses: readonly number[] = [cls], opts: ScribbleOptions = {}): Annotation {
  const { width, height } = mask, n = width * height;
  const fgRegion = new Uint8Array(n), bgRegion = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = mask.data[i];
    if (v === cls) fgRegion[i] = 1;
    else if (v !== IGNORE && !episodeClasses.includes(v)) bgRegion[i] = 1;
  }
  const smooth = opts.smooth ?? true;
  const data = new Uint8Array(n).fill(ANN_UNLABELED);
  for (const stroke of scribbleStrokes(bgRegion, width, height, smooth)) for (const p of stroke) data[p] = ANN_BG;
  const fgStrokes = scribbleStrokes(fgRegion, width, height, smooth);
  if (fgStrokes.length) for (const p of rng.pick(fgStrokes)) data[p] = ANN_FG;
  return { width, height, data };
}
