// Pseudo masks as a support annotation (weak supervision, Pixel-Level Meta-Learner §3.2): an episode's
// support image is known only by its image-level label (the class it was drawn for), and its "mask" is
// the CAM ⊙ saliency pseudo mask of weak.ts. One PseudoMaskSource serves evaluation, the UI's episode
// view and training, so all three see the same mask for the same (image, class, input size).
//
// The pseudo mask is computed on the image as the network sees it (resized to the input size, as the
// paper does with its 129² inputs), so it lines up pixel for pixel with the resized ground truth and
// its IoU against that truth is the number reported beside the evaluation.
import type { RawImage } from '../../types';
import { createWeakParts, pseudoMask, type PseudoMask, type PseudoMaskOptions, type WeakParts } from '../weak';
import { LruMap } from '../../features/lruMap';

/** Which weak-supervision parts to use, as plain data (stored in a training run's config, so a resume
 *  rebuilds the same pipeline). Absent fields: the built-ins. */
export interface WeakConfig {
  /** Word vectors (GloVe / word2vec / fastText text file); default WordNet Wu-Palmer. */
  vectors?: string;
  /** A tfjs layers classifier and its class names in output order; default nsfwjs MobileNetV2. */
  classifier?: { modelJson: string; classNames: string[] };
  /** false: no saliency gating (the paper's "w/o saliency" ablation). */
  saliency: boolean;
  /** On T̄·S ∈ [0, 1]. */
  threshold: number;
}

export const WEAK_DEFAULTS: WeakConfig = { saliency: true, threshold: 0.25 };

export interface PseudoMaskParts { cam: string; similarity: string; saliency: string; threshold: number; unknownLabels: string[] }

export interface PseudoMaskSource {
  /** Which parts made the masks, the threshold, and the labels the word similarity knew nothing of
   *  (their CAM weights are all 0: those masks are the saliency alone). Recorded in every result. */
  describe(): PseudoMaskParts;
  /**
   * The pseudo mask of image `key` (already at the input size) for the label `label`.
   * Memoised per (key, label): an image that serves in many episodes is processed once.
   */
  mask(key: string, image: () => Promise<RawImage>, label: string): Promise<PseudoMask>;
}

/**
 * The key of an image as the network sees it (resized to `size`², mirrored or not): evaluation, the
 * episode view and training ask a shared source with the same key for the same pixels.
 */
export function pseudoImageKey(imagePath: string, size: number, flipped = false): string {
  return `${imagePath}@${size}${flipped ? ':hflip' : ''}`;
}

/** Masks kept in memory (a 417² mask with its score map ≈ 870 kB; 300 ≈ 260 MB). */
const KEEP = 300;

export function pseudoMaskSource(parts: WeakParts, opts: PseudoMaskOptions = {}): PseudoMaskSource {
  const threshold = opts.threshold ?? WEAK_DEFAULTS.threshold;
  const memo = new LruMap<string, Promise<PseudoMask>>({ maxEntries: KEEP });
  return {
    describe: () => {
      // CAM class names are not labels; compared without case (word vectors report names lower-cased)
      const camNames = new Set(parts.cam.classNames.map((n) => n.trim().toLowerCase()));
      return {
        cam: parts.cam.id, similarity: parts.similarity.id, saliency: parts.saliency ? parts.saliency.id : 'none', threshold,
        unknownLabels: (parts.similarity.unknown?.() ?? []).filter((n) => !camNames.has(n.trim().toLowerCase())),
      };
    },
    mask(key, image, label) {
      const k = `${key}\u0000${label}`;
      const hit = memo.get(k);
      if (hit) return hit;
      const p = image().then((img) => pseudoMask(img, label, parts, { threshold, output: 'binary' }));
      p.catch(() => memo.delete(k)); // a failure is not remembered: the next ask tries again
      memo.set(k, p);
      return p;
    },
  };
}

/** The pseudo-mask source a WeakConfig describes, for a dataset with these class names. dispose() frees its models. */
export async function createPseudoMaskSource(cfg: WeakConfig, classNames: readonly string[]): Promise<PseudoMaskSource & { dispose(): void }> {
  const parts = await createWeakParts({
    classifier: cfg.classifier,
    vectorsFile: cfg.vectors,
    labels: classNames.slice(1),
    saliency: cfg.saliency,
  });
  return { ...pseudoMaskSource(parts, { threshold: cfg.threshold }), dispose: () => parts.dispose() };
}
