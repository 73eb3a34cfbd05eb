// The webview boundary, host side: every message a webview posts goes through the panels' gate
// (src/extension/panels/gate.ts), which validates it against the protocol before any handler sees it.
// A seeded fuzz set of several hundred messages — wrong shapes, wrong types, out-of-range numbers,
// oversized strings and arrays, unknown and extra fields, prototype keys — must each be logged and
// dropped: nothing throws past the gate, nothing reaches a handler, and the well-formed controls do.
// Also: no import cycle in src/ (the panels' cycle is broken), and the webview's localResourceRoots.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Rng } from '../../src/engine/prng';
import { receiveWebviewMessage } from '../../src/extension/panels/gate';
import { webviewResourceRoots } from '../../src/extension/panels/webviewOptions';
import { validateWebviewMessage, WebviewProtocolError } from '../../src/shared/webviewProtocol';
import { cycles, importGraph } from './helpers/importCycles';
import { layerOf, layerViolations } from './helpers/layers';
import { tally } from './helpers/tally';

type Msg = Record<string, unknown>;

/** Well-formed messages, one per type, with every optional field filled. */
const VALID: Msg[] = [
  { type: 'ready', protocol: 1 },
  { type: 'listEpisodes', id: 1, from: 0, count: 50, run: 0 },
  { type: 'openEpisode', id: 2, episodeId: 'r0e1', annotation: 'dense', query: 0 },
  { type: 'runEval', id: 3 },
  { type: 'cancel', id: 4, requestId: 3 },
  { type: 'openReport', id: 5, path: '/ws/.protolab/reports/r.json', compare: false },
  { type: 'startTraining', id: 6, params: { method: 'panet', fold: 0, ways: 1, shots: 1, steps: 10, lr: 0.001, par: 1, freezeBackbone: false, init: '/ws/a.safetensors', supervision: 'masks' } },
  { type: 'pauseTraining', id: 7, runId: '/ws/.protolab/runs/a' },
  { type: 'resumeTraining', id: 8, runId: '/ws/.protolab/runs/a' },
  { type: 'cancelTraining', id: 9, runId: '/ws/.protolab/runs/a' },
  { type: 'setSettings', id: 10, settings: { dataset: '/data/voc', fold: 1, ways: 2, shots: 5, seed: 7, list: 'val', size: 321, backbone: 'vgg16', annotation: 'box', episodes: 100, runs: 2, split: 'panet' } },
];

const HUGE = 'x'.repeat(1_000_000);
const BAD_INT = [-1, 1.5, '3', null, NaN, Infinity, 2 ** 53, {}, [], true];
const BAD_STR = ['', 42, null, 'y'.repeat(5000), HUGE, {}, []];
const BAD_ENUM = ['pencil', '', 1, null, 'DENSE'];
const BAD_BOOL = ['true', 1, null, {}];
const BAD_OBJ = [null, [], 'settings', 5, true];

/** Per type: required field paths (their removal is invalid), and per field path the values that are wrong. */
const SCHEMA: Record<string, { required: string[]; bad: Record<string, unknown[]> }> = {
  ready: { required: ['protocol'], bad: { protocol: [0, -1, '1', null, 1.5] } },
  listEpisodes: { required: ['id', 'from', 'count'], bad: { id: BAD_INT, from: [...BAD_INT, 2e9], count: [...BAD_INT, 0, 1001, 1e9], run: BAD_INT } },
  openEpisode: { required: ['id', 'episodeId', 'annotation'], bad: { episodeId: BAD_STR, annotation: BAD_ENUM, query: BAD_INT } },
  runEval: { required: ['id'], bad: { id: BAD_INT } },
  cancel: { required: ['id', 'requestId'], bad: { requestId: BAD_INT } },
  openReport: { required: ['id'], bad: { path: [42, null, HUGE, {}], compare: BAD_BOOL } },
  startTraining: {
    required: ['id', 'params', 'params.method', 'params.fold', 'params.ways', 'params.shots', 'params.steps', 'params.lr', 'params.par', 'params.freezeBackbone'],
    bad: {
      params: BAD_OBJ, 'params.method': BAD_ENUM, 'params.fold': [...BAD_INT, 4], 'params.ways': [...BAD_INT, 0, 101], 'params.shots': [...BAD_INT, 0], 'params.steps': [...BAD_INT, 0, 1e10],
      'params.lr': [0, -1, NaN, Infinity, '0.1', null, 1e9], 'params.par': [-1, NaN, '1', null], 'params.freezeBackbone': BAD_BOOL, 'params.init': [5, HUGE], 'params.supervision': BAD_ENUM,
      'params.extra': ['anything'], 'params.__proto__': [{ polluted: true }],
    },
  },
  pauseTraining: { required: ['id', 'runId'], bad: { runId: BAD_STR } },
  resumeTraining: { required: ['id', 'runId'], bad: { runId: BAD_STR } },
  cancelTraining: { required: ['id', 'runId'], bad: { runId: BAD_STR } },
  setSettings: {
    required: ['id', 'settings'],
    bad: {
      settings: BAD_OBJ, 'settings.fold': [...BAD_INT, 4, Array(100000).fill(0)], 'settings.ways': [0, 101, '2'], 'settings.shots': [0, 'many'], 'settings.size': [15, 5000, 2.5],
      'settings.episodes': [0, 1e8], 'settings.runs': [0, 101], 'settings.list': BAD_ENUM, 'settings.split': BAD_ENUM, 'settings.annotation': BAD_ENUM, 'settings.backbone': BAD_ENUM,
      'settings.dataset': [42, HUGE], 'settings.checkpoint': [{}, HUGE], 'settings.weights': [[]], 'settings.datasetKind': ['folder', 1],
      'settings.theme': ['dark'], 'settings.constructor': [{ prototype: { polluted: true } }], 'settings.nested': [deep(2000)],
    },
  },
};

function deep(n: number): unknown {
  let o: Msg = { leaf: true };
  for (let i = 0; i < n; i++) o = { o };
  return o;
}

const clone = (m: Msg): Msg => JSON.parse(JSON.stringify(m));
function setPath(o: Msg, p: string, v: unknown, del = false): void {
  const keys = p.split('.');
  let cur = o;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Msg;
  const last = keys[keys.length - 1];
  if (del) delete cur[last];
  else Object.defineProperty(cur, last, { value: v, enumerable: true, writable: true, configurable: true }); // an own "__proto__" too, as JSON.parse makes it
}

/** Seeded malformed messages, each wrong by the schema above (not by asking the validator). */
export function malformedWebviewMessages(seed: number, n: number): Array<{ msg: unknown; what: string }> {
  const rng = new Rng(seed);
  const out: Array<{ msg: unknown; what: string }> = [];
  const templates = Object.fromEntries(VALID.map((m) => [m.type as string, m]));
  for (let i = 0; i < n; i++) {
    const kind = rng.int(12);
    if (kind === 0) {
      const cyclic: Msg = { type: 'runEval', id: 'c' };
      cyclic.self = cyclic;
      const junk = [null, undefined, 42, 'ready', true, [], [VALID[1]], new Uint8Array(4), new Map([['type', 'runEval']]), new Date(0), cyclic, HUGE];
      const k = rng.int(junk.length);
      out.push({ msg: junk[k], what: `not a message (${k})` });
      continue;
    }
    const type = Object.keys(SCHEMA)[rng.int(Object.keys(SCHEMA).length)];
    const msg = clone(templates[type]);
    if (kind === 1) {
      const types = ['Ready', 'listepisodes', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'x'.repeat(10000), 5, null, 'shutdown', 'evaluate'];
      msg.type = types[rng.int(types.length)];
      out.push({ msg, what: `type ${JSON.stringify(msg.type).slice(0, 30)}` });
    } else if (kind === 2) {
      const extras = ['extra', '__proto__', 'constructor', 'payload'];
      const k = extras[rng.int(extras.length)];
      setPath(msg, k, k === 'payload' ? HUGE : { polluted: true });
      out.push({ msg, what: `${type} with an extra field ${k}` });
    } else if (kind <= 5) {
      const req = SCHEMA[type].required;
      const p = req[rng.int(req.length)];
      setPath(msg, p, undefined, true);
      out.push({ msg, what: `${type} without ${p}` });
    } else {
      const bad = SCHEMA[type].bad;
      const paths = Object.keys(bad);
      const p = paths[rng.int(paths.length)];
      const v = bad[p][rng.int(bad[p].length)];
      setPath(msg, p, v);
      const shown = typeof v === 'string' ? (v.length > 20 ? `string(${v.length})` : JSON.stringify(v)) : Array.isArray(v) ? `array(${v.length})` : String(v);
      out.push({ msg, what: `${type}.${p} = ${shown}` });
    }
  }
  return out;
}

describe('webview boundary: every message validated before it is acted on', function () {
  this.timeout(120000);

  it('the well-formed controls pass the gate and reach their handler, once each', async () => {
    const reached: string[] = [];
    for (const m of VALID) {
      const outcome = await receiveWebviewMessage(m, {
        log: () => undefined, rejected: (id, why) => assert.fail(`${m.type} rejected: ${why}`),
        ready: () => { reached.push('ready'); }, request: async (r) => { reached.push(r.type); }, failed: (_, e) => assert.fail(String(e)),
      });
      assert.strictEqual(outcome, m.type === 'ready' ? 'ready' : 'handled');
    }
    assert.deepStrictEqual(reached, VALID.map((m) => m.type));
  });

  it('500 seeded malformed messages: each logged and dropped, none throws past the gate, none reaches a handler', async () => {
    const msgs = malformedWebviewMessages(8675309, 500);
    let logged = 0, repliedTo = 0;
    for (const { msg, what } of msgs) {
      // the validator throws its own error type, never a TypeError or RangeError of its own making
      assert.throws(() => validateWebviewMessage(msg), (e: unknown) => e instanceof WebviewProtocolError, what);
      const lines: string[] = [];
      const outcome = await receiveWebviewMessage(msg, {
        log: (l) => lines.push(l),
        rejected: (id) => { if (id !== undefined) repliedTo++; },
        ready: () => { tally.webview.reachedHandler++; },
        request: async () => { tally.webview.reachedHandler++; },
        failed: () => { tally.webview.reachedHandler++; },
      });
      assert.strictEqual(outcome, 'rejected', what);
      assert.strictEqual(lines.length, 1, `${what}: logged once`);
      assert.ok(lines[0].length < 400, `${what}: the log line stays short (${lines[0].length} chars)`);
      logged++;
      tally.webview.messages++;
    }
    assert.strictEqual(tally.webview.reachedHandler, 0);
    assert.strictEqual(logged, 500);
    assert.ok(repliedTo > 100, 'the ones with a usable id got an error reply');
    assert.strictEqual(({} as Msg).polluted, undefined, 'no prototype was polluted');
  });

  it('no import cycle anywhere in src/ (the panels\' panel ↔ handlers and services ↔ panel cycles are broken)', () => {
    const root = path.resolve(__dirname, '../../../src');
    const found = cycles(importGraph(root)).map((c) => c.map((f) => path.relative(root, f)));
    assert.deepStrictEqual(found, []);
  });

  it('no import goes up the layers (DESIGN.md): shared < ground floor … < commands/server < extension/webview, which import only shared/', () => {
    const root = path.resolve(__dirname, '../../../src');
    assert.deepStrictEqual(layerViolations(importGraph(root), root), []);
  });

  it('the layer rule catches a planted upward import (a tree made for the test)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-layers-'));
    try {
      const put = (rel: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        fs.writeFileSync(path.join(root, rel), text);
      };
      put('shared/palette.ts', 'export const P = 1;\n');
      put('engine/errors.ts', "import { P } from '../shared/palette';\nexport const E = P;\n");
      put('engine/eval/metrics.ts', "import { E } from '../errors';\nexport const M = E;\n");
      put('engine/nets/vgg16.ts', "import { M } from '../eval/metrics';\nexport const V = M;\n"); // nets -> eval: up
      put('webview/masks.ts', "import { P } from '../shared/palette';\nimport { E } from '../engine/errors';\nexport const W = P + E;\n"); // webview -> engine
      put('extension/panel.ts', "import { W } from '../webview/masks';\nexport const X = W;\n"); // extension -> webview
      assert.deepStrictEqual(layerViolations(importGraph(root), root), [
        'engine/nets/vgg16.ts -> engine/eval/metrics.ts',
        'extension/panel.ts -> webview/masks.ts',
        'webview/masks.ts -> engine/errors.ts',
      ]);
      assert.throws(() => layerOf('engine/newroom/x.ts'), /belongs to no layer/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('localResourceRoots: the bundle, the media and the configured datasets, nothing else', () => {
    const ext = '/opt/ext/protolab';
    assert.deepStrictEqual(webviewResourceRoots(ext, []), ['/opt/ext/protolab/dist/webview', '/opt/ext/protolab/media']);
    const roots = webviewResourceRoots(ext, [
      { name: 'voc', path: '/data/VOCdevkit', kind: 'voc' },
      { name: 'coco', path: '/data/coco/annotations/instances_val2014.json', kind: 'coco', images: '/images/val2014' },
      { name: 'again', path: '/data/VOCdevkit', kind: 'voc' },
      { name: 'mine', path: '/home/me/pics', kind: 'folder' },
    ]);
    assert.deepStrictEqual(roots, ['/opt/ext/protolab/dist/webview', '/opt/ext/protolab/media', '/data/VOCdevkit', '/data/coco/annotations', '/images/val2014', '/home/me/pics']);
    // not the extension root (dist/engine, node_modules), not a parent of a dataset, not the home folder
    for (const r of roots) assert.ok(!['/opt/ext/protolab', '/opt/ext/protolab/dist', '/data', '/home/me', '/'].includes(r), r);
  });
});
