// "Suggest next": which predicted image a person should look at next. An image is worth a look when
// the model is unsure about it AND it is unlike every current support (a new look the supports do not
// cover; correcting it teaches the most). Score = (1 − confidence) · d, d = (1 − cos)/2 ∈ [0, 1], with
// cos the cosine of the image's mean feature to its NEAREST support's, both centred on the mean over
// all images seen (raw ReLU features all point roughly the same way; centring makes "unlike" visible).
export interface Suggestion {
  id: string;
  score: number;
  confidence: number;
  nearestSupport?: string;
  /** cosine (centred) to the nearest support; undefined without supports */
  cosine?: number;
  reason: string;
}

function centredCos(a: Float32Array, b: Float32Array, mu: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k] - mu[k], y = b[k] - mu[k];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.max(Math.sqrt(na * nb), 1e-12);
}

function describe(confidence: number, cos: number | undefined, nearest: string | undefined): string {
  const conf = `${confidence < 0.5 ? 'low confidence' : 'confidence'} ${confidence.toFixed(2)}`;
  if (cos === undefined || nearest === undefined) return `${conf} (no support to compare with)`;
  const like = cos < 0.3 ? 'unlike any support' : cos < 0.7 ? 'somewhat like a support' : 'close to a support';
  return `${conf} and ${like}: nearest support ${nearest} at cosine ${cos.toFixed(2)}`;
}

export function rankSuggestions(
  candidates: ReadonlyArray<{ id: string; confidence: number; mean: Float32Array }>,
  supports: ReadonlyArray<{ id: string; mean: Float32Array }>,
  allMeans: readonly Float32Array[],
  n: number,
): Suggestion[] {
  if (!candidates.length) return [];
  const c = candidates[0].mean.length;
  const mu = new Float32Array(c);
  for (const m of allMeans) for (let k = 0; k < c; k++) mu[k] += m[k] / allMeans.length;
  const out = candidates.map((cand) => {
    let best: { id: string; cos: number } | undefined;
    for (const s of supports) {
      if (s.id === cand.id) continue;
      const cos = centredCos(cand.mean, s.mean, mu);
      if (!best || cos > best.cos) best = { id: s.id, cos };
    }
    const d = best ? (1 - best.cos) / 2 : 1;
    return {
      id: cand.id, score: (1 - cand.confidence) * d, confidence: cand.confidence,
      ...(best ? { nearestSupport: best.id, cosine: best.cos } : {}),
      reason: describe(cand.confidence, best?.cos, best?.id),
    };
  });
  return out.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, n);
}
