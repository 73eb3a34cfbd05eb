// The quality predictor's command-line flags, shared by `protolab segment` (where it is the default)
// and `protolab eval` (an option: eval's default stays the papers' PANet).
import { int, oneOf, type Options } from '../cli/args';
import { UsageError } from '../errors';
import { QUALITY_DEFAULTS, type QualityConfig } from '../label/quality/config';
import { parseLevels } from '../label/quality/mobileNetLabelEncoder';
import { isGraphBackboneId } from '../nets/graphModels';

export const qualityOptions: Options = {
  predictor: { type: 'string' },
  levels: { type: 'string' },
  refine: { type: 'string' },
  classifier: { type: 'string' },
  prototypes: { type: 'string' },
  'self-support': { type: 'string' },
};

const QUALITY_FLAGS = ['levels', 'refine', 'classifier', 'prototypes', 'self-support'];

export function qualityHelp(dflt: 'panet' | 'quality'): string {
  return `  --predictor panet|quality (default ${dflt}): panet = PANet's mean prototypes at the backbone's stride,
    logits upsampled; quality = the labeling predictor (src/engine/label/qualityPredictor.ts), tuned by:
    --levels 16,32 (mobilenetv2, nanodet, centernet feature strides among 4, 8, 16, 32; default ${QUALITY_DEFAULTS.levels.join(',')})
    --refine crf|guided|none (default ${QUALITY_DEFAULTS.refine}: bilateral-grid dense CRF; guided = guided filter)
    --classifier auto|prototype|ridge (default ${QUALITY_DEFAULTS.classifier}) --prototypes BG[,FG] (k-means prototypes per class, default ${QUALITY_DEFAULTS.prototypes.join(',')})
    --self-support ROUNDS (default ${QUALITY_DEFAULTS.selfSupport.rounds}: re-fit once on the query's confident pixels)`;
}

type Values = Record<string, unknown>;

/**
 * The predictor the flags ask for: undefined for PANet, else the quality configuration. `backbone`
 * decides the levels: mobilenetv2 takes --levels; other backbones have one level (their own stride).
 */
export function qualityConfigFromFlags(v: Values, dflt: 'panet' | 'quality', backbone: string, backboneStride: number): QualityConfig | undefined {
  const given = QUALITY_FLAGS.filter((f) => v[f] !== undefined);
  const predictor = oneOf(v, 'predictor', ['panet', 'quality'] as const, dflt);
  if (predictor === 'panet') {
    if (given.length) throw new UsageError(`${given.map((f) => `--${f}`).join(' ')} tune the quality predictor: add --predictor quality`);
    return undefined;
  }
  let levels = QUALITY_DEFAULTS.levels;
  if (backbone === 'mobilenetv2' || isGraphBackboneId(backbone)) {
    if (typeof v.levels === 'string') levels = parseLevels(v.levels);
  } else {
    if (v.levels !== undefined) throw new UsageError(`--levels applies to the mobilenetv2, nanodet and centernet backbones; ${backbone} has one feature level (stride ${backboneStride})`);
    levels = [backboneStride];
  }
  let prototypes = QUALITY_DEFAULTS.prototypes;
  if (typeof v.prototypes === 'string') {
    const xs = v.prototypes.split(',').map((s) => Number(s.trim()));
    if (xs.length > 2 || xs.some((x) => !Number.isInteger(x) || x < 1 || x > 16)) throw new UsageError(`--prototypes takes BG[,FG], integers in 1..16 (got '${v.prototypes}')`);
    prototypes = [xs[0], xs[1] ?? xs[0]];
  }
  const sameLevels = levels.length === QUALITY_DEFAULTS.levels.length && levels.every((l, i) => l === QUALITY_DEFAULTS.levels[i]);
  return {
    ...QUALITY_DEFAULTS,
    levels,
    // the default level weights belong to the default levels; other levels are weighted equally
    levelWeights: sameLevels ? QUALITY_DEFAULTS.levelWeights : undefined,
    prototypes,
    refine: oneOf(v, 'refine', ['crf', 'guided', 'none'] as const, QUALITY_DEFAULTS.refine),
    classifier: oneOf(v, 'classifier', ['prototype', 'ridge', 'auto'] as const, QUALITY_DEFAULTS.classifier),
    selfSupport: { ...QUALITY_DEFAULTS.selfSupport, rounds: int(v, 'self-support', QUALITY_DEFAULTS.selfSupport.rounds, 0, 5) },
  };
}
