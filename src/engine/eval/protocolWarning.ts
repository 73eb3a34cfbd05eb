// Whether an evaluation's numbers can stand beside the papers'. PANet, MetaSegNet and the Pixel-Level
// Meta-Learner evaluate PASCAL-5i / COCO-20i with backbones pre-trained on ImageNet classification, so
// the novel classes of a fold are new to the whole network. A backbone trained on COCO (the detectors
// the labeling engine offers) has already learnt every one of those classes — all 20 PASCAL classes are
// COCO classes — so its mIoU measures something easier and must say so wherever it is shown.

/** The datasets of the papers' protocol. */
const PROTOCOL_DATASETS = new Set(['voc', 'coco']);

/** The warning for an evaluation on `dataset` with features trained on `trainedOn`, or undefined. */
export function protocolWarning(dataset: string, backboneId: string, trainedOn: string | undefined): string | undefined {
  if (!trainedOn || !PROTOCOL_DATASETS.has(dataset) || !/coco/i.test(trainedOn)) return undefined;
  return `not comparable to the papers: backbone ${backboneId} was trained on ${trainedOn}, whose classes include ` +
    `every novel class of PASCAL-5i and COCO-20i; the papers' backbones saw ImageNet classification only`;
}
