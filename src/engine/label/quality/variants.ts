// The predictor configurations that eval-photos.ts (and `npm run bench:label`) measure: PANet as
// `segment` runs it, the default quality predictor, and the default with each part taken away or
// swapped (an ablation), plus each part added to PANet alone.
import { PANET_BASELINE, QUALITY_DEFAULTS, type QualityConfig } from './config';

export interface Variant {
  name: string;
  /** what the variant shows */
  note: string;
  config: QualityConfig;
}

const D = QUALITY_DEFAULTS, B = PANET_BASELINE;

const SS_OFF = { ...D.selfSupport, rounds: 0 };
const SS_ON = { ...D.selfSupport, rounds: 1 };
const L_16_32 = { levels: [16, 32], levelWeights: [1, 0.5] };
const L_8_16_32 = { levels: [8, 16, 32], levelWeights: [1, 1, 0.5] };

export const VARIANTS: Variant[] = [
  { name: 'panet', note: 'PANet as segment ran it: 1 mean prototype per class, stride 16, no refinement', config: B },
  { name: 'panet+levels', note: 'baseline + the stride-32 level at half weight (16+32)', config: { ...B, ...L_16_32 } },
  { name: 'panet+stride8', note: 'baseline + the stride-8 level (8+16)', config: { ...B, levels: [8, 16] } },
  { name: 'panet+multiproto', note: 'baseline + k-means prototypes (up to 5 bg, 3 per class)', config: { ...B, prototypes: [5, 3] } },
  { name: 'panet+ridge', note: 'baseline with a ridge classifier in place of prototypes', config: { ...B, classifier: 'ridge' } },
  { name: 'panet+guided', note: 'baseline + guided filter', config: { ...B, refine: 'guided' } },
  { name: 'panet+crf', note: 'baseline + bilateral-grid CRF', config: { ...B, refine: 'crf' } },
  { name: 'panet+selfsupport', note: 'baseline + one self-support round', config: { ...B, selfSupport: SS_ON } },
  { name: 'quality', note: 'default: strides 16+32, a ridge fit for every image, self-support, CRF, own strokes with local evidence', config: D },
  { name: 'quality-levels', note: 'default with stride 16 alone', config: { ...D, levels: [16], levelWeights: undefined } },
  { name: 'quality-refine', note: 'default without refinement', config: { ...D, refine: 'none' } },
  { name: 'quality-selfsupport', note: 'default without self-support', config: { ...D, selfSupport: SS_OFF } },
  { name: 'quality-own', note: 'default, own strokes not used (neither samples, clamp, colour model nor local evidence)', config: { ...D, ownWeight: 0, ownClamp: false, colour: { ...D.colour, weight: 0 }, local: { ...D.local, weight: 0 } } },
  { name: 'quality-colour', note: 'default without the colour model of an image with strokes', config: { ...D, colour: { ...D.colour, weight: 0 } } },
  { name: 'quality-ridge', note: 'default with mean prototypes for an image without strokes (ridge only with strokes)', config: { ...D, classifier: 'auto' } },
  { name: 'quality-neighbours', note: 'default without the supports\' nearest-neighbour vote', config: { ...D, neighbours: { ...D.neighbours, weight: 0 } } },
  { name: 'quality-local', note: 'default without the local evidence of the image\'s own clicks and strokes', config: { ...D, local: { ...D.local, weight: 0 } } },
  { name: 'quality/guided', note: 'default with the guided filter in place of the CRF', config: { ...D, refine: 'guided' } },
  { name: 'quality+stride8', note: 'default + the stride-8 level (8+16+32)', config: { ...D, ...L_8_16_32 } },
  { name: 'quality+multiproto', note: 'default with k-means prototypes (up to 5 bg, 3 per class)', config: { ...D, prototypes: [5, 3] } },
  { name: 'quality/prototype', note: 'default with mean prototypes for every image, strokes or not', config: { ...D, classifier: 'prototype' } },
];

export function variantByName(name: string): Variant {
  const v = VARIANTS.find((x) => x.name === name);
  if (!v) throw new RangeError(`no predictor variant '${name}' (have: ${VARIANTS.map((x) => x.name).join(', ')})`);
  return v;
}
