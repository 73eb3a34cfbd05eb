// What every labeling classifier reduces to: P linear "columns" over the concatenated, per-level
// normalised features, each belonging to one class, and a class's logit is the MAX over its columns
// (one column per class for a mean prototype or a ridge classifier; several for a class with several
// looks). Scoring runs level by level at each level's own resolution (levels.ts linearScores).
import { linearScores, type Level } from './levels';

export interface LinearClassifier {
  /** K + 1 */
  k1: number;
  /** number of columns */
  p: number;
  /** [d, p] */
  weights: Float32Array;
  /** [p] */
  bias: Float32Array;
  /** [p]: the class of each column */
  columnClass: Int32Array;
}

/** Logit of a class no support labels: it never wins, and softmax gives it probability 0. */
export const ABSENT_LOGIT = -1e4;

/** Class logits [H·W, K+1] on the image's finest grid (H×W = levels[0]'s grid). */
export function classLogits(levels: Level[], clf: LinearClassifier): Float32Array {
  const { h, w } = levels[0], n = h * w, { p, k1 } = clf;
  const s = linearScores(levels, clf.weights, p);
  const out = new Float32Array(n * k1).fill(ABSENT_LOGIT);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      const v = s[i * p + j] + clf.bias[j], o = i * k1 + clf.columnClass[j];
      if (v > out[o]) out[o] = v;
    }
  }
  return out;
}
