// What one training step is fed (trainer.ts runs the steps):
//  - episode s of the seeded sampler (random access: N-way K-shot from the fold's BASE classes on the
//    training list) and the step's own RNG stream, forked for the flips and for the method;
//  - every image of the episode at the input size with its mask, mirrored left–right (with its mask)
//    per image when the step's flip RNG says so (official RandomMirror); resized images are memoised;
//  - the targets: support annotations and query labels from the dense masks (novel-class pixels become
//    background: toEpisodeLabels, denseAnnotation), or, under weak supervision, from the pseudo masks of
//    the images as the network sees them (resized, flipped; pseudoLabels.ts);
//  - the features: through the backbone as one batch inside the gradient tape (end to end), or, with a
//    frozen backbone, from the feature cache as constants;
//  - and the TrainEpisode the method's loss takes.
// A step's inputs depend on nothing but s, so a resumed run is fed exactly what the interrupted one was.
// Loading an image, its mask and its pseudo masks is the same computation evaluation does, and shared
// with it (eval/episodeInputs.ts); one image through a frozen backbone is features/frozenEncoder.ts's.
import * as tf from '@tensorflow/tfjs-core';
import type { SegDataset } from '../data/dataset';
import { EpisodeSampler, type Episode } from '../data/episodes';
import { inputImage, inputMask, pseudoMaskAt } from '../eval/episodeInputs';
import { featureKey, fileContentHash, type FeatureCache, type FeatureEntry } from '../features/featureCache';
import { tfjsFeatures } from '../features/frozenEncoder';
import { LruMap } from '../features/lruMap';
import { denseAnnotation, type SupportAnnotation } from '../fewshot/annotations';
import { toEpisodeLabels } from '../fewshot/panet';
import type { TrainEpisode } from '../fewshot/trainable';
import { pseudoEpisodeLabels } from '../fewshot/weak/pseudoLabels';
import type { PseudoMaskSource } from '../fewshot/weak/pseudoSource';
import type { Backbone } from '../nets/backbone';
import { Rng } from '../prng';
import type { IndexMask } from '../types';
import type { TrainConfig } from './config';

export interface StepImage {
  id: string;
  flip: boolean;
  /** size×size×3, 0..255, flipped when `flip` */
  px: Float32Array;
  mask: IndexMask;
}

/** Step s's episode, its images (supports way by way, then the queries) and the method's RNG. */
export interface StepEpisode {
  ep: Episode;
  images: StepImage[];
  rng: Rng;
}

/** What the loss is trained towards: an annotation per support (way by way) and labels per query. */
export interface StepTargets {
  annotations: SupportAnnotation[][];
  labels: Uint8Array[];
}

/** Bytes of resized training images (and masks) kept in memory between steps. */
const IMAGE_BYTES = 512 * 1024 * 1024;

export class StepInputs {
  private readonly sampler: EpisodeSampler;
  private readonly images = new LruMap<string, { px: Float32Array; mask: IndexMask }>({ maxBytes: IMAGE_BYTES });

  constructor(
    private readonly ds: SegDataset,
    private readonly config: TrainConfig,
    private readonly backbone: Backbone,
    /** The fold's base classes (the episode classes). */
    classes: number[],
    index: Awaited<ReturnType<SegDataset['index']>>,
    /** Frozen-backbone features (the trainer shares it with validation). */
    private readonly features: FeatureCache,
    log?: (line: string) => void,
  ) {
    this.sampler = new EpisodeSampler(
      {
        fold: config.fold, classes, ways: config.ways, shots: config.shots, queriesPerClass: config.queriesPerClass,
        seed: config.seed, list: config.list, minPixels: config.minPixels,
      },
      index,
      ds.indexProblems?.(config.list),
    );
    // What the reader left out, and classes too rare for a way, are said once (they never silently shrink the task).
    for (const p of ds.indexProblems?.(config.list) ?? []) log?.(`input problem, left out: ${p.file}: ${p.problem}`);
    if (this.sampler.leftOut.length) {
      log?.(`class(es) with too few ${config.list} images for ${config.shots}-shot episodes, never drawn: ` +
        this.sampler.leftOut.map((c) => `${c.cls} ${ds.classNames[c.cls] ?? ''} (${c.images} of ${c.needed})`).join(', '));
    }
  }

  /** The images of step s's episode at the input size, flipped per the step's RNG. */
  async episode(s: number): Promise<StepEpisode> {
    const ep = this.sampler.episode(0, s);
    const rng = new Rng(this.config.seed).fork(`train-step:${s}`);
    const flipRng = rng.fork('flip');
    const ids = [...ep.supports.flat(), ...ep.queries];
    const flips = ids.map(() => this.config.flip && flipRng.next() < 0.5);
    const images = await Promise.all(ids.map(async (id, i) => {
      const im = await this.resized(id);
      return flips[i] ? { id, flip: true, ...flipImage(im.px, im.mask, this.config.size) } : { id, flip: false, ...im };
    }));
    return { ep, images, rng: rng.fork('method') };
  }

  private async resized(id: string): Promise<{ px: Float32Array; mask: IndexMask }> {
    const hit = this.images.get(id);
    if (hit) return hit;
    const n = this.config.size;
    const [px, mask] = await Promise.all([inputImage(this.ds, id, n), inputMask(this.ds, id, n)]);
    const entry = { px, mask };
    this.images.set(id, entry, entry.px.byteLength + entry.mask.data.byteLength);
    return entry;
  }

  /** The step's targets: from the dense masks, or (weak supervision) from pseudo masks. */
  async targets(ep: Episode, images: StepImage[], pseudo?: PseudoMaskSource): Promise<StepTargets> {
    if (pseudo) return this.weakTargets(ep, images, pseudo);
    const classes = ep.classes;
    const nSupport = ep.supports.flat().length;
    return {
      annotations: ep.supports.map((way, j) => way.map((_, k) => denseAnnotation(images[supportIndex(ep, j, k)].mask, classes[j], classes))),
      labels: ep.queries.map((_, q) => toEpisodeLabels(images[nSupport + q].mask, classes)),
    };
  }

  /**
   * Weak supervision: support annotations and query labels from pseudo masks of the images as the network
   * sees them. The image-level labels of a query are the episode classes present in it (its label set).
   */
  private async weakTargets(ep: Episode, images: StepImage[], src: PseudoMaskSource): Promise<StepTargets> {
    const n = this.config.size;
    const pm = (im: StepImage, cls: number) => pseudoMaskAt(src, this.ds.imagePath(im.id), n, this.ds.classNames[cls], async () => im.px, im.flip);
    const annotations: SupportAnnotation[][] = [];
    for (let j = 0; j < ep.supports.length; j++) {
      const way: SupportAnnotation[] = [];
      for (let k = 0; k < ep.supports[j].length; k++) way.push((await pm(images[supportIndex(ep, j, k)], ep.classes[j])).annotation);
      annotations.push(way);
    }
    const nSupport = ep.supports.flat().length, threshold = src.describe().threshold;
    const labels: Uint8Array[] = [];
    for (let q = 0; q < ep.queries.length; q++) {
      const im = images[nSupport + q];
      const present = new Set(im.mask.data);
      const masks = await Promise.all(ep.classes.map((c) => (present.has(c) ? pm(im, c) : Promise.resolve(null))));
      labels.push(pseudoEpisodeLabels(masks, n * n, threshold));
    }
    return { annotations, labels };
  }

  /** Frozen-backbone features of every image, [1, h, w, C] each: constants the caller disposes. */
  async frozen(images: StepImage[]): Promise<tf.Tensor4D[]> {
    const entries = await Promise.all(images.map((im) => this.frozenFeatures(im)));
    return entries.map((e) => tf.tensor4d(e.data, [1, ...e.shape]));
  }

  /** Frozen-backbone features of one (possibly flipped) image, through the feature cache. */
  private async frozenFeatures(im: StepImage): Promise<FeatureEntry> {
    const key = featureKey({
      imageHash: await fileContentHash(this.ds.imagePath(im.id)).catch(() => `id:${im.id}`),
      size: this.config.size,
      backbone: this.backbone.id,
      weightsHash: this.backbone.weightsHash,
      variant: im.flip ? 'hflip' : '',
    });
    return this.features.get(key, () => tfjsFeatures(this.backbone, im.px, this.config.size));
  }

  /** Backbone features of every image, [1, h, w, C] each, differentiable in the backbone's parameters. */
  encode(images: StepImage[]): tf.Tensor4D[] {
    const n = this.config.size;
    const px = new Float32Array(images.length * n * n * 3);
    images.forEach((im, i) => px.set(im.px, i * n * n * 3));
    const f = this.backbone.features(tf.tensor4d(px, [images.length, n, n, 3]));
    return images.map((_, i) => tf.slice(f, [i, 0, 0, 0], [1, -1, -1, -1]));
  }

  /** The episode the method's loss takes: each image's features with its annotation or labels. */
  trainEpisode(step: StepEpisode, feats: tf.Tensor4D[], targets: StepTargets): TrainEpisode {
    const { ep, rng } = step;
    const n = this.config.size;
    const nSupport = ep.supports.flat().length;
    return {
      classes: ep.classes,
      support: ep.supports.map((way, j) => way.map((_, k) => ({ feat: feats[supportIndex(ep, j, k)], annotation: targets.annotations[j][k] }))),
      query: targets.labels.map((l, q) => ({ feat: feats[nSupport + q], labels: l })),
      outSize: [n, n],
      rng,
    };
  }

  /** Resized images are kept between steps; this frees them. */
  clear(): void {
    this.images.clear();
  }
}

/** Where support `shot` of way `way` stands among the episode's images (supports way by way, then queries). */
function supportIndex(ep: Episode, way: number, shot: number): number {
  let i = 0;
  for (let j = 0; j < way; j++) i += ep.supports[j].length;
  return i + shot;
}

/** Mirror an image (HWC) and its mask left–right. */
export function flipImage(px: Float32Array, mask: IndexMask, size: number): { px: Float32Array; mask: IndexMask } {
  const out = new Float32Array(px.length);
  const m = new Uint8Array(mask.data.length);
  const w = mask.width, h = mask.height;
  if (w !== size || h !== size) throw new Error(`flipImage: mask is ${w}×${h}, expected ${size}×${size}`);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = y * w + x, dst = y * w + (w - 1 - x);
      m[dst] = mask.data[src];
      out[3 * dst] = px[3 * src];
      out[3 * dst + 1] = px[3 * src + 1];
      out[3 * dst + 2] = px[3 * src + 2];
    }
  }
  return { px: out, mask: { width: w, height: h, data: m } };
}
