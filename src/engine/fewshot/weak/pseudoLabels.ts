// Training labels of a query known only by its image-level labels (weak supervision, Pixel-Level
// Meta-Learner: image-level labels at training too). Each episode class the image is labelled with has a
// pseudo mask with its score map T̄·S (weak.ts); a pixel takes the episode label of the class whose score
// is highest there, if that score reaches the threshold, else background (0). Classes the image is not
// labelled with take no pixels.
import type { PseudoMask } from '../weak';

/**
 * @param masks masks[j] = the pseudo mask for episode way j (label j + 1), null when the image is not
 *              labelled with that class. Score maps must all have `pixels` entries.
 */
export function pseudoEpisodeLabels(masks: ReadonlyArray<PseudoMask | null>, pixels: number, threshold: number): Uint8Array {
  const labels = new Uint8Array(pixels);
  const best = new Float32Array(pixels).fill(-Infinity);
  masks.forEach((m, j) => {
    if (!m) return;
    if (m.score.length !== pixels) throw new RangeError(`pseudo mask of way ${j} has ${m.score.length} pixels, expected ${pixels}`);
    for (let i = 0; i < pixels; i++) {
      const v = m.score[i];
      if (v >= threshold && v > best[i]) {
        best[i] = v;
        labels[i] = j + 1;
      }
    }
  });
  return labels;
}
