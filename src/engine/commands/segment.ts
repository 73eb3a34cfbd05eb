// protolab segment — one ad-hoc episode on the user's own files: support images with index masks, query
// images out as index PNGs. Every non-zero, non-255 label found in the support masks is one way; a
// support contributes a shot to each way whose label it contains.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { int, parse, required } from '../cli/args';
import { DataError, UsageError } from '../errors';
import { denseAnnotation } from '../fewshot/annotations';
import { panetMethod, type SupportInput } from '../fewshot/method';
import { toOrdinals } from '../fewshot/panet';
import { readRgb } from '../image/decode';
import { readIndexPng, writeIndexPngAsync } from '../image/png';
import { resizeMaskNearest, resizeRgb } from '../image/resize';
import type { Backbone } from '../nets/backbone';
import { IGNORE, type RawImage } from '../types';
import type { FeatureEntry } from '../eval/featureCache';
import { qualityConfigFromFlags, qualityHelp, qualityOptions } from '../label/quality/flags';
import { backboneFromFlags, backboneOptionsFromFlags, backendFromFlags, modelOptions } from './common';
import { segmentQuality } from './segmentQuality';

export const segmentHelp = `protolab segment --support IMG --support-mask PNG [--support IMG --support-mask PNG]…
    --query IMG [--query IMG]… --out DIR [--size 417] [--backbone mobilenetv2|vgg16] [--weights FILE]
    [--predictor quality|panet] [--levels 16,32] [--refine crf|guided|none] [--classifier prototype|ridge]
    [--prototypes BG[,FG]] [--self-support ROUNDS]
  One few-shot episode on your own images. Support masks are index PNGs (0 background, 255 ignore, any
  other value = a class); each distinct class is one way. Writes OUT/<query stem>.png (index PNG with
  the support masks' labels, VOC palette) at the query's own size; with the quality predictor, each
  query's confidence (0..1, an estimate of its masks' IoU) goes to stderr.
${qualityHelp('quality')}`;

async function features(backbone: Backbone, img: RawImage, size: number): Promise<FeatureEntry> {
  const px = await resizeRgb(img, size, size);
  const out = tf.tidy(() => backbone.features(tf.tensor4d(px, [1, size, size, 3])));
  try {
    return { shape: [out.shape[1], out.shape[2], out.shape[3]], data: (await out.data()) as Float32Array };
  } finally {
    out.dispose();
  }
}

export async function segmentCommand(argv: string[]): Promise<number> {
  const v = parse(
    argv,
    {
      ...modelOptions,
      support: { type: 'string', multiple: true },
      'support-mask': { type: 'string', multiple: true },
      query: { type: 'string', multiple: true },
      out: { type: 'string' },
      size: { type: 'string' },
      ...qualityOptions,
    },
    'segment',
  );
  if (v.help) return console.log(segmentHelp), 0;
  const supports = (v.support as string[] | undefined) ?? [];
  const masks = (v['support-mask'] as string[] | undefined) ?? [];
  const queries = (v.query as string[] | undefined) ?? [];
  if (!supports.length) throw new UsageError('protolab segment: give at least one --support IMG --support-mask PNG pair');
  if (supports.length !== masks.length) throw new UsageError(`protolab segment: ${supports.length} --support but ${masks.length} --support-mask (they pair up in order)`);
  if (!queries.length) throw new UsageError('protolab segment: give at least one --query IMG');
  const out = path.resolve(required(v, 'out', 'segment'));
  const size = int(v, 'size', 417, 32, 2048);
  const bbOpts = backboneOptionsFromFlags(v, 'mobilenetv2');
  const quality = qualityConfigFromFlags(v, 'quality', bbOpts.id, bbOpts.id === 'vgg16' ? 8 : 16);

  const backend = await backendFromFlags(v);
  const log = (l: string) => process.stderr.write(`${l}\n`);
  if (quality && bbOpts.id === 'mobilenetv2') {
    // the multi-level MobileNetV2 encoder is built by segmentQuality itself
    log(`backend ${backend.name}`);
    await segmentQuality({ supports, masks, queries, out, size, config: quality, log });
    return 0;
  }
  const backbone = await backboneFromFlags(v, 'mobilenetv2');
  if (quality) {
    try {
      log(`backend ${backend.name}, backbone ${backbone.id} (${backbone.weightsSource})`);
      await segmentQuality({ supports, masks, queries, out, size, config: quality, backbone, log });
      return 0;
    } finally {
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
      shots.push({ feat: await features(backbone, img, size), mask: resizeMaskNearest(m, size, size) });
    }
    const classes = [...labels].sort((a, b) => a - b);
    if (!classes.length) throw new DataError(masks.join(', '), 'the support masks contain no class (only 0 and 255)');
    const support: SupportInput[][] = classes.map((c) =>
      shots.filter((s) => s.mask.data.includes(c)).map((s) => ({ features: s.feat, annotation: denseAnnotation(s.mask, c, classes) })),
    );
    const empty = classes.filter((_, j) => support[j].length === 0);
    if (empty.length) throw new UsageError(`class(es) ${empty.join(', ')} vanish from the support masks at --size ${size}; use a larger --size`);
    fs.mkdirSync(out, { recursive: true });
    process.stderr.write(`${classes.length}-way episode (classes ${classes.join(', ')}), ${supports.length} support image(s), backbone ${backbone.id}, backend ${backend.name}\n`);
    for (const q of queries) {
      const img = await readRgb(q);
      const pred = await panetMethod.predict(support, await features(backbone, img, size), [img.height, img.width]);
      const file = path.join(out, `${path.basename(q, path.extname(q))}.png`);
      await writeIndexPngAsync(file, { width: img.width, height: img.height, data: toOrdinals(pred, classes) });
      console.log(file);
    }
    return 0;
  } finally {
    backbone.dispose();
  }
}
