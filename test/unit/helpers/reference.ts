// Independent plain-JS (float64) references the tensor code is tested against: torch's bilinear
// interpolation (F.interpolate, align_corners=False) written out directly, PANet's masked average
// pooling as its official getFeatures does it (upsample, then Σ F·m / (Σ m + 1e-5)), cosine similarity.
import type { Rng } from '../../../src/engine/prng';

/** An HWC image of float64 values. */
export type Img = { h: number; w: number; c: number; v: Float64Array };

/** torch F.interpolate(x, (H, W), mode='bilinear', align_corners=False). */
export function jsUpsample(x: Img, H: number, W: number): Img {
  const out = new Float64Array(H * W * x.c);
  const src = (o: number, inS: number, outS: number): [number, number, number] => {
    let s = (o + 0.5) * (inS / outS) - 0.5;
    if (s < 0) s = 0;
    const a = Math.min(Math.floor(s), inS - 1), b = a + 1 < inS ? a + 1 : inS - 1;
    return [a, b, s - a];
  };
  for (let y = 0; y < H; y++) {
    const [y0, y1, ly] = src(y, x.h, H);
    for (let xx = 0; xx < W; xx++) {
      const [x0, x1, lx] = src(xx, x.w, W);
      for (let k = 0; k < x.c; k++) {
        const g = (yy: number, xc: number): number => x.v[(yy * x.w + xc) * x.c + k];
        out[(y * W + xx) * x.c + k] = (1 - ly) * ((1 - lx) * g(y0, x0) + lx * g(y0, x1)) + ly * ((1 - lx) * g(y1, x0) + lx * g(y1, x1));
      }
    }
  }
  return { h: H, w: W, c: x.c, v: out };
}

/** PANet's getFeatures: upsample the features to the mask, then Σ F·m / (Σ m + 1e-5). */
export function jsMaskedAverage(f: Img, m: ArrayLike<number>, H: number, W: number): number[] {
  const up = jsUpsample(f, H, W), p = new Array<number>(f.c).fill(0);
  let area = 0;
  for (let i = 0; i < H * W; i++) {
    area += m[i];
    for (let k = 0; k < f.c; k++) p[k] += up.v[i * f.c + k] * m[i];
  }
  return p.map((s) => s / (area + 1e-5));
}

/** Cosine similarity with torch's eps on the product of norms. */
export function jsCos(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-8);
}

export function randImg(rng: Rng, h: number, w: number, c: number): Img {
  return { h, w, c, v: Float64Array.from({ length: h * w * c }, () => rng.normal()) };
}
