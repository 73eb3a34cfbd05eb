// The terminal table of an evaluation: per-class IoU (mean ± std over runs), mIoU, FB-IoU, and the
// trivial baselines scored on the same episodes, under a header that states every setting.
import { pct, pm, table } from '../cli/table';
import type { EvalResult } from '../eval/evaluate';

export function evalHeader(r: EvalResult): string {
  const s = r.settings;
  return [
    `${s.method.toUpperCase()} ${s.ways}-way ${s.shots}-shot on ${s.dataset.toUpperCase()} fold ${s.fold}` +
      `${s.dataset === 'coco' ? ` (${s.split} split)` : ''}, ${s.list} list, ` +
      (r.weak ? 'image-level labels only (weak supervision: pseudo-mask supports)' : `${s.annotation} support annotation`),
    `${s.runs} run(s) × ${s.episodes} episodes, seeds ${s.seed}…${s.seed + s.runs - 1}, input ${s.size}², ` +
      `backbone ${r.backbone.id} [${r.backbone.weightsSource}, ${r.backbone.weightsHash}], backend ${r.backend}`,
    // older results (before the encoder was recorded) have no encoder field
    ...(r.protocolWarning ? [`WARNING: ${r.protocolWarning}`] : []),
    ...(r.encoder ? [`encoder: ${r.encoder.engine} — ${r.encoder.detail}${r.encoder.reason.length ? ` (${r.encoder.reason.join('; ')})` : ''}`] : []),
  ].join('\n');
}

export function evalTable(r: EvalResult): string {
  const rows: string[][] = r.summary.classIoU.map((c) => {
    const name = r.data.foldClasses.find((f) => f.cls === c.cls)?.name ?? String(c.cls);
    return [`${c.cls} ${name}`, c.n ? pm(c.mean, c.std) : '–'];
  });
  const runs = r.runs.map((x) => pct(x.miou ?? NaN)).join(' ');
  const lines = [
    evalHeader(r),
    '',
    table(['class', 'IoU % (mean ± std)'], rows),
    '',
    table(
      ['', 'mIoU %', 'FB-IoU %'],
      [
        [`${r.settings.method} (this model)`, pm(r.summary.mIoU.mean, r.summary.mIoU.std), pm(r.summary.fbIoU.mean, r.summary.fbIoU.std)],
        ['baseline: all background', pct(r.baselines.allBackground.miou), pct(r.baselines.allBackground.fbiou)],
        ['baseline: all foreground', pct(r.baselines.allForeground.miou), pct(r.baselines.allForeground.fbiou)],
      ],
    ),
    '',
    `mIoU per run: ${runs}`,
    ...weakLines(r),
    `${r.episodesScored} episodes in ${r.timing.seconds.toFixed(1)} s (${r.timing.episodesPerSecond.toFixed(2)} episodes/s; backbone ${r.timing.backboneSeconds.toFixed(1)} s, ` +
      `${r.timing.featureCache.misses} images encoded, ${r.timing.featureCache.hits} cache hits)`,
  ];
  if (!r.complete) lines.push('CANCELLED: the numbers above cover only the episodes scored before the stop.');
  if (r.dataProblems?.length) {
    lines.push(`${r.dataProblems.length} input problem(s) found while indexing the ${r.settings.list} list (an image whose mask could not be read is in no episode):`);
    for (const p of r.dataProblems.slice(0, 10)) lines.push(`  ${p.file}: ${p.problem}`);
    if (r.dataProblems.length > 10) lines.push(`  … (${r.dataProblems.length - 10} more in the JSON)`);
  }
  if (r.classesLeftOut?.length) {
    lines.push(`class(es) with too few images for ${r.settings.shots}-shot episodes, in no episode: ` +
      r.classesLeftOut.map((c) => `${c.cls} ${c.name} (${c.images} image${c.images === 1 ? '' : 's'}, ${c.needed} needed)`).join(', '));
  }
  if (r.skipped.length) {
    lines.push(`${r.skipped.length} episode(s) skipped because of bad input:`);
    for (const s of r.skipped.slice(0, 10)) lines.push(`  ${s.episode}: ${s.error}`);
    if (r.skipped.length > 10) lines.push(`  … (${r.skipped.length - 10} more in the JSON)`);
  }
  return lines.join('\n');
}

/** Weak supervision: which parts made the pseudo masks and how close they came to the truth. */
function weakLines(r: EvalResult): string[] {
  if (!r.weak) return [];
  const { parts, pseudoMasks: p } = r.weak;
  const per = p.classIoU.map((c) => `${c.name} ${pct(c.iou ?? NaN)}`).join(', ');
  return [
    `pseudo masks: CAM ${parts.cam}, similarity ${parts.similarity}, saliency ${parts.saliency}, threshold ${parts.threshold}`,
    ...(parts.unknownLabels.length
      ? [`  no word similarity for ${parts.unknownLabels.map((n) => `'${n}'`).join(', ')} (CAM weights 0): those masks are the saliency map alone`]
      : []),
    `pseudo masks vs ground truth (${p.masks} support masks): mIoU ${pct(p.miou)} %, FB-IoU ${pct(p.fbiou)} % (${per})`,
  ];
}
