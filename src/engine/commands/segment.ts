// protolab segment — one ad-hoc episode on the user's own files: support images with index masks, query
// images out as index PNGs. Every non-zero, non-255 label found in the support masks is one way; a
// support contributes a shot to each way whose label it contains.
import * as path from 'path';
import { int, parse, required } from '../cli/args';
import { DataError, UsageError } from '../errors';
import { denseAnnotation } from '../fewshot/annotations';
import { panetMethod, type SupportInput } from '../fewshot/method';
import { toOrdinals } from '../fewshot/panet';
import { readRgb } from '../image/decode';
import { readIndexPng, writeIndexPngAsync } from '../image/png';
import { resizeMaskNearest, resizeRgb } from '../image/resize';
import type { Encoder } from '../features/frozenEncoder';
import { IGNORE, type RawImage } from '../types';
import type { FeatureEntry } from '../features/featureCache';
import { qualityConfigFromFlags, qualityHelp, qualityOptions } from './qualityFlags';
import { applyLimitFlags, backboneOptionsFromFlags, backendFromFlags, encoderFromFlags, inferenceHelp, limitHelp, limitOptions, modelOptions } from './common';
import { createBackbone } from '../nets/backbone';
import { segmentQuality } from './segmentQuality';
import { readQuery, skippedReport, type SkippedQuery } from './queryBatch';

export const segmentHelp = `protolab segment --support IMG --support-mask PNG [--support IMG --support-mask PNG]…
    --query IMG [--query IMG]… --out DIR [--size 417] [--backbone mobilenetv2|nanodet|centernet|vgg16] [--weights FILE]
    [--predictor quality|panet] [--levels 16,32] [--refine crf|guided|none] [--classifier auto|prototype|ridge]
    [--prototypes BG[,FG]] [--self-support ROUNDS] [--inference auto|onnx|tfjs] [--threads N] [--cache-dir DIR]
  One few-shot episode on your own images. Support masks are index PNGs (0 background, 255 ignore, any
  other value = a class); each distinct class is one way. Writes OUT/<query stem>.png (index PNG with
  the support masks' labels, VOC palette) at the query's own size; with the quality predictor, each
  query's confidence (0..1, an estimate of its masks' IoU) goes to stderr.
${qualityHelp('quality')}
    (on mobilenetv2 the quality predictor's multi-level encoder runs on tfjs whatever --inference says)
${inferenceHelp}
${limitHelp}`;

async function features(encoder: Encoder, img: RawImage, size: number): Promise<FeatureEntry> {
  return encoder.encode(await resizeRgb(img, size, size), size);
}

export async function segmentCommand(argv: string[]): Promise<number> {
  const v = parse(
    argv,
    {
      ...modelOptions,
      'cache-dir': { type: 'string' },
      support: { type: 'string', multiple: true },
      'support-mask': { type: 'string', multiple: true },
      query: { type: 'string', multiple: true },
      out: { type: 'string' },
      size: { type: 'string' },
      ...qualityOptions,
      ...limitOptions,
    },
    'segment',
  );
  if (v.help) return console.log(segmentHelp), 0;
  applyLimitFlags(v);
  const supports = (v.support as string[] | undefined) ?? [];
  const masks = (v['support-mask'] as string[] | undefined) ?? [];
  const queries = (v.query as string[] | undefined) ?? [];
  if (!supports.length) throw new UsageError('protolab segment: give at least one --support IMG --support-mask PNG pair');
  if (supports.length !== masks.length) throw new UsageError(`protolab segment: ${supports.length} --support but ${masks.length} --support-mask (they pair up in order)`);
  if (!queries.length) throw new UsageError('protolab segment: give at least one --query IMG');
  const out = path.resolve(required(v, 'out', 'segment'));
  const size = int(v, 'size', 417, 32, 2048);
  const backboneOpts = backboneOptionsFromFlags(v, 'mobilenetv2');
  const quality = qualityConfigFromFlags(v, 'quality', backboneOpts.id, backboneOpts.id === 'vgg16' ? 8 : 16);

  const backend = await backendFromFlags(v);
  const log = (l: string) => process.stderr.write(`${l}\n`);
  if (quality && backboneOpts.id === 'mobilenetv2') {
    // the multi-level MobileNetV2 encoder is built by segmentQuality itself (tfjs)
    log(`backend ${backend.name}`);
    return segmentQuality({ supports, masks, queries, out, size, config: quality, log });
  }
  const backbone = await createBackbone(backboneOpts);
  // A handful of images: the tfjs path encodes in-process (no worker pool to start).
  const encoder = await encoderFromFlags(v, backbone, backboneOpts, backend, 1).catch((e) => {
    backbone.dispose();
    throw e;
  });
  if (quality) {
    try {
      log(`backend ${backend.name}, backbone ${backbone.id} (${backbone.weightsSource}), encoder ${encoder.report.engine}`);
      return await segmentQuality({ supports, masks, queries, out, size, config: quality, encoder, encoderKey: `${backbone.id}|${backbone.weightsHash}|L${backbone.stride}|S${size}`, log });
    } finally {
      await encoder.close();
      backbone.dispose();
    }
  }
  try {
    const shots: Array<{ feat: FeatureEntry; mask: ReturnType<typeof resizeMaskNearest> }> = [];
    const labels = new Set<number>();
    for (let i = 0; i < supports.length; i++) {
      const img = await readRgb(supports[i]);
      const m = await readIndexPng(masks[i]);
      if (m.width !== img.width || m.height !== img.height) {
        throw new DataError(masks[i], `mask is ${m.width}×${m.height} but its image ${supports[i]} is ${img.width}×${img.height}`);
      }
      m.data.forEach((x) => x !== 0 && x !== IGNORE && labels.add(x));
      shots.push({ feat: await features(encoder, img, size), mask: resizeMaskNearest(m, size, size) });
    }
    const classes = [...labels].sort((a, b) => a - b);
    if (!classes.length) throw new DataError(masks.join(', '), 'the support masks contain no class (only 0 and 255)');
    const support: SupportInput[][] = classes.map((c) =>
      shots.filter((s) => s.mask.data.includes(c)).map((s) => ({ features: s.feat, annotation: denseAnnotation(s.mask, c, classes) })),
    );
    const empty = classes.filter((_, j) => support[j].length === 0);
    if (empty.length) throw new UsageError(`class(es) ${empty.join(', ')} vanish from the support masks at --size ${size}; use a larger --size`);
    process.stderr.write(`${classes.length}-way episode (classes ${classes.join(', ')}), ${supports.length} support image(s), backbone ${backbone.id}, backend ${backend.name}, encoder ${encoder.report.engine}\n`);
    // The queries are a batch: a bad one is named and skipped, the others are segmented.
    const skipped: SkippedQuery[] = [];
    for (const q of queries) {
      const img = await readQuery(q, skipped);
      if (!img) continue;
      const pred = await panetMethod.predict(support, await features(encoder, img, size), [img.height, img.width]);
      const file = path.join(out, `${path.basename(q, path.extname(q))}.png`);
      await writeIndexPngAsync(file, { width: img.width, height: img.height, data: toOrdinals(pred, classes) });
      console.log(file);
    }
    const report = skippedReport(skipped, queries.length);
    if (report) process.stderr.write(`${report}\n`);
    return skipped.length === queries.length ? 1 : 0;
  } finally {
    await encoder.close();
    backbone.dispose();
  }
}
