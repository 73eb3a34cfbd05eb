// What a person draws on an image to label it (LABEL_CONTRACT.md), and its rasterisation.
//
// Coordinates are the image's pixels as the user sees it (EXIF orientation applied), full resolution,
// floats allowed; pixel (x, y) covers [x, x+1) × [y, y+1), its centre is (x + 0.5, y + 0.5).
// Shapes are painted in order, later over earlier, onto a canvas that starts UNLABELED (254):
//   stroke   a round brush of `radius` swept along the polyline: every pixel whose centre lies within
//            `radius` of the polyline, plus every pixel the polyline itself passes through (so a brush
//            thinner than a pixel still leaves a connected mark);
//   erase    the same geometry, painting UNLABELED;
//   box      every pixel whose centre lies in the closed rectangle;
//   polygon  every pixel whose centre is inside by the even-odd rule;
//   mask     a single-channel index PNG of the image's size: 0..K and 255 set the pixel, 254 leaves it.
//
// Rasterising onto a coarser grid (the predictor's S×S working size) samples the same full-resolution
// pixel centres that nearest-neighbour resizing picks (src = floor((dst + 0.5)·src/dst), as
// image/resize.ts's resizeMaskNearest), so for shapes larger than a grid cell the coarse raster equals
// the nearest-resized full raster; a stroke's "passes through" rule is applied in the coarse grid's own
// pixels, so thin scribbles on a large photo still mark the working grid.
import { createHash } from 'crypto';
import { decodeIndexPng, encodeIndexPng } from '../image/png';
import type { IndexMask } from '../types';
import { MAX_CLASS, UNLABELED, UNSURE, type LabelShape } from '../../shared/labelVocabulary';
import { LruMap } from '../features/lruMap';

/** The shapes, the raster codes and the class limit are the labeling vocabulary that the engine, the
 *  extension host and the webview share (shared/labelVocabulary.ts). */
export type Shape = LabelShape;
export { UNSURE };
/** K ≤ 253: 254 is UNLABELED and 255 UNSURE in the same 8-bit raster. */
export const MAX_CLASSES = MAX_CLASS;
/** Coordinates per polyline/polygon at most (a stroke of 500k points is a bug or an attack, not a drawing). */
const MAX_COORDS = 1_000_000;

/** A shape that cannot be drawn; the message says which field is wrong and why. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** What is known about the image a shape belongs to; each field present adds its checks. */
export interface ShapeContext {
  /** K: labels must be 0..K or 255. */
  classes?: number;
  /** Image size (orientation applied): a mask shape must have exactly this size. */
  width?: number;
  height?: number;
  /** Names the shape in messages, e.g. "image a.jpg, shape 3". */
  where?: string;
}

function fail(ctx: ShapeContext | undefined, msg: string): never {
  throw new ShapeError(ctx?.where ? `${ctx.where}: ${msg}` : msg);
}

function checkLabel(x: unknown, ctx: ShapeContext | undefined, kind: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) fail(ctx, `${kind}: label must be an integer (got ${JSON.stringify(x)})`);
  if (x === UNSURE) return x;
  if (x < 0 || x > MAX_CLASSES) fail(ctx, `${kind}: label ${x} is not 0 (background), 1..${MAX_CLASSES} (a class) or 255 (unsure)`);
  if (ctx?.classes !== undefined && x > ctx.classes) fail(ctx, `${kind}: label ${x} is not a class (there are ${ctx.classes}; 0 = background, 255 = unsure)`);
  return x;
}

function checkNumber(x: unknown, ctx: ShapeContext | undefined, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(ctx, `${what} must be a finite number (got ${JSON.stringify(x)})`);
  return x;
}

function checkPoints(x: unknown, ctx: ShapeContext | undefined, kind: string, minPoints: number): number[] {
  if (!Array.isArray(x)) fail(ctx, `${kind}: points must be an array x0,y0,x1,y1,… (got ${typeof x})`);
  if (x.length % 2 !== 0) fail(ctx, `${kind}: points has an odd number of coordinates (${x.length}); they come in x,y pairs`);
  if (x.length < 2 * minPoints) fail(ctx, `${kind}: needs at least ${minPoints} point${minPoints > 1 ? 's' : ''} (got ${x.length / 2})`);
  if (x.length > MAX_COORDS) fail(ctx, `${kind}: ${x.length / 2} points is more than the ${MAX_COORDS / 2} allowed`);
  for (let i = 0; i < x.length; i++) checkNumber(x[i], ctx, `${kind}: points[${i}]`);
  return x as number[];
}

function checkRadius(x: unknown, ctx: ShapeContext | undefined, kind: string): number {
  const r = checkNumber(x, ctx, `${kind}: radius`);
  if (!(r > 0)) fail(ctx, `${kind}: radius must be > 0 (got ${r})`);
  return r;
}

/**
 * Check one shape as it arrives (from the webview, a state file, a CLI flag) and return it typed, with
 * only the fields the contract defines. Throws ShapeError naming the field.
 */
export function validateShape(s: unknown, ctx?: ShapeContext): Shape {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) fail(ctx, `a shape must be an object (got ${Array.isArray(s) ? 'an array' : typeof s})`);
  const o = s as Record<string, unknown>;
  switch (o.kind) {
    case 'stroke':
      return { kind: 'stroke', label: checkLabel(o.label, ctx, 'stroke'), radius: checkRadius(o.radius, ctx, 'stroke'), points: checkPoints(o.points, ctx, 'stroke', 1).slice() };
    case 'erase':
      return { kind: 'erase', radius: checkRadius(o.radius, ctx, 'erase'), points: checkPoints(o.points, ctx, 'erase', 1).slice() };
    case 'box':
      return {
        kind: 'box', label: checkLabel(o.label, ctx, 'box'),
        x0: checkNumber(o.x0, ctx, 'box: x0'), y0: checkNumber(o.y0, ctx, 'box: y0'), x1: checkNumber(o.x1, ctx, 'box: x1'), y1: checkNumber(o.y1, ctx, 'box: y1'),
      };
    case 'polygon':
      return { kind: 'polygon', label: checkLabel(o.label, ctx, 'polygon'), points: checkPoints(o.points, ctx, 'polygon', 3).slice() };
    case 'mask': {
      if (typeof o.png !== 'string' || o.png.length === 0) fail(ctx, 'mask: png must be a non-empty base64 string');
      const m = decodeMaskShape(o.png, ctx);
      if (ctx?.width !== undefined && ctx.height !== undefined && (m.width !== ctx.width || m.height !== ctx.height)) {
        fail(ctx, `mask: the PNG is ${m.width}×${m.height} but the image is ${ctx.width}×${ctx.height}`);
      }
      const k = ctx?.classes ?? MAX_CLASSES;
      for (let i = 0; i < m.data.length; i++) {
        const v = m.data[i];
        if (v > k && v !== UNLABELED && v !== UNSURE) {
          fail(ctx, `mask: value ${v} at (${i % m.width},${Math.floor(i / m.width)}) is not 0..${k}, 254 (leave) or 255 (unsure)`);
        }
      }
      return { kind: 'mask', png: o.png };
    }
    default:
      return fail(ctx, `unknown shape kind ${JSON.stringify(o.kind)} (expected stroke, erase, box, polygon or mask)`);
  }
}

/** validateShape over a list; messages name the shape's position. */
export function validateShapes(list: unknown, ctx?: ShapeContext): Shape[] {
  if (!Array.isArray(list)) fail(ctx, `shapes must be an array (got ${typeof list})`);
  return list.map((s, i) => validateShape(s, { ...ctx, where: `${ctx?.where ? `${ctx.where}, ` : ''}shape ${i}` }));
}

// Decoded mask PNGs, by content: rasterising after every stroke must not decode a 12 MP mask again.
const MASK_MEMO_ENTRIES = 8;
const maskMemo = new LruMap<string, IndexMask>({ maxEntries: MASK_MEMO_ENTRIES });

/** The index mask a `mask` shape carries (memoised by content). */
export function decodeMaskShape(png: string, ctx?: ShapeContext): IndexMask {
  const key = createHash('sha1').update(png).digest('hex');
  const hit = maskMemo.get(key);
  if (hit) return hit;
  const bytes = Buffer.from(png, 'base64');
  if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x89504e47) fail(ctx, 'mask: png is not a base64-encoded PNG');
  let m: IndexMask;
  try {
    m = decodeIndexPng(bytes, 'mask shape');
  } catch (e) {
    return fail(ctx, `mask: ${(e as Error).message}`);
  }
  maskMemo.set(key, m);
  return m;
}

/** A `mask` shape from an index mask (PNG with the VOC palette, base64). */
export function maskShape(mask: IndexMask): Shape {
  return { kind: 'mask', png: Buffer.from(encodeIndexPng(mask)).toString('base64') };
}

/** The grid a raster is drawn on, and which full-resolution pixel centre each of its cells samples. */
interface Grid {
  w: number;
  h: number;
  /** xs[i]: x of the full-resolution pixel centre cell i samples (ys likewise). */
  xs: Float64Array;
  ys: Float64Array;
  /** Full-resolution pixels per grid cell along x and y. */
  sx: number;
  sy: number;
}

function samples(full: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const s = full / n;
  for (let i = 0; i < n; i++) out[i] = Math.min(full - 1, Math.floor((i + 0.5) * s)) + 0.5;
  return out;
}

/** First index i with a[i] ≥ v (a ascending). */
function lowerBound(a: Float64Array, v: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with a[i] > v. */
function upperBound(a: Float64Array, v: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function paintPolyline(out: Uint8Array, g: Grid, pts: readonly number[], radius: number, value: number): void {
  const r2 = radius * radius;
  const n = pts.length / 2;
  const segs = n === 1 ? 1 : n - 1;
  for (let k = 0; k < segs; k++) {
    const ax = pts[2 * k], ay = pts[2 * k + 1];
    const bx = n === 1 ? ax : pts[2 * k + 2], by = n === 1 ? ay : pts[2 * k + 3];
    const dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    // cells whose sample centre is within `radius` of segment ab
    const i0 = lowerBound(g.xs, Math.min(ax, bx) - radius), i1 = upperBound(g.xs, Math.max(ax, bx) + radius);
    const j0 = lowerBound(g.ys, Math.min(ay, by) - radius), j1 = upperBound(g.ys, Math.max(ay, by) + radius);
    for (let j = j0; j < j1; j++) {
      const py = g.ys[j];
      for (let i = i0; i < i1; i++) {
        const px = g.xs[i];
        let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = ax + t * dx - px, ey = ay + t * dy - py;
        if (ex * ex + ey * ey <= r2) out[j * g.w + i] = value;
      }
    }
    // cells the segment passes through, walked at ≤ half a cell per step
    const steps = Math.max(1, Math.ceil(2 * Math.max(Math.abs(dx) / g.sx, Math.abs(dy) / g.sy)));
    for (let s = 0; s <= steps; s++) {
      const x = ax + (dx * s) / steps, y = ay + (dy * s) / steps;
      const i = Math.floor(x / g.sx), j = Math.floor(y / g.sy);
      if (i >= 0 && i < g.w && j >= 0 && j < g.h) out[j * g.w + i] = value;
    }
  }
}

function paintBox(out: Uint8Array, g: Grid, s: Extract<Shape, { kind: 'box' }>): void {
  const i0 = lowerBound(g.xs, Math.min(s.x0, s.x1)), i1 = upperBound(g.xs, Math.max(s.x0, s.x1));
  const j0 = lowerBound(g.ys, Math.min(s.y0, s.y1)), j1 = upperBound(g.ys, Math.max(s.y0, s.y1));
  for (let j = j0; j < j1; j++) out.fill(s.label, j * g.w + i0, j * g.w + Math.max(i0, i1));
}

/** Even-odd fill by scanlines through the cells' sample centres: a centre is inside when a ray to its
 *  right crosses the outline an odd number of times (edges counted half-open in y, so vertices are not
 *  counted twice). */
function paintPolygon(out: Uint8Array, g: Grid, s: Extract<Shape, { kind: 'polygon' }>): void {
  const p = s.points, n = p.length / 2;
  let ymin = Infinity, ymax = -Infinity;
  for (let k = 0; k < n; k++) {
    ymin = Math.min(ymin, p[2 * k + 1]);
    ymax = Math.max(ymax, p[2 * k + 1]);
  }
  const xsCross: number[] = [];
  for (let j = lowerBound(g.ys, ymin); j < upperBound(g.ys, ymax); j++) {
    const y = g.ys[j];
    xsCross.length = 0;
    for (let k = 0; k < n; k++) {
      const ax = p[2 * k], ay = p[2 * k + 1];
      const bx = p[(2 * k + 2) % (2 * n)], by = p[(2 * k + 3) % (2 * n)];
      if ((ay > y) !== (by > y)) xsCross.push(ax + ((y - ay) * (bx - ax)) / (by - ay));
    }
    xsCross.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xsCross.length; k += 2) {
      // centres x with a ≤ x < b
      const i0 = lowerBound(g.xs, xsCross[k]), i1 = lowerBound(g.xs, xsCross[k + 1]);
      if (i1 > i0) out.fill(s.label, j * g.w + i0, j * g.w + i1);
    }
  }
}

function paintMask(out: Uint8Array, g: Grid, s: Extract<Shape, { kind: 'mask' }>, width: number, height: number): void {
  const m = decodeMaskShape(s.png);
  if (m.width !== width || m.height !== height) throw new ShapeError(`mask: the PNG is ${m.width}×${m.height} but the image is ${width}×${height}`);
  for (let j = 0; j < g.h; j++) {
    const row = (g.ys[j] - 0.5) * width;
    for (let i = 0; i < g.w; i++) {
      const v = m.data[row + g.xs[i] - 0.5];
      if (v !== UNLABELED) out[j * g.w + i] = v;
    }
  }
}

/**
 * The annotation raster of an image of width×height (orientation applied): 0..K, 255 unsure, 254
 * unlabeled. With `grid`, the raster is drawn directly at that (coarser) size, e.g. the predictor's S×S,
 * sampling the full-resolution pixel centres nearest-neighbour resizing would pick (header).
 * Shapes are assumed valid (validateShape); a mask shape of the wrong size throws ShapeError.
 */
export function rasterizeShapes(shapes: readonly Shape[], width: number, height: number, grid?: { width: number; height: number }): Uint8Array {
  const out = new Uint8Array((grid?.width ?? width) * (grid?.height ?? height)).fill(UNLABELED);
  paintShapes(out, shapes, width, height, grid);
  return out;
}

/** Paint shapes over an existing raster (same grid as rasterizeShapes): what rasterizeShapes does
 *  after its fill, so raster(a ++ b) = paintShapes(raster(a), b) — the incremental path after a stroke. */
export function paintShapes(out: Uint8Array, shapes: readonly Shape[], width: number, height: number, grid?: { width: number; height: number }): void {
  const gw = grid?.width ?? width, gh = grid?.height ?? height;
  if (out.length !== gw * gh) throw new RangeError(`raster has ${out.length} cells, the grid ${gw}×${gh}`);
  const g: Grid = { w: gw, h: gh, xs: samples(width, gw), ys: samples(height, gh), sx: width / gw, sy: height / gh };
  for (const s of shapes) {
    switch (s.kind) {
      case 'stroke': paintPolyline(out, g, s.points, s.radius, s.label); break;
      case 'erase': paintPolyline(out, g, s.points, s.radius, UNLABELED); break;
      case 'box': paintBox(out, g, s); break;
      case 'polygon': paintPolygon(out, g, s); break;
      case 'mask': paintMask(out, g, s, width, height); break;
    }
  }
}

/** Two shapes are the same drawing (mask PNGs compared as strings, the rest field by field). */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'mask') return a.png === (b as typeof a).png;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** True when the raster marks at least one pixel as a class or background (not only unsure/unlabeled). */
export function hasEvidence(raster: Uint8Array): boolean {
  for (let i = 0; i < raster.length; i++) if (raster[i] < UNLABELED) return true;
  return false;
}
