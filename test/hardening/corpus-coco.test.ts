// Bad COCO annotation files, made from the sample's instances_val2014.json: not JSON, truncated, missing
// or mistyped fields, RLEs that do not fit their image, degenerate polygons, unknown and repeated ids,
// file_names that leave the dataset. A broken file is refused naming the file and the entry; what can be
// repaired (a polygon with 2 points) is repaired and said; a bad image goes its own way (skipped, named).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { openDataset } from '../../src/engine/data/open';
import { EpisodeSampler } from '../../src/engine/data/episodes';
import { foldClasses } from '../../src/engine/data/splits';
import { rleToString } from '../../src/engine/data/coco/rle';
import { runCli, show } from './helpers/cliInProcess';
import { engineCall, engineRefuses, engineStillAlive } from './helpers/engine';
import { freshCase, pristine, TMP, type Fixture } from './helpers/fixtures';
import { countInput } from './helpers/tally';

type Doc = { images: any[]; annotations: any[]; categories: any[]; [k: string]: unknown };
const MODEL = ['--backbone', 'mobilenetv2', '--size', '32', '--workers', '0', '--backend', 'wasm'];

function load(f: Fixture): Doc {
  return JSON.parse(fs.readFileSync(f.cocoVal, 'utf8'));
}
const polyAnn = (d: Doc) => d.annotations.findIndex((a) => Array.isArray(a.segmentation));
const rleAnn = (d: Doc) => d.annotations.findIndex((a) => !Array.isArray(a.segmentation));

interface FileCase {
  name: string;
  /** the new text of instances_val2014.json */
  text(d: Doc, raw: string): string;
  problem: RegExp;
}

const J = (d: unknown) => JSON.stringify(d);
const edit = (fn: (d: Doc) => void) => (d: Doc) => {
  fn(d);
  return J(d);
};

const fileCases: FileCase[] = [
  { name: 'not JSON at all', text: () => 'images: none\n', problem: /not valid JSON \(/ },
  { name: 'truncated JSON', text: (_, raw) => raw.slice(0, Math.floor(raw.length / 2)), problem: /not valid JSON \((Unexpected end of JSON input|.*position \d+)/ },
  { name: 'zero-byte JSON', text: () => '', problem: /not valid JSON \(Unexpected end of JSON input\)/ },
  {
    name: 'NaN in a polygon (Python json.dump)',
    text: (d) => J(d).replace(/"segmentation":\[\[([\d.]+),/, '"segmentation":[[NaN,'),
    problem: /not valid JSON \(.*\); it contains NaN at character \d+, which JSON does not allow \(Python's json\.dump writes it for a missing number\)/,
  },
  { name: 'top level is a list', text: (d) => J([d]), problem: /top level is not an object/ },
  { name: 'no "images"', text: edit((d) => { delete (d as Partial<Doc>).images; }), problem: /no "images" list/ },
  { name: '"images" is an object', text: edit((d) => { (d as any).images = {}; }), problem: /no "images" list/ },
  { name: 'no "categories"', text: edit((d) => { delete (d as Partial<Doc>).categories; }), problem: /no "categories" list/ },
  { name: '"annotations" is a string', text: edit((d) => { (d as any).annotations = 'none'; }), problem: /"annotations" is not a list/ },
  { name: 'image id is a string', text: edit((d) => { d.images[0].id = String(d.images[0].id); }), problem: /images\[0\] needs a numeric id and a file_name/ },
  { name: 'image width is a string', text: edit((d) => { d.images[2].width = String(d.images[2].width); }), problem: /images\[2\] \(\S+\): width and height must be positive integers/ },
  { name: 'image height is 0', text: edit((d) => { d.images[1].height = 0; }), problem: /images\[1\] \(\S+\): width and height must be positive integers/ },
  { name: 'category name is a number', text: edit((d) => { d.categories[0].name = 7; }), problem: /categories\[0\] needs a numeric id and a name/ },
  { name: 'annotation category_id is a string', text: edit((d) => { d.annotations[3].category_id = 'cat'; }), problem: /annotations\[3\] needs a numeric image_id and category_id/ },
  { name: 'segmentation is a string', text: edit((d) => { d.annotations[polyAnn(d)].segmentation = 'polygon'; }), problem: /annotations\[\d+\] \(image \S+\): segmentation is neither polygons nor RLE/ },
  { name: 'polygon holds null', text: edit((d) => { d.annotations[polyAnn(d)].segmentation[0][2] = null; }), problem: /annotations\[\d+\] \(image \S+\): segmentation polygon 0 is not a list of numbers/ },
  { name: 'polygon holds "NaN"', text: edit((d) => { d.annotations[polyAnn(d)].segmentation[0][3] = 'NaN'; }), problem: /segmentation polygon 0 is not a list of numbers/ },
  {
    name: 'RLE counts not summing to h·w',
    text: edit((d) => { const a = d.annotations[rleAnn(d)]; a.segmentation.counts[0] += 5; }),
    problem: /annotations\[\d+\] \(image \S+\): RLE runs sum to (\d+), expected (\d+)×(\d+) = \d+/,
  },
  {
    name: 'compressed RLE not summing to h·w',
    text: edit((d) => {
      const a = d.annotations[rleAnn(d)];
      const c = [...a.segmentation.counts];
      c[c.length - 1] -= 7;
      a.segmentation.counts = rleToString(c);
    }),
    problem: /RLE runs sum to \d+, expected \d+×\d+ = \d+/,
  },
  {
    name: 'RLE size differs from its image',
    text: edit((d) => { const a = d.annotations[rleAnn(d)]; a.segmentation.size = [a.segmentation.size[0] + 1, a.segmentation.size[1]]; }),
    problem: /RLE size \[\d+, \d+\] differs from its image's \[\d+, \d+\]/,
  },
  { name: 'unknown category_id', text: edit((d) => { d.annotations[5].category_id = 999; }), problem: /annotations\[5\]: category_id 999 is not in "categories"/ },
  { name: 'unknown image_id', text: edit((d) => { d.annotations[6].image_id = 999; }), problem: /annotations\[6\]: image_id 999 is not in "images"/ },
  { name: 'duplicate image id', text: edit((d) => { d.images[4].id = d.images[1].id; }), problem: /images\[4\]: duplicate image id \d+/ },
  { name: 'duplicate category id', text: edit((d) => { d.categories[3].id = d.categories[2].id; }), problem: /categories\[3\]: duplicate category id \d+/ },
  { name: 'duplicate file_name', text: edit((d) => { d.images[5].file_name = d.images[2].file_name; }), problem: /images\[5\]: file_name "\S+" is also images\[2\]'s; each image may appear once/ },
];

describe('corpus: bad COCO annotation files', function () {
  this.timeout(300000);

  for (const c of fileCases) {
    it(`COCO: ${c.name}`, async () => {
      const f = await freshCase(`coco ${c.name}`, 'coco');
      fs.writeFileSync(f.cocoVal, c.text(load(f), fs.readFileSync(f.cocoVal, 'utf8')));
      const line = (text: string) => text.split('\n').find((l) => l.includes(f.cocoVal) && c.problem.test(l));
      const m = await runCli(['masks', '--data', f.coco, '--dataset', 'coco', '--list', 'val', '--out', path.join(f.root, 'masks')]);
      assert.ok(!m.threw && m.code === 1 && line(m.err), show(m));
      const e = await runCli(['eval', '--data', f.coco, '--dataset', 'coco', '--fold', '0', '--episodes', '2', '--runs', '1', ...MODEL]);
      assert.ok(!e.threw && e.code === 1 && line(e.err), show(e));
      // the same file given alone (an export from any tool)
      const one = await runCli(['masks', '--data', f.cocoVal, '--dataset', 'coco', '--images', path.join(f.coco, 'val2014'), '--out', path.join(f.root, 'm1')]);
      assert.ok(!one.threw && one.code === 1 && line(one.err), show(one));
      const er = await engineRefuses({ type: 'openDataset', ref: { data: f.coco, dataset: 'coco' } });
      assert.strictEqual(er.kind, 'data', er.message);
      assert.strictEqual(er.file, f.cocoVal);
      assert.match(er.message, c.problem);
      countInput('coco', 4);
    });
  }

  it('COCO: no "annotations" list is allowed (images only), and an empty fold says why', async () => {
    const f = await freshCase('coco no annotations', 'coco');
    fs.writeFileSync(f.cocoVal, edit((d) => { delete (d as Partial<Doc>).annotations; })(load(f)));
    const e = await runCli(['eval', '--data', f.coco, '--dataset', 'coco', '--fold', '0', '--episodes', '2', '--runs', '1', ...MODEL]);
    assert.ok(!e.threw && e.code === 1, show(e));
    assert.match(e.err, new RegExp(`${f.cocoVal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no "annotations" list: every image is all background; so fold 0 \\(val list\\) has only 0 classes`));
    const m = await runCli(['masks', '--data', f.coco, '--dataset', 'coco', '--list', 'val', '--out', path.join(f.root, 'masks')]);
    assert.ok(m.code === 0 && m.out.includes('no "annotations" list'), show(m));
    countInput('coco', 2);
  });

  it('COCO: polygons with fewer than 3 points or an odd number of coordinates are dropped and counted; repeated annotation ids are said', async () => {
    const f = await freshCase('coco degenerate polygons', 'coco');
    const d = load(f);
    const i = polyAnn(d);
    const victim = d.annotations[i];
    victim.segmentation = [[1, 1, 5, 5], [1, 1, 9, 1, 9]]; // 2 points; 5 numbers
    d.annotations[i + 1].id = d.annotations[i + 2].id;
    fs.writeFileSync(f.cocoVal, J(d));
    const m = await runCli(['masks', '--data', f.coco, '--dataset', 'coco', '--list', 'val', '--out', path.join(f.root, 'masks')]);
    assert.ok(!m.threw && m.code === 0, show(m));
    assert.match(m.out, new RegExp(`note: .*instances_val2014\\.json: 2 polygon\\(s\\) with fewer than 3 points or an odd number of coordinates were dropped: annotations\\[${i}\\] \\(image \\S+\\) polygon 0 \\(4 coordinates\\); annotations\\[${i}\\] \\(image \\S+\\) polygon 1 \\(5 coordinates\\)`));
    assert.match(m.out, /note: .*: 1 annotation\(s\) repeat the id of an earlier one/);
    const json = path.join(f.root, 'r.json');
    const e = await runCli(['eval', '--data', f.coco, '--dataset', 'coco', '--fold', '0', '--episodes', '2', '--runs', '1', '--json', json, ...MODEL]);
    assert.ok(!e.threw && e.code === 0, show(e));
    const r = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.ok(r.dataProblems.some((p: { file: string; problem: string }) => p.file === f.cocoVal && /2 polygon\(s\)/.test(p.problem)), JSON.stringify(r.dataProblems));
    countInput('coco', 2);
  });

  // ---- per-image problems: that image is skipped and named, the rest goes on ----

  async function cocoEpisodeWith(fileName: string): Promise<{ fold: number; index: number; id: string }> {
    const p = await pristine();
    const ds = await openDataset({ data: p.coco, dataset: 'coco' });
    const ids = await ds.imageIds('val');
    const id = ids.find((x) => fileName.includes(x))!;
    const index = await ds.index('val');
    const entry = index.find((e) => e.id === id)!;
    for (const c of Object.keys(entry.pixels).map(Number)) {
      const fold = Math.floor((c - 1) / 5);
      const sampler = new EpisodeSampler({ fold, classes: foldClasses('coco', 20, fold, 'panet'), ways: 1, shots: 1, queriesPerClass: 1, seed: 1234, list: 'val', minPixels: 1 }, index);
      for (let i = 0; i < 300; i++) {
        const ep = sampler.episode(0, i);
        if (ep.queries.includes(id) || ep.supports.flat().includes(id)) return { fold, index: i, id };
      }
    }
    throw new Error(`no early episode uses ${id}`);
  }

  const imageCases: Array<{ name: string; make(f: Fixture, d: Doc, k: number): void; problem: (f: Fixture, d: Doc, k: number) => RegExp; file: (f: Fixture, d: Doc, k: number) => string }> = [
    {
      name: 'file_name with ".." leaving the dataset',
      make: (f, d, k) => { d.images[k].file_name = `../../../../../../etc/${path.basename(d.images[k].file_name)}`; },
      problem: () => /path "\.\.\/\.\.\/.*" points outside/, file: (f) => f.cocoVal,
    },
    {
      name: 'absolute file_name',
      make: (f, d, k) => { d.images[k].file_name = `/etc/${path.basename(d.images[k].file_name)}`; },
      problem: () => /path "\/etc\/\S+" must be relative to the dataset folder/, file: (f) => f.cocoVal,
    },
    {
      name: 'file_name of a missing file',
      make: (f, d, k) => { fs.rmSync(path.join(f.coco, 'val2014', d.images[k].file_name)); },
      problem: () => /image file not found/, file: (f, d, k) => path.join(f.coco, 'val2014', d.images[k].file_name),
    },
    {
      name: 'file_name that is a symlink out of the dataset',
      make: (f, d, k) => {
        const outside = path.join(TMP, `outside-${path.basename(f.root)}.jpg`);
        const img = path.join(f.coco, 'val2014', d.images[k].file_name);
        fs.copyFileSync(img, outside);
        fs.rmSync(img);
        fs.symlinkSync(outside, img);
      },
      problem: () => /is a symbolic link to \S+outside-\S+\.jpg, outside the dataset/, file: (f, d, k) => path.join(f.coco, 'val2014', d.images[k].file_name),
    },
    {
      name: 'image size in the JSON differs from the file',
      make: (f, d, k) => { d.images[k].width += 3; },
      problem: () => /image is \d+×\d+ but (\S+instances_val2014\.json says|its mask is) \d+×\d+/, file: (f, d, k) => path.join(f.coco, 'val2014', d.images[k].file_name),
    },
  ];

  for (const c of imageCases) {
    it(`COCO image: ${c.name}`, async () => {
      const f = await freshCase(`coco image ${c.name}`, 'coco');
      const d = load(f);
      const k = 3;
      const where = await cocoEpisodeWith(d.images[k].file_name);
      const file = c.file(f, d, k);
      c.make(f, d, k);
      fs.writeFileSync(f.cocoVal, J(d));
      const problem = c.problem(f, d, k);
      const json = path.join(f.root, 'r.json');
      const e = await runCli(['eval', '--data', f.coco, '--dataset', 'coco', '--fold', String(where.fold), '--episodes', String(where.index + 1), '--runs', '1', '--json', json, ...MODEL]);
      assert.ok(!e.threw && e.code === 0, show(e));
      const r = JSON.parse(fs.readFileSync(json, 'utf8'));
      assert.ok(r.skipped.some((s: { error: string }) => s.error.includes(file) && problem.test(s.error)), `${JSON.stringify(r.skipped)}\n${show(e)}`);
      const m = await runCli(['masks', '--data', f.coco, '--dataset', 'coco', '--list', 'val', '--out', path.join(f.root, 'masks')]);
      assert.ok(!m.threw && m.code === 0, show(m));
      assert.ok(m.out.split('\n').some((l) => l.includes(file) && problem.test(l)), show(m));
      const set = { data: f.coco, dataset: 'coco' as const, split: 'panet' as const, fold: where.fold, ways: 1, shots: 1, seed: 1234, list: 'val' as const };
      const ev = await engineRefuses({ type: 'episodeView', set, model: { backbone: 'mobilenetv2', size: 32 }, annotation: 'dense', episode: `r0e${where.index}` });
      assert.strictEqual(ev.kind, 'data');
      assert.strictEqual(ev.file, file);
      assert.match(ev.message, problem);
      countInput('coco', 3);
    });
  }

  it('the engine process that got every case above is the one still serving', async () => {
    assert.ok(await engineStillAlive());
    // and it still opens a good dataset
    const p = await pristine();
    const info = await engineCall({ type: 'openDataset', ref: { data: p.coco, dataset: 'coco' } });
    assert.strictEqual(info.classNames.length, 21);
  });
});
