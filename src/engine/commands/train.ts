// protolab train … — episodic training (train/trainer.ts) with a progress line; Ctrl-C stops at a step
// boundary and leaves a checkpoint that --resume continues exactly.
import * as path from 'path';
import { int, num, oneOf, parse } from '../cli/args';
import { onInterrupt } from '../cli/interrupt';
import { fmtSecs, progressBar } from '../cli/progress';
import { UsageError } from '../errors';
import { METHOD_IDS } from '../fewshot/registry';
import { BACKBONE_IDS } from '../nets/backbone';
import { CONFIG_FILE, defaultRunDir, readJson, resolveCheckpoint } from '../train/runDir';
import { resolveTrainConfig, Trainer, type TrainConfig, type TrainConfigInput } from '../train/trainer';
import { backendFromFlags, datasetOptions, limitHelp, episodeOptions, modelOptions, openDatasetFromFlags, weakConfigFromFlags, weakHelp, weakOptions } from './common';

export const trainHelp = `protolab train --data DIR --dataset voc|coco --fold F --ways N --shots K --steps S
    [--method panet|metasegnet|pixelmeta] [--par 1] [--freeze-backbone|--train-backbone] [--init CKPT|--weights FILE]
    [--out RUNDIR] [--resume RUNDIR] [--lr 1e-3] [--lr-steps 10000,20000] [--lr-gamma 0.1]
    [--momentum 0.9] [--weight-decay 5e-4] [--no-flip] [--size 417] [--backbone ${BACKBONE_IDS.join('|')}]
    [--split panet|fwb] [--list trainaug|train] [--seed 1234] [--init-seed 1] [--checkpoint-every 1000]
    [--diverge-factor 10]
    [--val-every 1000] [--val-episodes 100] [--backend tensorflow|webgpu|wasm|cpu] [--cache-mb 1024]
    [--supervision masks|image-labels [--vectors FILE] [--classifier MODEL.json --classifier-classes FILE]
     [--no-saliency] [--pseudo-threshold 0.25]]
  Trains on the fold's base classes (PANet's settings by default: SGD momentum 0.9, weight decay 5e-4,
  lr 1e-3 ×0.1 at 10k and 20k, random flips, PAR weight 1; --par 0 = without PAR). Validation mIoU is
  on the fold's novel classes (val list). --freeze-backbone trains only a method's own parameters on
  cached features (metasegnet, pixelmeta; PANet has none); --train-backbone trains the whole network. The
  default is each paper's: end to end for panet and metasegnet, frozen for pixelmeta. RUNDIR holds config.json, metrics.jsonl,
  checkpoints/ and latest.json; --resume RUNDIR continues from its latest checkpoint exactly (only
  --steps may change). Evaluate a run with: protolab eval --checkpoint RUNDIR --data DIR --fold F …
  A run stops at the first step whose loss is not finite or exceeds --diverge-factor × its level (the
  larger of the median of the first 3 losses and of the last 50; 0 = only non-finite losses stop). That
  step's update is not applied, no diverged model is left as the latest checkpoint, and the message
  names the last good one.
${weakHelp}
    Training then uses masks only for each image's label set: supports and queries get pseudo masks
    (the paper's setting for --method pixelmeta); validation is weakly supervised too.
${limitHelp}`;

/** Flags that define a run; on --resume they come from the run's config.json instead. */
const RUN_FLAGS = [
  'fold', 'ways', 'shots', 'method', 'par', 'freeze-backbone', 'train-backbone', 'init', 'weights', 'lr', 'lr-steps', 'lr-gamma', 'momentum',
  'weight-decay', 'no-flip', 'size', 'backbone', 'split', 'list', 'seed', 'init-seed', 'checkpoint-every', 'val-every', 'val-episodes',
  'diverge-factor', ...Object.keys(weakOptions),
];

export async function trainCommand(argv: string[]): Promise<number> {
  const v = parse(
    argv,
    {
      ...datasetOptions,
      ...modelOptions,
      ...weakOptions,
      ...episodeOptions,
      steps: { type: 'string' }, method: { type: 'string' }, par: { type: 'string' }, 'freeze-backbone': { type: 'boolean' },
      'train-backbone': { type: 'boolean' },
      init: { type: 'string' }, out: { type: 'string' }, resume: { type: 'string' }, lr: { type: 'string' },
      'lr-steps': { type: 'string' }, 'lr-gamma': { type: 'string' }, momentum: { type: 'string' }, 'weight-decay': { type: 'string' },
      'no-flip': { type: 'boolean' }, size: { type: 'string' }, list: { type: 'string' }, seed: { type: 'string' },
      'checkpoint-every': { type: 'string' }, 'val-every': { type: 'string' }, 'val-episodes': { type: 'string' }, 'cache-mb': { type: 'string' },
      'diverge-factor': { type: 'string' },
    },
    'train',
  );
  if (v.help) return console.log(trainHelp), 0;
  const resumeDir = typeof v.resume === 'string' ? path.resolve(v.resume) : undefined;
  if (resumeDir) {
    const extra = RUN_FLAGS.filter((f) => v[f] !== undefined);
    if (extra.length) throw new UsageError(`--resume takes the run's settings from ${path.join(resumeDir, CONFIG_FILE)}; drop ${extra.map((f) => `--${f}`).join(' ')} (only --steps may change)`);
    if (v.out !== undefined) throw new UsageError('--resume continues in RUNDIR itself; drop --out');
    // The data may be given again (moved dataset); by default the run's recorded root.
    if (v.data === undefined) {
      const saved = readJson<{ data: { root: string; kind: string } }>(path.join(resumeDir, CONFIG_FILE));
      v.data = saved.data.root;
      v.dataset ??= saved.data.kind;
    }
  }
  const ds = await openDatasetFromFlags(v, 'train');
  const backend = await backendFromFlags(v);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const featureBytes = int(v, 'cache-mb', 1024, 64) * 1024 * 1024;

  let trainer: Trainer;
  let runDir: string;
  if (resumeDir) {
    runDir = resumeDir;
    trainer = await Trainer.resume(ds, runDir, { backendName: backend.name, featureBytes, log, steps: v.steps === undefined ? undefined : int(v, 'steps', 1, 1) });
    log(`resuming ${runDir} at step ${trainer.step} of ${trainer.config.steps}`);
  } else {
    for (const f of ['fold', 'ways', 'shots', 'steps'] as const) if (v[f] === undefined) throw new UsageError(`protolab train: --${f} is required`);
    const input: TrainConfigInput = {
      method: oneOf(v, 'method', METHOD_IDS, 'panet'),
      methodConfig: v.par === undefined ? {} : { par: num(v, 'par', 1) },
      dataset: oneOf(v, 'dataset', ['voc', 'coco'] as const, 'voc'),
      split: oneOf(v, 'split', ['panet', 'fwb'] as const, 'panet'),
      fold: int(v, 'fold', 0, 0, 3),
      ways: int(v, 'ways', 1, 1, 20),
      shots: int(v, 'shots', 1, 1, 100),
      steps: int(v, 'steps', 30000, 1),
      list: v.list === undefined ? undefined : oneOf(v, 'list', ['trainaug', 'train', 'val'] as const, 'train'),
      seed: int(v, 'seed', 1234),
      size: int(v, 'size', 417, 32, 2048),
      lr: num(v, 'lr', 1e-3),
      lrSteps: v['lr-steps'] === undefined ? undefined : parseSteps(String(v['lr-steps'])),
      lrGamma: num(v, 'lr-gamma', 0.1),
      momentum: num(v, 'momentum', 0.9),
      weightDecay: num(v, 'weight-decay', 5e-4),
      flip: v['no-flip'] !== true,
      freezeBackbone: freezeFlag(v),
      backbone: oneOf(v, 'backbone', BACKBONE_IDS, 'vgg16'),
      weights: v.weights === undefined ? undefined : path.resolve(String(v.weights)),
      init: v.init === undefined ? undefined : resolveCheckpoint(String(v.init)),
      initSeed: int(v, 'init-seed', 1),
      checkpointEvery: int(v, 'checkpoint-every', 1000, 0),
      divergeFactor: v['diverge-factor'] === undefined ? undefined : num(v, 'diverge-factor', 10),
      valEvery: int(v, 'val-every', 1000, 0),
      valEpisodes: int(v, 'val-episodes', 100, 1),
      ...((weak) => (weak ? { supervision: 'image-labels' as const, weak } : {}))(weakConfigFromFlags(v)),
    };
    if (v.par !== undefined && input.method !== 'panet') throw new UsageError('--par applies to --method panet');
    const cfg = resolveTrainConfig(input, ds);
    runDir = path.resolve(typeof v.out === 'string' ? v.out : defaultRunDir(cfg));
    trainer = await Trainer.create(ds, cfg, { runDir, backendName: backend.name, featureBytes, log });
    log(`training ${cfg.method} (${cfg.freezeBackbone ? 'frozen backbone' : 'end to end'}${cfg.supervision === 'image-labels' ? ', image-level labels only' : ''}) on ${cfg.dataset} fold ${cfg.fold} base classes, ` +
      `${cfg.ways}-way ${cfg.shots}-shot, ${cfg.steps} steps at ${cfg.size}², backbone ${trainer.backbone.id} (${trainer.backbone.weightsSource}); run dir ${runDir}`);
  }

  const interrupt = onInterrupt('stopping after this step and writing a checkpoint');
  const bar = progressBar('train');
  const total = trainer.config.steps;
  let lastVal = '';
  try {
    const out = await trainer.run({
      signal: interrupt.signal,
      onStep: (r) => {
        const parts = Object.entries(r.parts).map(([k, x]) => `${k} ${x.toFixed(3)}`).join(' ');
        bar.update(r.step, total, `loss ${r.loss.toFixed(4)}${parts ? ` (${parts})` : ''} lr ${r.lr.toExponential(0)} ${fmtSecs(r.ms / 1000)}/step${lastVal}`);
      },
      onValidation: (r) => {
        lastVal = ` val mIoU ${(100 * r.miou).toFixed(1)}`;
        bar.done();
        log(`validation at step ${r.step}: novel-class mIoU ${(100 * r.miou).toFixed(1)}, FB-IoU ${(100 * r.fbiou).toFixed(1)} (${r.episodes} episodes, ${fmtSecs(r.ms / 1000)})`);
      },
      onCheckpoint: (file, step) => {
        bar.done();
        log(`checkpoint step ${step}: ${file}`);
      },
    });
    bar.done();
    const c = trainer.config;
    console.log(`${out.cancelled ? 'stopped' : 'finished'} at step ${out.step}/${total}; run dir ${runDir}`);
    if (out.checkpoint) console.log(`checkpoint: ${out.checkpoint}`);
    console.log(out.cancelled
      ? `continue with: protolab train --resume ${runDir}`
      : `evaluate with: protolab eval --checkpoint ${runDir} --data ${ds.root} --dataset ${c.dataset} --fold ${c.fold} --ways ${c.ways} --shots ${c.shots}`);
    return out.cancelled ? 130 : 0;
  } finally {
    interrupt.release();
    trainer.dispose();
  }
}

/** --freeze-backbone / --train-backbone, or undefined: the method's paper decides (resolveTrainConfig). */
function freezeFlag(v: Record<string, unknown>): boolean | undefined {
  if (v['freeze-backbone'] === true && v['train-backbone'] === true) throw new UsageError('give --freeze-backbone or --train-backbone, not both');
  return v['freeze-backbone'] === true ? true : v['train-backbone'] === true ? false : undefined;
}

function parseSteps(s: string): number[] {
  const xs = s.split(',').filter((x) => x.trim() !== '').map(Number);
  if (xs.some((x) => !Number.isInteger(x) || x < 0)) throw new UsageError(`--lr-steps must be comma-separated step numbers (got ${s})`);
  return xs.sort((a, b) => a - b);
}

