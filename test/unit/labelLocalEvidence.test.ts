// Local evidence of the image's own clicks (quality/localEvidence.ts): a click raises its label's logit
// on cells that look like the clicked cell AND lie near it — not on look-alikes far away, not on cells
// that look different — and leaves every other label alone; weight 0 changes nothing. The expected
// values are worked out here from the formula, not read back from the code.
import * as assert from 'assert';
import { useTestBackend } from './helpers/tf';
import { addEvidence, localEvidence, type LocalEvidenceOptions } from '../../src/engine/label/quality/localEvidence';

function addLocalEvidence(logits: Float32Array, levels: Level[], own: Uint8Array, size: number, k1: number, opts: LocalEvidenceOptions): void {
  addEvidence(logits, localEvidence(levels, own, size, k1, opts));
}
import { UNLABELED } from '../../src/engine/label/predictor';
import type { Level } from '../../src/engine/label/quality/levels';

const G = 8; // grid side
const S = 64; // working size: cells of 8×8 pixels

/** A one-level grid whose left half has feature e0 and right half e1 (unit rows, orthogonal). */
function twoLooks(): Level {
  const c = 2, data = new Float32Array(G * G * c);
  for (let y = 0; y < G; y++) for (let x = 0; x < G; x++) data[(y * G + x) * c + (x < G / 2 ? 0 : 1)] = 1;
  return { h: G, w: G, c, data };
}

/** An S×S raster with a 3×3 px mark of `label` at the centre of cell (cy, cx). */
function click(cy: number, cx: number, label: number, into?: Uint8Array): Uint8Array {
  const r = into ?? new Uint8Array(S * S).fill(UNLABELED);
  const py = cy * 8 + 4, px = cx * 8 + 4;
  for (let y = py - 1; y <= py + 1; y++) for (let x = px - 1; x <= px + 1; x++) r[y * S + x] = label;
  return r;
}

describe('local evidence of own clicks', () => {
  before(() => useTestBackend('wasm'));
  const opts: LocalEvidenceOptions = { weight: 10, sigma: 0.25, floor: 0.3, maxSeeds: 48 };

  it('a positive click raises its class on near look-alikes, by weight · exp(−d²/2σ²), and nowhere else', () => {
    const k1 = 2, logits = new Float32Array(G * G * k1);
    addLocalEvidence(logits, [twoLooks()], click(3, 1, 1), S, k1, opts);
    const at = (y: number, x: number, k: number) => logits[(y * G + x) * k1 + k];
    // the seed itself: similarity 1, distance 0
    assert.ok(Math.abs(at(3, 1, 1) - 10) < 1e-4, `seed ${at(3, 1, 1)}`);
    // a look-alike 2 cells away: 10 · exp(−4 / (2 · (0.25·8)²)) = 10 · exp(−0.5)
    assert.ok(Math.abs(at(3, 3, 1) - 10 * Math.exp(-0.5)) < 1e-4, `near ${at(3, 3, 1)}`);
    // cells of the other look (cosine 0 < floor): nothing, however near
    assert.strictEqual(at(3, 4, 1), 0);
    // background and the rest untouched
    for (let i = 0; i < G * G; i++) assert.strictEqual(logits[i * k1], 0);
  });

  it('a negative click raises background; two labels each get their own seeds', () => {
    const k1 = 3, logits = new Float32Array(G * G * k1);
    const own = click(0, 0, 0);
    click(7, 7, 2, own);
    addLocalEvidence(logits, [twoLooks()], own, S, k1, opts);
    const at = (y: number, x: number, k: number) => logits[(y * G + x) * k1 + k];
    assert.ok(at(0, 0, 0) > 9.99 && at(0, 0, 2) === 0 && at(0, 0, 1) === 0);
    assert.ok(at(7, 7, 2) > 9.99 && at(7, 7, 0) === 0);
    // far look-alike of the background click (7 cells away): exp(−49/8) · 10 < 0.03
    assert.ok(at(7, 0, 0) > 0 && at(7, 0, 0) < 0.03, `far ${at(7, 0, 0)}`);
  });

  it('weight 0, or no marks, leaves the logits as they were', () => {
    const k1 = 2, base = Float32Array.from({ length: G * G * k1 }, (_, i) => (i % 7) - 3);
    const a = base.slice();
    addLocalEvidence(a, [twoLooks()], click(3, 1, 1), S, k1, { ...opts, weight: 0 });
    assert.deepStrictEqual(a, base);
    const b = base.slice();
    addLocalEvidence(b, [twoLooks()], new Uint8Array(S * S).fill(UNLABELED), S, k1, opts);
    assert.deepStrictEqual(b, base);
  });
});
