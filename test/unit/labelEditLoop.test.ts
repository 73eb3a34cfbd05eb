// The labeling view's edit loop (src/webview/views/label/editLoop.ts) in node, without a browser: what
// each change sends, how undo/redo move shapes between the lists, which predictions are taken or
// dropped, and the retry of a failed send (with fake timers).
import * as assert from 'assert';
import type { LabelShape } from '../../src/shared/labelVocabulary';
import { EditLoop, RETRIES, type EditLoopPort, type ShapesEdit } from '../../src/webview/views/label/editLoop';

const box = (label: number): LabelShape => ({ kind: 'box', label, x0: 0, y0: 0, x1: 1, y1: 1 });
const stroke: LabelShape = { kind: 'stroke', label: 1, radius: 2, points: [1, 1, 5, 5] };

/** A port that records everything; sends settle as the test says. */
function harness() {
  const sent: ShapesEdit[] = [];
  const settle: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const failures: Array<[string, boolean]> = [];
  const history: Array<[boolean, boolean]> = [];
  const timers: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  const meter: string[] = [];
  const port: EditLoopPort = {
    send: (edit) => {
      sent.push(edit);
      return new Promise<void>((resolve, reject) => settle.push({ resolve, reject }));
    },
    editEnded: (g) => void meter.push(`ended ${g}`),
    posted: (g) => void meter.push(`posted ${g}`),
    history: (u, r) => void history.push([u, r]),
    failed: (message, retrying) => void failures.push([message, retrying]),
    later: (fn, ms) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return () => {
        t.cancelled = true;
      };
    },
  };
  return { loop: new EditLoop(port), sent, settle, failures, history, timers, meter };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('label edit loop (webview, DOM-free)', () => {
  it('does nothing before an image is open', () => {
    const { loop, sent } = harness();
    assert.strictEqual(loop.add(box(1)), false);
    assert.strictEqual(loop.undo(), false);
    assert.strictEqual(loop.redo(), false);
    assert.strictEqual(loop.takes('a', 1), false);
    assert.deepStrictEqual(sent, []);
  });

  it('every change sends the whole shape list and redo stack with the next generation', () => {
    const { loop, sent, history, meter } = harness();
    loop.open('a.jpg', [box(1)], [], 4);
    assert.deepStrictEqual(history.at(-1), [true, false], 'undo possible from the restored shapes');
    loop.add(stroke);
    assert.deepStrictEqual(sent.at(-1), { imageId: 'a.jpg', generation: 5, shapes: [box(1), stroke], redo: [] });
    loop.undo();
    assert.deepStrictEqual(sent.at(-1), { imageId: 'a.jpg', generation: 6, shapes: [box(1)], redo: [stroke] });
    assert.deepStrictEqual(history.at(-1), [true, true]);
    loop.redo();
    assert.deepStrictEqual(sent.at(-1), { imageId: 'a.jpg', generation: 7, shapes: [box(1), stroke], redo: [] });
    loop.undo();
    loop.add(box(2));
    assert.deepStrictEqual(sent.at(-1), { imageId: 'a.jpg', generation: 9, shapes: [box(1), box(2)], redo: [] }, 'a new edit clears redo');
    assert.deepStrictEqual(meter.slice(0, 2), ['ended 5', 'posted 5'], 'the meter starts before the post');
    // the lists sent are copies: later edits do not change what went out
    assert.strictEqual(sent[0].shapes.length, 2);
  });

  it('undo / redo with nothing to move send nothing', () => {
    const { loop, sent } = harness();
    loop.open('a', [], [], 0);
    assert.strictEqual(loop.undo(), false);
    assert.strictEqual(loop.redo(), false);
    assert.strictEqual(sent.length, 0);
  });

  it('takes predictions for the open image at its latest generation; drops older ones, ignores other images', () => {
    const { loop } = harness();
    loop.open('a', [], [], 0);
    loop.add(box(1));
    loop.add(box(2));
    assert.strictEqual(loop.takes('a', 1), false, 'an answer to shapes changed since');
    assert.strictEqual(loop.dropped, 1);
    assert.strictEqual(loop.takes('a', 2), true);
    assert.strictEqual(loop.takes('b', 2), false, 'another image');
    assert.strictEqual(loop.dropped, 1, 'another image is not a dropped reply');
    loop.open('b', [], [], 3);
    assert.strictEqual(loop.takes('b', 3), true, 'the host re-sending the stored generation');
  });

  it('a failed send of the latest edit is retried after 1, 2, 4 s, then left to the next change', async () => {
    const { loop, sent, settle, failures, timers } = harness();
    loop.open('a', [], [], 0);
    loop.add(box(1));
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      settle[attempt].reject(new Error('engine busy'));
      await tick();
      assert.deepStrictEqual(failures.at(-1), ['engine busy', attempt < RETRIES]);
      if (attempt < RETRIES) {
        assert.strictEqual(timers.at(-1)!.ms, 1000 * 2 ** attempt);
        timers.at(-1)!.fn();
        assert.deepStrictEqual(sent.at(-1), { imageId: 'a', generation: 1, shapes: [box(1)], redo: [] }, 'the same edit again');
      }
    }
    assert.strictEqual(sent.length, RETRIES + 1);
    assert.strictEqual(timers.length, RETRIES, 'no retry after the last');
  });

  it('a failure of an edit that is no longer the latest is not reported or retried', async () => {
    const { loop, settle, failures, timers } = harness();
    loop.open('a', [], [], 0);
    loop.add(box(1));
    loop.add(box(2));
    settle[0].reject(new Error('late'));
    await tick();
    assert.deepStrictEqual(failures, []);
    assert.strictEqual(timers.length, 0);
  });

  it('a new change cancels a pending retry (it sends everything anyway)', async () => {
    const { loop, settle, timers } = harness();
    loop.open('a', [], [], 0);
    loop.add(box(1));
    settle[0].reject(new Error('x'));
    await tick();
    assert.strictEqual(timers.length, 1);
    loop.add(box(2));
    assert.strictEqual(timers[0].cancelled, true);
  });
});
