// The built-in sample dataset (a fair, synthetic stand-in for PASCAL-5i / COCO-20i in both on-disk
// formats). The CLI's `protolab sample --out DIR [--seed N]` calls writeSampleDataset.
export { writeSampleDataset, vocId, cocoImageId, cocoFileName } from './write';
export type { SampleOptions, SampleResult, SampleCounts } from './write';
export { SAMPLE_CLASSES, SAMPLE_CLASS_NAMES, SAMPLE_COCO_IDS } from './classes';
export type { SampleClass } from './classes';
