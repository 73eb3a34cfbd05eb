// Long engine jobs (evaluate, train) with a cancellable notification AND a sink that forwards progress
// to a webview. Cancel (button or webview) → engine `cancel` for that request id; the engine stops at the
// next episode/step and still answers (a partial evaluation is saved and marked incomplete).
import * as path from 'path';
import * as vscode from 'vscode';
import type { EpisodeSetRef, ModelRef, TrainParams } from '../shared/engineProtocol';
import type { EvalRecord, MetricsRow, ReportData, UiSettings } from '../shared/webviewProtocol';
import { resolvePath, workspaceRoot, type DatasetSetting, type Settings } from './config';
import { EngineError } from './engineClient';
import { describeError, type EngineHost } from './engineHost';
import { evaluationInterruption } from './recovery';
import { createUniqueDir } from './uniqueNames';
import { newReportPaths } from './reports';
import { checkpointMeta } from './trees/scan';

export interface JobSink {
  progress?(done: number, total: number, note?: string): void;
  records?(batch: EvalRecord[]): void;
  metrics?(rows: MetricsRow[]): void;
}

/** What the running job can be asked to do from outside (webview cancel). */
export interface JobControl {
  cancel(): Promise<boolean>;
}

/** Model to use: a chosen checkpoint / weights file, else the configured backbone. */
export function modelFor(s: Pick<Settings, 'backbone' | 'weights' | 'size'>, file?: string): { model: ModelRef; label: string } {
  if (file) {
    const meta = checkpointMeta(file);
    const label = path.basename(file, '.safetensors');
    // A ProtoLab checkpoint carries its method/backbone; anything else is VGG-16 backbone weights.
    return meta ? { model: { checkpoint: file, size: s.size }, label } : { model: { backbone: 'vgg16', weights: file, size: s.size }, label };
  }
  const weights = s.backbone === 'vgg16' ? s.weights : undefined;
  return { model: { backbone: s.backbone, weights, size: s.size }, label: weights ? path.basename(weights, '.safetensors') : s.backbone };
}

export function episodeSet(ds: DatasetSetting, ui: Pick<UiSettings, 'split' | 'fold' | 'ways' | 'shots' | 'seed' | 'list'>): EpisodeSetRef {
  if (ds.kind === 'folder') throw new Error(`${ds.name} is a folder of unlabeled images: it has no episodes to browse or evaluate`);
  return { data: ds.path, dataset: ds.kind, images: ds.images, split: ui.split, fold: ui.fold, ways: ui.ways, shots: ui.shots, seed: ui.seed, list: ui.list };
}

export interface EvalOutcome {
  json: string;
  records: string;
  result: ReportData;
  complete: boolean;
}

export async function runEvaluation(
  ctx: vscode.ExtensionContext, host: EngineHost,
  job: { ds: DatasetSetting; set: EpisodeSetRef; model: ModelRef; modelLabel: string; episodes: number; runs: number; annotation: UiSettings['annotation'] },
  sink: JobSink = {}, onControl?: (c: JobControl) => void,
): Promise<EvalOutcome | undefined> {
  const { release, ...out } = newReportPaths(ctx, { dataset: job.ds.name, fold: job.set.fold, ways: job.set.ways, shots: job.set.shots, model: job.modelLabel });
  const title = `ProtoLab: evaluating ${job.modelLabel} on ${job.ds.name} fold ${job.set.fold} (${job.set.ways}-way ${job.set.shots}-shot)`;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    try {
      return await evaluateWithProgress(progress, token);
    } finally {
      release(); // the report is written (or will not be): its name no longer needs holding
    }
  });

  async function evaluateWithProgress(
    progress: vscode.Progress<{ message?: string; increment?: number }>, token: vscode.CancellationToken,
  ): Promise<EvalOutcome | undefined> {
    let pendingRecords: EvalRecord[] = [];
    let lastFlush = Date.now();
    let lastPct = 0;
    const flush = () => {
      if (pendingRecords.length) sink.records?.(pendingRecords);
      pendingRecords = [];
      lastFlush = Date.now();
    };
    const h = host.engine.request({ type: 'evaluate', params: { set: job.set, model: job.model, episodes: job.episodes, runs: job.runs, annotation: job.annotation, json: out.json, records: out.records } }, (ev) => {
      if (ev.kind === 'progress') {
        const pct = ev.total ? (100 * ev.done) / ev.total : 0;
        progress.report({ increment: pct - lastPct, message: `${ev.done}/${ev.total} episodes` });
        lastPct = pct;
        sink.progress?.(ev.done, ev.total, ev.note);
      } else if (ev.kind === 'episode') {
        pendingRecords.push(ev.record as EvalRecord);
        if (Date.now() - lastFlush > 250) flush(); // batch: one webview message per ~¼ s, not per episode
      }
    });
    onControl?.({ cancel: () => h.cancel() });
    token.onCancellationRequested(() => void h.cancel());
    try {
      const result = (await h.result) as ReportData;
      flush();
      const complete = result.complete !== false;
      if (!complete) void vscode.window.showInformationMessage(`ProtoLab: evaluation cancelled after ${result.episodesScored ?? '?'} episodes; the partial report is saved (marked incomplete).`);
      return { ...out, result, complete };
    } catch (e) {
      flush();
      if (e instanceof EngineError && e.kind === 'cancelled') return undefined;
      // The engine process died under it: offer to run it again (the engine is restarting by itself).
      const stop = evaluationInterruption(e, job.modelLabel);
      if (stop) {
        void vscode.window.showWarningMessage(stop.message, stop.action).then((a) => {
          if (a) void runEvaluation(ctx, host, job, sink, onControl).catch((err) => vscode.window.showErrorMessage(`ProtoLab: ${describeError(err)}`));
        });
      }
      throw new Error(`Evaluation failed: ${describeError(e)}`, { cause: e });
    }
  }
}

/** Engine metrics rows (train + val) → the runs chart's rows (val mIoU attached to its step). */
export function toMetricsRows(raw: Array<Record<string, unknown>>): MetricsRow[] {
  const rows: MetricsRow[] = [];
  let lastLoss: number | undefined;
  for (const r of raw) {
    const step = r.step;
    if (!Number.isInteger(step)) continue;
    if (r.kind === 'val') {
      if (typeof r.miou !== 'number') continue;
      const same = rows.at(-1)?.step === step ? rows.at(-1) : undefined;
      if (same) same.valMiou = r.miou;
      else if (lastLoss !== undefined) rows.push({ step: step as number, loss: lastLoss, valMiou: r.miou });
      continue;
    }
    if (r.kind === 'diverged') {
      // The step whose loss diverged: marked on the chart at its loss, or at the last loss when it was not finite.
      const loss = typeof r.loss === 'number' && Number.isFinite(r.loss) ? r.loss : lastLoss;
      if (loss !== undefined) rows.push({ step: step as number, loss, divergedLoss: loss, diverged: typeof r.reason === 'string' ? r.reason : 'diverged' });
      continue;
    }
    if (typeof r.loss !== 'number' || !Number.isFinite(r.loss)) continue;
    lastLoss = r.loss;
    const parts = (r.parts && typeof r.parts === 'object' ? r.parts : {}) as Record<string, unknown>;
    const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
    rows.push({ step: step as number, loss: r.loss, seg: n(parts.seg), par: n(parts.par), meta: n(parts.meta), lr: n(r.lr), ms: n(r.ms) });
  }
  return rows;
}

/** The engine stopped a run whose loss diverged (engine/train/divergence.ts); the message says where and what to do. */
export class TrainingDiverged extends Error {
  constructor(message: string) {
    super(message.charAt(0).toUpperCase() + message.slice(1));
    this.name = 'TrainingDiverged';
  }
}

/** A fresh run folder, created (so a second window starting a run in the same second gets another). */
export function newRunDir(ctx: vscode.ExtensionContext, method: string, fold: number): string {
  const root = workspaceRoot() ? resolvePath('.protolab/runs') : path.join(ctx.globalStorageUri.fsPath, 'runs');
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  return createUniqueDir(root, `${stamp}-${method}-f${fold}`);
}

/** Start or resume a training run. Untrusted workspaces never get here (checked by the callers too). */
export async function runTraining(
  host: EngineHost, params: TrainParams, label: string, sink: JobSink = {}, onControl?: (c: JobControl) => void,
): Promise<{ runDir: string; checkpoint: string; step: number; complete: boolean } | undefined> {
  if (!vscode.workspace.isTrusted) throw new Error('Training is disabled in an untrusted workspace (Manage Workspace Trust to enable it).');
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `ProtoLab: training ${label}`, cancellable: true }, async (progress, token) => {
    let last = 0;
    const h = host.engine.request({ type: 'train', params }, (ev) => {
      if (ev.kind === 'progress') {
        const pct = ev.total ? (100 * ev.done) / ev.total : 0;
        progress.report({ increment: pct - last, message: `step ${ev.done}/${ev.total}${ev.note ? ` · ${ev.note}` : ''}` });
        last = pct;
        sink.progress?.(ev.done, ev.total, ev.note);
      } else if (ev.kind === 'metrics') {
        sink.metrics?.(toMetricsRows([ev.row]));
      }
    });
    onControl?.({ cancel: () => h.cancel() });
    token.onCancellationRequested(() => void h.cancel());
    try {
      return await h.result;
    } catch (e) {
      if (e instanceof EngineError && e.kind === 'cancelled') return undefined;
      if (e instanceof EngineError && e.kind === 'diverged') throw new TrainingDiverged(e.message);
      throw new Error(`Training failed: ${describeError(e)}`, { cause: e }); // the caller tells a lost engine apart
    }
  });
}
