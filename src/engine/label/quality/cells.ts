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
  const cw = new Int32Array(w); // cell column → its width in pixels
  for (let j = 0; j < w; j++) {
    const [a, b] = cellSpan(j, w, size);
    cw[j] = b - a;
    for (let x = a; x < b; x++) xs[x] = j;
  }
  for (let i = 0; i < h; i++) {
    const [y0, y1] = cellSpan(i, h, size);
    for (let y = y0; y < y1; y++) {
      const row = y * size;
      for (let x = 0; x < size; x++) {
        const v = labels[row + x];
        if (v === UNLABELED || v === UNSURE) continue;
        if (v > classes) throw new RangeError(`annotation raster holds label ${v} but there are ${classes} classes`);
        out[(i * w + xs[x]) * k1 + v]++;
      }
    }
    // counts → fractions of the cell's area
    for (let j = 0; j < w; j++) {
      const area = (y1 - y0) * cw[j] || 1;
      for (let k = 0, o = (i * w + j) * k1; k < k1; k++) out[o + k] /= area;
    }
  }
  return out;
}

/** The labelled cells of a grid: where they are, their weights and their class distributions. */
export interface LabelledCells {
  /** cell index in the h×w grid, per labelled cell */
  cells: Int32Array;
  /** labelled fraction of the cell (0..1]: the sample's weight */
  weights: Float32Array;
  /** [n, K+1]: class distribution over each cell's labelled pixels (rows sum to 1) */
  targets: Float32Array;
}

/** The cells with at least `minFraction` of their pixels labelled (any class). */
export function labelledCells(fractions: Float32Array, classes: number, minFraction = 1e-6): LabelledCells {
  const k1 = classes + 1, n = fractions.length / k1;
  const keep: number[] = [], sums: number[] = [];
  for (let c = 0; c < n; c++) {
    let s = 0;
    for (let k = 0; k < k1; k++) s += fractions[c * k1 + k];
    if (s >= minFraction) { keep.push(c); sums.push(s); }
  }
  const targets = new Float32Array(keep.length * k1);
  keep.forEach((c, r) => { for (let k = 0; k < k1; k++) targets[r * k1 + k] = fractions[c * k1 + k] / sums[r]; });
  return { cells: Int32Array.from(keep), weights: Float32Array.from(sums, (s) => Math.min(1, s)), targets };
}
