// How large an image the engine agrees to decode. A decompression bomb is a small file whose header
// declares a huge picture (a 4 kB PNG of 60000×60000 would need 10.8 GB as RGB); it is refused from the
// header, before a single pixel is decoded. The limit is process-wide on purpose: one CLI run or one engine
// process has one limit, set once at start from `--max-pixels` (CLI) or the engine option
// (EngineServer's `maxPixels`, PROTOLAB_MAX_PIXELS; the extension's protolab.engine.maxImagePixels).
import { UsageError } from '../errors';

/** ≈ 67 MP: a 40k×40k PNG would need 4.8 GB as RGB, a 8192×8192 photo passes. */
export const DEFAULT_MAX_PIXELS = 64 * 1024 * 1024;

let maxPixels = DEFAULT_MAX_PIXELS;

export function maxImagePixels(): number {
  return maxPixels;
}

/** Set the limit (pixels = width × height). */
export function setMaxImagePixels(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`the image size limit must be a positive number of pixels (got ${n})`);
  maxPixels = n;
}

/** Parse "100000000", "100M" or "1.5G" (pixels). */
export function parsePixelCount(s: string, what = '--max-pixels'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$/.exec(s);
  const n = m ? Math.round(Number(m[1]) * { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g']) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${what} must be a pixel count such as 100000000 or 100M (got ${s})`);
  return n;
}

const mp = (n: number): string => `${(n / 1e6).toFixed(n < 1e6 ? 3 : 1)} MP`;

/** Why an image of w×h may not be decoded under `limit`, or undefined when it may. */
export function pixelLimitProblem(w: number, h: number, limit = maxPixels): string | undefined {
  if (w * h <= limit) return undefined;
  return `image is ${w}×${h} = ${mp(w * h)}, over the ${mp(limit)} limit; refused before decoding ` +
    '(raise it with --max-pixels, or the protolab.engine.maxImagePixels setting)';
}
