// The supports' nearest-neighbour vote (quality/neighbours.ts): a cell takes the class mix of the support
// cells most like it, softmax-weighted, scaled by how far its best cosine clears the floor; a cell like
// no support cell gets no vote. Expected values are computed here from the formula.
import * as assert from 'assert';
import { useTestBackend } from './helpers/tf';
import { neighbourColumns, neighbourVote, type NeighbourOptions } from '../../src/engine/label/quality/neighbours';
import { collectSamples } from '../../src/engine/label/quality/samples';
import type { Level } from '../../src/engine/label/quality/levels';

const G = 4, S = 32; // 4×4 grid of 8×8-pixel cells

/** A 4×4 one-level grid with 3 channels; `looks[i]` is cell i's unit feature. */
function grid(looks: number[][]): Level {
  const data = new Float32Array(G * G * 3);
  looks.forEach((f, i) => data.set(f, i * 3));
  return { h: G, w: G, c: 3, data };
}

/** A raster labelling cell i with labels[i] (every pixel of it). */
function cellRaster(labels: number[]): Uint8Array {
  const r = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) r[y * S + x] = labels[Math.floor(y / 8) * G + Math.floor(x / 8)];
  return r;
}

describe('nearest-neighbour vote of the supports', () => {
  before(() => useTestBackend('wasm'));
  const e = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

  it('a cell votes the label of its most similar support cells; a cell unlike them all gets nothing', () => {
    // support: the left half look e0 labelled 1, the right half look e1 labelled 0
    const sup = grid(Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? e[0] : e[1])));
    const samples = collectSamples([{ levels: [sup], labels: cellRaster(Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 1 : 0))) }], S, 1);
    // query: row 0 looks e0, row 1 e1, row 2 e2 (no support cell looks like it), row 3 halfway e0/e1
    const h = Math.SQRT1_2;
    const q = grid(Array.from({ length: 16 }, (_, i) => [e[0], e[1], e[2], [h, h, 0]][Math.floor(i / 4)]));
    const opts: NeighbourOptions = { weight: 10, k: 5, temperature: 0.05, floor: 0.6 };
    const v = neighbourVote([q], samples, neighbourColumns(samples), opts);
    const at = (cell: number, k: number) => v[cell * 2 + k];
    // e0 cells: every top-5 neighbour is an e0 support cell labelled 1, best cosine 1: the full weight
    assert.ok(Math.abs(at(0, 1) - 10) < 1e-4 && Math.abs(at(0, 0)) < 1e-6, `e0: ${at(0, 0)}, ${at(0, 1)}`);
    assert.ok(Math.abs(at(5, 0) - 10) < 1e-4 && Math.abs(at(5, 1)) < 1e-6, `e1: ${at(5, 0)}, ${at(5, 1)}`);
    // e2: cosine 0 < floor 0.6: no vote
    assert.strictEqual(at(9, 0) + at(9, 1), 0);
    // halfway: cosine √½ with both looks; gate (0.7071 − 0.6) / 0.4; the 5 neighbours tie, so the vote
    // splits as the tie falls (the total is what the formula fixes)
    const gate = (Math.SQRT1_2 - 0.6) / 0.4;
    assert.ok(Math.abs(at(13, 0) + at(13, 1) - 10 * gate) < 1e-3, `halfway total ${at(13, 0) + at(13, 1)}`);
  });

  it('weight 0 votes nothing', () => {
    const sup = grid(Array.from({ length: 16 }, () => e[0]));
    const samples = collectSamples([{ levels: [sup], labels: cellRaster(new Array(16).fill(1)) }], S, 1);
    const v = neighbourVote([sup], samples, neighbourColumns(samples), { weight: 0, k: 5, temperature: 0.05, floor: 0.6 });
    assert.ok(v.every((x) => x === 0));
  });
});
