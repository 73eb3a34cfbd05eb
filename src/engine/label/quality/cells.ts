// Support annotations at feature resolution: each cell of an h×w feature grid laid over the S×S raster
// gets the FRACTION of its pixels labelled with each class (area pooling). Unlabeled (254) and unsure
// (255) pixels count for no class, so a cell half-covered by a brush stroke is a half-weight sample.
//
// WHY fractions and not the majority label: a feature cell straddling an object boundary sees both
// sides; its soft target says so, and a classifier fitted on it is not told a lie about either class.
import { UNLABELED } from '../predictor';

export const UNSURE = 255;

/** Which pixel rows (or columns) cell i of n covers on a side of S pixels: [start, end). */
export function cellSpan(i: number, n: number, size: number): [number, number] {
  return [Math.floor((i * size) / n), Math.floor(((i + 1) * size) / n)];
}

/**
 * Per-cell class fractions [h·w, K+1] of an S×S raster (0 bg, 1..K, 254 unlabeled, 255 unsure).
 * Pixels with any other value throw (an annotation raster must not carry labels beyond K).
 */
export function cellFractions(labels: Uint8Array, size: number, h: number, w: number, classes: number): Float32Array {
  if (labels.length !== size * size) throw new RangeError(`annotation raster has ${labels.length} pixels, expected ${size}×${size}`);
  const k1 = classes + 1;
  const out = new Float32Array(h * w * k1);
  const xs = new Int32Array(size); // column → cell column
  for (let j = 0; j < w; j++) {
    const [a, b] = cellSpan(j, w, size);
    for (let x = a; x < b; x++) xs[x] = j;
  }
  const area = new Float32Array(h * w);
  for (let i = 0; i < h; i++) {
    const [y0, y1] = cellSpan(i, h, size);
    for (let y = y0; y < y1; y++) {
      const row = y * size;
      for (let x = 0; x < size; x++) {
        const cell = i * w + xs[x];
        area[cell]++;
        const v = labels[row + x];
        if (v === UNLABELED || v === UNSURE) continue;
        if (v > classes) throw new RangeError(`annotation raster holds label ${v} but there are ${classes} classes`);
        out[cell * k1 + v]++;
      }
    }
  }
  for (let c = 0; c < h * w; c++) for (let k = 0; k < k1; k++) out[c * k1 + k] /= area[c] || 1;
  return out;
}

/** One labelled cell: where it is and what the raster says about it. */
export interface CellSample {
  /** cell index in the h×w grid */
  cell: number;
  /** labelled fraction of the cell (0..1]: the sample's weight */
  weight: number;
  /** class distribution over the labelled pixels (sums to 1), length K+1 */
  target: Float32Array;
}

/** The cells with at least `minFraction` of their pixels labelled (any class). */
export function labelledCells(fractions: Float32Array, classes: number, minFraction = 1e-6): CellSample[] {
  const k1 = classes + 1, n = fractions.length / k1, out: CellSample[] = [];
  for (let c = 0; c < n; c++) {
    let s = 0;
    for (let k = 0; k < k1; k++) s += fractions[c * k1 + k];
    if (s < minFraction) continue;
    const target = new Float32Array(k1);
    for (let k = 0; k < k1; k++) target[k] = fractions[c * k1 + k] / s;
    out.push({ cell: c, weight: Math.min(1, s), target });
  }
  return out;
}
