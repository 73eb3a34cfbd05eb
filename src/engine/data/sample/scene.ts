// One sample scene: a cluttered textured background, non-class distractors, optionally a crowd of small
// same-class objects, then 2-5 class objects in depth order (later ones may occlude earlier ones).
// Produces the photo-like RGB image and the label maps; the labels come from the SAME polygons that
// are handed to COCO, so both formats agree.
import type { Rng } from '../../prng';
import { IGNORE } from '../../types';
import { DISTRACTOR_SHAPES, DISTRACTOR_TEXTURES, SAMPLE_CLASSES } from './classes';
import type { SampleClass } from './classes';
import { clipToImage, place, polygonBox, rasterize, unitShape } from './geometry';
import type { Placement, Polygon, ShapeKind } from './geometry';
import { clamp01, fbm, hsv, makeTexture } from './texture';
import type { Rgb, TextureFn, TextureKind } from './texture';

export interface SceneObject {
  ordinal: number;
  /** clipped to the image, pixel coordinates, 2 decimals */
  polygon: Polygon;
  /** pixels the whole polygon covers (occluded part included, as COCO's area for a polygon) */
  area: number;
  bbox: [number, number, number, number];
}

export interface SceneCrowd {
  ordinal: number;
  /** row-major 0/1 of the crowd's VISIBLE pixels (objects in front are cut out) */
  mask: Uint8Array;
  area: number;
  bbox: [number, number, number, number];
}

export interface Scene {
  width: number;
  height: number;
  /** RGB, HWC */
  rgb: Uint8Array;
  /** VOC SegmentationClass: 0 bg, 1..20, 255 borders and crowds */
  cls: Uint8Array;
  /** VOC SegmentationObject: 0 bg, k = k-th object in depth order, 255 borders and crowds */
  obj: Uint8Array;
  /** in depth order (back to front): the order a reader must paint them in to get `cls` */
  objects: SceneObject[];
  crowd: SceneCrowd | null;
}

export interface SceneSpec {
  width: number;
  height: number;
  /** class ordinals of the objects, back to front; objects that find no legal place are dropped */
  ordinals: number[];
  /** ordinal of a crowd region, or 0 for none */
  crowd: number;
}

const CROWD_MARK = 254; // internal instance value of crowd pixels (never written out)
/** VOC's void border: object outlines are ~5 px wide bands of 255. */
/** VOC's void border is ~5 px wide on ~500 px images (1 % of the side); ours scale with the image so a
 *  160-240 px scene gets a ~3 px band (radius 1), not a 5 px one that ate a quarter of small objects. */
const BORDER_FRAC = 0.005;

const CLASS_TEXTURES: readonly TextureKind[] = [...new Set(SAMPLE_CLASSES.map((k) => k.texture))];
const CLASS_SHAPES: readonly ShapeKind[] = [...new Set(SAMPLE_CLASSES.map((k) => k.shape))];

class Canvas {
  readonly px: Float32Array;
  constructor(readonly w: number, readonly h: number) {
    this.px = new Float32Array(w * h * 3);
  }

  /** Fill a polygon with a two-colour texture under a linear lighting ramp. Returns covered indices. */
  paint(poly: Polygon, p: Placement, tex: TextureFn, texAngle: number, c1: Rgb, c2: Rgb, light: Light): number[] {
    const ca = Math.cos(-texAngle), sa = Math.sin(-texAngle);
    const covered: number[] = [];
    rasterize(poly, this.w, this.h, (i) => {
      covered.push(i);
      const x = (i % this.w) + 0.5 - p.cx, y = Math.floor(i / this.w) + 0.5 - p.cy;
      const u = ca * x - sa * y, v = sa * x + ca * y;
      const t = tex(u, v);
      const l = light.a + (light.b * (light.dx * x + light.dy * y)) / p.r;
      const o = 3 * i;
      for (let k = 0; k < 3; k++) this.px[o + k] = (c1[k] + (c2[k] - c1[k]) * t) * l;
    });
    return covered;
  }
}

interface Light {
  a: number;
  b: number;
  dx: number;
  dy: number;
}

function randomLight(rng: Rng): Light {
  const th = rng.uniform(0, 2 * Math.PI);
  return { a: rng.uniform(0.78, 1.12), b: rng.uniform(0.05, 0.3), dx: Math.cos(th), dy: Math.sin(th) };
}

/** Two contrasting colours for a class instance: mostly near the class hue, sometimes any hue, so
 *  colour is a hint, never the answer. */
function classColours(k: SampleClass, rng: Rng): [Rgb, Rgb] {
  const hue = rng.next() < 0.65 ? k.hue + rng.uniform(-0.07, 0.07) : rng.next();
  const a = hsv(hue, rng.uniform(0.45, 0.9), rng.uniform(0.6, 0.95));
  const b = hsv(hue + k.hue2 + rng.uniform(-0.05, 0.05), rng.uniform(0.3, 0.85), rng.uniform(0.12, 0.45));
  return rng.next() < 0.5 ? [a, b] : [b, a];
}

function randomColours(rng: Rng): [Rgb, Rgb] {
  const hue = rng.next();
  return [hsv(hue, rng.uniform(0.1, 0.8), rng.uniform(0.3, 0.95)), hsv(hue + rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.8), rng.uniform(0.1, 0.7))];
}

function paintBackground(cv: Canvas, rng: Rng): void {
  const { w, h } = cv;
  // sky/ground-like split on a tilted line in 60% of scenes, one region otherwise
  const split = rng.next() < 0.6;
  const yh = h * rng.uniform(0.3, 0.7), tilt = rng.uniform(-0.3, 0.3);
  const regions = [0, 1].map(() => {
    const hue = rng.next();
    const base = hsv(hue, rng.uniform(0.05, 0.5), rng.uniform(0.3, 0.85));
    const alt = hsv(hue + rng.uniform(-0.12, 0.12), rng.uniform(0.05, 0.6), rng.uniform(0.2, 0.9));
    const noise = fbm(rng.nextU32());
    const scale = rng.uniform(14, 45);
    // a faint class-like texture over the whole region: texture alone must not mean "object"
    const faint = rng.next() < 0.4 ? makeTexture(rng.pick(CLASS_TEXTURES), rng.uniform(6, 14), rng, 60) : null;
    const amp = rng.uniform(0.08, 0.18);
    const ang = rng.uniform(0, Math.PI);
    return { base, alt, noise, scale, faint, amp, ca: Math.cos(ang), sa: Math.sin(ang) };
  });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const r = regions[split && y > yh + tilt * (x - w / 2) ? 1 : 0];
      let t = r.noise(x / r.scale, y / r.scale);
      t = clamp01((t - 0.5) * 1.8 + 0.5);
      let m = 1;
      if (r.faint) m += r.amp * (r.faint(r.ca * x - r.sa * y, r.sa * x + r.ca * y) - 0.5);
      const o = 3 * (y * w + x);
      for (let k = 0; k < 3; k++) cv.px[o + k] = (r.base[k] + (r.alt[k] - r.base[k]) * t) * m;
    }
  }
}

function paintDistractor(cv: Canvas, rng: Rng): void {
  const m = Math.min(cv.w, cv.h);
  // either a non-class shape (any texture, class textures included) or a class shape with a non-class fill
  const nonClassShape = rng.next() < 0.55;
  const shape = nonClassShape ? rng.pick(DISTRACTOR_SHAPES) : rng.pick(CLASS_SHAPES);
  const texture = nonClassShape ? rng.pick([...CLASS_TEXTURES, ...DISTRACTOR_TEXTURES]) : rng.pick(DISTRACTOR_TEXTURES);
  const p: Placement = { cx: rng.uniform(0, cv.w), cy: rng.uniform(0, cv.h), r: m * rng.uniform(0.06, 0.18), angle: rng.uniform(-Math.PI, Math.PI), stretch: rng.uniform(0.7, 1.4) };
  const poly = clipToImage(place(unitShape(shape, rng), p), cv.w, cv.h);
  if (poly.length === 0) return;
  const [c1, c2] = randomColours(rng);
  const tex = makeTexture(texture, rng.uniform(5, 14), rng, p.r);
  cv.paint(poly, p, tex, p.angle + rng.uniform(-0.5, 0.5), c1, c2, randomLight(rng));
}

/** Thin shapes cover less of their circle; enlarge them so they are not mostly void border. */
const SIZE_BOOST: Partial<Record<ShapeKind, number>> = { crescent: 1.35, arrow: 1.15, cross: 1.1, lshape: 1.1, star: 1.1 };

function classPlacement(k: SampleClass, rng: Rng, w: number, h: number, rFrac: [number, number]): Placement {
  const m = Math.min(w, h);
  const round = k.shape === 'disc';
  return {
    cx: w * rng.uniform(0.08, 0.92),
    cy: h * rng.uniform(0.08, 0.92),
    r: m * rng.uniform(rFrac[0], rFrac[1]) * (SIZE_BOOST[k.shape] ?? 1),
    angle: rng.uniform(-k.maxAngle, k.maxAngle),
    stretch: round ? rng.uniform(0.92, 1.08) : rng.uniform(0.85, 1.18),
  };
}

function paintClassObject(cv: Canvas, k: SampleClass, p: Placement, poly: Polygon, rng: Rng): number[] {
  const [c1, c2] = classColours(k, rng);
  const period = Math.max(4, k.period * Math.sqrt(p.r / 50) * rng.uniform(0.75, 1.35));
  const tex = makeTexture(k.texture, period, rng, p.r);
  return cv.paint(poly, p, tex, p.angle + rng.uniform(-0.3, 0.3), c1, c2, randomLight(rng));
}

export function renderScene(spec: SceneSpec, rng: Rng): Scene {
  const { width: w, height: h } = spec;
  const n = w * h;
  const cv = new Canvas(w, h);
  const inst = new Uint8Array(n); // 0 bg, k object, CROWD_MARK crowd
  paintBackground(cv, rng.fork('bg'));

  const drng = rng.fork('distractors');
  // 1-4 distractors of radius <= 0.18·side (were 2-6 up to 0.24): with PASCAL-sized objects (below) the
  // old clutter would cover most of the free background
  const nd = 1 + drng.int(4);
  for (let i = 0; i < nd; i++) paintDistractor(cv, drng);

  if (spec.crowd > 0) {
    const crng = rng.fork('crowd');
    const k = SAMPLE_CLASSES[spec.crowd - 1];
    const m = Math.min(w, h);
    const gx = w * crng.uniform(0.25, 0.75), gy = h * crng.uniform(0.25, 0.75), gr = m * crng.uniform(0.15, 0.25);
    const count = 6 + crng.int(7);
    for (let i = 0; i < count; i++) {
      const a = crng.uniform(0, 2 * Math.PI), d = gr * Math.sqrt(crng.next());
      const p: Placement = { cx: gx + d * Math.cos(a), cy: gy + d * Math.sin(a), r: m * crng.uniform(0.04, 0.07), angle: crng.uniform(-k.maxAngle, k.maxAngle), stretch: crng.uniform(0.85, 1.15) };
      const poly = clipToImage(place(unitShape(k.shape, crng), p), w, h);
      if (poly.length === 0) continue;
      for (const i2 of paintClassObject(cv, k, p, poly, crng)) inst[i2] = CROWD_MARK;
    }
  }

  const orng = rng.fork('objects');
  const minArea = Math.max(120, Math.round(0.012 * n));
  const objects: SceneObject[] = [];
  const visible: number[] = []; // visible pixel count per accepted object
  for (const ordinal of spec.ordinals) {
    const k = SAMPLE_CLASSES[ordinal - 1];
    for (let attempt = 0; attempt < 30; attempt++) {
      // radius 0.2-0.4 of the short side (was 0.13-0.3): a class then covers ~14 % of the images it is in
      // and all objects ~30 % of all pixels, close to PASCAL VOC (~25-30 % foreground), where before a
      // class covered ~7 % (all-foreground baseline 7.5 % mIoU), far smaller than PASCAL's objects
      const p = classPlacement(k, orng, w, h, [0.2, 0.4]);
      const poly = clipToImage(place(unitShape(k.shape, orng), p), w, h);
      if (poly.length === 0) continue;
      const cover: number[] = [];
      rasterize(poly, w, h, (i) => cover.push(i));
      if (cover.length < minArea) continue;
      // occlusion allowed, but every earlier object keeps at least half of itself (and minArea) visible
      const lost = new Array<number>(objects.length).fill(0);
      for (const i of cover) {
        const v = inst[i];
        if (v > 0 && v !== CROWD_MARK) lost[v - 1]++;
      }
      if (lost.some((l, j) => visible[j] - l < Math.max(minArea, 0.5 * objects[j].area))) continue;
      lost.forEach((l, j) => (visible[j] -= l));
      paintClassObject(cv, k, p, poly, orng);
      const id = objects.length + 1;
      for (const i of cover) inst[i] = id;
      objects.push({ ordinal, polygon: poly, area: cover.length, bbox: polygonBox(poly) });
      visible.push(cover.length);
      break;
    }
  }

  const rgb = finishImage(cv, rng.fork('camera'));
  const { cls, obj } = labelMaps(inst, objects, w, h);
  let crowd: SceneCrowd | null = null;
  if (spec.crowd > 0) {
    const mask = new Uint8Array(n);
    let area = 0, x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (let i = 0; i < n; i++) {
      if (inst[i] !== CROWD_MARK) continue;
      mask[i] = 1;
      area++;
      const x = i % w, y = Math.floor(i / w);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    if (area > 0) crowd = { ordinal: spec.crowd, mask, area, bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1] };
  }
  return { width: w, height: h, rgb, cls, obj, objects, crowd };
}

/** Camera: a mild 3×3 binomial blur (edges are no longer pixel-exact), a global exposure/colour cast,
 *  and sensor noise. */
function finishImage(cv: Canvas, rng: Rng): Uint8Array {
  const { w, h, px } = cv;
  const out = new Uint8Array(w * h * 3);
  const gain = [0, 1, 2].map(() => rng.uniform(0.92, 1.08));
  const sigma = rng.uniform(2, 5);
  const kern = [1, 2, 1];
  const row = 3 * w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = y > 0 && y < h - 1 && x > 0 && x < w - 1;
      for (let c = 0; c < 3; c++) {
        let s = 0, ws = 0;
        if (inside) {
          // The same sums in the same order as the loop below, without its bounds checks (most pixels;
          // this was the largest cost of writing a PASCAL-size set). Same order = the same bytes.
          const m = 3 * (y * w + x) + c, u = m - row, d = m + row;
          s += px[u - 3]; s += 2 * px[u]; s += px[u + 3];
          s += 2 * px[m - 3]; s += 4 * px[m]; s += 2 * px[m + 3];
          s += px[d - 3]; s += 2 * px[d]; s += px[d + 3];
          ws = 16;
        } else for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= w) continue;
            const k = kern[dy + 1] * kern[dx + 1];
            s += k * px[3 * (yy * w + xx) + c];
            ws += k;
          }
        }
        const v = (s / ws) * gain[c] + sigma * rng.normal();
        out[3 * (y * w + x) + c] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
  return out;
}

/** Class and object maps with VOC's void borders: every pixel within BORDER_FRAC·side (>= 1 px) of a change of
 *  instance (object/object, object/background, crowd/anything) becomes 255, and so does every crowd
 *  pixel. Distractors are background, so they get no border (as unlabelled things in VOC). */
function labelMaps(inst: Uint8Array, objects: SceneObject[], w: number, h: number): { cls: Uint8Array; obj: Uint8Array } {
  const n = w * h;
  const edge = new Uint8Array(n);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (x + 1 < w && inst[i] !== inst[i + 1]) edge[i] = edge[i + 1] = 1;
      if (y + 1 < h && inst[i] !== inst[i + w]) edge[i] = edge[i + w] = 1;
    }
  }
  const border = new Uint8Array(n);
  const R = Math.max(1, Math.round(BORDER_FRAC * Math.min(w, h)));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!edge[y * w + x]) continue;
      for (let dy = -R; dy <= R; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -R; dx <= R; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w || dx * dx + dy * dy > R * R + 1) continue;
          border[yy * w + xx] = 1;
        }
      }
    }
  }
  const cls = new Uint8Array(n), obj = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = inst[i];
    if (border[i] || v === CROWD_MARK) {
      cls[i] = obj[i] = IGNORE;
    } else if (v > 0) {
      cls[i] = objects[v - 1].ordinal;
      obj[i] = v;
    }
  }
  return { cls, obj };
}
