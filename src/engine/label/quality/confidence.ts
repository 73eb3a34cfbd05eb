// How sure the predictor is about one image as a whole, from its own class probabilities.
//
// Expected IoU (the default): for each class c the hard mask M_c = {i : label_i = c} is compared with
// the probabilities P_c as if they were the truth's likelihood,
//
//   ÊIoU_c = Σ_{i∈M_c} P_ic / (|M_c| + Σ_{i∉M_c} P_ic)
//
// (the soft Jaccard index of the hard mask against the soft one: 1 when every pixel is certain, lower
// as the mass of P_c spreads outside the mask or stays weak inside it). The image's confidence is the
// mean of ÊIoU over the foreground classes present in the prediction, weighted by their soft area, and
// 1 − (the foreground mass' mean) when no foreground class wins anywhere (an image predicted empty is
// as sure as its background probabilities are). It is an estimate of what the user cares about (the
// IoU of each accepted mask), so it ranks images for "suggest next" and gates "accept above threshold";
// eval-photos.ts reports its correlation with the actual IoU.

export function expectedIoU(probs: Float32Array, labels: Uint8Array, k1: number): number {
  const n = labels.length;
  const inside = new Float64Array(k1), area = new Float64Array(k1), outside = new Float64Array(k1), mass = new Float64Array(k1);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    area[l]++;
    for (let c = 0; c < k1; c++) {
      const p = probs[i * k1 + c];
      mass[c] += p;
      if (c === l) inside[c] += p;
      else outside[c] += p;
    }
  }
  let num = 0, den = 0;
  for (let c = 1; c < k1; c++) {
    if (area[c] === 0) continue;
    const e = inside[c] / (area[c] + outside[c]);
    num += mass[c] * e;
    den += mass[c];
  }
  if (den > 0) return num / den;
  let fg = 0;
  for (let c = 1; c < k1; c++) fg += mass[c];
  return 1 - fg / n;
}
