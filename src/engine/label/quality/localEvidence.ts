// What a click or a stroke on the image itself means: "around here, what looks like this is <label>".
// A classifier refitted on the image's own strokes (ridge.ts) hears that only as a few more samples
// among the supports' hundreds, and answers with a global change — a click on a missed leg can flip
// the whole background. Interactive segmentation wants the opposite: the region around the click that
// resembles the clicked spot changes, the rest stays. So every cell the image's own strokes mark is a
// seed, and each cell of the grid gets, for each label,
//
//     e_k(x) = max over seeds m of label k of  g(x, m) · max(0, (⟨f_x, f_m⟩ − τ) / (1 − τ)),
//     g(x, m) = exp(−‖x − m‖² / 2σ²)          (positions in cells of the finest grid)
//
// with f the per-level normalised, concatenated features (levels.ts: ⟨f_x, f_m⟩ is a weighted mean of
// per-level cosines). `weight · e_k` is added to label k's logit before refinement, so the CRF then
// snaps the changed region to the image's edges. Seeds of the most recent label win nothing special:
// a positive and a negative click on look-alike cells cancel where both reach, which is what a user who
// clicked both means.
import { labelledCells, cellFractions } from './cells';
import { cellFeatures, linearScores, type Level } from './levels';

export interface LocalEvidenceOptions {
  /** logit added at full similarity on the seed itself; 0 = off */
  weight: number;
  /** spatial reach σ, as a fraction of the grid side (so it does not depend on the working size) */
  sigma: number;
  /** cosine τ below which a cell gets nothing from a seed */
  floor: number;
  /** at most this many seeds per label (evenly spaced among its cells: a long scribble marks many) */
  maxSeeds: number;
}

/**
 * The own strokes' local evidence [h·w, k1] on levels[0]'s grid (to be added to the logits), or
 * undefined when there is none (weight 0, or no marked cell).
 */
export function localEvidence(levels: Level[], own: Uint8Array, size: number, k1: number, opts: LocalEvidenceOptions): Float32Array | undefined {
  if (!(opts.weight > 0)) return undefined;
  const { h, w } = levels[0], n = h * w;
  const marked = labelledCells(cellFractions(own, size, h, w, k1 - 1), k1 - 1);
  if (!marked.cells.length) return undefined;
  // one label per seed: the label most of the cell's marked pixels carry
  const byLabel: number[][] = Array.from({ length: k1 }, () => []);
  marked.cells.forEach((cell, r) => {
    let best = 0;
    for (let k = 1; k < k1; k++) if (marked.targets[r * k1 + k] > marked.targets[r * k1 + best]) best = k;
    byLabel[best].push(cell);
  });
  const seeds: number[] = [], seedLabel: number[] = [];
  byLabel.forEach((cells, k) => {
    const step = Math.max(1, cells.length / opts.maxSeeds);
    for (let i = 0, taken = 0; i < cells.length && taken < opts.maxSeeds; i += step, taken++) {
      seeds.push(cells[Math.floor(i)]);
      seedLabel.push(k);
    }
  });
  const m = seeds.length;
  const sim = seedSimilarities(levels, seeds);
  const side = Math.max(h, w), s2 = 2 * (opts.sigma * side) ** 2, span = 1 - opts.floor;
  const out = new Float32Array(n * k1);
  for (let x = 0; x < n; x++) {
    const yx = Math.floor(x / w), xx = x % w, o = x * k1;
    for (let j = 0; j < m; j++) {
      const v = (sim[j][x] - opts.floor) / span;
      if (v <= 0) continue;
      const dy = Math.floor(seeds[j] / w) - yx, dx = (seeds[j] % w) - xx;
      const e = opts.weight * v * Math.exp(-(dy * dy + dx * dx) / s2);
      if (e > out[o + seedLabel[j]]) out[o + seedLabel[j]] = e;
    }
  }
  return out;
}

/**
 * Each image's similarity maps ⟨f_x, f_seed⟩ over its grid, by seed cell, kept with the image's finest
 * level: a stroke adds a few seeds to the ones before it, and only those are scored (a stroke's answer
 * was 8 ms slower when every seed was scored again). Dropped whole beyond SIM_KEEP cells.
 */
const simMemo = new WeakMap<Float32Array, Map<number, Float32Array>>();
const SIM_KEEP = 1024;

function seedSimilarities(levels: Level[], seeds: number[]): Float32Array[] {
  let byCell = simMemo.get(levels[0].data);
  if (!byCell || byCell.size > SIM_KEEP) simMemo.set(levels[0].data, (byCell = new Map()));
  const fresh = [...new Set(seeds.filter((c) => !byCell!.has(c)))];
  if (fresh.length) {
    // ⟨f_x, f_m⟩ for every cell x: the new seeds' features as the columns of a linear map, scored level
    // by level at each level's own resolution (linear, so the same as scoring the interpolated features)
    const d = levels.reduce((a, l) => a + l.c, 0), m = fresh.length, n = levels[0].h * levels[0].w;
    const sf = cellFeatures(levels, fresh), cols = new Float32Array(d * m);
    for (let j = 0; j < m; j++) for (let c = 0; c < d; c++) cols[c * m + j] = sf[j * d + c];
    const sim = linearScores(levels, cols, m);
    fresh.forEach((cell, j) => {
      const col = new Float32Array(n);
      for (let x = 0; x < n; x++) col[x] = sim[x * m + j];
      byCell!.set(cell, col);
    });
  }
  return seeds.map((c) => byCell!.get(c)!);
}

/** logits += evidence (same shape). */
export function addEvidence(logits: Float32Array, evidence: Float32Array | undefined): Float32Array {
  if (evidence) for (let i = 0; i < logits.length; i++) logits[i] += evidence[i];
  return logits;
}
