// What a viewer shows without computing anything: the prediction last made for an image (as it was
// saved, or still waiting for the next save) and a small index mask for its thumbnail. The label
// service (service.ts) answers with these; nothing here encodes an image or runs the predictor.
import { decodeIndexPng, encodeIndexPng } from '../image/png';
import type { IndexMask } from '../types';
import { UNLABELED } from './predictor';
import { readMask, type ImageRecord } from './state';
import { PENDING, type LabelStore } from './store';

export interface PreviewParts {
  store: LabelStore;
  /** The working size S. */
  size: number;
  modelKey(): string;
  /** The record's annotation raster at S×S. */
  raster(r: ImageRecord): Uint8Array;
}

export interface StoredPrediction {
  png: Uint8Array;
  size: number;
  confidence: number;
  /** Made by today's model (else the supports changed since). */
  current: boolean;
}

/** The prediction last made for an image (S×S index PNG, the image's own marks painted over it), if any. */
export function storedPrediction(parts: PreviewParts, id: string, r: ImageRecord): StoredPrediction | undefined {
  const p = r.prediction;
  if (!p || r.status === 'broken') return undefined;
  const current = p.model === parts.modelKey();
  if (p.mask === PENDING) {
    const m = parts.store.pending(id);
    if (!m) return undefined;
    return { png: encodeIndexPng({ width: m.size, height: m.size, data: m.labels }, { fast: true }), size: m.size, confidence: p.confidence, current };
  }
  try {
    return { png: new Uint8Array(readMask(parts.store.stateDir, p.mask)), size: p.size, confidence: p.confidence, current };
  } catch {
    return undefined; // the file went missing: the prediction is made again on demand
  }
}

/** A small index mask for a thumbnail (longest side ≤ maxSide): the accepted mask, the drawn
 *  annotation (unlabeled as background) or the last prediction; undefined when there is none. */
export function thumbMask(parts: PreviewParts, id: string, r: ImageRecord, maxSide: number): IndexMask | undefined {
  if (r.status === 'broken' || r.width === undefined || r.height === undefined) return undefined;
  let src: IndexMask | undefined;
  if (r.status === 'accepted' && r.accepted) {
    try {
      src = decodeIndexPng(readMask(parts.store.stateDir, r.accepted.mask), r.accepted.mask);
    } catch {
      src = undefined;
    }
  } else if (r.status === 'drawn') {
    const S = parts.size;
    src = { width: S, height: S, data: parts.raster(r).map((v) => (v === UNLABELED ? 0 : v)) };
  } else {
    // a prediction not saved yet is read as it is, not encoded to a PNG and decoded again
    const pending = r.prediction?.mask === PENDING ? parts.store.pending(id) : undefined;
    const p = pending ? undefined : storedPrediction(parts, id, r);
    if (pending) src = { width: pending.size, height: pending.size, data: pending.labels };
    else if (p) src = decodeIndexPng(p.png, id);
  }
  if (!src) return undefined;
  // nearest neighbour to the image's aspect (S×S predictions are stretched back to it)
  const k = maxSide / Math.max(r.width, r.height);
  const w = Math.max(1, Math.round(r.width * Math.min(1, k))), h = Math.max(1, Math.round(r.height * Math.min(1, k)));
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(src.height - 1, Math.floor(((y + 0.5) * src.height) / h));
    for (let x = 0; x < w; x++) data[y * w + x] = src.data[sy * src.width + Math.min(src.width - 1, Math.floor(((x + 0.5) * src.width) / w))];
  }
  return { width: w, height: h, data };
}
