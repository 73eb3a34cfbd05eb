// One episode as the UI shows it: images at display size (PNG), ground truth, the support annotation
// actually used, and the model's prediction with this episode's IoU — computed exactly as `evaluate`
// does (same episode, same annotation stream, same input size), so the numbers match the records.
import sharp from 'sharp';
import type { SegDataset } from '../data/dataset';
import { EpisodeSampler } from '../data/episodes';
import { EpisodeInputs } from '../eval/episodeInputs';
import { episodeSupport } from '../eval/evaluate';
import { FewShotRunMetric } from '../eval/metrics';
import { foregroundMap, type Annotation } from '../fewshot/annotations';
import { toOrdinals } from '../fewshot/panet';
import { encodeIndexPng } from '../image/png';
import { resizeMaskNearest } from '../image/resize';
import type { AnnotationKind, EpisodeSetRef, EpisodeView, ImagePayload, ModelRef } from '../../shared/engineProtocol';
import type { IndexMask } from '../types';
import type { Session } from './session';
import type { BackendChoice } from '../backend';

function displaySize(w: number, h: number, maxSide: number): [number, number] {
  const s = Math.min(1, maxSide / Math.max(w, h));
  return [Math.max(1, Math.round(w * s)), Math.max(1, Math.round(h * s))];
}

async function payload(ds: SegDataset, id: string, maxSide: number): Promise<{ p: ImagePayload; size: [number, number] }> {
  const img = await ds.loadImage(id);
  const mask = await ds.loadMask(id);
  const [w, h] = displaySize(img.width, img.height, maxSide);
  const png = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { fit: 'fill' })
    .png()
    .toBuffer();
  return {
    p: { imageId: id, file: ds.imagePath(id), width: w, height: h, image: new Uint8Array(png), gt: encodeIndexPng(resizeMaskNearest(mask, w, h)) },
    size: [w, h],
  };
}

const toDisplay = (m: IndexMask | Annotation, [w, h]: [number, number]): Uint8Array => encodeIndexPng(resizeMaskNearest(m, w, h));

export async function episodeView(
  session: Session,
  tfjs: BackendChoice,
  set: EpisodeSetRef,
  model: ModelRef,
  annotation: AnnotationKind,
  episodeId: string,
  maxSide = 512,
): Promise<EpisodeView> {
  const ds = await session.dataset(set);
  const sampler = await session.sampler(set);
  const { run, index } = EpisodeSampler.parseId(episodeId);
  const ep = sampler.episode(run, index);
  const { backbone, method, methodId, weak } = await session.model(model);
  const pseudo = annotation === 'pseudo' ? await session.pseudo(ds, weak) : undefined;
  const encoder = await session.encoder(model, tfjs);
  const inputs = new EpisodeInputs(ds, backbone, {
    size: model.size, featureBytes: 0, cache: session.featureCache(backbone, model.size), pseudo, encode: (px, size) => encoder.encode(px, size),
  });
  const support = await episodeSupport(ep, inputs, annotation, set.seed);
  const numClasses = ds.classNames.length - 1;

  const supports: EpisodeView['supports'] = [];
  for (let j = 0; j < ep.classes.length; j++) {
    const way: EpisodeView['supports'][number] = [];
    for (let k = 0; k < ep.supports[j].length; k++) {
      const { p, size } = await payload(ds, ep.supports[j][k], maxSide);
      const a = support[j][k].annotation;
      // soft annotations (pseudo masks) are shown thresholded at 0.5
      const hard: Annotation = 'data' in a ? a : { width: a.width, height: a.height, data: Uint8Array.from(a.fg, (f, i) => (f >= 0.5 ? 1 : a.bg[i] >= 0.5 ? 0 : 255)) };
      way.push({ ...p, annotation: toDisplay(hard, size) });
    }
    supports.push(way);
  }
  const queries: EpisodeView['queries'] = [];
  for (const [q, qid] of ep.queries.entries()) {
    const gt = await inputs.maskOf(qid);
    const pred = await method.predict(support, await inputs.featuresOf(qid), [model.size, model.size]);
    const rec = new FewShotRunMetric(ep.classes, numClasses).addEpisode({ id: ep.id, classes: ep.classes, gt: gt.data, pred });
    const { p, size } = await payload(ds, qid, maxSide);
    const predOrd: IndexMask = { width: model.size, height: model.size, data: toOrdinals(pred, ep.classes) };
    // Weak supervision: the query's own pseudo mask for the class it was drawn for (what training from
    // image labels would have used), in dataset ordinals, for the viewer's pseudo-mask layer.
    let pseudoMask: Uint8Array | undefined;
    if (pseudo) {
      const cls = ep.classes[ep.queryWay[q]];
      const a = (await inputs.pseudoOf(qid, cls)).annotation;
      pseudoMask = toDisplay({ width: a.width, height: a.height, data: foregroundMap(a, cls) }, size);
    }
    queries.push({ ...p, pred: toDisplay(predOrd, size), classIoU: rec.classIoU, fgIoU: rec.fgIoU, ...(pseudoMask ? { pseudo: pseudoMask } : {}) });
  }
  return {
    episode: { id: ep.id, run: ep.run, index: ep.index, classes: ep.classes, supports: ep.supports, queries: ep.queries, key: ep.key },
    classNames: [...ds.classNames],
    supports,
    queries,
    model: { backbone: backbone.id, weightsHash: backbone.weightsHash, method: methodId },
  };
}
