import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLASS_SENSES, findWordnetDict, PRECOMPUTED, WordNet, wordnetSimilarity } from '../../src/engine/fewshot/wordnet';
import { buildTable } from '../../src/engine/fewshot/weak/buildWordnetTable';

/**
 * A tiny dictionary in WordNet's WNDB format (wndb(5WN)): license lines start with two spaces; data lines
 * `offset lex_filenum n w_cnt(hex) word lex_id … p_cnt(3 digits) [sym offset n 0000]… | gloss`; index
 * lines `lemma n synset_cnt p_cnt [ptr…] sense_cnt tagsense_cnt offset…`.
 *   entity ─ organism ─ animal ─ mammal ─ {sheep, goat};  organism ─ domestic_animal ─ sheep (a shorter
 *   second path, so sheep's min depth 3 ≠ max depth 4);  entity ─ artifact ─ vehicle ─ bus;
 *   artifact ─ busbar, which is 'bus' sense 1 (so the table's bus.n.02 pick is visible).
 */
function fakeDict(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wn-'));
  const o = (n: number): string => String(n).padStart(8, '0');
  const syn: Array<[number, string[], number[]]> = [
    [1, ['entity'], []], [2, ['organism', 'being'], [1]], [3, ['animal'], [2]], [4, ['mammal'], [3]],
    [5, ['sheep'], [4, 12]], [6, ['goat', 'caprine_animal'], [4]], [7, ['artifact'], [1]], [8, ['vehicle'], [7]],
    [9, ['bus', 'autobus'], [8]], [10, ['busbar', 'bus'], [7]], [12, ['domestic_animal'], [2]],
  ];
  const header = '  1 This software and database is being provided to you, the LICENSEE, by  \n  2 Princeton University under the following license.  \n';
  const data = syn.map(([off, words, hyp]) =>
    `${o(off)} 03 n ${words.length.toString(16).padStart(2, '0')} ${words.map((w) => `${w} 0`).join(' ')} ${String(hyp.length).padStart(3, '0')}` +
    hyp.map((h) => ` @ ${o(h)} n 0000`).join('') + ` | gloss of ${words[0]}  `).join('\n');
  fs.writeFileSync(path.join(dir, 'data.noun'), header + data + '\n');
  const senses = new Map<string, number[]>();
  for (const [off, words] of syn) for (const w of words) senses.set(w, [...(senses.get(w) ?? []), off]);
  senses.set('bus', [10, 9]); // busbar first
  const index = [...senses.keys()].sort().map((w) => { const s = senses.get(w)!; return `${w} n ${s.length} 1 @ ${s.length} 0 ${s.map(o).join(' ')}  `; });
  fs.writeFileSync(path.join(dir, 'index.noun'), header + index.join('\n') + '\n');
  return dir;
}

describe('WordNet Wu-Palmer', () => {
  let dir: string;
  before(() => { dir = fakeDict(); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses the WNDB files: senses in order, hypernyms, depths (min ≠ max), names as NLTK', () => {
    const wn = WordNet.load(dir);
    assert.deepStrictEqual(wn.senses('bus'), [10, 9]);
    assert.deepStrictEqual(wn.senses('Caprine Animal'), [6]);
    assert.strictEqual(wn.offsetOf('bus.n.02'), 9);
    assert.strictEqual(wn.nameOf(9), 'bus.n.02');
    assert.strictEqual(wn.minDepth(5), 3);
    assert.strictEqual(wn.maxDepth(5), 4);
    assert.strictEqual(wn.gloss(6), 'gloss of goat');
    assert.throws(() => wn.offsetOf('bus.n.03'), /no noun sense/);
    assert.throws(() => wn.senseOf('unicorn'), /no noun 'unicorn'/);
  });

  it('wup by hand: 2·d / (len1 + len2 + 2·d), d = max depth of the deepest (by min depth) common hypernym + 1', () => {
    const wn = WordNet.load(dir);
    // sheep–goat: lcs mammal (min depth 3, max depth 3) → d = 4; one edge each → 8 / 10
    assert.ok(Math.abs(wn.wup(5, 6) - 0.8) < 1e-12);
    // sheep–bus(vehicle): lcs entity, d = 1; sheep reaches entity in 3 edges (via domestic_animal), bus in 3 → 2 / 8
    assert.ok(Math.abs(wn.wup(5, 9) - 2 / 8) < 1e-12);
    // a synset with its own hypernym: lcs = itself; mammal–sheep: d = 4, len 0 and 1 → 8 / 9
    assert.ok(Math.abs(wn.wup(4, 5) - 8 / 9) < 1e-12);
    assert.strictEqual(wn.wup(6, 6), 1);
    // class names go through the fixed sense table: 'bus' → bus.n.01 in CLASS_SENSES (here: busbar)
    assert.strictEqual(CLASS_SENSES.bus, 'bus.n.01');
    assert.ok(Math.abs(wn.similarity('sheep', 'bus') - wn.wup(5, 10)) < 1e-12);
    assert.deepStrictEqual(wn.senseOf('goat'), { offset: 6, synset: 'goat.n.01', fromTable: false });
  });

  it('every VOC/COCO/nsfwjs name has a sense in the real WordNet 3.1, and the checked-in table is up to date', function () {
    let dict: string;
    try { dict = findWordnetDict(); } catch { this.skip(); }
    const fresh = buildTable(dict!);
    assert.deepStrictEqual(fresh.names, PRECOMPUTED.names);
    assert.deepStrictEqual(fresh.synsets, PRECOMPUTED.synsets);
    assert.deepStrictEqual(fresh.sim, PRECOMPUTED.sim);
    for (let i = 0; i < fresh.names.length; i++) {
      assert.strictEqual(fresh.sim[i][i], 1);
      for (let j = 0; j < i; j++) assert.strictEqual(fresh.sim[i][j], fresh.sim[j][i]);
    }
  });

  it('sanity on the real WordNet: sheep–goat high, sheep–bus low, sofa–chair high; NLTK\'s dog–cat', function () {
    try { findWordnetDict(); } catch { this.skip(); }
    const s = wordnetSimilarity();
    assert.strictEqual(s.id, 'wordnet-wup');
    const sheepGoat = s.sim('sheep', 'goat'), sheepBus = s.sim('sheep', 'bus'), sofaChair = s.sim('sofa', 'chair');
    assert.ok(sheepGoat > 0.85, `sheep–goat ${sheepGoat}`);
    assert.ok(sheepBus < 0.6, `sheep–bus ${sheepBus}`);
    assert.ok(sofaChair > 0.85, `sofa–chair ${sofaChair}`);
    assert.ok(sheepGoat > s.sim('sheep', 'dog') && s.sim('sheep', 'dog') > sheepBus);
    assert.ok(s.sim('chair', 'diningtable') > s.sim('chair', 'aeroplane'));
    // NLTK's howto: wn.synset('dog.n.01').wup_similarity(wn.synset('cat.n.01')) = 0.857…
    assert.ok(Math.abs(s.sim('dog', 'cat') - 6 / 7) < 1e-4);
    // names are case-insensitive; COCO and VOC spellings meet
    assert.strictEqual(s.sim('TV', 'tvmonitor'), 1);
    assert.strictEqual(s.sim('couch', 'sofa'), 1);
  });
});
