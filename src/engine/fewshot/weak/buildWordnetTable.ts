// Build-time generator of weak/wordnet-table.json: Wu-Palmer similarities of every VOC, COCO and nsfwjs
// class name pair, so that run time parses no WordNet dictionary for these names.
// Run after `tsc`: node out/src/engine/fewshot/weak/buildWordnetTable.js [dictDir]
// (the output goes to the SOURCE tree, src/engine/fewshot/weak/wordnet-table.json).
import * as fs from 'fs';
import * as path from 'path';
import { COCO_CLASSES, VOC_CLASSES } from '../../data/classes';
import { buildSimilarityTable, WordNet, WordnetTable } from '../wordnet';

/** nsfwjs MobileNetV2's classes in its output order (dist/cjs/core.js NSFW_CLASSES). */
export const NSFWJS_CLASSES: readonly string[] = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

export function tableNames(): string[] {
  return [...VOC_CLASSES.slice(1), ...COCO_CLASSES.slice(1), ...NSFWJS_CLASSES];
}

export function buildTable(dictDir?: string): WordnetTable {
  return buildSimilarityTable(WordNet.load(dictDir), tableNames());
}

if (require.main === module) {
  const table = buildTable(process.argv[2]);
  // out/src/engine/fewshot/weak → src/engine/fewshot/weak
  const dest = path.resolve(__dirname, '../../../../../src/engine/fewshot/weak/wordnet-table.json');
  const rows = table.sim.map((r) => '    ' + JSON.stringify(r)).join(',\n');
  const text = `{\n  "source": ${JSON.stringify(table.source)},\n  "measure": ${JSON.stringify(table.measure)},\n` +
    `  "names": ${JSON.stringify(table.names)},\n  "synsets": ${JSON.stringify(table.synsets)},\n  "sim": [\n${rows}\n  ]\n}\n`;
  fs.writeFileSync(dest + '.tmp', text);
  fs.renameSync(dest + '.tmp', dest);
  console.log(`wrote ${dest}: ${table.names.length} names`);
}
