// Malformed requests straight down the engine's IPC channel (seeded, a few hundred): wrong shapes, wrong
// types, values out of range, huge sizes, unknown types, no id. Each gets one protocol error reply (with
// the request's id when it had a usable one) and the same process answers hello at the end: a bad request
// never takes the engine down.
import * as assert from 'assert';
import { fork, type ChildProcess } from 'child_process';
import { Rng } from '../../src/engine/prng';
import type { Reply } from '../../src/shared/engineProtocol';
import { SERVER } from './helpers/engine';
import { countInput } from './helpers/tally';

const SET = { data: '/nonexistent', dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, seed: 1234, list: 'val' };
const MODEL = { backbone: 'mobilenetv2', size: 32 };

/** Valid requests (minus id) and, per field path, values that are wrong by the protocol's own rules. */
const TEMPLATES: Array<{ req: Record<string, unknown>; bad: Record<string, unknown[]> }> = [
  { req: { type: 'hello', protocol: 1 }, bad: { protocol: [0, -1, '1', null, 1.5] } },
  {
    req: { type: 'openDataset', ref: { data: '/x', dataset: 'voc' } },
    bad: { ref: [null, [], 'voc', 7], 'ref.data': ['', 5, null, 'x'.repeat(5000)], 'ref.dataset': ['pascal', 1, null], 'ref.crowd': ['maybe', 1], 'ref.images': [5, {}] },
  },
  {
    req: { type: 'listEpisodes', set: SET, run: 0, from: 0, count: 5 },
    bad: {
      count: [0, -1, 1.5, '5', 1e9, 2 ** 53, NaN, Infinity, null], run: [-1, 1e6, 'a'], from: [-1, 1e12, 0.5],
      set: [null, 'set', []], 'set.fold': [4, -1, 'x', 1.5], 'set.ways': [0, 1000], 'set.shots': [0, 1e6], 'set.list': ['test', 0], 'set.split': ['x'], 'set.seed': [-1, NaN, '7'],
      'set.minPixels': [0, 'x'], 'set.data': ['', 42],
    },
  },
  {
    req: { type: 'episodeView', set: SET, model: MODEL, annotation: 'dense', episode: 'r0e0', maxSide: 100 },
    bad: {
      'model.size': [1, 1e6, '32', null], 'model.backbone': ['resnet', 3], 'model.weights': [5], 'model.checkpoint': [[]], 'model.initSeed': [-1, 'x'], model: [null, 'm'],
      annotation: ['pencil', null], episode: ['', 7, 'x'.repeat(5000)], maxSide: [1e9, 4, 'big'],
    },
  },
  {
    req: { type: 'evaluate', params: { set: SET, model: MODEL, episodes: 2, runs: 1, annotation: 'dense' } },
    bad: { params: [null, [], 'p'], 'params.episodes': [0, 1e12, -3], 'params.runs': [0, 1000], 'params.annotation': ['x'], 'params.json': [5, 'x'.repeat(5000)], 'params.records': [{}] },
  },
  {
    req: { type: 'train', params: { data: { data: '/x', dataset: 'voc' }, fold: 0, split: 'panet', ways: 1, shots: 1, steps: 1, method: 'panet' } },
    bad: {
      'params.steps': [0, 1e12, 'ten'], 'params.method': ['unet', null], 'params.lr': [-1, 0, NaN, Infinity, '0.1'], 'params.size': [8, 1e5], 'params.freezeBackbone': ['yes', 1],
      'params.par': [-1, 'x'], 'params.fold': [9], 'params.backbone': ['resnet'], 'params.valEpisodes': [0], 'params.out': [5], 'params.resume': [{}], 'params.data': [null, 'x'],
    },
  },
  { req: { type: 'cancel', target: 3 }, bad: { target: [-1, 'x', null, 0.5] } },
];

function setPath(o: Record<string, unknown>, p: string, v: unknown, del = false): void {
  const keys = p.split('.');
  let cur = o;
  for (const k of keys.slice(0, -1)) {
    cur[k] = { ...(cur[k] as Record<string, unknown>) };
    cur = cur[k] as Record<string, unknown>;
  }
  if (del) delete cur[keys.at(-1)!];
  else cur[keys.at(-1)!] = v;
}

/** Seeded malformed messages; `expectId`: the id a reply must carry (-1: none usable). */
function malformed(seed: number, n: number): Array<{ msg: unknown; expectId: number; what: string }> {
  const rng = new Rng(seed);
  const out: Array<{ msg: unknown; expectId: number; what: string }> = [];
  let id = 1000;
  const required = (t: Record<string, unknown>): string[] => {
    // fields every template needs (their removal must be refused): everything but optional ones
    const optional = new Set(['maxSide', 'ref.crowd', 'ref.images', 'set.minPixels', 'params.json', 'params.records', 'params.lr', 'params.size', 'params.freezeBackbone', 'params.par', 'params.backbone',
      'params.valEpisodes', 'params.out', 'params.resume', 'model.weights', 'model.checkpoint', 'model.initSeed', 'model.backbone']);
    const paths: string[] = [];
    const walk = (o: Record<string, unknown>, pre: string) => {
      for (const [k, v] of Object.entries(o)) {
        if (k === 'type') continue;
        const p = pre ? `${pre}.${k}` : k;
        if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, p);
        else if (!optional.has(p)) paths.push(p);
      }
    };
    walk(t, '');
    return paths;
  };
  for (let i = 0; i < n; i++) {
    const kind = rng.int(10);
    const t = TEMPLATES[rng.int(TEMPLATES.length)];
    const msg: Record<string, unknown> = JSON.parse(JSON.stringify(t.req));
    if (kind === 0) {
      const junk = [null, 42, 'hello', [], [1, 2], new Uint8Array(8), true, { big: 10n }, new Map([[1, 2]])];
      out.push({ msg: junk[rng.int(junk.length)], expectId: -1, what: 'not an object' });
      continue;
    }
    if (kind === 1) {
      const ids = [undefined, -1, 1.5, '7', null, 2 ** 40];
      const bad = ids[rng.int(ids.length)];
      if (bad !== undefined) msg.id = bad;
      out.push({ msg, expectId: typeof bad === 'number' && Number.isFinite(bad) ? bad : -1, what: `id ${String(bad)}` });
      continue;
    }
    msg.id = id++;
    if (kind === 2) {
      msg.type = ['', 'Hello', 'evaluateAll', 'rm -rf', 'x'.repeat(1000), 5][rng.int(6)];
      out.push({ msg, expectId: msg.id as number, what: `type ${String(msg.type).slice(0, 20)}` });
    } else if (kind === 3) {
      const req = required(t.req);
      const p = req[rng.int(req.length)];
      setPath(msg, p, undefined, true);
      out.push({ msg, expectId: msg.id as number, what: `${t.req.type} without ${p}` });
    } else {
      const paths = Object.keys(t.bad);
      const p = paths[rng.int(paths.length)];
      const vals = t.bad[p];
      const v = vals[rng.int(vals.length)];
      setPath(msg, p, v);
      out.push({ msg, expectId: msg.id as number, what: `${t.req.type}.${p} = ${typeof v === 'string' && v.length > 20 ? `string(${v.length})` : String(v)}` });
    }
  }
  return out;
}

describe('engine process: malformed requests', function () {
  this.timeout(120000);
  let child: ChildProcess;
  const replies: Reply[] = [];
  let exited = false;

  before(async () => {
    child = fork(SERVER, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, PROTOLAB_BACKEND: 'wasm' } });
    child.on('message', (m) => replies.push(m as Reply));
    child.on('exit', () => (exited = true));
  });
  after(() => child.kill());

  const replyTo = async (id: number, from: number): Promise<Reply> => {
    for (let t = 0; t < 400; t++) {
      const r = replies.slice(from).find((x) => x.inReplyTo === id && x.type !== 'event');
      if (r) return r;
      if (exited) throw new Error('the engine process exited');
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`no reply to ${id}`);
  };

  it('answers 300 seeded malformed messages each with a protocol error, and lives on', async () => {
    const first = replies.length;
    child.send({ type: 'hello', id: 1, protocol: 1 });
    const hello = (await replyTo(1, first)) as { type: 'result'; value: { pid: number } };
    const pid = hello.value.pid;
    const msgs = malformed(20240611, 300);
    for (const m of msgs) {
      const from = replies.length;
      child.send(m.msg as never);
      const r = await replyTo(m.expectId, from);
      assert.strictEqual(r.type, 'error', `${m.what}: ${JSON.stringify(r).slice(0, 200)}`);
      assert.strictEqual((r as { kind: string }).kind, 'protocol', `${m.what}: ${(r as { message: string }).message}`);
      countInput('engine-request', 1);
    }
    const from = replies.length;
    child.send({ type: 'hello', id: 2, protocol: 1 });
    const again = (await replyTo(2, from)) as { type: 'result'; value: { pid: number } };
    assert.strictEqual(again.value.pid, pid);
    assert.ok(!exited);
  });
});
