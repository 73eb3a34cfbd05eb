// MetaSegNet (Tian et al., "Differentiable Meta-learning Model for Few-shot Semantic Segmentation",
// AAAI 2020): K-way segmentation as pixel classification, learned by episodic training.
//
//   1. embedding module e(·): local + global feature branches on the backbone features (embedding.ts);
//   2. base learner: a linear classifier [W; b] fitted PER EPISODE on the support pixels' embeddings
//      (labels: bg → 0, way j → j + 1; ≤ maxPerClass sampled pixels per class, support.ts), by
//      closed-form ridge regression to one-hot targets, differentiable through the solve (ridge.ts);
//   3. query pixel logits s·(e(x)W + b), upsampled bilinearly (half-pixel centres) to the image size;
//      prediction = argmax; meta-loss = cross-entropy over query pixels with label ≠ 255, whose gradient
//      reaches e(·) through both the query embeddings and the solve.
//
// The logit scale s is learned (MetaOptNet's learnable scale): ridge outputs live near [0, 1], too flat
// for a softmax cross-entropy without it. It does not change the argmax.
//
// Embedding geometry (embedNorm 'l2', lambdaMode 'absolute'; the defaults since the stability fix): the
// base learner sees ê(x) = e(x)/‖e(x)‖ and solves (R1) with a fixed λ. WHY: with raw embeddings and λ
// relative to the support's mean per-dimension variance (the earlier default) the fit is scale-free but
// nearly unregularised along every low-variance direction of a 1-shot support (condition number up to
// 1 + D/λ ≈ 960); its gain per unit of embedding is ≈ √(D/λ) ≈ 30× a cosine classifier's, and times s = 10
// the gradient reaching the backbone was 60–160× PANet's on the same episodes (measured: ‖∂L/∂F‖ ≈ 0.2–1.2
// vs 0.003–0.01). Whole-network SGD at PANet's lr 1e-3 then blew up within five steps (losses 5.2, 2.7,
// 1.2, 28, 8·10⁶). On the unit sphere — PANet's cosine geometry — with λ = 0.1 the gradient is PANet's
// order (≈ 0.001–0.02) and training at the default lr is stable.
import * as tf from '@tensorflow/tfjs-core';
import { newVariable } from '../nets/variable';
import { UsageError } from '../errors';
import { Rng } from '../prng';
import { IGNORE } from '../types';
import type { SupportAnnotation } from './annotations';
import { resizeBilinearHalfPixel } from './bilinear';
import { featureTensor, SupportInput } from './method';
import { embed, EmbeddingParams, initEmbedding } from './metasegnet/embedding';
import { ridgeRegression, RidgeForm } from './metasegnet/ridge';
import { supportTargets } from './metasegnet/support';
import type { EpisodeLoss, TrainableMethod, TrainEpisode } from './trainable';

// A type alias (not an interface) so that it is a Record<string, unknown> for TrainableMethod.config().
export type MetaSegNetConfig = {
  /** Backbone feature channels C. */
  channels: number;
  /** Local branch width d_local. */
  localDim: number;
  /** Global branch width d_global. */
  globalDim: number;
  /** Ridge λ of (R1) (ridge.ts); in units of the mean support variance when lambdaMode is 'relative'. */
  lambda: number;
  /** Which closed form to solve ('auto': dual when fewer weighted grid cells than dimensions). */
  form: RidgeForm;
  /** Support pixels sampled per class (bg and each way) for the base learner. */
  maxPixelsPerClass: number;
  /** Initial value of the learned logit scale s. */
  initScale: number;
  /** Seed of the pixel sampling at inference (training uses the episode's Rng). */
  inferenceSeed: number;
  /**
   * 'l2' (default): the base learner sees each pixel embedding scaled to unit length (see the header);
   * 'none': raw embeddings (checkpoints from before this setting).
   */
  embedNorm: 'l2' | 'none';
  /** λ in absolute units (default; right for unit-length embeddings) or relative to the support's mean variance (ridge.ts). */
  lambdaMode: 'absolute' | 'relative';
  /** Give every class the same total weight in the base learner's fit (support.ts). */
  balanceClasses: boolean;
};

export const METASEGNET_DEFAULTS: Omit<MetaSegNetConfig, 'channels'> = {
  localDim: 64,
  globalDim: 32,
  lambda: 0.1,
  form: 'auto',
  maxPixelsPerClass: 1000,
  initScale: 10,
  inferenceSeed: 0,
  embedNorm: 'l2',
  lambdaMode: 'absolute',
  balanceClasses: true,
};

/**
 * What a stored config (checkpoint, run) that predates a setting meant by leaving it out: MetaSegNet
 * runs before the stability fix used raw embeddings and a relative λ.
 */
export const METASEGNET_BEFORE_SETTINGS: Partial<MetaSegNetConfig> = { embedNorm: 'none', lambdaMode: 'relative', balanceClasses: false };

/** Added to ‖e(x)‖ before dividing (embeddings are ReLU outputs: a pixel can embed to exactly 0). */
const EMBED_EPS = 1e-6;

export interface MetaSegNet extends TrainableMethod {
  /**
   * Query logits [H, W, 1 + ways] for each query, at outSize. Differentiable; call inside tf.tidy.
   * support[way][shot]; `rng` draws the support pixels.
   */
  logits(support: Array<Array<{ feat: tf.Tensor4D; annotation: SupportAnnotation }>>, queries: tf.Tensor4D[], outSize: [number, number], rng: Rng): tf.Tensor3D[];
  config(): MetaSegNetConfig;
}

/** Episode-local labels → one-hot rows (zero rows for 255) and the count of labelled pixels. */
function oneHotLabels(labels: Uint8Array, classes: number): { oneHot: Float32Array; count: number } {
  const oneHot = new Float32Array(labels.length * classes);
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v === IGNORE) continue;
    if (v >= classes) throw new RangeError(`query label ${v} at pixel ${i} is outside the episode's ${classes} classes`);
    oneHot[i * classes + v] = 1;
    count++;
  }
  return { oneHot, count };
}

/**
 * A MetaSegNet head on backbone features of `channels` channels, parameters initialised from `seed`.
 * `config` may pin `channels` too; it must then agree.
 */
export function createMetaSegNet(config: Partial<MetaSegNetConfig> = {}, channels: number, seed: number): MetaSegNet {
  if (config.channels !== undefined && config.channels !== channels) {
    throw new UsageError(`MetaSegNet config says ${config.channels} feature channels, the backbone gives ${channels}`);
  }
  const cfg: MetaSegNetConfig = { ...METASEGNET_DEFAULTS, ...config, channels };
  for (const key of ['localDim', 'globalDim', 'maxPixelsPerClass'] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1) throw new UsageError(`MetaSegNet ${key} must be a positive integer, got ${cfg[key]}`);
  }
  if (!(cfg.lambda > 0)) throw new UsageError(`MetaSegNet lambda must be > 0, got ${cfg.lambda}`);
  if (!['auto', 'primal', 'dual'].includes(cfg.form)) throw new UsageError(`MetaSegNet form must be auto|primal|dual, got ${cfg.form}`);
  if (!['l2', 'none'].includes(cfg.embedNorm)) throw new UsageError(`MetaSegNet embedNorm must be l2|none, got ${cfg.embedNorm}`);
  if (!['absolute', 'relative'].includes(cfg.lambdaMode)) throw new UsageError(`MetaSegNet lambdaMode must be absolute|relative, got ${cfg.lambdaMode}`);

  const rng = new Rng(seed);
  const embedding: EmbeddingParams = initEmbedding(cfg, rng.fork('embedding'));
  const params: Record<string, tf.Variable> = { ...embedding, scale: newVariable(() => tf.scalar(cfg.initScale)) };

  // e(x) / ‖e(x)‖ (+ε: an all-zero ReLU embedding stays zero instead of dividing by 0)
  const embedN = (f: tf.Tensor4D): tf.Tensor2D => {
    const e = embed(embedding, f);
    return cfg.embedNorm === 'l2' ? tf.div(e, tf.add(tf.norm(e, 'euclidean', 1, true), EMBED_EPS)) : e;
  };
  const logits: MetaSegNet['logits'] = (support, queries, outSize, sampleRng) => {
    if (!support.length || support.some((way) => !way.length)) throw new RangeError('MetaSegNet: every way needs at least one support shot');
    const shots = support.flat();
    const targets = supportTargets(
      support.map((way) => way.map((s) => ({ annotation: s.annotation, featSize: [s.feat.shape[1], s.feat.shape[2]] as [number, number] }))),
      cfg.maxPixelsPerClass, sampleRng, cfg.balanceClasses);
    const k = targets.classes;
    // Base learner (ridge.ts R1–R3) on every support grid cell; cells no sampled pixel touches have ω = 0.
    const x = tf.concat(shots.map((s) => embedN(s.feat)), 0) as tf.Tensor2D;
    const n = x.shape[0];
    const t = new Float32Array(n * k), omega = new Float32Array(n);
    let row = 0;
    targets.omega.forEach((om, i) => { omega.set(om, row); t.set(targets.targets[i], row * k); row += om.length; });
    if (!omega.some((v) => v > 0)) throw new RangeError('MetaSegNet: the support annotations label no pixel');
    const fit = ridgeRegression(x, tf.tensor2d(t, [n, k]), omega, { lambda: cfg.lambda, form: cfg.form, relative: cfg.lambdaMode === 'relative' });
    return queries.map((q) => {
      const [, h, w] = q.shape;
      const z = tf.mul(params.scale, tf.add(tf.matMul(embedN(q), fit.w), fit.b));
      return resizeBilinearHalfPixel(tf.reshape(z, [h, w, k]) as tf.Tensor3D, outSize);
    });
  };

  return {
    id: 'metasegnet',
    params,
    logits,

    loss(ep: TrainEpisode): EpisodeLoss {
      const all = logits(ep.support, ep.query.map((q) => q.feat), ep.outSize, ep.rng);
      const k = ep.support.length + 1, [H, W] = ep.outSize;
      let count = 0;
      const sums = all.map((l, i) => {
        if (ep.query[i].labels.length !== H * W) throw new RangeError(`query ${i}: ${ep.query[i].labels.length} labels for outSize ${H}x${W}`);
        const oh = oneHotLabels(ep.query[i].labels, k);
        count += oh.count;
        // −Σ_pixels log softmax(z)_label over labelled pixels
        return tf.neg(tf.sum(tf.mul(tf.tensor2d(oh.oneHot, [H * W, k]), tf.logSoftmax(tf.reshape(l, [H * W, k])))));
      });
      // No labelled query pixel: a zero that still depends on the parameters keeps minimize() well-defined.
      const total = (count > 0 ? tf.div(tf.addN(sums), count) : tf.mul(tf.addN(sums), 0)) as tf.Scalar;
      return { total, parts: { seg: tf.clone(total) } };
    },

    async predict(support: SupportInput[][], query, outSize) {
      const owned: tf.Tensor[] = [];
      const own = <T extends tf.Tensor>(t: T): T => { owned.push(t); return t; };
      try {
        const shots = support.map((way) => way.map((s) => ({ feat: own(featureTensor(s.features)), annotation: s.annotation })));
        const q = own(featureTensor(query));
        const labels = own(tf.tidy(() => tf.argMax(logits(shots, [q], outSize, new Rng(cfg.inferenceSeed))[0], -1)));
        return Uint8Array.from(await labels.data());
      } finally {
        tf.dispose(owned);
      }
    },

    config: () => ({ ...cfg }),

    dispose() {
      for (const v of Object.values(params)) v.dispose();
    },
  };
}
