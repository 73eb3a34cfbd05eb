// A small folder of photos with known truth, for the label service, export and CLI tests: gray
// textured backgrounds with a red disk (class 1) and a blue square (class 2) at different places, and an
// encoder whose features are the colours of 4×4 cells, so a correct pipeline finds the objects and a
// broken one does not.
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { encodeIndexPng } from '../../../src/engine/image/png';
import type { LabelModel } from '../../../src/engine/label/methods';
import { baselinePredictor } from '../../../src/engine/label/baselinePredictor';
import type { LabelEncoder } from '../../../src/engine/label/predictor';
import type { IndexMask } from '../../../src/engine/types';

export interface Scene {
  w: number;
  h: number;
  disk: { cx: number; cy: number; r: number };
  square: { x: number; y: number; s: number };
}

export function scenes(n: number, w = 96, h = 72): Scene[] {
  return Array.from({ length: n }, (_, i) => ({
    w, h,
    // disk in the left part, square in the right part: they never overlap (for w ≥ 96, h ≥ 72)
    disk: { cx: 16 + ((i * 7) % 24), cy: 16 + ((i * 11) % 40), r: 9 + (i % 3) * 2 },
    square: { x: 54 + ((i * 5) % 20), y: 6 + ((i * 9) % 40), s: 16 + (i % 2) * 4 },
  }));
}

/** Truth: 0 background, 1 disk, 2 square (square drawn over the disk). */
export function truth(s: Scene): IndexMask {
  const data = new Uint8Array(s.w * s.h);
  for (let y = 0; y < s.h; y++) {
    for (let x = 0; x < s.w; x++) {
      const dx = x + 0.5 - s.disk.cx, dy = y + 0.5 - s.disk.cy;
      let v = dx * dx + dy * dy <= s.disk.r * s.disk.r ? 1 : 0;
      if (x >= s.square.x && x < s.square.x + s.square.s && y >= s.square.y && y < s.square.y + s.square.s) v = 2;
      data[y * s.w + x] = v;
    }
  }
  return { width: s.w, height: s.h, data };
}

export function rgbOf(s: Scene): Buffer {
  const t = truth(s).data;
  const b = Buffer.alloc(s.w * s.h * 3);
  for (let i = 0; i < t.length; i++) {
    const x = i % s.w, y = Math.floor(i / s.w);
    const g = 110 + ((x * 7 + y * 3) % 40); // textured gray
    b.set(t[i] === 1 ? [200, 40 + (x % 9), 40] : t[i] === 2 ? [40, 50, 200 - (y % 7)] : [g, g, g], 3 * i);
  }
  return b;
}

/** Writes img<i>.jpg (quality 95) and the truth as truth/img<i>.png; returns the scenes. */
export async function writeFolder(dir: string, n: number): Promise<Scene[]> {
  const sc = scenes(n);
  fs.mkdirSync(path.join(dir, 'truth'), { recursive: true });
  for (const [i, s] of sc.entries()) {
    await sharp(rgbOf(s), { raw: { width: s.w, height: s.h, channels: 3 } }).jpeg({ quality: 95 }).toFile(path.join(dir, `img${i}.jpg`));
    fs.writeFileSync(path.join(dir, 'truth', `img${i}.png`), encodeIndexPng(truth(s)));
  }
  return sc;
}

/** Features = colour of each 4×4 cell (mean R, G, B over 255, centred) and a constant: [S/4, S/4, 4]. */
export function colourEncoder(size: number, calls = { n: 0 }): LabelEncoder & { calls: { n: number } } {
  return {
    key: `test-colour:cells4:${size}`,
    size,
    calls,
    async encode(rgb) {
      calls.n++;
      const h = Math.floor(size / 4);
      const data = new Float32Array(h * h * 4);
      for (let i = 0; i < h; i++) for (let j = 0; j < h; j++) {
        const o = (i * h + j) * 4;
        for (let y = 4 * i; y < 4 * i + 4; y++) for (let x = 4 * j; x < 4 * j + 4; x++) for (let c = 0; c < 3; c++) data[o + c] += (rgb.data[3 * (y * size + x) + c] / 255 - 0.45) / 16;
        data[o + 3] = 0.2;
      }
      return [{ shape: [h, h, 4], data }];
    },
    dispose() {},
  };
}

export function colourModel(size = 48, calls = { n: 0 }): LabelModel & { calls: { n: number } } {
  const encoder = colourEncoder(size, calls);
  const predictor = baselinePredictor();
  return {
    encoder, predictor, calls,
    info: { method: 'baseline', backbone: 'test-colour', weightsHash: 'none', weightsSource: 'test', size, encoderKey: encoder.key, settings: predictor.describe() },
    dispose() {},
  };
}

/** IoU of class c between two masks (pixels where either is 255 ignored). */
export function iou(a: Uint8Array, b: Uint8Array, c: number): number {
  let i = 0, u = 0;
  for (let k = 0; k < a.length; k++) {
    if (a[k] === 255 || b[k] === 255) continue;
    const x = a[k] === c, y = b[k] === c;
    if (x && y) i++;
    if (x || y) u++;
  }
  return u ? i / u : 1;
}
