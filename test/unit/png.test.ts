import * as assert from 'assert';
import { decode, encode } from 'fast-png';
import { decodeIndexPng, encodeIndexPng } from '../../src/engine/image/png';
import { VOC_COLORMAP, vocIndexOf } from '../../src/shared/palette';
import sharp from 'sharp';

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
  it('the transit encoding (fast: native zlib) gives the same masks to the engine, the webview and libpng (sharp), with valid CRCs', async () => {
    // runs (what label maps are), noise (what they are not) and odd sizes, 1×1 included
    const w = 417, h = 301;
    const runs = new Uint8Array(w * h).map((_, i) => (((i % w) - 200) ** 2 + (Math.floor(i / w) - 150) ** 2 < 8000 ? 1 : i % w > 400 ? 255 : 0));
    let seed = 7;
    const noise = new Uint8Array(w * h).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
    for (const m of [{ width: w, height: h, data: runs }, { width: w, height: h, data: noise }, { width: 1, height: 1, data: Uint8Array.from([15]) }]) {
      const fast = encodeIndexPng(m, { fast: true });
      assert.deepStrictEqual(decodeIndexPng(fast, 'fast.png'), m);
      // what the webview's decodeIndexMask reads: fast-png's 1-channel 8-bit indices
      const fp = decode(fast);
      assert.deepStrictEqual([fp.width, fp.height, fp.channels, fp.depth], [m.width, m.height, 1, 8]);
      assert.deepStrictEqual(Uint8Array.from(fp.data), m.data, 'fast-png (the webview decoder)');
      assert.deepStrictEqual(decodeIndexPng(fast, 'fast.png'), decodeIndexPng(encodeIndexPng(m), 'slow.png'), 'the same mask as the file encoding');
      // libvips/libpng checks every chunk's CRC and the zlib stream; a paletted PNG decodes to the palette's colours
      const { data, info } = await sharp(Buffer.from(fast)).raw().toBuffer({ resolveWithObject: true });
      assert.deepStrictEqual([info.width, info.height, info.channels], [m.width, m.height, 3]);
      for (let i = 0; i < m.data.length; i += 97) assert.deepStrictEqual([data[3 * i], data[3 * i + 1], data[3 * i + 2]], VOC_COLORMAP[m.data[i]], `pixel ${i}`);
    }
    assert.ok(encodeIndexPng({ width: w, height: h, data: runs }, { fast: true }).length < 4000, 'a label map stays small');
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
