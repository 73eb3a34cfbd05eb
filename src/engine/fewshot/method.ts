// What the evaluation loop asks of a few-shot method: episode in, query label maps out. PANet is the
// first; MetaSegNet and the Pixel-Level Meta-Learner plug in behind the same interface.
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureEntry } from '../features/featureCache';
import type { SupportAnnotation } from './annotations';
import { panetEpisode } from './panet';

export interface SupportInput {
  features: FeatureEntry;
  annotation: SupportAnnotation;
  /** the dataset image id (for methods that read more than the features, e.g. the quality predictor) */
  imageId?: string;
}

export interface FewShotMethod {
  readonly id: string;
  /** support[way][shot]; returns EPISODE-LOCAL labels (0 bg, j = way j − 1) at outSize, row-major. */
  predict(support: SupportInput[][], query: FeatureEntry, outSize: [number, number], queryId?: string): Promise<Uint8Array>;
}

export function featureTensor(e: FeatureEntry): tf.Tensor4D {
  return tf.tensor4d(e.data, [1, ...e.shape]);
}

/** PANet's non-parametric segmentation (no learned parameters beyond the backbone). */
export const panetMethod: FewShotMethod = {
  id: 'panet',
  async predict(support, query, outSize) {
    const feats: tf.Tensor[] = [];
    const own = (e: FeatureEntry) => {
      const t = featureTensor(e);
      feats.push(t);
      return t;
    };
    try {
      const shots = support.map((way) => way.map((s) => ({ feat: own(s.features), annotation: s.annotation })));
      return await panetEpisode(shots, own(query), outSize);
    } finally {
      tf.dispose(feats);
    }
  },
};
