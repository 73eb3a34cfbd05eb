// protolab label — segment every image of a folder from a few annotated ones (or from image tags) and
// export the result as VOC + COCO (label/service.ts, label/export). The same engine code the labeling
// workbench drives.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { int, num, oneOf, parse, required } from '../cli/args';
import { progressBar } from '../cli/progress';
import { DataError, UsageError } from '../errors';
import { createPseudoMaskSource } from '../fewshot/weak/pseudoSource';
import { readIndexPng } from '../image/png';
import { exportLabels, type ExportFormat } from '../label/export';
import { defaultLabelWorkers, LABEL_METHODS, labelMethod } from '../label/methods';
import { DEFAULT_LABEL_BACKBONE, LABEL_BACKBONES } from '../../shared/labelVocabulary';
import { UNLABELED } from '../label/predictor';
import { applyPseudoMask } from '../label/pseudo';
import { LabelService } from '../label/service';
import { maskShape, MAX_CLASSES, ShapeError } from '../label/shapes';
import { parseTags } from '../label/tags';
import { IGNORE, type IndexMask } from '../types';
import { applyLimitFlags, backendFromFlags, limitHelp, limitOptions, weakConfigFromFlags, weakOptions } from './common';

export const labelHelp = `protolab label --images DIR (--support IMG=MASK.png [--support …] | --tags FILE) --out DIR
    [--format voc,coco] [--classes NAME,…] [--method ${LABEL_METHODS.map((m) => m.id).join('|')}] [--backbone ${LABEL_BACKBONES.join('|')}]
    [--weights FILE] [--size 417] [--coco-mode instance|class] [--link-images] [--val-fraction 0.2]
    [--state DIR] [--cache-dir DIR] [--force] [--backend tensorflow|webgpu|wasm|cpu] [--workers N]
  Segments every image below DIR from the annotated ones and exports OUT as a VOC folder (JPEGImages/,
  SegmentationClass/ palette PNGs at each image's size, ImageSets/Segmentation/, class_names.txt) and a
  COCO file (annotations.json, compressed RLE), with manifest.json saying which masks a person drew and
  which are predictions, with each image's confidence. EXIF orientation is applied: masks (and
  re-encoded JPEGs) are in the orientation the user sees.
  --support IMG=MASK.png: IMG (a path, or relative to --images) annotated by MASK.png, an index or
    VOC-palette PNG of IMG's size: 0 background, k = class k, 255 unsure, 254 not annotated (a scribble
    PNG is 254 except where drawn). Repeat for more images.
  --classes: names of classes 1..K (default: class1..classK, K = the largest label in the masks).
  --tags FILE: instead of masks, which classes each image shows ("img.jpg: cat, dog" lines, or JSON
    {"img.jpg": ["cat"]}); tagged images get pseudo masks as eval --supervision image-labels makes them
    (CAM × saliency; --vectors, --classifier, --classifier-classes, --no-saliency, --pseudo-threshold
    as there) and teach the rest; the manifest marks them "pseudo".
  --state DIR keeps the labeling state there (to continue in the workbench); default: a temporary one.
  Features are cached in --cache-dir (default DIR/.protolab/label/features): a second run is fast.
  --workers N: encoder threads on wasm/cpu (default: cores, ≤ 4).
  --backbone: nanodet and centernet are COCO-trained detector backbones (frozen, quality method, strides
    from the method's levels). nanodet ships with ProtoLab (Apache-2.0); centernet's weights have no clear
    licence and are never bundled: npm install @vladmandic/human@3.3.6 in a folder and set
    PROTOLAB_CENTERNET_DIR to it.
  A file that cannot be read is listed as broken and skipped; the rest goes on.
${limitHelp}`;

function splitSupport(s: string): [string, string] {
  const i = s.lastIndexOf('=');
  if (i <= 0 || i === s.length - 1) throw new UsageError(`--support ${s}: expected IMG=MASK.png`);
  return [s.slice(0, i), s.slice(i + 1)];
}

/** The id (relative path below the folder) of an image given on the command line. */
function imageId(folder: string, given: string): string {
  const candidates = [path.resolve(given), path.resolve(folder, given)];
  const abs = candidates.find((c) => fs.existsSync(c));
  if (!abs) throw new DataError(given, `image not found (tried ${candidates.join(', ')})`);
  const rel = path.relative(folder, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UsageError(`--support ${given}: the image must be inside --images ${folder}`);
  return rel.split(path.sep).join('/');
}

export async function labelCommand(argv: string[]): Promise<number> {
  const v = parse(
    argv,
    {
      ...weakOptions,
      ...limitOptions,
      images: { type: 'string' }, support: { type: 'string', multiple: true }, tags: { type: 'string' }, out: { type: 'string' },
      format: { type: 'string' }, classes: { type: 'string' }, method: { type: 'string' }, backbone: { type: 'string' },
      weights: { type: 'string' }, 'init-seed': { type: 'string' }, size: { type: 'string' }, 'coco-mode': { type: 'string' },
      'link-images': { type: 'boolean' }, 'val-fraction': { type: 'string' }, state: { type: 'string' }, 'cache-dir': { type: 'string' },
      force: { type: 'boolean' }, backend: { type: 'string' }, workers: { type: 'string' }, 'tfjs-node-path': { type: 'string' }, 'wasm-threads': { type: 'boolean' },
    },
    'label',
  );
  if (v.help) return console.log(labelHelp), 0;
  applyLimitFlags(v);
  const folder = path.resolve(required(v, 'images', 'label'));
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new DataError(folder, '--images must be a folder');
  const out = path.resolve(required(v, 'out', 'label'));
  if (fs.existsSync(out) && v.force !== true) throw new UsageError(`${out} exists; choose another --out or replace it with --force`);
  const supports = (v.support as string[] | undefined) ?? [];
  const tagsFile = typeof v.tags === 'string' ? path.resolve(v.tags) : undefined;
  if (!supports.length && !tagsFile) throw new UsageError('protolab label: give --support IMG=MASK.png (one or more) or --tags FILE');
  if (supports.length && tagsFile) throw new UsageError('protolab label: --support and --tags exclude each other');
  const formats = String(v.format ?? 'voc,coco').split(',').map((f) => f.trim()).filter(Boolean);
  for (const f of formats) if (f !== 'voc' && f !== 'coco') throw new UsageError(`--format: unknown format '${f}' (voc, coco)`);
  const method = labelMethod(typeof v.method === 'string' ? v.method : LABEL_METHODS[0].id).id;
  const size = int(v, 'size', 417, 32, 2048);
  const valFraction = num(v, 'val-fraction', 0.2);
  if (!(valFraction >= 0 && valFraction < 1)) throw new UsageError(`--val-fraction must be in [0, 1) (got ${valFraction})`);
  const cocoMode = oneOf(v, 'coco-mode', ['instance', 'class'] as const, 'instance');
  const backbone = oneOf(v, 'backbone', LABEL_BACKBONES, DEFAULT_LABEL_BACKBONE);
  let names = typeof v.classes === 'string' ? v.classes.split(',').map((s) => s.trim()).filter(Boolean) : undefined;

  // What the annotations say, before any model is loaded (errors first, cheaply).
  const given: Array<{ id: string; maskFile: string; mask: IndexMask }> = [];
  for (const s of supports) {
    const [img, maskFile] = splitSupport(s);
    const id = imageId(folder, img);
    const mask = await readIndexPng(path.resolve(maskFile));
    given.push({ id, maskFile: path.resolve(maskFile), mask });
  }
  let tags: Map<string, string[]> | undefined;
  if (tagsFile) {
    let text: string;
    try {
      text = fs.readFileSync(tagsFile, 'utf8');
    } catch (e) {
      throw new DataError(tagsFile, `cannot read the tags file (${(e as Error).message})`);
    }
    tags = parseTags(text, tagsFile);
    const seen: string[] = [];
    for (const ns of tags.values()) for (const n of ns) if (!seen.includes(n)) seen.push(n);
    if (names) {
      const unknown = seen.filter((n) => !names!.includes(n));
      if (unknown.length) throw new DataError(tagsFile, `tag(s) ${unknown.join(', ')} are not in --classes ${names.join(',')}`);
    } else names = seen;
    if (!names.length) throw new DataError(tagsFile, 'no image is tagged with any class');
  } else {
    let maxLabel = 0;
    for (const g of given) for (const x of g.mask.data) if (x !== IGNORE && x !== UNLABELED && x > maxLabel) maxLabel = x;
    if (maxLabel > MAX_CLASSES) throw new DataError(given.find((g) => g.mask.data.includes(maxLabel))!.maskFile, `label ${maxLabel} is not a class (1..${MAX_CLASSES}, 254 = not annotated, 255 = unsure)`);
    if (names) {
      for (const g of given) {
        const bad = g.mask.data.find((x) => x !== IGNORE && x !== UNLABELED && x > names!.length);
        if (bad !== undefined) throw new DataError(g.maskFile, `label ${bad} is not one of the ${names.length} classes of --classes (0 = background, 1..${names.length}, 254, 255)`);
      }
    } else {
      if (maxLabel === 0) throw new DataError(given.map((g) => g.maskFile).join(', '), 'the masks mark no class (only 0, 254 and 255)');
      names = Array.from({ length: maxLabel }, (_, k) => `class${k + 1}`);
      const used = new Set<number>();
      for (const g of given) for (const x of g.mask.data) if (x >= 1 && x <= maxLabel) used.add(x);
      const unused = names.map((_, k) => k + 1).filter((k) => !used.has(k));
      if (unused.length) process.stderr.write(`note: label(s) ${unused.join(', ')} appear in no mask and will never be predicted; --classes NAME,… names classes 1..K\n`);
    }
  }

  const backend = await backendFromFlags(v);
  const workers = int(v, 'workers', defaultLabelWorkers(), 0, 64);
  const keepState = typeof v.state === 'string';
  const stateDir = keepState ? path.resolve(v.state as string) : fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-label-state-'));
  let featureDir = typeof v['cache-dir'] === 'string' ? path.resolve(v['cache-dir']) : path.join(folder, '.protolab', 'label', 'features');
  try {
    fs.mkdirSync(featureDir, { recursive: true });
    fs.accessSync(featureDir, fs.constants.W_OK);
  } catch {
    featureDir = path.join(os.tmpdir(), 'protolab-label-features');
    process.stderr.write(`note: ${folder} is not writable; features are cached in ${featureDir}\n`);
  }
  const bar = progressBar('label');
  const svc = await LabelService.open(folder, {
    classes: names!,
    spec: { method, backbone, weights: typeof v.weights === 'string' ? path.resolve(v.weights) : undefined, size, initSeed: int(v, 'init-seed', 1), workers },
    stateDir, featureDir, tool: 'protolab label', exclude: [out],
    onEvent: (e) => {
      if (e.type === 'grid') bar.update(e.done, e.total, e.id);
    },
  });
  try {
    const info = svc.modelInfo;
    process.stderr.write(`${svc.ids().length} images in ${folder}; ${names!.length} classes (${names!.join(', ')}); ${info.method} on ${info.backbone} (${info.weightsHash}) at ${size}², backend ${backend.name}; features cached in ${featureDir}\n`);
    if (tags) await pseudoSupports(svc, tags, names!, v);
    for (const g of given) {
      const s = svc.summary(g.id);
      if (s.status === 'broken') throw new DataError(svc.file(g.id), `support image cannot be read: ${s.reason}`);
      try {
        await svc.setShapes(g.id, [maskShape(g.mask)], { support: true });
      } catch (e) {
        if (!(e instanceof ShapeError || e instanceof DataError)) throw e;
        const rot = svc.summary(g.id);
        const hint = g.mask.width === rot.height && g.mask.height === rot.width ? ` (the image has an EXIF rotation: masks are in the orientation the user sees, ${rot.width}×${rot.height})` : '';
        throw new DataError(g.maskFile, `${(e as Error).message.replace(/^.*?: (?=mask:)/, '')}${hint}`);
      }
    }
    const grid = await svc.requestGrid().done;
    bar.done(`${grid.predicted} predicted, ${grid.skipped} skipped, ${grid.broken} broken`);
    const exportBar = progressBar('export');
    const ex = await exportLabels(svc.exportSource('all'), out, {
      formats: formats as ExportFormat[], force: v.force === true, cocoMode, images: v['link-images'] ? 'link' : 'copy', valFraction,
      manifest: { command: ['protolab', 'label', ...argv], ...(tagsFile ? { tags: tagsFile } : {}) },
      onProgress: (d, t) => exportBar.update(d, t),
    });
    exportBar.done();
    const per = (ex.manifest.perImage as Array<{ mask: string; confidence: number | null }>);
    const preds = per.filter((p) => p.mask === 'prediction' && p.confidence !== null);
    const meanConf = preds.length ? preds.reduce((s, p) => s + p.confidence!, 0) / preds.length : NaN;
    const c = ex.manifest.counts as Record<string, number>;
    console.log(`labelled ${ex.exported} images: ${c.human} drawn, ${c.pseudo} pseudo (from tags), ${c.prediction} predicted (mean confidence ${Number.isNaN(meanConf) ? '–' : meanConf.toFixed(2)})`);
    const broken = [...ex.skipped.filter((s) => s.status === 'broken'), ...ex.broken.map((b) => ({ ...b, status: 'broken' }))];
    if (broken.length) {
      console.log(`${broken.length} broken (skipped):`);
      for (const b of broken) console.log(`  ${b.id}: ${b.reason}`);
    }
    console.log(`export: ${ex.out} (${formats.join(' + ')}; manifest.json)`);
    if (keepState) console.log(`labeling state: ${stateDir}`);
    return 0;
  } finally {
    await svc.close();
    if (!keepState) fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Tagged images → pseudo masks (weak supervision, as eval --supervision image-labels) → supports. */
async function pseudoSupports(svc: LabelService, tags: Map<string, string[]>, names: string[], v: Record<string, unknown>): Promise<void> {
  const weak = weakConfigFromFlags({ ...v, supervision: 'image-labels' })!;
  const source = await createPseudoMaskSource(weak, ['background', ...names]);
  try {
    for (const [img, classes] of tags) {
      const id = imageId(svc.folder, img);
      const s = svc.summary(id);
      if (s.status === 'broken') {
        process.stderr.write(`tags: ${id} is broken (${s.reason}); skipped\n`);
        continue;
      }
      await applyPseudoMask(svc, source, id, classes, weak.threshold);
      process.stderr.write(`tags: ${id} (${classes.join(', ') || 'background only'}): pseudo mask\n`);
    }
    const unknown = source.describe().unknownLabels;
    if (unknown.length) process.stderr.write(`note: the word similarity knows nothing of ${unknown.join(', ')}: those pseudo masks are the saliency alone\n`);
  } finally {
    source.dispose();
  }
}
