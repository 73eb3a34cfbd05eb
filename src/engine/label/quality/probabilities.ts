// From class logits on the feature grid to class probabilities per pixel: bilinear upsampling with
// half-pixel centres (PANet upsamples its logits the same way, torch align_corners=False), then a
// softmax over classes per pixel.
import { resizeBilinear } from './levels';

/** logits [h·w, k1] → probabilities [S·S, k1], rows summing to 1. */
export function upsampleSoftmax(logits: Float32Array, h: number, w: number, k1: number, size: number): Float32Array {
  const up = resizeBilinear(logits, h, w, k1, size, size);
  softmaxRows(up, k1);
  return up;
}

/** In-place softmax of each row of k1 values. */
export function softmaxRows(x: Float32Array, k1: number): void {
  for (let o = 0; o < x.length; o += k1) {
    let m = -Infinity;
    for (let k = 0; k < k1; k++) if (x[o + k] > m) m = x[o + k];
    let s = 0;
    for (let k = 0; k < k1; k++) s += x[o + k] = Math.exp(x[o + k] - m);
    for (let k = 0; k < k1; k++) x[o + k] /= s;
  }
}

/** Argmax of each row (ties: the lower class). */
export function argmaxRows(p: Float32Array, k1: number): Uint8Array {
  const out = new Uint8Array(p.length / k1);
  for (let i = 0; i < out.length; i++) {
    let b = 0;
    for (let k = 1; k < k1; k++) if (p[i * k1 + k] > p[i * k1 + b]) b = k;
    out[i] = b;
  }
  return out;
}

/** Clip negatives to 0 and renormalise each row to sum 1 (a row that vanishes becomes uniform). */
export function renormaliseRows(p: Float32Array, k1: number): void {
  for (let o = 0; o < p.length; o += k1) {
    let s = 0;
    for (let k = 0; k < k1; k++) s += p[o + k] = p[o + k] > 0 ? p[o + k] : 0;
    if (s > 0) for (let k = 0; k < k1; k++) p[o + k] /= s;
    else for (let k = 0; k < k1; k++) p[o + k] = 1 / k1;
  }
}
