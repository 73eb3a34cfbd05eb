// Scoring labeling predictors on real photo pairs (photoCases.ts), for scripts/eval-photos.ts (the
// predictor alone; `npm run bench:label` scores through the label service, caseRunner.ts, and borrows
// queryStrokes from here): 1-shot IoU of the query's class with the support's mask alone, and again with
// strokes on the query as a user would draw them (PANet's scribble generator on the query's truth: one
// foreground stroke and every background stroke, 3 px wide), which measures "own strokes".
import { ANN_BG, ANN_FG, scribbleAnnotation } from '../../src/engine/fewshot/annotations';
import { Rng } from '../../src/engine/prng';
import { IGNORE, type IndexMask } from '../../src/engine/types';
import { UNLABELED, type LabelImage, type Prediction } from '../../src/engine/label/predictor';
import { QualityPredictor } from '../../src/engine/label/qualityPredictor';
import { MobileNetLabelEncoder } from '../../src/engine/label/quality/mobileNetLabelEncoder';
import { iouOf, loadPhotoFolder, oneWayRaster, photoPairs, type PhotoPair } from './photoCases';
import type { Variant } from '../../src/engine/label/quality/variants';

/** A query's own strokes: PANet's scribbles from its truth `gt` (class `cls` vs the rest), 3 px wide, at gt's size. */
export function queryStrokes(gt: IndexMask, cls: number, seed: number): Uint8Array {
  const size = gt.width;
  const bin = { width: size, height: gt.height, data: oneWayRaster(gt, cls) };
  const ann = scribbleAnnotation(bin, 1, new Rng(seed), [1]);
  const out = new Uint8Array(bin.data.length).fill(UNLABELED);
  for (let y = 0; y < bin.height; y++) for (let x = 0; x < size; x++) {
    const v = ann.data[y * size + x];
    if (v !== ANN_FG && v !== ANN_BG) continue;
    const want = v === ANN_FG ? 1 : 0;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const yy = y + dy, xx = x + dx;
      if (yy < 0 || xx < 0 || yy >= bin.height || xx >= size) continue;
      const g = bin.data[yy * size + xx];
      if (g !== IGNORE && g === want) out[yy * size + xx] = want; // a brush never paints over the other class
    }
  }
  return out;
}

export interface PairScore {
  iou: number | null;
  iouStrokes: number | null;
  prediction: Prediction;
  withStrokes?: Prediction;
}

/** One variant on one pair: fit on the support's mask, predict the query without and with its strokes. */
export function scorePair(v: Variant, pair: PhotoPair, support: LabelImage, query: LabelImage, strokes?: Uint8Array): PairScore {
  const model = new QualityPredictor(v.config, v.name).fit([{ image: support, labels: oneWayRaster(pair.support.gt, pair.cls) }], 1);
  try {
    const prediction = model.predict(query);
    const withStrokes = strokes ? model.predict(query, strokes) : undefined;
    return {
      iou: iouOf(prediction.labels, pair.query.gt, pair.cls),
      iouStrokes: withStrokes ? iouOf(withStrokes.labels, pair.query.gt, pair.cls) : null,
      prediction,
      withStrokes,
    };
  } finally {
    model.dispose();
  }
}

export interface PhotoBenchResult {
  pairs: number;
  /** per variant: mean IoU over pairs without and with query strokes */
  variants: Record<string, { photoMiou: number; photoMiouStrokes: number }>;
}

/**
 * Every variant on every pair of photos of the given folders (pairs across folders too), at size S:
 * the predictor alone, without the label service. Encodes each photo once with the union of the levels.
 */
export async function photoBenchmark(folders: string[], size: number, variants: Variant[]): Promise<PhotoBenchResult> {
  const pairs = photoPairs((await Promise.all(folders.map((f) => loadPhotoFolder(f, size)))).flat());
  if (!pairs.length) throw new Error(`no pair of photos sharing a class in ${folders.join(', ')}`);
  const encoder = await MobileNetLabelEncoder.create(size, [...new Set(variants.flatMap((v) => v.config.levels))].sort((a, b) => a - b));
  const images = new Map<string, LabelImage>();
  try {
    for (const p of pairs) for (const im of [p.support, p.query]) if (!images.has(im.id)) images.set(im.id, { id: im.id, rgb: im.rgb, features: await encoder.encode(im.rgb) });
  } finally {
    encoder.dispose();
  }
  const sums = new Map(variants.map((v) => [v.name, { iou: 0, strokes: 0, n: 0, ns: 0 }]));
  pairs.forEach((p) => {
    const strokes = queryStrokes(p.query.gt, p.cls, 7);
    for (const v of variants) {
      const s = scorePair(v, p, images.get(p.support.id)!, images.get(p.query.id)!, strokes), acc = sums.get(v.name)!;
      if (s.iou !== null) { acc.iou += s.iou; acc.n++; }
      if (s.iouStrokes !== null) { acc.strokes += s.iouStrokes; acc.ns++; }
    }
  });
  return {
    pairs: pairs.length,
    variants: Object.fromEntries(variants.map((v) => {
      const a = sums.get(v.name)!;
      return [v.name, { photoMiou: a.iou / a.n, photoMiouStrokes: a.strokes / a.ns }];
    })),
  };
}
