// Photos as people have them (image/photo.ts), generated with sharp / fast-png in each format:
// EXIF-rotated and CMYK and grayscale JPEGs, 16-bit / palette / alpha PNGs, WebP, broken files.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import { DataError } from '../../src/engine/errors';
import { probePhoto, readPhoto, readPhotoAt, writeUprightJpeg } from '../../src/engine/image/photo';

/** 8×4 image: left half red, right half blue (a quarter turn shows plainly). */
function redBlue(w = 8, h = 4): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) b.set(x < w / 2 ? [220, 20, 20] : [20, 20, 220], 3 * (y * w + x));
  return b;
}

const near = (a: ArrayLike<number> & Iterable<number>, b: ArrayLike<number> & Iterable<number>, tol: number, what: string) => {
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}: ${[...a]} vs ${[...b]}`);
};
const px = (img: { width: number; data: Uint8Array }, x: number, y: number) => [...img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3)];

describe('label photos: formats as people have them', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-photo-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const raw = (b: Buffer, w = 8, h = 4) => sharp(b, { raw: { width: w, height: h, channels: 3 } });

  it('EXIF orientation is applied: orientation 6 (rotate 90° clockwise) turns 8×4 into 4×8, left half on top', async () => {
    const f = path.join(dir, 'rot6.jpg');
    await raw(redBlue()).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(f);
    const info = await probePhoto(f);
    assert.deepStrictEqual([info.width, info.height, info.orientation, info.format], [4, 8, 6, 'jpeg']);
    const img = await readPhoto(f);
    assert.deepStrictEqual([img.width, img.height], [4, 8]);
    // stored pixel (x, y) lands at (H − 1 − y, x) after a clockwise quarter turn: stored left half → top half
    near(px(img, 1, 1), [220, 20, 20], 40, 'top is red');
    near(px(img, 2, 6), [20, 20, 220], 40, 'bottom is blue');
    const at = await readPhotoAt(f, 2, 4);
    assert.deepStrictEqual([at.width, at.height], [2, 4]);
  });

  it('orientation 3 (180°) keeps the size and swaps left and right', async () => {
    const f = path.join(dir, 'rot3.jpg');
    await raw(redBlue()).jpeg({ quality: 100 }).withMetadata({ orientation: 3 }).toFile(f);
    const img = await readPhoto(f);
    assert.deepStrictEqual([img.width, img.height], [8, 4]);
    near(px(img, 1, 1), [20, 20, 220], 40, 'left is blue');
    near(px(img, 6, 2), [220, 20, 20], 40, 'right is red');
  });

  it('writeUprightJpeg bakes the orientation in and drops the tag', async () => {
    const f = path.join(dir, 'rot6b.jpg'), out = path.join(dir, 'upright.jpg');
    await raw(redBlue()).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(f);
    await writeUprightJpeg(f, out);
    const info = await probePhoto(out);
    assert.deepStrictEqual([info.width, info.height, info.orientation], [4, 8, 1]);
    const m = await sharp(out).metadata();
    assert.strictEqual(m.width, 4, 'stored upright, not tagged');
  });

  it('CMYK JPEG decodes to sRGB close to the colours it was made from', async () => {
    const f = path.join(dir, 'cmyk.jpg');
    // colours inside a print gamut (saturated sRGB blue is not, and comes back dull from any CMYK)
    const b = Buffer.alloc(8 * 4 * 3);
    for (let i = 0; i < 32; i++) b.set(i % 8 < 4 ? [90, 140, 70] : [230, 200, 120], 3 * i);
    await raw(b).toColourspace('cmyk').jpeg({ quality: 100 }).toFile(f);
    const info = await probePhoto(f);
    assert.strictEqual(info.space, 'cmyk');
    assert.strictEqual(info.channels, 4);
    const img = await readPhoto(f);
    near(px(img, 1, 1), [90, 140, 70], 25, 'green survives CMYK (an inverted-CMYK bug would be far off)');
    near(px(img, 6, 2), [230, 200, 120], 25, 'sand survives CMYK');
  });

  it('grayscale JPEG gives three equal channels', async () => {
    const f = path.join(dir, 'gray.jpg');
    const g = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 8));
    await sharp(g, { raw: { width: 8, height: 4, channels: 1 } }).toColourspace('b-w').jpeg({ quality: 100 }).toFile(f);
    const info = await probePhoto(f);
    assert.strictEqual(info.channels, 1);
    const img = await readPhoto(f);
    for (let i = 0; i < 32; i++) {
      const [r, gg, b] = img.data.subarray(3 * i, 3 * i + 3);
      assert.ok(r === gg && gg === b, `pixel ${i} is gray`);
      assert.ok(Math.abs(r - i * 8) <= 6, `pixel ${i}: ${r} vs ${i * 8}`);
    }
  });

  it('16-bit PNG becomes 8-bit (high byte)', async () => {
    const f = path.join(dir, 'deep.png');
    const v16 = new Uint16Array([0, 257 * 100, 65535, 257 * 7, 257 * 50, 257 * 200]);
    fs.writeFileSync(f, encodePng({ width: 2, height: 1, channels: 3, depth: 16, data: v16 }));
    const info = await probePhoto(f);
    assert.strictEqual(info.depth, 'ushort');
    const img = await readPhoto(f);
    near(img.data, [0, 100, 255, 7, 50, 200], 1, '16 → 8 bit');
  });

  it('palette PNG gives its palette colours; alpha is composited over white', async () => {
    const pal = path.join(dir, 'pal.png');
    fs.writeFileSync(pal, encodePng({ width: 3, height: 1, channels: 1, depth: 8, data: Uint8Array.from([0, 1, 2]), palette: [[10, 20, 30], [200, 100, 0], [0, 255, 0]] }));
    assert.ok((await probePhoto(pal)).isPalette);
    assert.deepStrictEqual([...(await readPhoto(pal)).data], [10, 20, 30, 200, 100, 0, 0, 255, 0]);
    const alpha = path.join(dir, 'alpha.png');
    fs.writeFileSync(alpha, encodePng({ width: 2, height: 1, channels: 4, depth: 8, data: Uint8Array.from([0, 0, 0, 0, 40, 80, 120, 255]) }));
    assert.ok((await probePhoto(alpha)).hasAlpha);
    assert.deepStrictEqual([...(await readPhoto(alpha)).data], [255, 255, 255, 40, 80, 120]);
  });

  it('WebP (lossless) decodes exactly', async () => {
    const f = path.join(dir, 'img.webp');
    await raw(redBlue()).webp({ lossless: true }).toFile(f);
    assert.strictEqual((await probePhoto(f)).format, 'webp');
    assert.deepStrictEqual(Buffer.from((await readPhoto(f)).data), redBlue());
  });

  it('a large photo is read at the working size without its full pixels', async () => {
    const f = path.join(dir, 'big.jpg');
    await sharp({ create: { width: 3000, height: 2000, channels: 3, background: { r: 10, g: 200, b: 30 } } }).jpeg().toFile(f);
    const img = await readPhotoAt(f, 64, 64);
    assert.deepStrictEqual([img.width, img.height, img.data.length], [64, 64, 64 * 64 * 3]);
    near(px(img, 30, 30), [10, 200, 30], 6, 'colour');
  });

  it('broken files: a DataError naming the file and the reason', async () => {
    const trunc = path.join(dir, 'trunc.jpg');
    const good = await raw(redBlue(64, 64), 64, 64).jpeg().toBuffer();
    fs.writeFileSync(trunc, good.subarray(0, Math.floor(good.length / 2)));
    await assert.rejects(readPhotoAt(trunc, 16, 16), (e: Error) => e instanceof DataError && e.message.startsWith(trunc) && /corrupt or truncated/.test(e.message));
    const text = path.join(dir, 'notes.png');
    fs.writeFileSync(text, 'this is not an image');
    await assert.rejects(probePhoto(text), (e: Error) => e instanceof DataError && /not a readable image/.test(e.message));
    await assert.rejects(probePhoto(path.join(dir, 'missing.jpg')), /not found or not readable/);
  });
});
