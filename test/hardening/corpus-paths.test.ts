// Paths and protocol settings as inputs: ImageSets entries that leave the dataset, symlinks out of it,
// names that are not UTF-8 or too long, empty lists, folds too small for the shots, --ways above the fold.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { openDataset } from '../../src/engine/data/open';
import { runCli, show, type CliRun } from './helpers/cliInProcess';
import { engineCall, engineRefuses, engineStillAlive } from './helpers/engine';
import { freshCase, pristine, TMP, type Fixture } from './helpers/fixtures';
import { countInput } from './helpers/tally';

const MODEL = ['--backbone', 'mobilenetv2', '--size', '32', '--workers', '0', '--backend', 'wasm'];
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const setOf = (f: Fixture, over: Partial<{ fold: number; ways: number; shots: number }> = {}) =>
  ({ data: f.root, dataset: 'voc' as const, split: 'panet' as const, fold: 0, ways: 1, shots: 1, seed: 1234, list: 'val' as const, ...over });

function hasLine(r: CliRun, file: string, problem: RegExp): boolean {
  return `${r.out}\n${r.err}`.split('\n').some((l) => l.includes(file) && problem.test(l));
}

/** eval and masks both refuse with exit 1 naming the file; the engine's listEpisodes too. */
async function refusedEverywhere(f: Fixture, file: string, problem: RegExp, family: string): Promise<void> {
  const e = await runCli(['eval', '--data', f.root, '--fold', '0', '--episodes', '2', '--runs', '1', ...MODEL]);
  assert.ok(!e.threw && e.code === 1 && hasLine(e, file, problem), show(e));
  const m = await runCli(['masks', '--data', f.root, '--out', path.join(f.root, 'masks')]);
  assert.ok(!m.threw && m.code === 1 && hasLine(m, file, problem), show(m));
  const er = await engineRefuses({ type: 'listEpisodes', set: setOf(f), run: 0, from: 0, count: 3 });
  assert.strictEqual(er.kind, 'data', er.message);
  assert.strictEqual(er.file, file);
  assert.match(er.message, problem);
  countInput(family, 3);
}

describe('corpus: paths and protocol', function () {
  this.timeout(300000);

  for (const [name, entry] of [['".." in an ImageSets list', '../../../../etc/hostname'], ['an absolute path in an ImageSets list', '/etc/hostname'], ['a sub/path in an ImageSets list', 'JPEGImages/x']] as const) {
    it(`path: ${name}`, async () => {
      const f = await freshCase(name, 'voc');
      fs.appendFileSync(f.valList, `${entry}\n`);
      await refusedEverywhere(f, f.valList, new RegExp(`image id "${esc(entry)}" is not a plain file name`), 'path');
    });
  }

  it('path: a line of the list that is not UTF-8', async () => {
    const f = await freshCase('latin-1 list', 'voc');
    fs.appendFileSync(f.valList, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])); // "café" in Latin-1
    const n = fs.readFileSync(f.valList, 'latin1').split('\n').filter(Boolean).length;
    await refusedEverywhere(f, f.valList, new RegExp(`line ${n} is not valid UTF-8 text`), 'path');
  });

  it('path: an image or mask that is a symlink out of the dataset is refused; a linked folder is fine', async () => {
    const f = await freshCase('symlinks', 'voc');
    const [a, b] = [f.valIds[2], f.valIds[5]];
    const outside = path.join(TMP, `secret-${path.basename(f.root)}`);
    fs.mkdirSync(outside, { recursive: true });
    fs.copyFileSync(f.jpeg(a), path.join(outside, 'a.jpg'));
    fs.rmSync(f.jpeg(a));
    fs.symlinkSync(path.join(outside, 'a.jpg'), f.jpeg(a));
    fs.copyFileSync(f.mask(b), path.join(outside, 'b.png'));
    fs.rmSync(f.mask(b));
    fs.symlinkSync(path.join(outside, 'b.png'), f.mask(b));
    const link = /is a symbolic link to \S+secret-\S+, outside the dataset/;
    // the mask link: its image is left out of the index, said by eval, masks and the engine
    const e = await runCli(['eval', '--data', f.root, '--fold', '0', '--episodes', '3', '--runs', '1', ...MODEL]);
    assert.ok(!e.threw && e.code === 0 && hasLine(e, f.mask(b), link), show(e));
    const m = await runCli(['masks', '--data', f.root, '--out', path.join(f.root, 'masks')]);
    assert.ok(!m.threw && m.code === 0 && hasLine(m, f.mask(b), link) && hasLine(m, f.jpeg(a), link), show(m));
    // the image link: read through the dataset it is refused (the engine names it)
    const ds = await openDataset({ data: f.root, dataset: 'voc' });
    await assert.rejects(ds.loadImage(a), (err: Error & { file?: string }) => err.file === f.jpeg(a) && link.test(err.message));
    const r = (await engineCall({ type: 'evaluate', params: { set: setOf(f), model: { backbone: 'mobilenetv2', size: 32 }, episodes: 2, runs: 1, annotation: 'dense' } })) as { dataProblems: Array<{ file: string; problem: string }> };
    assert.ok(r.dataProblems.some((p) => p.file === f.mask(b) && link.test(p.problem)), JSON.stringify(r.dataProblems));
    // a whole folder kept elsewhere through a folder link (SBD's SegmentationClassAug often is) is fine
    const g = await freshCase('folder link', 'voc');
    const elsewhere = path.join(TMP, `masks-elsewhere-${path.basename(g.root)}`);
    fs.renameSync(path.join(g.voc, 'SegmentationClass'), elsewhere);
    fs.symlinkSync(elsewhere, path.join(g.voc, 'SegmentationClass'));
    const ok = await runCli(['masks', '--data', g.root, '--out', path.join(g.root, 'masks')]);
    assert.ok(!ok.threw && ok.code === 0 && /40 masks written/.test(ok.out) && !/skipped/.test(ok.out), show(ok)); // train + val
    countInput('path', 5);
  });

  it('path: a file name that is not UTF-8 (no ImageSets: the folder is the list) is named as such', async () => {
    const f = await freshCase('non-utf8 name', 'voc');
    fs.rmSync(path.join(f.voc, 'ImageSets'), { recursive: true });
    const dir = Buffer.from(path.join(f.voc, 'JPEGImages') + '/');
    const bad = Buffer.concat([dir, Buffer.from([0x69, 0x6d, 0x67, 0xff, 0xfe]), Buffer.from('.jpg')]);
    fs.copyFileSync(f.jpeg(f.valIds[0]), bad);
    fs.copyFileSync(f.mask(f.valIds[0]), Buffer.concat([Buffer.from(path.join(f.voc, 'SegmentationClass') + '/'), Buffer.from([0x69, 0x6d, 0x67, 0xff, 0xfe]), Buffer.from('.png')]));
    const e = await runCli(['eval', '--data', f.root, '--fold', '0', '--episodes', '2', '--runs', '1', ...MODEL]);
    assert.ok(!e.threw && e.code === 0, show(e));
    assert.match(e.out, /JPEGImages\/img\uFFFD\uFFFD\.jpg: its name is not valid UTF-8, so it cannot be opened by name; rename it/);
    countInput('path', 1);
  });

  it('path: an id longer than a file name may be', async () => {
    const f = await freshCase('long name', 'voc');
    const long = 'x'.repeat(300);
    fs.appendFileSync(f.valList, `${long}\n`);
    const e = await runCli(['eval', '--data', f.root, '--fold', '0', '--episodes', '2', '--runs', '1', ...MODEL]);
    assert.ok(!e.threw && e.code === 0, show(e));
    assert.ok(hasLine(e, `${long}.png`, /the file name is too long for the file system/), show(e));
    const r = (await engineCall({ type: 'evaluate', params: { set: setOf(f), model: { backbone: 'mobilenetv2', size: 32 }, episodes: 1, runs: 1, annotation: 'dense' } })) as { dataProblems: Array<{ file: string; problem: string }> };
    assert.ok(r.dataProblems.some((p) => p.file.endsWith(`${long}.png`) && /ENAMETOOLONG/.test(p.problem)));
    countInput('path', 2);
  });

  // ---- protocol ----

  for (const [name, text] of [['an empty ImageSets list', ''], ['a list of blank lines', '\n\n  \n']] as const) {
    it(`protocol: ${name}`, async () => {
      const f = await freshCase(name, 'voc');
      fs.writeFileSync(f.valList, text);
      await refusedEverywhere(f, f.valList, /the image list is empty: it names no image/, 'protocol');
    });
  }

  it('protocol: a class with fewer images than shots + 1 is left out and said; a task that needs it is refused with the counts', async () => {
    const f = await freshCase('rare class', 'voc');
    const ds = await openDataset({ data: (await pristine()).root, dataset: 'voc' });
    const index = await ds.index('val');
    // keep only one val image with class 2 (fold 0): 1-shot needs 2
    const withTwo = index.filter((e) => e.pixels[2]).map((e) => e.id);
    assert.ok(withTwo.length >= 2);
    fs.writeFileSync(f.valList, f.valIds.filter((id) => !withTwo.slice(1).includes(id)).join('\n') + '\n');
    const json = path.join(f.root, 'r.json');
    const e = await runCli(['eval', '--data', f.root, '--fold', '0', '--ways', '1', '--shots', '1', '--episodes', '3', '--runs', '1', '--json', json, ...MODEL]);
    assert.ok(!e.threw && e.code === 0, show(e));
    assert.match(e.out, /class\(es\) with too few images for 1-shot episodes, in no episode: 2 \S+ \(1 image, 2 needed\)/);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(json, 'utf8')).classesLeftOut.map((c: { cls: number; images: number }) => [c.cls, c.images]), [[2, 1]]);
    // 5-way needs every class of the fold
    const five = await runCli(['eval', '--data', f.root, '--fold', '0', '--ways', '5', '--shots', '1', '--episodes', '3', '--runs', '1', ...MODEL]);
    assert.ok(!five.threw && five.code === 2, show(five));
    assert.match(five.err, /fold 0 \(val list\) has only 4 classes with at least 2 images \(images per class: 1:\d+ 2:1 /);
    const er = await engineRefuses({ type: 'listEpisodes', set: setOf(f, { ways: 5 }), run: 0, from: 0, count: 1 });
    assert.strictEqual(er.kind, 'usage');
    countInput('protocol', 3);
  });

  it('protocol: --ways larger than the fold (eval, train, the engine)', async () => {
    const f = await pristine();
    const e = await runCli(['eval', '--data', f.root, '--fold', '1', '--ways', '6', '--episodes', '2', '--runs', '1', ...MODEL]);
    assert.ok(!e.threw && e.code === 2, show(e));
    assert.match(e.err, /--ways 6 is more than the 5 classes episodes are drawn from here \(fold 1, val list\): at most --ways 5/);
    const run = path.join(TMP, 'ways-run');
    const t = await runCli(['train', '--data', f.root, '--fold', '1', '--ways', '16', '--shots', '1', '--steps', '1', '--size', '32', '--method', 'metasegnet',
      '--freeze-backbone', '--backbone', 'mobilenetv2', '--backend', 'wasm', '--val-every', '0', '--out', run]);
    assert.ok(!t.threw && t.code === 2, show(t));
    assert.match(t.err, /--ways 16 is more than the 15 classes episodes are drawn from here \(fold 1, train list\)/);
    assert.ok(!fs.existsSync(path.join(run, 'checkpoints')), 'a refused run writes no checkpoint');
    const er = await engineRefuses({ type: 'listEpisodes', set: { ...setOf(f, { fold: 1, ways: 6 }) }, run: 0, from: 0, count: 1 });
    assert.strictEqual(er.kind, 'usage');
    assert.match(er.message, /--ways 6 is more than the 5 classes/);
    countInput('protocol', 3);
  });

  it('the engine process that got every case above is the one still serving', async () => {
    assert.ok(await engineStillAlive());
  });
});
