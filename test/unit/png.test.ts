import * as assert from 'assert';
import { encode } from 'fast-png';
import { decodeIndexPng, encodeIndexPng } from '../../src/engine/image/png';
import { VOC_COLORMAP, vocIndexOf } from '../../src/engine/image/palette';

describe('index PNG codec', () => {
  it('VOC colormap matches the devkit values for known classes', () => {
    assert.deepStrictEqual(VOC_COLORMAP[1], [128, 0, 0]); // aeroplane
    assert.deepStrictEqual(VOC_COLORMAP[15], [192, 128, 128]); // person
    assert.deepStrictEqual(VOC_COLORMAP[255], [224, 224, 192]); // ignore border
    assert.strictEqual(vocIndexOf(192, 128, 128), 15);
    assert.strictEqual(vocIndexOf(1, 2, 3), -1);
  });
  it('round-trips a paletted mask with 255 borders', () => {
    const m = { width: 4, height: 3, data: Uint8Array.from([0, 1, 255, 20, 15, 15, 255, 0, 3, 3, 3, 0]) };
    const back = decodeIndexPng(encodeIndexPng(m), 'mem.png');
    assert.deepStrictEqual(back, m);
  });
  it('reads grayscale (SegmentationClassAug-style) and RGB colour masks', () => {
    const gray = encode({ width: 2, height: 2, data: Uint8Array.from([0, 7, 255, 12]), depth: 8, channels: 1 });
    assert.deepStrictEqual(Array.from(decodeIndexPng(gray, 'g.png').data), [0, 7, 255, 12]);
    const rgb = new Uint8Array(2 * 3);
    rgb.set(VOC_COLORMAP[9], 0);
    rgb.set(VOC_COLORMAP[255], 3);
    const col = encode({ width: 2, height: 1, data: rgb, depth: 8, channels: 3 });
    assert.deepStrictEqual(Array.from(decodeIndexPng(col, 'c.png').data), [9, 255]);
  });
  it('names the file when a colour is not in the palette or the bytes are not a PNG', () => {
    const bad = encode({ width: 1, height: 1, data: Uint8Array.from([1, 2, 3]), depth: 8, channels: 3 });
    assert.throws(() => decodeIndexPng(bad, '/x/bad.png'), /\/x\/bad\.png: .*not in the VOC palette/);
    assert.throws(() => decodeIndexPng(Uint8Array.from([1, 2, 3]), '/x/junk.png'), /\/x\/junk\.png: not a readable PNG/);
  });
});
