// The predicted image's own strokes (its annotation raster: 0..K, 254 unlabeled, 255 unsure): the
// strongest evidence it has. The predictor adds them as samples with a higher weight; here, whether
// there are any, and fixing marked pixels to their label (a marked pixel is that class with certainty).
import { UNLABELED } from '../predictor';
import { UNSURE } from './cells';

/** Whether a raster marks any pixel with a class (0..K). */
export function hasLabels(raster: Uint8Array): boolean {
  for (const v of raster) if (v !== UNLABELED && v !== UNSURE) return true;
  return false;
}

/** Probabilities [n, k1] in place: each marked pixel one-hot on its label. */
export function clampOwn(probs: Float32Array, own: Uint8Array, k1: number): void {
  // plain stores, no fill() per pixel: this runs over every pixel after every stroke
  for (let i = 0, o = 0; i < own.length; i++, o += k1) {
    const v = own[i];
    if (v >= k1) continue; // unlabeled (254), unsure (255), or a label beyond K
    for (let l = 0; l < k1; l++) probs[o + l] = l === v ? 1 : 0;
  }
}
