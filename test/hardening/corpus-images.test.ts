// Bad images and masks, generated here (never committed), each put through the CLI (eval, masks, score,
// segment) and the engine process. Every case must give an error or a skip line naming the file and the
// problem; batches go on with the rest and say what they left out; the engine process survives them all.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { encode } from 'fast-png';
import { openDataset } from '../../src/engine/data/open';
import { EpisodeSampler } from '../../src/engine/data/episodes';
import { baseClasses, foldClasses } from '../../src/engine/data/splits';
import { resolveTrainConfig } from '../../src/engine/train/trainer';
import { readRgb } from '../../src/engine/image/decode';
import { decodeIndexPng } from '../../src/engine/image/png';
import { VOC_COLORMAP } from '../../src/shared/palette';
import { DataError } from '../../src/engine/errors';
import { jpegClaiming, pngBomb, pngFile } from './helpers/bytes';
import { runCli, show, type CliRun } from './helpers/cliInProcess';
import { EngineClient } from '../../src/extension/engineClient';
import { engineCall, engineRefuses, engineStillAlive, SERVER } from './helpers/engine';
import { freshCase, pristine, TMP, type Fixture } from './helpers/fixtures';
import { countInput } from './helpers/tally';

const MODEL = ['--backbone', 'mobilenetv2', '--size', '32', '--workers', '0', '--backend', 'wasm'];

/** Where an image of the val list first appears: the fold of one of its classes and the episode index. */
async function episodeWith(id: string): Promise<{ fold: number; index: number }> {
  const f = await pristine();
  const ds = await openDataset({ data: f.root, dataset: 'voc' });
  const index = await ds.index('val');
  const entry = index.find((e) => e.id === id)!;
  for (const c of Object.keys(entry.pixels).map(Number)) {
    const fold = Math.floor((c - 1) / 5);
    const sampler = new EpisodeSampler({ fold, classes: foldClasses('voc', 20, fold), ways: 1, shots: 1, queriesPerClass: 1, seed: 1234, list: 'val', minPixels: 1 }, index);
    for (let i = 0; i < 300; i++) {
      const ep = sampler.episode(0, i);
      if (ep.queries.includes(id) || ep.supports.flat().includes(id)) return { fold, index: i };
    }
  }
  throw new Error(`no early episode uses ${id}`);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The output names the file and, on the same line, the problem. */
function names(r: CliRun, file: string, problem: RegExp, where: 'out' | 'err' | 'any' = 'any'): void {
  const text = where === 'out' ? r.out : where === 'err' ? r.err : `${r.out}\n${r.err}`;
  const line = text.split('\n').find((l) => l.includes(file) && problem.test(l));
  assert.ok(line, `expected a line naming ${file} with ${problem}\n${show(r)}`);
}

async function mobileJpeg(w: number, h: number): Promise<Buffer> {
  return sharp({ create: { width: w, height: h, channels: 3, background: '#4080c0' } }).jpeg().toBuffer();
}

/** The palette-index mask of an image as the pristine sample has it. */
async function trueMask(id: string) {
  const f = await pristine();
  return decodeIndexPng(fs.readFileSync(f.mask(id)), id);
}

// ---- the cases --------------------------------------------------------------------------------------

interface ImageCase {
  name: string;
  /** writes the bad image file for val image `id` */
  make(f: Fixture, id: string): Promise<void> | void;
  problem: RegExp;
  /** does `masks` (which reads image headers only) refuse it too? */
  masksSkips: boolean;
}

const imageCases: ImageCase[] = [
  {
    name: 'truncated JPEG (body cut)',
    make: (f, id) => { const b = fs.readFileSync(f.jpeg(id)); fs.writeFileSync(f.jpeg(id), b.subarray(0, Math.floor(b.length * 0.6))); },
    problem: /corrupt or truncated image .*premature end/i,
    masksSkips: false,
  },
  {
    name: 'JPEG cut inside its header',
    make: (f, id) => { const b = fs.readFileSync(f.jpeg(id)); fs.writeFileSync(f.jpeg(id), b.subarray(0, 120)); },
    problem: /not a readable image/,
    masksSkips: true,
  },
  { name: 'zero-byte image', make: (f, id) => fs.writeFileSync(f.jpeg(id), ''), problem: /not a readable image: empty file \(0 bytes\)/, masksSkips: true },
  {
    name: 'garbage bytes named .jpg',
    make: (f, id) => fs.writeFileSync(f.jpeg(id), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251))),
    problem: /not a readable image/,
    masksSkips: true,
  },
  {
    name: 'truncated PNG as the image',
    make: async (f, id) => { const png = await sharp(f.jpeg(id)).png().toBuffer(); fs.writeFileSync(f.jpeg(id), png.subarray(0, Math.floor(png.length / 2))); },
    problem: /not a readable image|corrupt or truncated image/,
    masksSkips: false,
  },
  {
    name: 'JPEG bomb (header claims 60000×60000)',
    make: async (f, id) => fs.writeFileSync(f.jpeg(id), jpegClaiming(await mobileJpeg(16, 16), 60000, 60000)),
    problem: /image is 60000×60000 = 3600\.0 MP, over the 67\.1 MP limit; refused before decoding .*--max-pixels/,
    masksSkips: true,
  },
  {
    name: 'PNG bomb (header claims 30000×30000)',
    make: (f, id) => fs.writeFileSync(f.jpeg(id), pngBomb(30000, 30000)),
    problem: /image is 30000×30000 = 900\.0 MP, over the 67\.1 MP limit; refused before decoding .*--max-pixels/,
    masksSkips: true,
  },
  {
    name: 'a folder where the image should be',
    make: (f, id) => { fs.rmSync(f.jpeg(id)); fs.mkdirSync(f.jpeg(id)); },
    problem: /not a readable image: is a folder, not an image file/,
    masksSkips: true,
  },
];

interface MaskCase {
  name: string;
  make(f: Fixture, id: string): Promise<void> | void;
  /** a problem: the image is left out (index) / skipped, naming the mask; absent: the mask is read as the truth */
  problem?: RegExp;
  /** a label outside the dataset's classes: score and segment, which know no class list, take it as a class */
  anyLabelOk?: boolean;
}

const maskCases: MaskCase[] = [
  { name: 'zero-byte mask', make: (f, id) => fs.writeFileSync(f.mask(id), ''), problem: /not a readable PNG: empty file \(0 bytes\)/ },
  {
    name: 'truncated mask PNG',
    make: (f, id) => { const b = fs.readFileSync(f.mask(id)); fs.writeFileSync(f.mask(id), b.subarray(0, Math.floor(b.length * 0.7))); },
    problem: /not a readable PNG: truncated: the file ends at byte \d+ inside its [A-Za-z]{4} chunk/,
  },
  {
    name: 'mask PNG with corrupt image data (valid CRCs)',
    make: async (f, id) => {
      const m = await trueMask(id);
      const good = pngFile({ width: m.width, height: m.height, bitDepth: 8, colorType: 0, pixels: m.data });
      // same structure, IDAT payload replaced by bytes that are no zlib stream
      const bad = pngFile({ width: m.width, height: m.height, bitDepth: 8, colorType: 0, idat: Buffer.alloc(200, 0x5a) });
      assert.ok(good.length > 0);
      fs.writeFileSync(f.mask(id), bad);
    },
    problem: /not a readable PNG: its image data is corrupt/,
  },
  { name: 'a JPEG named .png as the mask', make: async (f, id) => fs.writeFileSync(f.mask(id), await mobileJpeg(56, 40)), problem: /not a readable PNG: not a PNG file/ },
  {
    name: 'RGB mask with a colour outside the VOC palette',
    make: async (f, id) => {
      const m = await trueMask(id);
      const rgb = new Uint8Array(m.width * m.height * 3);
      m.data.forEach((v, i) => rgb.set(VOC_COLORMAP[v], 3 * i));
      rgb.set([1, 2, 3], 3 * 5);
      fs.writeFileSync(f.mask(id), encode({ width: m.width, height: m.height, data: rgb, channels: 3, depth: 8 }));
    },
    problem: /colour rgb\(1,2,3\) at \(5,0\) which is not in the VOC palette/,
  },
  {
    name: 'mask value outside the classes (37)',
    make: async (f, id) => {
      const m = await trueMask(id);
      m.data[m.width + 2] = 37;
      fs.writeFileSync(f.mask(id), pngFile({ width: m.width, height: m.height, bitDepth: 8, colorType: 0, pixels: m.data }));
    },
    problem: /value 37 at \(2,1\) is not a class \(0\.\.20\) or 255/,
    anyLabelOk: true,
  },
  {
    name: '16-bit mask with a value over 255',
    make: async (f, id) => {
      const m = await trueMask(id);
      const d = Uint16Array.from(m.data);
      d[3] = 300;
      fs.writeFileSync(f.mask(id), encode({ width: m.width, height: m.height, data: d, channels: 1, depth: 16 }));
    },
    problem: /16-bit mask has value 300 at \(3,0\); class indices must fit 0\.\.255/,
  },
  { name: 'mask bomb (header claims 30000×30000)', make: (f, id) => fs.writeFileSync(f.mask(id), pngBomb(30000, 30000)), problem: /over the 67\.1 MP limit; refused before decoding .*--max-pixels/ },
  // read as the truth: the indices are the labels whatever the encoding
  {
    name: 'palette mask whose PLTE chunk is missing',
    make: async (f, id) => {
      const m = await trueMask(id);
      fs.writeFileSync(f.mask(id), pngFile({ width: m.width, height: m.height, bitDepth: 8, colorType: 3, pixels: m.data }));
    },
  },
  {
    name: 'RGB mask in VOC colours (no palette)',
    make: async (f, id) => {
      const m = await trueMask(id);
      const rgb = new Uint8Array(m.width * m.height * 3);
      m.data.forEach((v, i) => rgb.set(VOC_COLORMAP[v], 3 * i));
      fs.writeFileSync(f.mask(id), encode({ width: m.width, height: m.height, data: rgb, channels: 3, depth: 8 }));
    },
  },
  {
    name: 'RGBA mask in VOC colours',
    make: async (f, id) => {
      const m = await trueMask(id);
      const rgba = new Uint8Array(m.width * m.height * 4);
      m.data.forEach((v, i) => { rgba.set(VOC_COLORMAP[v], 4 * i); rgba[4 * i + 3] = 255; });
      fs.writeFileSync(f.mask(id), encode({ width: m.width, height: m.height, data: rgba, channels: 4, depth: 8 }));
    },
  },
  {
    name: '16-bit gray mask with values ≤ 255',
    make: async (f, id) => {
      const m = await trueMask(id);
      fs.writeFileSync(f.mask(id), encode({ width: m.width, height: m.height, data: Uint16Array.from(m.data), channels: 1, depth: 16 }));
    },
  },
];

describe('corpus: bad images and masks', function () {
  this.timeout(300000);
  let target: string;
  let other: string;
  let where: { fold: number; index: number };

  before(async () => {
    const f = await pristine();
    target = f.valIds[3];
    other = f.valIds[4];
    where = await episodeWith(target);
  });

  for (const c of imageCases) {
    it(`image: ${c.name}`, async () => {
      const f = await freshCase(c.name, 'voc');
      await c.make(f, target);
      const file = f.jpeg(target);
      // eval: the episodes using the image are skipped and listed; the others are scored
      const json = path.join(f.root, 'r.json');
      const e = await runCli(['eval', '--data', f.root, '--fold', String(where.fold), '--ways', '1', '--shots', '1',
        '--episodes', String(where.index + 2), '--runs', '1', '--json', json, ...MODEL]);
      assert.ok(!e.threw && e.code === 0, show(e));
      names(e, file, c.problem, 'out');
      const r = JSON.parse(fs.readFileSync(json, 'utf8'));
      assert.ok(r.skipped.some((s: { error: string }) => s.error.includes(file) && c.problem.test(s.error)), JSON.stringify(r.skipped));
      assert.ok(r.episodesScored >= 1, 'the other episodes were scored');
      // segment: a bad query is named and skipped, the good one written; a bad support stops the episode
      const out = path.join(f.root, 'seg');
      const s = await runCli(['segment', '--support', f.jpeg(other), '--support-mask', f.mask(other), '--query', file, '--query', f.jpeg(other), '--out', out,
        '--size', '32', '--backend', 'wasm']);
      assert.ok(!s.threw && s.code === 0, show(s));
      names(s, file, c.problem, 'err');
      assert.ok(fs.existsSync(path.join(out, `${other}.png`)) && !fs.existsSync(path.join(out, `${target}.png`)));
      const s2 = await runCli(['segment', '--support', file, '--support-mask', f.mask(target), '--query', f.jpeg(other), '--out', out, '--size', '32', '--backend', 'wasm']);
      assert.ok(!s2.threw && s2.code === 1, show(s2));
      names(s2, file, c.problem, 'err');
      // masks: reads image headers only, so a damaged header is named and skipped, the rest written
      const m = await runCli(['masks', '--data', f.root, '--out', path.join(f.root, 'masks')]);
      assert.ok(!m.threw && m.code === 0, show(m));
      if (c.masksSkips) names(m, file, /./, 'out');
      assert.ok(fs.existsSync(path.join(f.root, 'masks', `${other}.png`)));
      // the engine: evaluate skips and lists; episodeView of that episode is a data error naming the file
      const set = { data: f.root, dataset: 'voc' as const, split: 'panet' as const, fold: where.fold, ways: 1, shots: 1, seed: 1234, list: 'val' as const };
      const er = (await engineCall({ type: 'evaluate', params: { set, model: { backbone: 'mobilenetv2', size: 32 }, episodes: where.index + 1, runs: 1, annotation: 'dense' } })) as { skipped: Array<{ error: string }> };
      assert.ok(er.skipped.some((x) => x.error.includes(file) && c.problem.test(x.error)), JSON.stringify(er.skipped));
      const ev = await engineRefuses({ type: 'episodeView', set, model: { backbone: 'mobilenetv2', size: 32 }, annotation: 'dense', episode: `r0e${where.index}` });
      assert.strictEqual(ev.kind, 'data', ev.message);
      assert.strictEqual(ev.file, file);
      assert.match(ev.message, c.problem);
      countInput('image', 6);
    });
  }

  for (const c of maskCases) {
    it(`mask: ${c.name}`, async () => {
      const f = await freshCase(c.name, 'voc');
      await c.make(f, target);
      const file = f.mask(target);
      const json = path.join(f.root, 'r.json');
      const e = await runCli(['eval', '--data', f.root, '--fold', String(where.fold), '--ways', '1', '--shots', '1', '--episodes', '4', '--runs', '1', '--json', json, ...MODEL]);
      assert.ok(!e.threw && e.code === 0, show(e));
      const r = JSON.parse(fs.readFileSync(json, 'utf8'));
      const m = await runCli(['masks', '--data', f.root, '--out', path.join(f.root, 'masks')]);
      assert.ok(!m.threw && m.code === 0, show(m));
      // score: ground truth = the masks folder as it is, predictions = the pristine masks
      const pred = path.join((await pristine()).voc, 'SegmentationClass');
      const sc = await runCli(['score', '--gt', path.join(f.voc, 'SegmentationClass'), '--pred', pred]);
      assert.ok(!sc.threw && sc.code === 0, show(sc));
      const er = (await engineCall({ type: 'evaluate', params: { set: { data: f.root, dataset: 'voc', split: 'panet', fold: where.fold, ways: 1, shots: 1, seed: 1234, list: 'val' }, model: { backbone: 'mobilenetv2', size: 32 }, episodes: 2, runs: 1, annotation: 'dense' } })) as { dataProblems: Array<{ file: string; problem: string }> };
      if (c.problem) {
        // left out of the index, said in the table, the JSON, by masks, by score and by the engine
        names(e, file, c.problem, 'out');
        assert.ok(r.dataProblems.some((p: { file: string; problem: string }) => p.file === file && c.problem!.test(p.problem)), JSON.stringify(r.dataProblems));
        names(m, file, c.problem, 'out');
        if (!c.anyLabelOk) names(sc, file, c.problem, 'out');
        assert.ok(er.dataProblems.some((p) => p.file === file && c.problem!.test(p.problem)), JSON.stringify(er.dataProblems));
        if (!c.anyLabelOk) {
          const s = await runCli(['segment', '--support', f.jpeg(target), '--support-mask', file, '--query', f.jpeg(other), '--out', path.join(f.root, 'seg'), '--size', '32', '--backend', 'wasm']);
          assert.ok(!s.threw && s.code === 1, show(s));
          names(s, file, c.problem, 'err');
        }
      } else {
        // read as the very same indices as the palette PNG
        assert.deepStrictEqual(r.dataProblems, [], JSON.stringify(r.dataProblems));
        const written = decodeIndexPng(fs.readFileSync(path.join(f.root, 'masks', `${target}.png`)), 'written');
        assert.deepStrictEqual(written.data, (await trueMask(target)).data);
        assert.match(sc.out, /mIoU 100\.0/);
        assert.deepStrictEqual(er.dataProblems, []);
      }
      countInput('mask', c.problem ? 6 : 4);
    });
  }

  it('mask: a mask whose size differs from its image (episodes with it skipped, masks skips it, the engine names it)', async () => {
    const f = await freshCase('size mismatch', 'voc');
    const m = await trueMask(target);
    const wide = new Uint8Array((m.width + 1) * m.height);
    for (let y = 0; y < m.height; y++) wide.set(m.data.subarray(y * m.width, (y + 1) * m.width), y * (m.width + 1));
    fs.writeFileSync(f.mask(target), pngFile({ width: m.width + 1, height: m.height, bitDepth: 8, colorType: 0, pixels: wide }));
    const file = f.mask(target);
    const problem = new RegExp(`mask is ${m.width + 1}×${m.height} but its image ${esc(f.jpeg(target))} is ${m.width}×${m.height}`);
    const e = await runCli(['eval', '--data', f.root, '--fold', String(where.fold), '--ways', '1', '--shots', '1', '--episodes', String(where.index + 1), '--runs', '1', ...MODEL]);
    assert.ok(!e.threw && e.code === 0, show(e));
    names(e, file, problem, 'out');
    const mk = await runCli(['masks', '--data', f.root, '--out', path.join(f.root, 'masks')]);
    names(mk, file, problem, 'out');
    const set = { data: f.root, dataset: 'voc' as const, split: 'panet' as const, fold: where.fold, ways: 1, shots: 1, seed: 1234, list: 'val' as const };
    const ev = await engineRefuses({ type: 'episodeView', set, model: { backbone: 'mobilenetv2', size: 32 }, annotation: 'dense', episode: `r0e${where.index}` });
    assert.strictEqual(ev.file, file);
    assert.match(ev.message, problem);
    countInput('mask', 3);
  });

  it('train: a step whose image is truncated is skipped and said (a skip row); the run completes and a resume skips it again', async () => {
    const f = await freshCase('train bad image', 'voc');
    const ds = await openDataset({ data: f.root, dataset: 'voc' });
    const cfg = resolveTrainConfig({ dataset: 'voc', fold: 0, ways: 1, shots: 1, steps: 4 }, ds);
    const sampler = new EpisodeSampler({ fold: 0, classes: baseClasses('voc', 20, 0), ways: 1, shots: 1, queriesPerClass: 1, seed: 1234, list: cfg.list, minPixels: 1 }, await ds.index(cfg.list));
    const [q] = sampler.episode(0, 1).queries; // step 2's query
    const b = fs.readFileSync(f.jpeg(q));
    fs.writeFileSync(f.jpeg(q), b.subarray(0, Math.floor(b.length * 0.6)));
    const run = path.join(f.root, 'run');
    const args = ['--data', f.root, '--fold', '0', '--ways', '1', '--shots', '1', '--size', '32', '--method', 'metasegnet', '--freeze-backbone',
      '--backbone', 'mobilenetv2', '--backend', 'wasm', '--val-every', '0', '--checkpoint-every', '1'];
    const t = await runCli(['train', ...args, '--steps', '4', '--out', run]);
    assert.ok(!t.threw && t.code === 0, show(t));
    names(t, f.jpeg(q), /step 2 skipped \(bad input\): .*corrupt or truncated image/, 'err');
    const rows = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // every step whose episode uses the image is skipped (step 2's at least), every other one trains
    const uses = (step: number) => { const e = sampler.episode(0, step - 1); return [...e.supports.flat(), ...e.queries].includes(q); };
    assert.deepStrictEqual(rows.map((r) => [r.kind, r.step]), [1, 2, 3, 4].map((st) => [uses(st) ? 'skip' : 'train', st]));
    assert.strictEqual(rows[1].file, f.jpeg(q));
    // the same run resumed from step 1 skips the same step and ends with the same rows
    fs.writeFileSync(path.join(run, 'latest.json'), JSON.stringify({ step: 1, checkpoint: 'checkpoints/step-000001.safetensors' }));
    const r = await runCli(['train', '--resume', run, '--backend', 'wasm']);
    assert.ok(!r.threw && r.code === 0, show(r));
    const again = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepStrictEqual(again.map((x) => [x.kind, x.step, x.loss]), rows.map((x) => [x.kind, x.step, x.loss]));
    countInput('image', 2);
  });

  it('decompression bombs are refused from the header: fast, small, with the limit named; --max-pixels and the engine option set it', async () => {
    const dir = path.join(TMP, 'bombs');
    fs.mkdirSync(dir, { recursive: true });
    const png = path.join(dir, 'png-60000.png');
    fs.writeFileSync(png, pngBomb(60000, 60000));
    const jpg = path.join(dir, 'jpeg-60000.jpg');
    fs.writeFileSync(jpg, jpegClaiming(await mobileJpeg(16, 16), 60000, 60000));
    assert.ok(fs.statSync(png).size < 8192, `the PNG bomb is ${fs.statSync(png).size} bytes`);
    for (const [file, read] of [[png, () => readRgb(png)], [jpg, () => readRgb(jpg)], [png, async () => decodeIndexPng(fs.readFileSync(png), png)]] as const) {
      global.gc?.();
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      await assert.rejects(read(), (err: unknown) => err instanceof DataError && err.file === file && /60000×60000 = 3600\.0 MP, over the 67\.1 MP limit; refused before decoding/.test(err.problem));
      const ms = performance.now() - t0, grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
      assert.ok(ms < 2000, `refused in ${ms.toFixed(0)} ms`);
      assert.ok(grew < 100, `RSS grew ${grew.toFixed(0)} MB`);
    }
    // --max-pixels lowers (or raises) the limit: at 1000 pixels every sample image is a "bomb"
    const f = await freshCase('max-pixels', 'voc');
    const e = await runCli(['eval', '--data', f.root, '--fold', String(where.fold), '--episodes', '2', '--runs', '1', '--max-pixels', '1000', ...MODEL]);
    assert.ok(!e.threw && e.code === 1, show(e));
    // every mask (≈ 50×50) is over 1000 pixels, so no image is left and the error says why
    assert.match(e.err, /SegmentationClass\/\S+\.png: image is \d+×\d+ = 0\.\d+ MP, over the 0\.001 MP limit; refused before decoding .*\(and 23 more input problem\(s\) of the val list\); so fold \d \(val list\) has only 0 classes/);
    const bad = await runCli(['masks', '--data', f.root, '--out', path.join(f.root, 'm'), '--max-pixels', 'lots']);
    assert.strictEqual(bad.code, 2, show(bad));
    assert.match(bad.err, /--max-pixels must be a pixel count such as 100000000 or 100M \(got lots\)/);
    // …and so does the engine option (PROTOLAB_MAX_PIXELS, what the extension's setting sets)
    const small = new EngineClient({ serverPath: SERVER, env: { PROTOLAB_BACKEND: 'wasm', PROTOLAB_MAX_PIXELS: '1000' }, autoRestart: false });
    try {
      const set = { data: f.root, dataset: 'voc' as const, split: 'panet' as const, fold: where.fold, ways: 1, shots: 1, seed: 1234, list: 'val' as const };
      const v = await small.call({ type: 'episodeView', set, model: { backbone: 'mobilenetv2', size: 32 }, annotation: 'dense', episode: 'r0e0' }).then(() => undefined, (err: Error) => err);
      assert.match(String(v?.message), /over the 0\.001 MP limit/);
    } finally {
      await small.stop();
    }
    countInput('image', 5);
  });

  it('the engine process that got every case above is the one still serving', async () => {
    assert.ok(await engineStillAlive(), 'the engine process died or was replaced');
  });
});


