// Loads what one episode needs at the network input size: backbone features (through the feature cache)
// and masks resized with nearest neighbour (as PANet's test transform), both memoised per image.
// The per-image steps (the image and mask at the input size, a class's pseudo mask) are functions of their
// own: training feeds its steps with the same ones (train/stepInputs.ts).
import type { SegDataset } from '../data/dataset';
import type { Backbone } from '../nets/backbone';
import { resizeMaskNearest, resizeRgb } from '../image/resize';
import type { PseudoMask } from '../fewshot/weak';
import { pseudoImageKey, type PseudoMaskSource } from '../fewshot/weak/pseudoSource';
import { DataError } from '../errors';
import type { IndexMask } from '../types';
import { FeatureCache, FeatureEntry, featureKey, fileContentHash } from '../features/featureCache';
import { tfjsFeatures } from '../features/frozenEncoder';
import { LruMap } from '../features/lruMap';

export interface EpisodeInputsOptions {
  size: number;
  /** Memory budget of the feature cache in bytes. */
  featureBytes: number;
  /** Optional on-disk feature cache folder. */
  featureDir?: string;
  /** Share a feature cache across evaluations (e.g. the UI re-running an eval); default: a new one. */
  cache?: FeatureCache;
  /** Encode off the main thread (EncoderPool.encode); default: this.backbone in-process. */
  encode?: (px: Float32Array, size: number) => Promise<FeatureEntry>;
  /** Weak supervision: where pseudo masks come from (annotation 'pseudo'). */
  pseudo?: PseudoMaskSource;
}

/** Bytes of resized masks kept (a 417² mask is 170 kB; 256 MB holds ~1500 of them). */
const MASK_BYTES = 256 * 1024 * 1024;

export class EpisodeInputs {
  readonly features: FeatureCache;
  private readonly masks = new LruMap<string, IndexMask | null>({ maxBytes: MASK_BYTES });
  /** Time spent in the backbone (ms, summed over parallel workers), for the report. */
  backboneMs = 0;

  constructor(readonly ds: SegDataset, readonly backbone: Backbone, readonly opts: EpisodeInputsOptions) {
    this.features = opts.cache ?? new FeatureCache(opts.featureBytes, opts.featureDir);
  }

  /** Feature-cache key per image id, worked out once per EpisodeInputs (one evaluation or one view):
   *  an image is looked up several times per episode, and a stat per look-up was measurable. */
  private readonly keys = new Map<string, Promise<string>>();

  private featureKeyOf(id: string): Promise<string> {
    let k = this.keys.get(id);
    if (!k) {
      const file = this.ds.imagePath(id);
      k = fileContentHash(file)
        .catch(() => `missing:${file}`)
        .then((imageHash) => featureKey({ imageHash, size: this.opts.size, backbone: this.backbone.id, weightsHash: this.backbone.weightsHash }));
      this.keys.set(id, k);
    }
    return k;
  }

  async featuresOf(id: string): Promise<FeatureEntry> {
    const key = await this.featureKeyOf(id);
    return this.features.get(key, async () => {
      const px = await inputImage(this.ds, id, this.opts.size);
      const t0 = performance.now();
      const e = await (this.opts.encode ? this.opts.encode(px, this.opts.size) : tfjsFeatures(this.backbone, px, this.opts.size));
      this.backboneMs += performance.now() - t0;
      return e;
    });
  }

  /** Start loading features of images needed soon (errors surface when they are really asked for). */
  prefetch(ids: Iterable<string>): void {
    for (const id of ids) this.featuresOf(id).catch(() => undefined);
  }

  maskOf(id: string): Promise<IndexMask> {
    return this.memo(`m:${id}`, () => inputMask(this.ds, id, this.opts.size)) as Promise<IndexMask>;
  }

  /** The pseudo mask of image `id` for class `cls` (its image-level label), at the input size. */
  pseudoOf(id: string, cls: number): Promise<PseudoMask> {
    const src = this.opts.pseudo;
    if (!src) throw new Error('EpisodeInputs: pseudo masks asked for, but no PseudoMaskSource was given');
    const label = this.ds.classNames[cls];
    if (!label) throw new DataError(this.ds.imagePath(id), `class ${cls} has no name, so it has no image-level label`);
    return pseudoMaskAt(src, this.ds.imagePath(id), this.opts.size, label, () => inputImage(this.ds, id, this.opts.size));
  }

  instancesOf(id: string): Promise<IndexMask | null> {
    return this.memo(`i:${id}`, async () => {
      const inst = await this.ds.loadInstances(id);
      return inst ? resizeMaskNearest(inst, this.opts.size, this.opts.size) : null;
    });
  }

  private async memo(key: string, load: () => Promise<IndexMask | null>): Promise<IndexMask | null> {
    if (this.masks.has(key)) return this.masks.get(key)!;
    const v = await load();
    this.masks.set(key, v, v ? v.data.byteLength : 0);
    return v;
  }
}

/** An image at the network input size (size×size×3, 0..255). */
export async function inputImage(ds: SegDataset, id: string, size: number): Promise<Float32Array> {
  return resizeRgb(await ds.loadImage(id), size, size);
}

/** An image's mask at the network input size, nearest neighbour (PANet's test transform). */
export async function inputMask(ds: SegDataset, id: string, size: number): Promise<IndexMask> {
  return resizeMaskNearest(await ds.loadMask(id), size, size);
}

/** The pseudo mask of class `label` in an image as the network sees it: `px()` gives the image at
 *  size×size (mirrored when `flipped`); the source memoises it per (file, size, flip, label). */
export function pseudoMaskAt(
  src: PseudoMaskSource, file: string, size: number, label: string, px: () => Promise<Float32Array>, flipped = false,
): Promise<PseudoMask> {
  return src.mask(pseudoImageKey(file, size, flipped), async () => ({ width: size, height: size, data: Uint8Array.from(await px()) }), label);
}
