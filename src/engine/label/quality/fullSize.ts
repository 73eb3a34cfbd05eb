// A prediction made at the working size S×S, read at an image's own size: the class probabilities are
// interpolated bilinearly (half-pixel centres) at each full-size pixel and the argmax taken there, so
// a boundary the refinement placed between working pixels lands between the right full-size pixels
// (nearest-neighbour upsampling of the labels would give stairs S/size pixels high). Nothing of the
// full-size probability map is stored: one pixel at a time.
import type { Prediction } from '../predictor';
import { linearTaps } from './levels';

export function labelsAtSize(p: Prediction, width: number, height: number): Uint8Array {
  const k1 = p.classes + 1, S = p.size, pr = p.probs;
  if (width === S && height === S) return p.labels.slice();
  const ty = linearTaps(height, S), tx = linearTaps(width, S);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const r0 = ty.i0[y] * S, r1 = ty.i1[y] * S, fy = ty.f[y];
    for (let x = 0; x < width; x++) {
      const a = tx.i0[x], b = tx.i1[x], fx = tx.f[x];
      const w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx), w11 = fy * fx;
      const p00 = (r0 + a) * k1, p01 = (r0 + b) * k1, p10 = (r1 + a) * k1, p11 = (r1 + b) * k1;
      let best = 0, bestV = -1;
      for (let k = 0; k < k1; k++) {
        const v = w00 * pr[p00 + k] + w01 * pr[p01 + k] + w10 * pr[p10 + k] + w11 * pr[p11 + k];
        if (v > bestV) { bestV = v; best = k; }
      }
      out[y * width + x] = best;
    }
  }
  return out;
}
