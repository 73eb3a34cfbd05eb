// Labels from image tags only (weak supervision, Pixel-Level Meta-Learner): an image known by the
// class names it shows gets a pseudo mask (CAM × word similarity × saliency, fewshot/weak), and that
// mask becomes its annotation — a support, marked 'pseudo' — so it teaches the other images like a
// drawn one. `protolab label --tags` and the workbench's tags mode both come through here.
import { pseudoImageKey, type PseudoMaskSource } from '../fewshot/weak/pseudoSource';
import { pseudoEpisodeLabels } from '../fewshot/weak/pseudoLabels';
import { readPhotoAt } from '../image/photo';
import { resizeMaskNearest } from '../image/resize';
import { DataError } from '../errors';
import type { LabelService } from './service';
import { maskShape } from './shapes';

/**
 * Give image `id` the pseudo mask of `tags` (class names of the service's classes; [] = background
 * only) as its annotation and make it a support. An unknown name is a DataError naming the image.
 */
export async function applyPseudoMask(svc: LabelService, source: PseudoMaskSource, id: string, tags: readonly string[], threshold: number): Promise<void> {
  const names = svc.classes.map((c) => c.name);
  const unknown = tags.filter((t) => !names.includes(t));
  if (unknown.length) throw new DataError(svc.file(id), `tag(s) ${unknown.join(', ')} are not classes (${names.join(', ')})`);
  const s = svc.summary(id);
  if (s.status === 'broken') throw new DataError(svc.file(id), `cannot make a pseudo mask of a broken image: ${s.reason}`);
  const S = svc.size;
  const file = svc.file(id);
  const masks = await Promise.all(names.map((n) => (tags.includes(n)
    ? source.mask(pseudoImageKey(file, S), () => readPhotoAt(file, S, S), n)
    : Promise.resolve(null))));
  const labels = pseudoEpisodeLabels(masks, S * S, threshold);
  const full = resizeMaskNearest({ width: S, height: S, data: labels }, s.width!, s.height!);
  svc.setTags(id, [...tags]);
  await svc.setShapes(id, [maskShape(full)], { support: true, origin: 'pseudo', redo: [] });
}

/** Undo what applyPseudoMask did: no tags, and a pseudo annotation (never a drawn one) is removed. */
export async function clearPseudoMask(svc: LabelService, id: string): Promise<void> {
  svc.setTags(id, undefined);
  if (svc.summary(id).origin === 'pseudo') await svc.setShapes(id, [], { support: false, redo: [] });
}
