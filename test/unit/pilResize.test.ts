// Pillow's BILINEAR resize, byte for byte: expected outputs were produced by Pillow itself
// (fixtures/pil-bilinear.json says how), not by the code under test.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { resizeBilinearPil } from '../../src/engine/image/pilResize';
import { resizeRgb } from '../../src/engine/image/resize';

interface Fixture {
  generator: string;
  input: { width: number; height: number; rgb: string };
  resized: Array<{ width: number; height: number; rgb: string }>;
}

const fx = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../test/unit/fixtures/pil-bilinear.json'), 'utf8')) as Fixture;
const input = { width: fx.input.width, height: fx.input.height, data: new Uint8Array(Buffer.from(fx.input.rgb, 'base64')) };

describe(`bilinear resize as Pillow (${fx.generator.split(':')[0]})`, () => {
  for (const r of fx.resized) {
    it(`${input.width}×${input.height} → ${r.width}×${r.height}: identical bytes`, async () => {
      const want = new Uint8Array(Buffer.from(r.rgb, 'base64'));
      const got = resizeBilinearPil(input, r.width, r.height);
      assert.strictEqual(got.length, want.length);
      const diff = got.reduce((n, v, i) => n + (v !== want[i] ? 1 : 0), 0);
      assert.strictEqual(diff, 0, `${diff} of ${want.length} bytes differ`);
      // the network input path (float32 HWC 0..255) is the same resize
      assert.deepStrictEqual(Array.from(await resizeRgb(input, r.width, r.height)), Array.from(want));
    });
  }
});
