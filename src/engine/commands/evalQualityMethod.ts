// The quality labeling predictor as a FewShotMethod, so `protolab eval --predictor quality` measures it
// by the papers' protocol on the same episodes as PANet. It needs what PANet does not: the query's and
// supports' RGB (refinement) and, on mobilenetv2, several feature levels; both come from `images`, keyed
// by the image ids the evaluation passes along (SupportInput.imageId, predict's queryId).
import { annotationWeights } from '../fewshot/annotations';
import type { FewShotMethod, SupportInput } from '../fewshot/method';
import type { FeatureEntry } from '../features/featureCache';
import { UNLABELED, type LabelImage, type LabelSupport } from '../label/predictor';
import type { QualityPredictor } from '../label/qualityPredictor';

/**
 * One image's K-way annotation raster from the episode's per-way annotations of it: a pixel that is
 * foreground for way j gets j + 1 (the first such way wins), background for some way and foreground for
 * none gets 0, else 254. Soft annotations count where their weight reaches ½.
 */
export function episodeRaster(ways: Array<{ way: number; input: SupportInput }>, n: number): Uint8Array {
  const out = new Uint8Array(n).fill(UNLABELED);
  for (const { way, input } of ways) {
    const { fg, bg } = annotationWeights(input.annotation);
    if (fg.length !== n) throw new RangeError(`support annotation has ${fg.length} pixels, the working size has ${n}`);
    for (let i = 0; i < n; i++) {
      if (fg[i] >= 0.5 && (out[i] === UNLABELED || out[i] === 0)) out[i] = way + 1;
      else if (bg[i] >= 0.5 && out[i] === UNLABELED) out[i] = 0;
    }
  }
  return out;
}

export function qualityEvalMethod(predictor: QualityPredictor, images: (id: string, features: FeatureEntry) => Promise<LabelImage>): FewShotMethod {
  return {
    id: 'quality',
    async predict(support, query, outSize, queryId) {
      if (!queryId) throw new Error('the quality predictor needs the query image id (evaluate passes it)');
      const byImage = new Map<string, Array<{ way: number; input: SupportInput }>>();
      support.forEach((way, j) => way.forEach((s) => {
        if (!s.imageId) throw new Error('the quality predictor needs each support image id (evaluate passes it)');
        byImage.set(s.imageId, [...(byImage.get(s.imageId) ?? []), { way: j, input: s }]);
      }));
      const supports: LabelSupport[] = [];
      for (const [id, ways] of byImage) {
        const image = await images(id, ways[0].input.features);
        supports.push({ image, labels: episodeRaster(ways, image.rgb.width * image.rgb.height) });
      }
      const q = await images(queryId, query);
      if (outSize[0] !== q.rgb.height || outSize[1] !== q.rgb.width) throw new RangeError(`quality eval predicts at the working size ${q.rgb.width}², asked for ${outSize.join('×')}`);
      const model = predictor.fit(supports, support.length);
      try {
        return model.predict(q).labels;
      } finally {
        model.dispose();
      }
    },
  };
}
