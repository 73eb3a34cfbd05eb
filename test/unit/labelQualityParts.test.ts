// The glue around the quality predictor: episode annotations → K-way rasters (eval), predictions read
// at a photo's own size (segment), and the command-line flags.
import * as assert from 'assert';
import { ANN_BG, ANN_FG, ANN_UNLABELED } from '../../src/engine/fewshot/annotations';
import { QUALITY_DEFAULTS } from '../../src/engine/label/quality/config';
import { episodeRaster } from '../../src/engine/commands/evalQualityMethod';
import { qualityConfigFromFlags } from '../../src/engine/commands/qualityFlags';
import { labelsAtSize } from '../../src/engine/label/quality/fullSize';
import { UNLABELED } from '../../src/engine/label/predictor';

const ann = (data: number[]) => ({ width: data.length, height: 1, data: Uint8Array.from(data) });
const features = { shape: [1, 1, 1] as [number, number, number], data: new Float32Array(1) };

describe('quality predictor glue', () => {
  it('episodeRaster: fg of way j → j + 1 (first way wins), bg of some way and fg of none → 0, else 254; soft weights count from ½', () => {
    const F = ANN_FG, B = ANN_BG, U = ANN_UNLABELED;
    const r = episodeRaster([
      { way: 0, input: { features, annotation: ann([F, B, U, B, F, U]) } },
      { way: 1, input: { features, annotation: ann([F, F, F, U, B, U]) } },
      { way: 2, input: { features, annotation: { width: 6, height: 1, fg: Float32Array.from([0, 0, 0, 0, 0, 0.5]), bg: Float32Array.from([0.6, 0, 0, 0, 0, 0.5]) } } },
    ], 6);
    assert.deepStrictEqual(Array.from(r), [1, 2, 2, 0, 1, 3]);
    assert.deepStrictEqual(Array.from(episodeRaster([{ way: 0, input: { features, annotation: ann([U, U]) } }], 2)), [UNLABELED, UNLABELED]);
  });

  it('labelsAtSize: the working-size labels at the same size; bilinear probabilities at another size', () => {
    // 2×2 working image, class-1 probability 0 / 1 on the left / right column
    const p = { size: 2, classes: 1, labels: Uint8Array.from([0, 1, 0, 1]), probs: Float32Array.from([1, 0, 0, 1, 1, 0, 0, 1]), confidence: 1 };
    assert.deepStrictEqual(Array.from(labelsAtSize(p, 2, 2)), [0, 1, 0, 1]);
    // at 4 wide, half-pixel centres: x = 0, 1 read 0 and 0.25 of the way → class 0; x = 2, 3 → 0.75, 1 → class 1
    assert.deepStrictEqual(Array.from(labelsAtSize(p, 4, 1)), [0, 0, 1, 1]);
    // at 6 wide: sources −0.33 (→0), 0, 0.33, 0.67, 1, 1.33 (→1): class 1 from x = 3 (0.67 > 0.5)
    assert.deepStrictEqual(Array.from(labelsAtSize(p, 6, 2)), [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
  });

  it('flags: segment defaults to the quality predictor, eval to PANet; tuning flags need --predictor quality', () => {
    assert.deepStrictEqual(qualityConfigFromFlags({}, 'quality', 'mobilenetv2', 16), QUALITY_DEFAULTS);
    assert.strictEqual(qualityConfigFromFlags({}, 'panet', 'mobilenetv2', 16), undefined);
    const c = qualityConfigFromFlags({ predictor: 'quality', levels: '32,8', refine: 'guided', classifier: 'ridge', prototypes: '4', 'self-support': '0' }, 'panet', 'mobilenetv2', 16)!;
    assert.deepStrictEqual([c.levels, c.refine, c.classifier, c.prototypes, c.selfSupport.rounds], [[8, 32], 'guided', 'ridge', [4, 4], 0]);
    assert.deepStrictEqual(qualityConfigFromFlags({}, 'quality', 'vgg16', 8)!.levels, [8]);
    assert.throws(() => qualityConfigFromFlags({ refine: 'crf' }, 'panet', 'mobilenetv2', 16), /--refine tune the quality predictor: add --predictor quality/);
    assert.throws(() => qualityConfigFromFlags({ levels: '16' }, 'quality', 'vgg16', 8), /--levels applies to the mobilenetv2, nanodet and centernet backbones; vgg16 has one feature level/);
    assert.throws(() => qualityConfigFromFlags({ prototypes: '0' }, 'quality', 'mobilenetv2', 16), /--prototypes takes BG\[,FG\]/);
    assert.throws(() => qualityConfigFromFlags({ refine: 'bilateral' }, 'quality', 'mobilenetv2', 16), /--refine/);
  });
});
