// `node out/scripts/bench-train.js`: the training numbers on the built-in sample set, sized
// for a 2-core CPU (VGG-16 from random init at a small input size, short runs):
//  1. PANet untrained vs trained end to end (PAR on, λ = 1; and w/o PAR, λ = 0): novel-fold (fold 0)
//     1-way 1-shot mIoU on the SAME validation episodes (seeded), with the trivial baselines;
//  2. exact resume: a run cancelled mid-way and resumed vs the uninterrupted run, step by step;
//  3. MetaSegNet and PixelMeta trained on frozen features (their heads), untrained vs trained;
//  4. PixelMeta from image-level labels only (weak supervision: pseudo masks at training and test, the
//     built-in parts), untrained vs trained, with the pseudo masks' own IoU against the truth.
// Flags: --size 96 --steps 300 --lr 1e-2 --episodes 100 --head-steps 100 --head-lr 1e-3 --data DIR
//        (an existing sample/VOC root; default: a fresh sample in a temp folder) --backend wasm|cpu|…
//        --skip-heads --skip-panet (sections 1–2) --keep (keep the temp folder)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendPreference } from '../src/engine/backend';
import type { SegDataset } from '../src/engine/data/dataset';
import { openDataset } from '../src/engine/data/open';
import { writeSampleDataset } from '../src/engine/data/sample';
import { evaluate, type EvalResult, type EvalSettings } from '../src/engine/eval/evaluate';
import { createMethod, type MethodId } from '../src/engine/fewshot/registry';
import { createPseudoMaskSource, WEAK_DEFAULTS, type PseudoMaskSource } from '../src/engine/fewshot/weak/pseudoSource';
import { createBackbone } from '../src/engine/nets/backbone';
import { loadTrainedModel } from '../src/engine/train/load';
import { readMetrics, type TrainRow } from '../src/engine/train/log';
import { METRICS_FILE } from '../src/engine/train/runDir';
import { resolveTrainConfig, Trainer, type TrainConfigInput } from '../src/engine/train/trainer';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '96' },
    steps: { type: 'string', default: '300' },
    lr: { type: 'string', default: '1e-2' },
    episodes: { type: 'string', default: '100' },
    'head-steps': { type: 'string', default: '100' },
    'head-lr': { type: 'string', default: '1e-3' },
    data: { type: 'string' },
    backend: { type: 'string' },
    'skip-heads': { type: 'boolean', default: false },
    'skip-panet': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const size = Number(values.size), steps = Number(values.steps), lr = Number(values.lr), episodes = Number(values.episodes);
const headSteps = Number(values['head-steps']), headLr = Number(values['head-lr']);

interface Row { model: string; steps: number; miou: number; fbiou: number; loss: string; seconds: number; pseudo?: number }
const rows: Row[] = [];
const say = (s: string) => process.stderr.write(`${s}\n`);

async function main(): Promise<void> {
  const t00 = performance.now();
  const be = await selectBackend({ prefer: values.backend as BackendPreference | undefined, log: say });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protolab-bench-train-'));
  try {
    let root = values.data;
    if (!root) {
      root = path.join(tmp, 'data');
      say(`writing the sample dataset to ${root}`);
      await writeSampleDataset({ out: root });
    }
    const ds = await openDataset({ data: root, dataset: 'voc' });
    const settings: EvalSettings = {
      method: 'panet', dataset: 'voc', split: 'panet', fold: 0, ways: 1, shots: 1, episodes, runs: 1, seed: 1234, size,
      list: 'val', annotation: 'dense', minPixels: 1, queriesPerClass: 1,
    };
    const base = (over: Partial<TrainConfigInput>) => resolveTrainConfig({
      dataset: 'voc', fold: 0, ways: 1, shots: 1, size, steps, lr, lrSteps: [Math.round(steps * 2 / 3)], checkpointEvery: 0, valEvery: 0, initSeed: 1, ...over,
    }, ds);
    let weakSource: (PseudoMaskSource & { dispose(): void }) | undefined;
    const evalHooks = (pseudo?: boolean) => (pseudo ? { pseudo: weakSource } : {});
    const evalSettings = (id: MethodId, pseudo?: boolean): EvalSettings => ({ ...settings, method: id, annotation: pseudo ? 'pseudo' : 'dense' });
    const evalUntrained = async (id: MethodId, label: string, pseudo?: boolean) => {
      const t0 = performance.now();
      const bb = await createBackbone({ id: 'vgg16', seed: 1 });
      const m = createMethod(id, undefined, bb.channels, 1);
      try {
        const r = await evaluate(ds, bb, m, evalSettings(id, pseudo), be.name, evalHooks(pseudo));
        push(label, 0, r, '', t0);
        return r;
      } finally {
        m.dispose();
        bb.dispose();
      }
    };
    const train = async (label: string, cfg: ReturnType<typeof base>) => {
      const t0 = performance.now();
      const dir = path.join(tmp, label.replace(/\W+/g, '-'));
      const weak = cfg.supervision === 'image-labels';
      const t = await Trainer.create(ds, cfg, { runDir: dir, backendName: be.name, pseudo: weak ? weakSource : undefined });
      try {
        await t.run({ onStep: (r) => say(`  ${label} step ${r.step}/${cfg.steps} loss ${r.loss.toFixed(4)} ${JSON.stringify(r.parts)} ${r.ms} ms`) });
      } finally {
        t.dispose();
      }
      const losses = readMetrics(path.join(dir, METRICS_FILE)).filter((r): r is TrainRow => r.kind === 'train').map((r) => r.loss);
      const k = Math.max(1, Math.floor(losses.length / 5));
      const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const model = await loadTrainedModel(dir);
      try {
        const r = await evaluate(ds, model.backbone, model.method, evalSettings(cfg.method, weak), be.name, evalHooks(weak));
        push(label, cfg.steps, r, `${avg(losses.slice(0, k)).toFixed(3)} → ${avg(losses.slice(-k)).toFixed(3)}`, t0);
      } finally {
        model.dispose();
      }
      return { dir, losses };
    };

    /** Cancel a 4-step PAR run at step 2, resume it, and compare its losses with the uninterrupted run's. */
    const resumeCheck = async (uninterrupted: number[]): Promise<string> => {
      say('\n2. exact resume: cancel at step 2, resume to 4, compare with the uninterrupted run');
      const rdir = path.join(tmp, 'resume');
      const t1 = await Trainer.create(ds, base({ methodConfig: { par: 1 }, steps: 4 }), { runDir: rdir, backendName: be.name });
      const abort = new AbortController();
      await t1.run({ signal: abort.signal, onStep: (r) => { if (r.step === 2) abort.abort(); } });
      t1.dispose();
      const t2 = await Trainer.resume(ds, rdir, { backendName: be.name });
      const resumedAt = t2.step;
      await t2.run();
      t2.dispose();
      const resumed = readMetrics(path.join(rdir, METRICS_FILE)).filter((r): r is TrainRow => r.kind === 'train').map((r) => r.loss);
      const ref = uninterrupted.slice(0, 4);
      const maxDiff = Math.max(...ref.map((x, i) => Math.abs(x - resumed[i])));
      const identical = resumed.length === 4 && ref.every((x, i) => Object.is(x, resumed[i]));
      return `resume: cancelled at step ${resumedAt}, resumed to 4: losses ${identical ? 'bit-identical to' : `differ from (max |Δ| ${maxDiff.toExponential(2)})`} the uninterrupted run's first 4 steps`;
    };

    // Every evaluation scores the baselines on the same episodes; the first one's are printed.
    let untrained: EvalResult | undefined;
    let resumeLine = 'resume: not run (--skip-panet)';
    if (!values['skip-panet']) {
      say(`\n1. PANet, VGG-16 from random init, ${size}² input, ${steps} steps, lr ${lr}`);
      untrained = await evalUntrained('panet', 'PANet untrained (random-init VGG-16)');
      const par = await train('PANet trained, PAR (lambda 1)', base({ methodConfig: { par: 1 } }));
      await train('PANet trained, w/o PAR (lambda 0)', base({ methodConfig: { par: 0 } }));
      resumeLine = await resumeCheck(par.losses);
    }

    if (!values['skip-heads']) {
      say(`\n3. heads on frozen features (VGG-16 random init), ${headSteps} steps, lr ${headLr}`);
      for (const id of ['metasegnet', 'pixelmeta'] as const) {
        try {
          const r = await evalUntrained(id, `${id} untrained`);
          untrained ??= r;
          await train(`${id} trained (frozen backbone)`, base({ method: id, freezeBackbone: true, steps: headSteps, lr: headLr, lrSteps: [] }));
        } catch (e) {
          say(`${id}: ${(e as Error).stack ?? e}`);
          rows.push({ model: `${id}: FAILED (${(e as Error).message.split('\n')[0]})`, steps: 0, miou: NaN, fbiou: NaN, loss: '', seconds: 0 });
        }
      }
    }

    if (!values['skip-heads']) {
      say(`\n4. PixelMeta from image-level labels only (pseudo masks: ${JSON.stringify(WEAK_DEFAULTS)}, built-in parts), ${headSteps} steps, lr ${headLr}`);
      weakSource = await createPseudoMaskSource(WEAK_DEFAULTS, ds.classNames);
      try {
        await evalUntrained('pixelmeta', 'pixelmeta untrained, image labels', true);
        await train('pixelmeta trained, image labels (frozen backbone)', base({
          method: 'pixelmeta', freezeBackbone: true, steps: headSteps, lr: headLr, lrSteps: [], supervision: 'image-labels',
        }));
      } catch (e) {
        say(`pixelmeta (image labels): ${(e as Error).stack ?? e}`);
        rows.push({ model: `pixelmeta, image labels: FAILED (${(e as Error).message.split('\n')[0]})`, steps: 0, miou: NaN, fbiou: NaN, loss: '', seconds: 0 });
      } finally {
        weakSource.dispose();
      }
    }

    console.log(`\nProtoLab training benchmark — sample set (${ds.root}), backend ${be.name}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}`);
    console.log(`eval: fold 0 (novel classes 1–5), 1-way 1-shot, ${episodes} val episodes (seed 1234, identical for every row), ${size}² input`);
    if (untrained) console.log(`trivial baselines on these episodes: all-background mIoU ${pct(untrained.baselines.allBackground.miou)}, all-foreground ${pct(untrained.baselines.allForeground.miou)}\n`);
    const w = Math.max(...rows.map((r) => r.model.length));
    console.log(`${'model'.padEnd(w)}  steps   mIoU  FB-IoU  loss (first → last 20%)   time  pseudo-mask mIoU`);
    for (const r of rows) {
      console.log(`${r.model.padEnd(w)}  ${String(r.steps).padStart(5)}  ${pct(r.miou).padStart(5)}  ${pct(r.fbiou).padStart(6)}  ${r.loss.padEnd(24)} ${r.seconds.toFixed(0).padStart(5)}s` +
        (r.pseudo === undefined ? '' : `  ${pct(r.pseudo)}`));
    }
    console.log(`\n${resumeLine}`);
    console.log(`total ${((performance.now() - t00) / 1000).toFixed(0)} s; tensors alive at the end: ${tf.memory().numTensors}`);
  } finally {
    if (values.keep) say(`kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function push(model: string, steps: number, r: EvalResult, loss: string, t0: number): void {
  rows.push({ model, steps, miou: r.miou, fbiou: r.fbiou, loss, seconds: (performance.now() - t0) / 1000, pseudo: r.weak?.pseudoMasks.miou });
  say(`  ${model}: mIoU ${pct(r.miou)} FB-IoU ${pct(r.fbiou)}`);
}

function pct(x: number): string {
  return Number.isFinite(x) ? (100 * x).toFixed(1) : '—';
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
