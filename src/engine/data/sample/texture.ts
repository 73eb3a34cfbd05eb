// Texture families for the sample dataset. A texture maps a point in the object's own frame (pixels,
// rotated with the object) to a mix weight t in [0, 1] between the object's two colours. Frequencies,
// phases and angles are per instance, so a class is a FAMILY of looks, not one stamp.
import { hash32 } from '../../prng';
import type { Rng } from '../../prng';

export type TextureKind =
  | 'stripes' | 'hatch' | 'checker' | 'dots' | 'noise' | 'gradient' | 'waves' | 'grid' | 'rings'
  | 'zigzag' | 'speckle' | 'marble'
  // distractor-only: flat and softly mottled fills, never a class texture
  | 'flat' | 'mottle';

export type TextureFn = (u: number, v: number) => number;

/** Integer-lattice value noise in [0, 1], smooth (cubic fade), seeded. Pure integer hashing so the
 *  output is identical on every platform. */
export function valueNoise(seed: number): (x: number, y: number) => number {
  const s = seed >>> 0;
  const lat = (ix: number, iy: number): number => {
    let h = (Math.imul(ix | 0, 0x27d4eb2d) ^ Math.imul(iy | 0, 0x165667b1) ^ s) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
  };
  return (x, y) => {
    const ix = Math.floor(x), iy = Math.floor(y);
    const fx = x - ix, fy = y - iy;
    const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
    const a = lat(ix, iy), b = lat(ix + 1, iy), c = lat(ix, iy + 1), d = lat(ix + 1, iy + 1);
    return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
  };
}

/** Two octaves of value noise, in [0, 1]. */
export function fbm(seed: number): (x: number, y: number) => number {
  const n1 = valueNoise(seed), n2 = valueNoise(hash32(`fbm${seed}`));
  return (x, y) => (2 * n1(x, y) + n2(2 * x + 17.3, 2 * y - 5.1)) / 3;
}

/** A band of width `duty` (0..1 of the period), slightly softened so JPEG does not ring too much. */
function band(phase: number, duty: number): number {
  const f = phase - Math.floor(phase);
  const e = 0.06;
  if (f < duty - e) return f < e ? f / e : 1;
  if (f < duty) return (duty - f) / e;
  return 0;
}

/** A texture instance. `period` is in pixels (already scaled to the object's size by the caller). */
export function makeTexture(kind: TextureKind, period: number, rng: Rng, r: number): TextureFn {
  const ph = rng.next();
  const seed = rng.nextU32();
  switch (kind) {
    case 'stripes': {
      const duty = rng.uniform(0.4, 0.55);
      return (u) => band(u / period + ph, duty);
    }
    case 'hatch': {
      // the sample's "diningtable": the same stripes as 'stripes' plus thin crossing stripes (the
      // look-alike of 'stripes' on the same shape)
      const duty = rng.uniform(0.4, 0.55);
      const p2 = period * rng.uniform(0.9, 1.3);
      return (u, v) => Math.max(band(u / period + ph, duty), 0.6 * band(v / p2 + ph, 0.2));
    }
    case 'checker':
      return (u, v) => ((Math.floor(u / period + ph) + Math.floor(v / period + ph)) & 1 ? 1 : 0);
    case 'dots': {
      const rad = rng.uniform(0.22, 0.34);
      return (u, v) => {
        const a = u / period + ph - Math.round(u / period + ph);
        const b = v / period + ph - Math.round(v / period + ph);
        const d = Math.sqrt(a * a + b * b);
        return d < rad ? 1 : d < rad + 0.06 ? (rad + 0.06 - d) / 0.06 : 0;
      };
    }
    case 'noise': {
      const n = fbm(seed);
      return (u, v) => clamp01((n(u / period, v / period) - 0.5) * 2.4 + 0.5);
    }
    case 'gradient': {
      const n = valueNoise(seed);
      const sharp = rng.uniform(0.8, 1.3);
      return (u, v) => clamp01(0.5 + (sharp * u) / (2 * r) + 0.12 * (n(u / 9, v / 9) - 0.5));
    }
    case 'waves': {
      const amp = rng.uniform(0.25, 0.45) * period;
      const wl = rng.uniform(2.2, 3.5) * period;
      return (u, v) => band((u + amp * Math.sin((2 * Math.PI * v) / wl)) / period + ph, 0.5);
    }
    case 'grid': {
      const w = rng.uniform(0.14, 0.22);
      return (u, v) => Math.max(band(u / period + ph, w), band(v / period + ph, w));
    }
    case 'rings':
      return (u, v) => band(Math.sqrt(u * u + v * v) / period + ph, 0.5);
    case 'zigzag': {
      const wl = rng.uniform(1.5, 2.5) * period;
      const amp = rng.uniform(0.4, 0.7) * period;
      return (u, v) => {
        const f = v / wl - Math.floor(v / wl);
        const tri = Math.abs(2 * f - 1) * amp;
        return band((u + tri) / period + ph, 0.5);
      };
    }
    case 'speckle': {
      const n = valueNoise(seed);
      const thr = rng.uniform(0.55, 0.65);
      return (u, v) => (n(u / (period * 0.35), v / (period * 0.35)) > thr ? 1 : 0);
    }
    case 'marble': {
      const n = fbm(seed);
      const turb = rng.uniform(2.5, 4);
      return (u, v) => 0.5 + 0.5 * Math.sin((2 * Math.PI * u) / (period * 1.6) + turb * Math.PI * n(u / (period * 1.5), v / (period * 1.5)));
    }
    case 'flat':
      return () => 0.15;
    case 'mottle': {
      const n = valueNoise(seed);
      return (u, v) => 0.3 * n(u / (period * 2.5), v / (period * 2.5));
    }
  }
}

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

export type Rgb = [number, number, number];

/** HSV (all in [0,1], hue wraps) to 0..255 RGB floats. */
export function hsv(h: number, s: number, v: number): Rgb {
  h = h - Math.floor(h);
  const i = Math.floor(h * 6), f = h * 6 - i;
  const p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  const m: Rgb[] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]];
  const [r, g, b] = m[i % 6];
  return [r * 255, g * 255, b * 255];
}
