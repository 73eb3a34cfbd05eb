// Pixel-Level Meta-Learner (Lee, Yang & Wang, "A Pixel-Level Meta-Learner for Weakly Supervised Few-Shot
// Semantic Segmentation", WACV 2022), on a FROZEN backbone's features:
//   1. per class, sample a fixed number of pixels from each support image's (pseudo) mask — a fixed
//      count per class makes the learner robust to how large (and how noisy) a pseudo mask is;
//   2. encoder E: an MLP with two hidden ReLU layers → 64-d embedding of each sampled pixel's feature;
//   3. training: prototype per class = mean of E(support pixels); L_meta = the prototypical loss
//      (Snell et al., NeurIPS 2017, eq. 2): p(y = c | x) = softmax_c(−‖E(x) − p_c‖²), cross-entropy on
//      sampled QUERY pixels (sampled from the query labels in the same way);
//   4. inference: pixel-wise k-NN of every query pixel in E-space against the sampled support pixels.
//
// Choices the paper leaves open (documented here, configurable where it matters):
//   - Pixels are sampled at mask (input) resolution; a sampled pixel's feature is the backbone feature
//     bilinearly upsampled (half-pixel centres, as PANet's official code) to that pixel — computed as
//     one row of the upsampling operator, so no full-size feature map is ever built, and it is
//     differentiable in the features.
//   - Counts: way j's class: min(n, available) pixels from EACH of its shots; background: ⌈n / N⌉
//     from each of the N·K support images, so in N-way every class (background included) has ≈ n·K
//     support pixels and k-NN votes are not biased towards background by sheer numbers. The query
//     (training) gives min(n, available) pixels per class present in its labels (255 never sampled).
//     Sampling is without replacement; fewer candidates than n ⇒ all of them.
//   - SoftAnnotation pixels count for a class when their weight for it is ≥ minWeight and larger than
//     their weight for the other side; binary annotations: ANN_FG / ANN_BG, ANN_UNLABELED never.
//   - A class with no support pixel has no prototype and gets no k-NN votes; query pixels of such a
//     class are left out of L_meta.
//   - k-NN ties: neighbours at equal distance are taken in support-sample order (background samples
//     first, then way 1, 2, … in shot order, each in draw order). Each class's score at a feature cell is
//     its share of the k votes; the score maps are upsampled to outSize with the half-pixel bilinear
//     operator and the label is their argmax, so exact score ties go to the LOWER label (background
//     before way 1).
//   - Inference samples with a fresh Rng(seed) per call: the same episode gives the same labels in any
//     evaluation order.
//   - Input scale (inputNorm, default 'l2'): each pixel feature is L2-normalised and scaled by √C before
//     E. The paper feeds one fixed DeepLab's features; ProtoLab feeds whatever backbone the user has,
//     and raw feature norms differ by orders of magnitude between them (random-init VGG-16's are large).
//     On raw random-VGG features the first SGD steps (lr 1e-3) kill E's ReLUs and every embedding
//     collapses to one point (loss stuck at ln 2, k-NN votes all ties → background; measured with
//     `npm run bench:train`). √C keeps the per-entry scale E's Kaiming init expects. 'none' = raw.
import * as tf from '@tensorflow/tfjs-core';
import { newVariable } from '../nets/variable';
import type { FeatureEntry } from '../features/featureCache';
import { Rng } from '../prng';
import { annotationWeights, SupportAnnotation } from './annotations';
import { interpMatrix, resizeBilinearHalfPixel } from './bilinear';
import { featureTensor, SupportInput } from './method';
import type { EpisodeLoss, TrainableMethod, TrainEpisode } from './trainable';

export interface PixelMetaConfig {
  /** Widths of E's two hidden layers. */
  hidden: [number, number];
  /** Embedding size (the paper: 64). */
  embedDim: number;
  /** Pixels sampled per class per support image (and per class from the query at training). */
  pixelsPerClass: number;
  /** Neighbours of the k-NN vote at inference. */
  k: number;
  /** A SoftAnnotation pixel counts for a class when its weight is ≥ this (and above the other side's). */
  minWeight: number;
  /** 'l2': each pixel feature scaled to norm √C before E (see the header); 'none': raw features. */
  inputNorm: 'l2' | 'none';
}

/** What a stored config that predates a setting meant by leaving it out: raw input features before inputNorm existed. */
export const PIXELMETA_BEFORE_SETTINGS: Partial<PixelMetaConfig> = { inputNorm: 'none' };

export const PIXELMETA_DEFAULTS: PixelMetaConfig = { hidden: [256, 128], embedDim: 64, pixelsPerClass: 100, k: 5, minWeight: 0.5, inputNorm: 'l2' };

export interface PixelMetaMethod extends TrainableMethod {
  readonly settings: Readonly<PixelMetaConfig>;
  /** E applied to pixel features [n, C] → [n, embedDim]. Call inside tf.tidy. */
  embed(x: tf.Tensor2D): tf.Tensor2D;
}

// ---------------------------------------------------------------- pixel sampling (plain JS)

/** Candidate pixel indices (row-major, mask resolution) of the foreground and background of one annotation. */
export function annotationCandidates(a: SupportAnnotation, minWeight = PIXELMETA_DEFAULTS.minWeight): { fg: Int32Array; bg: Int32Array } {
  const { fg, bg } = annotationWeights(a);
  const f: number[] = [], b: number[] = [];
  for (let i = 0; i < fg.length; i++) {
    if (fg[i] >= minWeight && fg[i] > bg[i]) f.push(i);
    else if (bg[i] >= minWeight && bg[i] > fg[i]) b.push(i);
  }
  return { fg: Int32Array.from(f), bg: Int32Array.from(b) };
}

/**
 * min(k, items.length) distinct items drawn uniformly without replacement (Floyd's algorithm: O(k) draws
 * whatever the pool size), returned in ascending order so the result depends only on the drawn set.
 */
export function sampleWithoutReplacement(items: Int32Array, k: number, rng: Rng): Int32Array {
  const n = items.length;
  if (k >= n) return items.slice();
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return Int32Array.from([...chosen].sort((x, y) => x - y).map((i) => items[i]));
}

/**
 * The operator that reads the half-pixel-bilinear upsampled feature map (h×w → H×W) at the given mask
 * pixels: S [m, h·w] with S[r, i·w + j] = R_h[y_r, i]·R_w[x_r, j], so S·F = Up(F)[pixels].
 */
export function samplingMatrix(pixels: Int32Array, maskSize: [number, number], featSize: [number, number]): Float32Array {
  const [H, W] = maskSize, [h, w] = featSize;
  const rh = interpMatrix(H, h), rw = interpMatrix(W, w);
  const s = new Float32Array(pixels.length * h * w);
  pixels.forEach((p, r) => {
    const y = Math.floor(p / W), x = p - y * W;
    for (let i = 0; i < h; i++) {
      const a = rh[y * h + i];
      if (a === 0) continue;
      for (let j = 0; j < w; j++) {
        const b = rw[x * w + j];
        if (b !== 0) s[r * h * w + i * w + j] += a * b;
      }
    }
  });
  return s;
}

/** Sampled pixels of one image: where (mask resolution) and which episode label each has. */
interface ImageSample {
  pixels: Int32Array;
  labels: Int32Array;
  maskSize: [number, number];
}

/** Support samples per support image, in support order (way 0 shots, way 1 shots, …). See the header for counts. */
export function sampleSupport(annotations: SupportAnnotation[][], cfg: Pick<PixelMetaConfig, 'pixelsPerClass' | 'minWeight'>, rng: Rng): ImageSample[][] {
  const ways = annotations.length, n = cfg.pixelsPerClass, nBg = Math.ceil(n / Math.max(ways, 1));
  return annotations.map((shots, j) => shots.map((a) => {
    const c = annotationCandidates(a, cfg.minWeight);
    const bg = sampleWithoutReplacement(c.bg, nBg, rng), fg = sampleWithoutReplacement(c.fg, n, rng);
    const pixels = new Int32Array(bg.length + fg.length), labels = new Int32Array(pixels.length);
    pixels.set(bg, 0);
    pixels.set(fg, bg.length);
    labels.fill(j + 1, bg.length);
    return { pixels, labels, maskSize: [a.height, a.width] as [number, number] };
  }));
}

/** Query samples at training: min(n, available) pixels of each label 0..ways present in `labels` (255 skipped). */
export function sampleQuery(labels: Uint8Array, outSize: [number, number], ways: number, n: number, rng: Rng): ImageSample {
  const byClass: number[][] = Array.from({ length: ways + 1 }, () => []);
  for (let i = 0; i < labels.length; i++) if (labels[i] <= ways) byClass[labels[i]].push(i);
  const px: number[] = [], lb: number[] = [];
  byClass.forEach((cands, c) => {
    for (const p of sampleWithoutReplacement(Int32Array.from(cands), n, rng)) { px.push(p); lb.push(c); }
  });
  return { pixels: Int32Array.from(px), labels: Int32Array.from(lb), maskSize: outSize };
}

/** Features of the sampled pixels [m, C] (bilinear reads of feat [1, h, w, C]). Call inside tf.tidy. */
function sampledFeatures(feat: tf.Tensor4D, s: ImageSample): tf.Tensor2D {
  const [, h, w, c] = feat.shape;
  const S = tf.tensor2d(samplingMatrix(s.pixels, s.maskSize, [h, w]), [s.pixels.length, h * w]);
  return tf.matMul(S, tf.reshape(feat, [h * w, c]));
}

// ---------------------------------------------------------------- k-NN (plain JS on tf distances)

/**
 * Vote shares [rows, numClasses]: for each row of the squared-distance matrix dist [rows, cols], the k
 * smallest entries (ties → lower column index) vote for labels[col]; a row's shares sum to 1.
 * k is capped at cols; cols = 0 gives no votes.
 */
export function knnVotes(dist: Float32Array, rows: number, cols: number, labels: Int32Array, numClasses: number, k: number): Float32Array {
  const kk = Math.min(k, cols), votes = new Float32Array(rows * numClasses);
  const bestD = new Float64Array(kk), bestI = new Int32Array(kk);
  for (let r = 0; r < rows; r++) {
    let m = 0; // insertion into a sorted list of the kk best; strict < keeps the earlier column on ties
    for (let c = 0; c < cols; c++) {
      const d = dist[r * cols + c];
      if (m === kk && !(d < bestD[kk - 1])) continue;
      let q = m < kk ? m++ : kk - 1;
      while (q > 0 && d < bestD[q - 1]) { bestD[q] = bestD[q - 1]; bestI[q] = bestI[q - 1]; q--; }
      bestD[q] = d;
      bestI[q] = c;
    }
    for (let q = 0; q < m; q++) votes[r * numClasses + labels[bestI[q]]] += 1 / kk;
  }
  return votes;
}

/** Squared Euclidean distances [a, b] between rows of x [a, D] and y [b, D]. Call inside tf.tidy. */
function sqDistances(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  const xx = tf.sum(tf.square(x), 1, true), yy = tf.sum(tf.square(y), 1, true);
  // ‖x‖² − 2x·y + ‖y‖², clamped at 0 (rounding can make it slightly negative)
  return tf.relu(tf.add(tf.sub(xx, tf.mul(2, tf.matMul(x, y, false, true))), tf.transpose(yy))) as tf.Tensor2D;
}

// ---------------------------------------------------------------- the method

/** Kaiming-normal init (He et al. 2015) for ReLU layers, N(0, 1/fan_in) for the linear output layer; zero biases. */
let instances = 0; // tfjs variable names must be unique in the process

function initParams(cfg: PixelMetaConfig, channels: number, seed: number): Record<string, tf.Variable> {
  const tag = `pixelmeta${++instances}`;
  const rng = new Rng(seed).fork('pixelmeta.init');
  const dims = [channels, cfg.hidden[0], cfg.hidden[1], cfg.embedDim];
  const params: Record<string, tf.Variable> = {};
  for (let l = 0; l < 3; l++) {
    const fanIn = dims[l], fanOut = dims[l + 1], std = Math.sqrt((l < 2 ? 2 : 1) / fanIn);
    const w = Float32Array.from({ length: fanIn * fanOut }, () => rng.normal() * std);
    params[`pixelmeta.w${l + 1}`] = newVariable(() => tf.tensor2d(w, [fanIn, fanOut]), true, `${tag}.w${l + 1}`);
    params[`pixelmeta.b${l + 1}`] = newVariable(() => tf.zeros([fanOut]), true, `${tag}.b${l + 1}`);
  }
  return params;
}

export function createPixelMeta(config: Partial<PixelMetaConfig> | undefined, channels: number, seed: number): PixelMetaMethod {
  const cfg: PixelMetaConfig = { ...PIXELMETA_DEFAULTS, ...(config ?? {}) };
  if (!(cfg.pixelsPerClass >= 1) || !(cfg.k >= 1) || !(cfg.embedDim >= 1) || cfg.hidden.length !== 2 || !['l2', 'none'].includes(cfg.inputNorm)) {
    throw new RangeError(`pixelmeta: bad config ${JSON.stringify(cfg)}`);
  }
  const params = initParams(cfg, channels, seed);
  const P = (name: string): tf.Variable => params[`pixelmeta.${name}`];

  const scaleIn = (x: tf.Tensor2D): tf.Tensor2D => (cfg.inputNorm === 'l2'
    ? tf.mul(x, tf.div(Math.sqrt(channels), tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12)))) // ε: finite gradient at 0
    : x);
  const embed = (x: tf.Tensor2D): tf.Tensor2D => {
    const h1 = tf.relu(tf.add(tf.matMul(scaleIn(x), P('w1')), P('b1')));
    const h2 = tf.relu(tf.add(tf.matMul(h1, P('w2')), P('b2')));
    return tf.add(tf.matMul(h2, P('w3')), P('b3'));
  };

  /** E(support samples) [M, D] and their labels, in support order. Call inside tf.tidy. */
  const supportEmbeddings = (feats: tf.Tensor4D[][], samples: ImageSample[][]): { z: tf.Tensor2D; labels: Int32Array } => {
    const parts: tf.Tensor2D[] = [], labels: number[] = [];
    samples.forEach((way, j) => way.forEach((s, k) => {
      if (!s.pixels.length) return;
      parts.push(sampledFeatures(feats[j][k], s));
      labels.push(...s.labels);
    }));
    const x = parts.length ? tf.concat(parts, 0) : tf.zeros([0, channels]) as tf.Tensor2D;
    return { z: embed(x), labels: Int32Array.from(labels) };
  };

  const loss = (ep: TrainEpisode): EpisodeLoss => {
    const ways = ep.support.length;
    const samples = sampleSupport(ep.support.map((w) => w.map((s) => s.annotation)), cfg, ep.rng);
    const { z, labels } = supportEmbeddings(ep.support.map((w) => w.map((s) => s.feat)), samples);
    // Prototypes of the classes that have support pixels (Snell et al. eq. 1: mean of embedded supports).
    const present = [...new Set(labels)].sort((a, b) => a - b);
    const col = new Map(present.map((c, i) => [c, i]));
    const onehot = new Float32Array(labels.length * present.length);
    labels.forEach((c, i) => { onehot[i * present.length + col.get(c)!] = 1; });
    const counts = present.map((c) => labels.filter((l) => l === c).length);
    const protos = present.length
      ? tf.div(tf.matMul(tf.tensor2d(onehot, [labels.length, present.length]), z, true, false), tf.tensor2d(counts, [present.length, 1])) as tf.Tensor2D
      : undefined;

    const qz: tf.Tensor2D[] = [], qcol: number[] = [];
    for (const q of ep.query) {
      const s = sampleQuery(q.labels, ep.outSize, ways, cfg.pixelsPerClass, ep.rng);
      const keep = [...s.labels.keys()].filter((i) => col.has(s.labels[i]));
      if (!keep.length) continue;
      const kept: ImageSample = { pixels: Int32Array.from(keep.map((i) => s.pixels[i])), labels: Int32Array.from(keep.map((i) => s.labels[i])), maskSize: s.maskSize };
      qz.push(embed(sampledFeatures(q.feat, kept)));
      qcol.push(...kept.labels.map((c) => col.get(c)!));
    }
    let total: tf.Scalar;
    if (!qcol.length || !protos || present.length < 2) {
      // Nothing to classify (with one prototype the softmax is 1 and the loss exactly 0; tfjs's oneHot
      // refuses depth 1 — a pseudo mask that covers a whole support image gives this): a zero that still
      // depends on every parameter, so optimizer.minimize finds them.
      total = tf.mul(0, tf.addN(Object.values(params).map((v) => tf.sum(v)))) as tf.Scalar;
    } else {
      const logp = tf.logSoftmax(tf.neg(sqDistances(tf.concat(qz, 0), protos))); // [Q, classes]
      const target = tf.oneHot(tf.tensor1d(qcol, 'int32'), present.length);
      total = tf.neg(tf.mean(tf.sum(tf.mul(target, logp), 1))) as tf.Scalar;
    }
    return { total, parts: { meta: total } };
  };

  const predict = async (support: SupportInput[][], query: FeatureEntry, outSize: [number, number]): Promise<Uint8Array> => {
    const ways = support.length, numClasses = ways + 1;
    const samples = sampleSupport(support.map((w) => w.map((s) => s.annotation)), cfg, new Rng(seed).fork('pixelmeta.predict'));
    const [h, w] = query.shape;
    let labels: Int32Array = new Int32Array(0);
    const dist = tf.tidy(() => {
      const feats = support.map((way) => way.map((s) => featureTensor(s.features)));
      const sup = supportEmbeddings(feats, samples);
      labels = sup.labels;
      const q = embed(tf.reshape(featureTensor(query), [h * w, query.shape[2]]));
      return sqDistances(q, sup.z);
    });
    let d: Float32Array;
    try {
      d = (await dist.data()) as Float32Array;
    } finally {
      dist.dispose();
    }
    const votes = knnVotes(d, h * w, labels.length, labels, numClasses, cfg.k);
    const out = tf.tidy(() => tf.argMax(resizeBilinearHalfPixel(tf.tensor3d(votes, [h, w, numClasses]), outSize), -1));
    try {
      return Uint8Array.from(await out.data());
    } finally {
      out.dispose();
    }
  };

  return {
    id: 'pixelmeta',
    settings: cfg,
    params,
    embed,
    loss,
    predict,
    config: () => ({ method: 'pixelmeta', ...cfg, hidden: [...cfg.hidden], channels, seed }),
    dispose: () => { for (const v of Object.values(params)) v.dispose(); },
  };
}
