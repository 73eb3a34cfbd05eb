// What `eval --predictor quality` needs per dataset image beyond the evaluation's own features: the RGB
// at the working size and, on mobilenetv2, the label encoder's levels (e.g. strides 16 + 32). Both are
// kept in a least-recently-used memory budget, as the evaluation's feature cache does.
import type { SegDataset } from '../../data/dataset';
import type { FeatureEntry } from '../../eval/featureCache';
import { resizeRgb } from '../../image/resize';
import type { LabelEncoder, LabelImage } from '../predictor';
import { roundBytes } from './photoCases';

export function evalImageSource(ds: SegDataset, size: number, encoder: LabelEncoder | undefined, maxBytes = 1024 ** 3): (id: string, features: FeatureEntry) => Promise<LabelImage> {
  const lru = new Map<string, Promise<LabelImage>>();
  const bytes = new Map<string, number>();
  let total = 0;
  return (id, features) => {
    const hit = lru.get(id);
    if (hit) {
      lru.delete(id);
      lru.set(id, hit);
      return hit;
    }
    const p = (async (): Promise<LabelImage> => {
      const px = await resizeRgb(await ds.loadImage(id), size, size);
      const rgb = { width: size, height: size, data: roundBytes(px) };
      const img = { id, rgb, features: encoder ? await encoder.encode(rgb) : [features] };
      const b = rgb.data.byteLength + img.features.reduce((s, f) => s + f.data.byteLength, 0);
      bytes.set(id, b);
      total += b;
      for (const [old] of lru) {
        if (total <= maxBytes || old === id) break;
        lru.delete(old);
        total -= bytes.get(old) ?? 0;
        bytes.delete(old);
      }
      return img;
    })();
    lru.set(id, p);
    p.catch(() => lru.delete(id));
    return p;
  };
}
