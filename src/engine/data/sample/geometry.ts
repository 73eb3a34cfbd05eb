// Polygons for the sample dataset. Every object (and every distractor) is ONE simple polygon in pixel
// coordinates: COCO gets it verbatim as its `segmentation`, and the VOC mask is rasterised from the very
// same numbers, so the two formats agree pixel for pixel (apart from VOC's 255 borders and crowds).
import type { Rng } from '../../prng';

/** Flat [x0, y0, x1, y1, ...] in pixel coordinates, COCO's polygon layout. */
export type Polygon = number[];

export type ShapeKind =
  | 'disc' | 'ellipse' | 'square' | 'triangle' | 'blob' | 'hexagon' | 'star' | 'diamond' | 'trapezoid'
  | 'cross' | 'pentagon' | 'crescent' | 'arrow' | 'heart' | 'lshape'
  // distractor-only shapes: never a class, so "has this shape" alone never means "is an object"
  | 'bar' | 'chevron' | 'quad';

export interface Placement {
  cx: number;
  cy: number;
  /** radius in pixels of the shape's unit circle */
  r: number;
  /** radians */
  angle: number;
  /** anisotropic stretch along the local x axis (1 = none) */
  stretch: number;
}

type Pt = [number, number];

function regular(n: number, phase: number): Pt[] {
  const pts: Pt[] = [];
  for (let i = 0; i < n; i++) {
    const a = phase + (2 * Math.PI * i) / n;
    pts.push([Math.cos(a), Math.sin(a)]);
  }
  return pts;
}

/** The shape in its local frame (roughly inside the unit circle, centred at 0). Shape-level random
 *  variation (blob wobble, crescent bite, star depth) comes from `rng` so instances differ. */
export function unitShape(kind: ShapeKind, rng: Rng): Pt[] {
  switch (kind) {
    case 'disc':
      return regular(24 + rng.int(25), rng.uniform(0, Math.PI));
    case 'ellipse': {
      const ar = rng.uniform(0.45, 0.65);
      return regular(32 + rng.int(17), 0).map(([x, y]) => [x, y * ar]);
    }
    case 'square':
      return regular(4, Math.PI / 4).map(([x, y]) => [x * 0.95, y * 0.95]);
    case 'triangle':
      return regular(3, -Math.PI / 2).map(([x, y]) => [x, y + 0.2]);
    case 'pentagon':
      return regular(5, -Math.PI / 2);
    case 'hexagon':
      return regular(6, 0);
    case 'diamond':
      return [[0, -1], [0.62, 0], [0, 1], [-0.62, 0]];
    case 'blob': {
      // smooth random radius: a few low-frequency harmonics
      const n = 36 + rng.int(13);
      const h = [1, 2, 3].map((k) => ({ amp: rng.uniform(0.06, 0.22) / k, ph: rng.uniform(0, 2 * Math.PI), k: k + 1 }));
      const pts: Pt[] = [];
      for (let i = 0; i < n; i++) {
        const a = (2 * Math.PI * i) / n;
        let rr = 0.8;
        for (const t of h) rr += t.amp * Math.sin(t.k * a + t.ph);
        pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
      }
      return pts;
    }
    case 'star': {
      const spikes = 5 + rng.int(2);
      const inner = rng.uniform(0.38, 0.55);
      const pts: Pt[] = [];
      for (let i = 0; i < 2 * spikes; i++) {
        const a = -Math.PI / 2 + (Math.PI * i) / spikes;
        const rr = i % 2 === 0 ? 1 : inner;
        pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
      }
      return pts;
    }
    case 'trapezoid': {
      // the sample's chair/table shape: a wide top edge over a narrower base
      const top = rng.uniform(0.85, 1.0);
      const bot = rng.uniform(0.45, 0.6);
      const hh = rng.uniform(0.5, 0.65);
      return [[-top, -hh], [top, -hh], [bot, hh], [-bot, hh]];
    }
    case 'cross': {
      const t = rng.uniform(0.28, 0.38);
      return [[-t, -1], [t, -1], [t, -t], [1, -t], [1, t], [t, t], [t, 1], [-t, 1], [-t, t], [-1, t], [-1, -t], [-t, -t]];
    }
    case 'crescent': {
      // outer circle minus an offset inner circle, traced as one polygon (outer arc, then inner arc back)
      const off = rng.uniform(0.42, 0.55);
      const ri = rng.uniform(0.72, 0.8);
      const pts: Pt[] = [];
      const n = 24;
      // the two circles meet where x = (1 - ri^2 + off^2) / (2 off)
      const xm = (1 - ri * ri + off * off) / (2 * off);
      const am = Math.acos(Math.max(-1, Math.min(1, xm)));
      for (let i = 0; i <= n; i++) {
        const a = am + ((2 * Math.PI - 2 * am) * i) / n;
        pts.push([Math.cos(a), Math.sin(a)]);
      }
      const bm = Math.atan2(Math.sin(am), Math.cos(am) - off);
      for (let i = n; i >= 0; i--) {
        const b = bm + ((2 * Math.PI - 2 * bm) * i) / n;
        pts.push([off + ri * Math.cos(b), ri * Math.sin(b)]);
      }
      return pts;
    }
    case 'arrow': {
      const sw = rng.uniform(0.2, 0.3);
      const hw = rng.uniform(0.55, 0.7);
      const hx = rng.uniform(0.05, 0.25);
      return [[-1, -sw], [hx, -sw], [hx, -hw], [1, 0], [hx, hw], [hx, sw], [-1, sw]];
    }
    case 'heart': {
      const pts: Pt[] = [];
      const n = 40;
      for (let i = 0; i < n; i++) {
        const t = (2 * Math.PI * i) / n;
        const x = 16 * Math.sin(t) ** 3;
        const y = 13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t);
        pts.push([x / 17, -y / 17 - 0.1]);
      }
      return pts;
    }
    case 'lshape': {
      const t = rng.uniform(0.35, 0.5);
      return [[-0.8, -1], [-0.8 + t * 2, -1], [-0.8 + t * 2, 1 - t * 2], [0.8, 1 - t * 2], [0.8, 1], [-0.8, 1]];
    }
    case 'bar': {
      const t = rng.uniform(0.08, 0.18);
      return [[-1, -t], [1, -t], [1, t], [-1, t]];
    }
    case 'chevron': {
      const t = rng.uniform(0.2, 0.3);
      return [[-1, -0.6], [0, 0.2], [1, -0.6], [1, -0.6 + 2 * t], [0, 0.2 + 2 * t], [-1, -0.6 + 2 * t]];
    }
    case 'quad': {
      const pts: Pt[] = [];
      for (let i = 0; i < 4; i++) {
        const a = (Math.PI / 2) * i + rng.uniform(-0.5, 0.5);
        const rr = rng.uniform(0.5, 1);
        pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
      }
      return pts;
    }
  }
}

/** Local shape -> pixel polygon, rounded to 2 decimals (what COCO stores; the VOC raster uses the
 *  rounded numbers too so both formats see identical geometry). */
export function place(pts: Pt[], p: Placement): Polygon {
  const c = Math.cos(p.angle), s = Math.sin(p.angle);
  const out: number[] = [];
  for (const [x0, y0] of pts) {
    const x = x0 * p.r * p.stretch, y = y0 * p.r;
    out.push(round2(p.cx + c * x - s * y), round2(p.cy + s * x + c * y));
  }
  return out;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Clip to the image rectangle [0,w]×[0,h] (Sutherland–Hodgman: the clip window is convex, so it is
 *  exact for concave subjects too, up to zero-width seams that rasterise to nothing). Real COCO polygons
 *  stay inside the image; ours do as well. Returns [] when nothing is left. */
export function clipToImage(poly: Polygon, w: number, h: number): Polygon {
  let pts: Pt[] = [];
  for (let i = 0; i < poly.length; i += 2) pts.push([poly[i], poly[i + 1]]);
  const edges: Array<[(p: Pt) => boolean, (a: Pt, b: Pt) => Pt]> = [
    [(p) => p[0] >= 0, (a, b) => lerpAt(a, b, 0, 0)],
    [(p) => p[0] <= w, (a, b) => lerpAt(a, b, 0, w)],
    [(p) => p[1] >= 0, (a, b) => lerpAt(a, b, 1, 0)],
    [(p) => p[1] <= h, (a, b) => lerpAt(a, b, 1, h)],
  ];
  for (const [inside, cut] of edges) {
    if (pts.length === 0) break;
    const next: Pt[] = [];
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i], b = pts[(i + 1) % pts.length];
      const ia = inside(a), ib = inside(b);
      if (ia) next.push(a);
      if (ia !== ib) next.push(cut(a, b));
    }
    pts = next;
  }
  const out: number[] = [];
  for (const [x, y] of pts) {
    const rx = round2(x), ry = round2(y);
    // drop consecutive duplicates the clipping can create
    if (out.length >= 2 && out[out.length - 2] === rx && out[out.length - 1] === ry) continue;
    out.push(rx, ry);
  }
  if (out.length >= 4 && out[0] === out[out.length - 2] && out[1] === out[out.length - 1]) out.length -= 2;
  return out.length >= 6 ? out : [];
}

function lerpAt(a: Pt, b: Pt, axis: 0 | 1, v: number): Pt {
  const t = (v - a[axis]) / (b[axis] - a[axis]);
  const p: Pt = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
  p[axis] = v;
  return p;
}

/** Even-odd scanline fill sampled at pixel centres (x+0.5, y+0.5): the usual convention of polygon
 *  rasterisers. Calls `set(i)` with the row-major index of every covered pixel. */
export function rasterize(poly: Polygon, w: number, h: number, set: (i: number) => void): void {
  const n = poly.length / 2;
  if (n < 3) return;
  let ymin = Infinity, ymax = -Infinity;
  for (let i = 1; i < poly.length; i += 2) {
    ymin = Math.min(ymin, poly[i]);
    ymax = Math.max(ymax, poly[i]);
  }
  const y0 = Math.max(0, Math.floor(ymin)), y1 = Math.min(h - 1, Math.ceil(ymax));
  const xs: number[] = [];
  for (let y = y0; y <= y1; y++) {
    const yc = y + 0.5;
    xs.length = 0;
    for (let i = 0; i < n; i++) {
      const ax = poly[2 * i], ay = poly[2 * i + 1];
      const j = (i + 1) % n;
      const bx = poly[2 * j], by = poly[2 * j + 1];
      // half-open rule on y so a vertex exactly on the scanline is counted once
      if ((ay <= yc && by > yc) || (by <= yc && ay > yc)) xs.push(ax + ((yc - ay) / (by - ay)) * (bx - ax));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // pixel x is inside when its centre x+0.5 lies in [xs[k], xs[k+1])
      const xa = Math.max(0, Math.ceil(xs[k] - 0.5)), xb = Math.min(w - 1, Math.ceil(xs[k + 1] - 0.5) - 1);
      for (let x = xa; x <= xb; x++) set(y * w + x);
    }
  }
}

/** Axis-aligned extent [x, y, w, h] of a polygon (COCO's bbox for a polygon annotation). */
export function polygonBox(poly: Polygon): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < poly.length; i += 2) {
    x0 = Math.min(x0, poly[i]);
    x1 = Math.max(x1, poly[i]);
    y0 = Math.min(y0, poly[i + 1]);
    y1 = Math.max(y1, poly[i + 1]);
  }
  return [round2(x0), round2(y0), round2(x1 - x0), round2(y1 - y0)];
}
