// `protolab segment` with the quality labeling predictor (the default; --predictor panet runs PANet as
// before): the supports' index masks become K-way annotation rasters at the working size, the predictor
// is fitted once, and every query is encoded, predicted, refined and read back at its own size.
import * as fs from 'fs';
import * as path from 'path';
import { DataError, UsageError } from '../errors';
import { toOrdinals } from '../fewshot/panet';
import { readRgb } from '../image/decode';
import { readIndexPng, writeIndexPngAsync } from '../image/png';
import { resizeMaskNearest, resizeRgb, roundBytes } from '../image/resize';
import type { Encoder } from '../features/frozenEncoder';
import { BackboneLabelEncoder } from '../label/quality/frozenLabelEncoder';
import type { QualityConfig } from '../label/quality/config';
import { MobileNetLabelEncoder } from '../label/quality/mobileNetLabelEncoder';
import { labelsAtSize } from '../label/quality/fullSize';
import { QualityPredictor } from '../label/qualityPredictor';
import type { LabelEncoder, LabelImage } from '../label/predictor';
import { storageError } from '../storageError';
import { readQuery, skippedReport, type SkippedQuery } from './queryBatch';
import { IGNORE, type RawImage } from '../types';

export interface SegmentQualityArgs {
  supports: string[];
  masks: string[];
  queries: string[];
  out: string;
  size: number;
  config: QualityConfig;
  /** the encoder to use when the backbone is not mobilenetv2 (whose multi-level encoder is built here),
   * with its cache identity (backbone, weights, stride, size); it stays the caller's to close */
  encoder?: Encoder;
  encoderKey?: string;
  log: (line: string) => void;
}

async function workingRgb(img: RawImage, size: number): Promise<RawImage> {
  return { width: size, height: size, data: roundBytes(await resizeRgb(img, size, size)) };
}

/** Returns the process exit code (0: every query written). */
export async function segmentQuality(a: SegmentQualityArgs): Promise<number> {
  const encoder: LabelEncoder = a.encoder ? new BackboneLabelEncoder(a.encoder, a.size, a.encoderKey ?? 'encoder') : await MobileNetLabelEncoder.create(a.size, a.config.levels);
  try {
    const shots: Array<{ image: LabelImage; mask: Uint8Array; file: string }> = [];
    const labels = new Set<number>();
    for (let i = 0; i < a.supports.length; i++) {
      const img = await readRgb(a.supports[i]);
      const m = await readIndexPng(a.masks[i]);
      if (m.width !== img.width || m.height !== img.height) {
        throw new DataError(a.masks[i], `mask is ${m.width}×${m.height} but its image ${a.supports[i]} is ${img.width}×${img.height}`);
      }
      m.data.forEach((x) => x !== 0 && x !== IGNORE && labels.add(x));
      const rgb = await workingRgb(img, a.size);
      shots.push({ image: { id: a.supports[i], rgb, features: await encoder.encode(rgb) }, mask: resizeMaskNearest(m, a.size, a.size).data, file: a.masks[i] });
    }
    const classes = [...labels].sort((x, y) => x - y);
    if (!classes.length) throw new DataError(a.masks.join(', '), 'the support masks contain no class (only 0 and 255)');
    if (classes.length > 253) throw new DataError(a.masks.join(', '), `the support masks hold ${classes.length} classes; at most 253 are supported`);
    const index = new Map(classes.map((c, j) => [c, j + 1]));
    // ordinals → 1..K; 0 stays background, 255 stays unsure
    const supports = shots.map((s) => {
      const labels = new Uint8Array(s.mask.length);
      for (let i = 0; i < labels.length; i++) labels[i] = s.mask[i] === 0 || s.mask[i] === IGNORE ? s.mask[i] : index.get(s.mask[i])!;
      return { image: s.image, labels };
    });
    const vanished = classes.filter((c) => !supports.some((s) => s.labels.includes(index.get(c)!)));
    if (vanished.length) throw new UsageError(`class(es) ${vanished.join(', ')} vanish from the support masks at --size ${a.size}; use a larger --size`);
    const predictor = new QualityPredictor(a.config);
    const model = predictor.fit(supports, classes.length);
    try {
      fs.mkdirSync(a.out, { recursive: true });
    } catch (e) {
      throw storageError(e, a.out, 'cannot create the output folder');
    }
    a.log(`${classes.length}-way (classes ${classes.join(', ')}), ${a.supports.length} support image(s), quality predictor ${JSON.stringify({ levels: a.config.levels, classifier: a.config.classifier, prototypes: a.config.prototypes, refine: a.config.refine, selfSupport: a.config.selfSupport.rounds })}, encoder ${encoder.key}`);
    // The queries are a batch: a bad one is named and skipped, the others are segmented (as PANet's path).
    const skipped: SkippedQuery[] = [];
    for (const q of a.queries) {
      const img = await readQuery(q, skipped);
      if (!img) continue;
      const rgb = await workingRgb(img, a.size);
      const p = model.predict({ id: q, rgb, features: await encoder.encode(rgb) });
      const file = path.join(a.out, `${path.basename(q, path.extname(q))}.png`);
      await writeIndexPngAsync(file, { width: img.width, height: img.height, data: toOrdinals(labelsAtSize(p, img.width, img.height), classes) });
      a.log(`${path.basename(file)}: confidence ${p.confidence.toFixed(3)}`);
      console.log(file);
    }
    model.dispose();
    const report = skippedReport(skipped, a.queries.length);
    if (report) a.log(report);
    return skipped.length === a.queries.length ? 1 : 0;
  } finally {
    encoder.dispose();
  }
}
