// `eval --predictor quality`: the quality predictor wrapped as the evaluation's few-shot method, with
// the image source it reads (RGB; on mobilenetv2 and the graph backbones the multi-level label encoder,
// which owns its own copy of the network and is freed by the method's dispose()).
import type { SegDataset } from '../data/dataset';
import type { FewShotMethod } from '../fewshot/method';
import type { Backbone } from '../nets/backbone';
import { QualityPredictor } from '../label/qualityPredictor';
import type { QualityConfig } from '../label/quality/config';
import { MobileNetLabelEncoder } from '../label/quality/mobileNetLabelEncoder';
import { GraphLabelEncoder } from '../label/quality/graphLabelEncoder';
import { isGraphBackboneId } from '../nets/graphModels';
import { evalImageSource } from './evalQualityImages';
import { qualityEvalMethod } from './evalQualityMethod';

export async function qualityEvalSetup(config: QualityConfig, ds: SegDataset, size: number, backbone: Backbone): Promise<FewShotMethod & { dispose: () => void }> {
  // mobilenetv2 at strides other than the evaluation's own stride 16 needs its own encoder
  const own = !(config.levels.length === 1 && config.levels[0] === 16);
  const encoder = !own ? undefined
    : backbone.id === 'mobilenetv2' ? await MobileNetLabelEncoder.create(size, config.levels)
    : isGraphBackboneId(backbone.id) ? await GraphLabelEncoder.create(backbone.id, size, config.levels)
    : undefined;
  const method = qualityEvalMethod(new QualityPredictor(config), evalImageSource(ds, size, encoder));
  return { ...method, dispose: () => encoder?.dispose() };
}
