// Several feature levels of one image (an encoder may tap more than one layer) packed into ONE feature
// entry, so an image is cached, evicted and written whole (featureCache.ts), and crosses a worker
// boundary as one transferred array (encoderWorker.ts): [n, h₁, w₁, c₁, …, hₙ, wₙ, cₙ, data₁ … dataₙ]
// as float32, exact for sizes below 2²⁴.
import type { FeatureEntry } from './featureCache';

export function packLevels(levels: FeatureEntry[]): FeatureEntry {
  const head = 1 + 3 * levels.length;
  const total = head + levels.reduce((s, l) => s + l.data.length, 0);
  const data = new Float32Array(total);
  data[0] = levels.length;
  let o = head;
  levels.forEach((l, i) => {
    data.set(l.shape, 1 + 3 * i);
    data.set(l.data, o);
    o += l.data.length;
  });
  return { shape: [1, 1, total], data };
}

// One set of views per packed entry: the same image gives the same arrays every time, so work keyed
// by feature identity (the predictor's pooled sums) is found again.
const unpacked = new WeakMap<Float32Array, FeatureEntry[]>();

/** Views into the packed entry (no copy). Throws on an entry that is not a packing. */
export function unpackLevels(e: FeatureEntry): FeatureEntry[] {
  const hit = unpacked.get(e.data);
  if (hit) return hit;
  const out = unpackUncached(e);
  unpacked.set(e.data, out);
  return out;
}

function unpackUncached(e: FeatureEntry): FeatureEntry[] {
  const d = e.data, n = d[0];
  if (!(Number.isInteger(n) && n >= 1 && n < 16)) throw new RangeError(`not a packed feature entry (level count ${n})`);
  const out: FeatureEntry[] = [];
  let o = 1 + 3 * n;
  for (let i = 0; i < n; i++) {
    const shape: [number, number, number] = [d[1 + 3 * i], d[2 + 3 * i], d[3 + 3 * i]];
    const len = shape[0] * shape[1] * shape[2];
    if (o + len > d.length) throw new RangeError('packed feature entry is shorter than its levels');
    out.push({ shape, data: d.subarray(o, o + len) });
    o += len;
  }
  return out;
}
