// How close two feature tensors are, for the tests that compare one engine's features with another's
// (onnxruntime against tfjs): the largest absolute difference relative to the reference's scale.
import * as assert from 'assert';

/** max |a − b| / max |b|; asserts equal lengths and a non-zero reference (else the comparison says nothing). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.strictEqual(a.length, b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  assert.ok(m > 0, 'reference features are all zero: the comparison would say nothing');
  return d / m;
}
