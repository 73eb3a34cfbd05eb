// The labeling state on disk: exact round trip, a version-1 state (fixture) opening through the
// migration, a newer version refused, rescans that merge, and the folder lock across two processes.
import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataError } from '../../src/engine/errors';
import { encodeIndexPng } from '../../src/engine/image/png';
import { acquireLock as acquireFileLock, STALE_MS } from '../../src/engine/lock';
import { LOCK_FILE } from '../../src/engine/label/state';
import { listPhotos, mergeScan } from '../../src/engine/label/scan';
import { maskShape } from '../../src/engine/label/shapes';
import {
  classDefs, collectMaskGarbage, emptyRecord, emptyState, loadState, MASKS_DIR, parseState, saveState, serializeState, STATE_FILE, storeMask,
  type LabelStateData,
} from '../../src/engine/label/state';

const FIXTURE = path.resolve(__dirname, '../../../test/unit/fixtures/label-state-v1');

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-state-'));
}

function sampleState(dir: string): LabelStateData {
  const s = emptyState(classDefs(['cat', 'dog']));
  s.classes[1].color = '#12abef';
  const pred = storeMask(dir, encodeIndexPng({ width: 2, height: 2, data: Uint8Array.from([0, 1, 1, 2]) }));
  s.images['a.jpg'] = { ...emptyRecord('aaaaaaaaaaaaaaaa', 10, 1.5), width: 640, height: 480, orientation: 6, format: 'jpeg' };
  s.images['sub/b c.png'] = {
    ...emptyRecord('bbbbbbbbbbbbbbbb', 20, 2.25),
    status: 'predicted', support: true, origin: 'human',
    shapes: [
      { kind: 'stroke', label: 1, radius: 2.5, points: [1.25, 2, 3, 4.5] },
      { kind: 'box', label: 255, x0: 0, y0: 0, x1: 1, y1: 1 },
      maskShape({ width: 3, height: 1, data: Uint8Array.from([254, 2, 0]) }),
      { kind: 'erase', radius: 1, points: [0, 0] },
      { kind: 'polygon', label: 2, points: [0, 0, 1, 0, 1, 1] },
    ],
    prediction: { mask: pred, size: 417, confidence: 0.625, model: 'k1', at: '2026-01-01T00:00:00.000Z' },
    note: 'renamed from b.png',
  };
  s.images['c.webp'] = { ...emptyRecord('cccccccccccccccc', 30, 3), status: 'broken', reason: 'corrupt or truncated image (x)' };
  s.orphans['dddddddddddddddd'] = { ...emptyRecord('dddddddddddddddd', 40, 4), shapes: [{ kind: 'stroke', label: 2, radius: 1, points: [1, 1] }], path: 'gone.jpg', missingSince: '2026-01-02T00:00:00.000Z' };
  // the workbench's redo stack (a mask shape among it) and image tags
  s.images['a.jpg'].redo = [maskShape({ width: 2, height: 1, data: Uint8Array.from([1, 254]) }), { kind: 'stroke', label: 1, radius: 3, points: [5, 5] }];
  s.images['a.jpg'].tags = ['cat'];
  s.settings = { method: 'baseline', backbone: 'mobilenetv2', size: 417, mode: 'tags', folderTags: false };
  return s;
}

describe('labeling state on disk', () => {
  it('round trip is exact, and mask shapes live in masks/ by content, not in the JSON', () => {
    const dir = tmp();
    try {
      const s = sampleState(dir);
      saveState(dir, s);
      const back = loadState(dir)!;
      assert.deepStrictEqual(back, s);
      assert.strictEqual(serializeState(back, dir), fs.readFileSync(path.join(dir, STATE_FILE), 'utf8'));
      const json = fs.readFileSync(path.join(dir, STATE_FILE), 'utf8');
      assert.ok(!json.includes('iVBOR'), 'no inline PNG in state.json');
      assert.match(json, /"kind": "mask",\s*"file": "[0-9a-f]{24}\.png"/);
      assert.strictEqual(fs.readdirSync(path.join(dir, MASKS_DIR)).length, 3); // the prediction, the mask shape, the redo mask shape
      assert.strictEqual(collectMaskGarbage(dir, back), 0, 'a mask shape in a redo stack is kept');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no state yet: undefined; a damaged one: a DataError that says it was not modified', () => {
    const dir = tmp();
    try {
      assert.strictEqual(loadState(dir), undefined);
      fs.writeFileSync(path.join(dir, STATE_FILE), '{"version": 2, "classes": [');
      assert.throws(() => loadState(dir), (e: Error) => e instanceof DataError && /not valid JSON.*not modified/.test(e.message));
      fs.writeFileSync(path.join(dir, STATE_FILE), JSON.stringify({ version: 2, classes: [{ name: 'a' }, { name: 'a' }], images: {} }));
      assert.throws(() => loadState(dir), /class name "a" appears twice/);
      fs.writeFileSync(path.join(dir, STATE_FILE), JSON.stringify({ version: 2, classes: [], images: { x: { hash: 'h', bytes: 1, mtimeMs: 1, status: 'done', shapes: [], support: false } } }));
      assert.throws(() => loadState(dir), /image x: status "done" is not one of/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a version-1 state (fixture) opens as version 2, and saves as version 2', () => {
    const dir = tmp();
    try {
      fs.cpSync(FIXTURE, dir, { recursive: true });
      const s = loadState(dir)!;
      assert.strictEqual(s.version, 2);
      assert.deepStrictEqual(s.classes, [{ name: 'cat', color: '#800000' }, { name: 'dog', color: '#008000' }]);
      assert.deepStrictEqual(Object.keys(s.images).sort(), ['a.jpg', 'c.png', 'd.jpg', 'sub/b.jpg']);
      assert.deepStrictEqual(s.images['a.jpg'], { hash: '00000000000000aa', bytes: 100, mtimeMs: 1700000000000, status: 'unlabeled', shapes: [], support: false });
      const b = s.images['sub/b.jpg'];
      assert.strictEqual(b.status, 'predicted');
      assert.strictEqual(b.support, true, 'every annotated v1 image was a support');
      assert.deepStrictEqual(b.shapes.map((x) => x.kind), ['stroke', 'mask']);
      assert.deepStrictEqual({ ...b.prediction, at: undefined }, { mask: 'd610cc12a6836936663ae0ba.png', size: 0, confidence: 0.62, model: 'v1', at: undefined });
      assert.deepStrictEqual(s.images['c.png'].accepted?.mask, '4861744c12e14a4d3cca2680.png');
      assert.strictEqual(s.images['c.png'].status, 'accepted');
      assert.deepStrictEqual([s.images['d.jpg'].status, s.images['d.jpg'].reason], ['broken', 'corrupt or truncated image (VipsJpeg: premature end of input file)']);
      saveState(dir, s);
      const raw = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), 'utf8'));
      assert.strictEqual(raw.version, 2);
      assert.deepStrictEqual(loadState(dir), s);
      // nothing the v2 state references was collected; the fixture's two masks + the mask shape's PNG remain
      collectMaskGarbage(dir, s);
      assert.strictEqual(fs.readdirSync(path.join(dir, MASKS_DIR)).length, 3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a state from a newer version is refused with what to do', () => {
    assert.throws(() => parseState(JSON.stringify({ version: 3, classes: [], images: {} }), '/x'), /version 3, written by a newer ProtoLab.*reads versions 1–2/);
    assert.throws(() => parseState(JSON.stringify({ classes: [] }), '/x'), /no valid version/);
  });

  it('collectMaskGarbage drops masks no record references', () => {
    const dir = tmp();
    try {
      const s = sampleState(dir);
      const stale = storeMask(dir, encodeIndexPng({ width: 1, height: 1, data: Uint8Array.from([7]) }));
      saveState(dir, s);
      assert.strictEqual(collectMaskGarbage(dir, s), 1);
      assert.ok(!fs.existsSync(path.join(dir, MASKS_DIR, stale)));
      assert.deepStrictEqual(loadState(dir), s);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('labeling folder rescans', () => {
  it('added, removed (work kept as an orphan), renamed (record follows the bytes), edited (prediction dropped, annotation kept)', async () => {
    const dir = tmp();
    try {
      const write = (rel: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), text);
      };
      write('a.jpg', 'A'); write('b.png', 'B'); write('sub/c.webp', 'C'); write('notes.txt', 'x'); write('.hidden/d.jpg', 'D');
      write('export/manifest.json', JSON.stringify({ tool: 'protolab-label' })); write('export/JPEGImages/a.jpg', 'A');
      const s = emptyState(classDefs(['x']));
      let ch = await mergeScan(s, listPhotos(dir));
      assert.deepStrictEqual(ch.added, ['a.jpg', 'b.png', 'sub/c.webp']);
      assert.deepStrictEqual(Object.keys(s.images), ['a.jpg', 'b.png', 'sub/c.webp']);
      // work on a and b
      s.images['a.jpg'] = { ...s.images['a.jpg'], shapes: [{ kind: 'stroke', label: 1, radius: 1, points: [0, 0] }], support: true, status: 'predicted', prediction: { mask: 'x', size: 8, confidence: 0.5, model: 'm', at: 't' } };
      s.images['b.png'] = { ...s.images['b.png'], status: 'accepted', accepted: { mask: 'y', at: 't' } };
      const hashB = s.images['b.png'].hash;
      // rename a → moved/a2.jpg; delete b; c untouched
      fs.mkdirSync(path.join(dir, 'moved'));
      fs.renameSync(path.join(dir, 'a.jpg'), path.join(dir, 'moved/a2.jpg'));
      fs.rmSync(path.join(dir, 'b.png'));
      ch = await mergeScan(s, listPhotos(dir));
      assert.deepStrictEqual(ch.renamed, [{ from: 'a.jpg', to: 'moved/a2.jpg' }]);
      assert.deepStrictEqual(ch.removed, ['b.png']);
      assert.deepStrictEqual(s.images['moved/a2.jpg'].shapes.length, 1);
      assert.strictEqual(s.images['moved/a2.jpg'].note, 'renamed from a.jpg');
      assert.ok(s.orphans[hashB], 'the accepted mask of a removed file is kept');
      assert.deepStrictEqual(Object.keys(s.images).sort(), ['moved/a2.jpg', 'sub/c.webp']);
      // b comes back under a new name: its accepted mask returns
      write('again/b.png', 'B');
      ch = await mergeScan(s, listPhotos(dir));
      assert.deepStrictEqual(ch.renamed, [{ from: 'b.png', to: 'again/b.png' }]);
      assert.strictEqual(s.images['again/b.png'].status, 'accepted');
      assert.deepStrictEqual(s.orphans, {});
      // edit the renamed a: new bytes, same path → prediction gone, strokes kept with a note
      fs.writeFileSync(path.join(dir, 'moved/a2.jpg'), 'A, edited');
      ch = await mergeScan(s, listPhotos(dir));
      assert.deepStrictEqual(ch.changed, ['moved/a2.jpg']);
      const a = s.images['moved/a2.jpg'];
      assert.strictEqual(a.prediction, undefined);
      assert.strictEqual(a.status, 'unlabeled');
      assert.strictEqual(a.shapes.length, 1);
      assert.match(a.note ?? '', /changed on disk.*annotation was kept/);
      // an unchanged folder is not re-hashed (the hash function is not called)
      ch = await mergeScan(s, listPhotos(dir), () => { throw new Error('re-hashed an unchanged file'); });
      assert.deepStrictEqual(ch, { added: [], removed: [], renamed: [], changed: [] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('labeling folder lock', function () {
  this.timeout(30000);
  const lockJs = path.resolve(__dirname, '../../src/engine/lock.js');
  const acquireLock = (dir: string, tool: string) => acquireFileLock(path.join(dir, LOCK_FILE), tool, "this folder's labeling state");

  function holdInChild(dir: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['-e', `
      require(${JSON.stringify(lockJs)}).acquireLock(${JSON.stringify(path.join(dir, LOCK_FILE))}, 'test-holder');
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes('locked') && resolve(child));
      child.on('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    });
  }

  it('a second process is refused with the holder named; a killed holder\'s lock is taken over', async () => {
    const dir = tmp();
    let child: ChildProcess | undefined;
    try {
      child = await holdInChild(dir);
      assert.throws(() => acquireLock(dir, 'second'), (e: Error) =>
        e instanceof DataError && e.message.includes(`test-holder (pid ${child!.pid} on ${os.hostname()}`) && e.message.includes(path.join(dir, LOCK_FILE)));
      // a live holder on this host is never taken over, however old its heartbeat
      const old = new Date(Date.now() - STALE_MS - 60_000);
      fs.utimesSync(path.join(dir, LOCK_FILE), old, old);
      assert.throws(() => acquireLock(dir, 'second'), /in use by test-holder/);
      const exited = new Promise((r) => child!.on('exit', r));
      child.kill('SIGKILL'); // no chance to release: the lock file stays behind
      await exited;
      assert.ok(fs.existsSync(path.join(dir, LOCK_FILE)));
      const lock = acquireLock(dir, 'second');
      assert.strictEqual(JSON.parse(fs.readFileSync(lock.file, 'utf8')).pid, process.pid);
      lock.release();
      assert.ok(!fs.existsSync(lock.file));
    } finally {
      child?.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a lock held on another host counts until its heartbeat is older than the stale limit', () => {
    const dir = tmp();
    try {
      const file = path.join(dir, LOCK_FILE);
      fs.writeFileSync(file, JSON.stringify({ pid: 1, host: 'another-host', tool: 'workbench', startedAt: '2026-01-01T00:00:00Z' }));
      assert.throws(() => acquireLock(dir, 'me'), /in use by workbench \(pid 1 on another-host/);
      const old = new Date(Date.now() - STALE_MS - 60_000);
      fs.utimesSync(file, old, old);
      const lock = acquireLock(dir, 'me');
      lock.release();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
