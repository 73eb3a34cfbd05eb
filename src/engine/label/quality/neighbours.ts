// Label propagation by nearest neighbours: each cell of the predicted image takes the labels of the
// supports' cells that look most like it (the k most similar, softmax-weighted by cosine / T), as
// dense correspondence between video frames does. A linear classifier (ridge, prototypes) draws one
// boundary through feature space; a neighbour vote keeps every look the supports showed — the wheel,
// the window, the shadowed side — and gives a cell that resembles no support cell a weak vote.
//
//     n_k(x) = Σ_{j ∈ top-k(x)} softmax_j(⟨f_x, f_j⟩ / T) · t_jk        (t_j: support cell j's class mix)
//
// `weight · n_k` joins label k's logit (qualityPredictor.ts), beside the classifier's.
import { linearScores, type Level } from './levels';
import { sampleFeatures, type SampleSet } from './samples';

export interface NeighbourOptions {
  /** logit added for a unanimous vote; 0 = off */
  weight: number;
  /** neighbours per cell */
  k: number;
  /** softmax temperature on cosines */
  temperature: number;
  /** the vote counts in proportion to (best cosine − floor) / (1 − floor), nothing below the floor */
  floor: number;
}

/** The support features as the columns of a linear map [d, n] (computed once per fitted model). */
export function neighbourColumns(s: SampleSet): Float32Array {
  const x = sampleFeatures(s), cols = new Float32Array(s.d * s.n);
  for (let j = 0; j < s.n; j++) for (let c = 0; c < s.d; c++) cols[c * s.n + j] = x[j * s.d + c];
  return cols;
}

/** The neighbour vote [h·w, k1] on levels[0]'s grid, times `opts.weight`. */
export function neighbourVote(levels: Level[], s: SampleSet, cols: Float32Array, opts: NeighbourOptions): Float32Array {
  const { h, w } = levels[0], n = h * w, m = s.n, k1 = s.k1;
  const out = new Float32Array(n * k1);
  if (!(opts.weight > 0) || m === 0) return out;
  const sim = linearScores(levels, cols, m);
  const k = Math.min(opts.k, m), top = new Int32Array(k), topv = new Float32Array(k);
  for (let x = 0; x < n; x++) {
    // the k largest similarities of row x (k is small: insertion into a sorted list)
    let filled = 0;
    for (let j = 0; j < m; j++) {
      const v = sim[x * m + j];
      if (filled === k && v <= topv[k - 1]) continue;
      let p = filled < k ? filled++ : k - 1;
      while (p > 0 && topv[p - 1] < v) { topv[p] = topv[p - 1]; top[p] = top[p - 1]; p--; }
      topv[p] = v;
      top[p] = j;
    }
    let z = 0;
    for (let i = 0; i < filled; i++) z += Math.exp((topv[i] - topv[0]) / opts.temperature);
    // a cell like no support cell gets no say from them
    const gate = Math.max(0, (topv[0] - opts.floor) / (1 - opts.floor));
    for (let i = 0; i < filled; i++) {
      const a = (gate * opts.weight * Math.exp((topv[i] - topv[0]) / opts.temperature)) / z, j = top[i];
      for (let c = 0; c < k1; c++) out[x * k1 + c] += a * s.t[j * k1 + c];
    }
  }
  return out;
}
