// What `eval --predictor quality` needs per dataset image beyond the evaluation's own features: the RGB
// at the working size and, on mobilenetv2, the label encoder's levels (e.g. strides 16 + 32). Both are
// kept in a least-recently-used memory budget, as the evaluation's feature cache does.
import type { SegDataset } from '../data/dataset';
import type { FeatureEntry } from '../features/featureCache';
import { LruMap } from '../features/lruMap';
import { resizeRgb, roundBytes } from '../image/resize';
import type { LabelEncoder, LabelImage } from '../label/predictor';

export function evalImageSource(ds: SegDataset, size: number, encoder: LabelEncoder | undefined, maxBytes = 1024 ** 3): (id: string, features: FeatureEntry) => Promise<LabelImage> {
  // an image's size is known when its promise settles: it is counted then (resize), never evicting
  // itself or the images asked for after it
  const lru = new LruMap<string, Promise<LabelImage>>({ maxBytes });
  return (id, features) => {
    const hit = lru.get(id);
    if (hit) return hit;
    const p = (async (): Promise<LabelImage> => {
      const px = await resizeRgb(await ds.loadImage(id), size, size);
      const rgb = { width: size, height: size, data: roundBytes(px) };
      const img = { id, rgb, features: encoder ? await encoder.encode(rgb) : [features] };
      lru.resize(id, rgb.data.byteLength + img.features.reduce((s, f) => s + f.data.byteLength, 0));
      return img;
    })();
    lru.set(id, p);
    p.catch(() => lru.delete(id));
    return p;
  };
}
