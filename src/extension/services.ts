// What commands, trees and panels share: the engine host, the views' data, report loading and the
// training runs this window started (their live state feeds the Runs view and every runs panel).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TrainParams } from '../shared/engineProtocol';
import type { HostMessage, MetricsRow, ReportBundle, RunInfo, TrainingParams, UiSettings } from '../shared/webviewProtocol';
import { readSettings, type DatasetSetting } from './config';
import { describeError, type EngineHost } from './engineHost';
import { newRunDir, runTraining, toMetricsRows, TrainingDiverged, type JobControl } from './jobs';
import type { PanelServices, RunsView } from './panels/port';
import { trainingInterruption } from './recovery';
import type { RunSummary } from './trees/scan';
import { loadReport } from './reports';
import type { DatasetsTree } from './trees/datasets';
import type { ArtifactStore } from './trees/store';

interface LiveTraining {
  info: RunInfo;
  dir: string;
  params: TrainParams;
  control?: JobControl;
  /** pause = cancel at the next step, resume = train again with resume: dir */
  pausing?: boolean;
}

export class Services implements PanelServices {
  lastReportPath?: string;
  readonly training = new Map<string, LiveTraining>();
  /** panels currently open (set by extension.ts; typed by port.ts, so this file does not import panel.ts) */
  panels: () => Iterable<RunsView> = () => [];

  constructor(
    readonly ctx: vscode.ExtensionContext,
    readonly host: EngineHost,
    readonly datasets: DatasetsTree,
    readonly store: ArtifactStore,
  ) {}

  loadReport(file: string): ReportBundle {
    return loadReport(file);
  }

  datasetFor(root: string | undefined): DatasetSetting | undefined {
    return readSettings().datasets.find((d) => d.path === root);
  }

  private broadcastRuns(msg: HostMessage): void {
    for (const p of this.panels()) if (p.view === 'runs') p.post(msg);
  }

  /** A runs panel just became ready: send every known run's status and curve. */
  async postRuns(panel: RunsView): Promise<void> {
    const scan = await this.store.scan();
    for (const r of scan.runs) {
      const live = this.training.get(r.dir);
      const info: RunInfo = live?.info ?? {
        runId: r.dir, state: r.diverged ? 'diverged' : r.steps !== undefined && r.step !== undefined && r.step >= r.steps ? 'completed' : 'cancelled',
        ...(r.diverged ? { message: divergedNote(r.diverged) } : {}),
        step: r.step, steps: r.steps, checkpoint: r.latest,
        params: {
          method: r.method as TrainingParams['method'] | undefined, fold: r.fold, ways: r.ways, shots: r.shots, steps: r.steps,
          ...(r.supervision ? { supervision: r.supervision } : {}),
        },
      };
      panel.post({ type: 'runStatus', run: info });
      panel.post({ type: 'runMetrics', runId: r.dir, rows: readMetrics(r.dir), reset: true });
    }
    for (const t of this.training.values()) if (!scan.runs.some((r) => r.dir === t.dir)) panel.post({ type: 'runStatus', run: t.info });
  }

  /** Start a run from the training form (or resume one). Returns the run id (its directory). */
  startTraining(form: TrainingParams, ui: UiSettings, resumeDir?: string): string {
    if (!vscode.workspace.isTrusted) throw new Error('Training is disabled in an untrusted workspace (Manage Workspace Trust to enable it).');
    const ds = this.datasetFor(ui.dataset);
    if (!ds || ds.kind === 'folder') throw new Error('Pick a VOC or COCO dataset in the settings bar first.');
    const dir = resumeDir ?? newRunDir(this.ctx, form.method, form.fold);
    const params: TrainParams = {
      data: { data: ds.path, dataset: ds.kind, images: ds.images }, fold: form.fold, split: ui.split, ways: form.ways, shots: form.shots,
      steps: form.steps, method: form.method, par: form.par, freezeBackbone: form.freezeBackbone, lr: form.lr,
      ...(form.supervision ? { supervision: form.supervision } : {}),
      init: form.init || undefined, backbone: ui.backbone, weights: ui.weights, size: ui.size,
      ...(resumeDir ? { resume: resumeDir } : { out: dir }),
    };
    const t: LiveTraining = { dir, params, info: { runId: dir, state: 'starting', step: 0, steps: form.steps, params: form } };
    this.training.set(dir, t);
    this.update(t, { state: 'starting' });
    const label = `${form.method} on ${ds.name} fold ${form.fold} (${form.ways}-way ${form.shots}-shot, ${form.steps} steps${form.supervision === 'image-labels' ? ', image labels' : ''})`;
    runTraining(this.host, params, label, {
      progress: (done, total) => this.update(t, { state: 'running', step: done, steps: total }),
      metrics: (rows: MetricsRow[]) => this.broadcastRuns({ type: 'runMetrics', runId: dir, rows }),
    }, (c) => (t.control = c))
      .then((r) => {
        if (!r) this.update(t, { state: t.pausing ? 'paused' : 'cancelled' });
        else this.update(t, { state: r.complete ? 'completed' : t.pausing ? 'paused' : 'cancelled', step: r.step, checkpoint: r.checkpoint });
      })
      .catch((e) => {
        // The engine process died under the run (killed, out of memory): it is paused, not failed, and
        // Resume continues from its last checkpoint exactly.
        const stop = trainingInterruption(e, dir, label);
        if (stop) {
          this.update(t, { state: 'paused', message: stop.message, step: stop.resumeStep });
          void vscode.window.showWarningMessage(stop.message, stop.action).then((a) => {
            if (a) void this.controlTraining(dir, 'resume', ui).catch((err) => vscode.window.showErrorMessage(`ProtoLab: ${describeError(err)}`));
          });
          return;
        }
        const diverged = e instanceof TrainingDiverged;
        const message = diverged ? e.message : describeError(e);
        this.update(t, { state: diverged ? 'diverged' : 'failed', message });
        // the engine wrote a 'diverged' row: send the curve again with its marker
        if (diverged) this.broadcastRuns({ type: 'runMetrics', runId: dir, rows: readMetrics(dir), reset: true });
        void vscode.window.showErrorMessage(`ProtoLab: ${message}`);
      })
      .finally(() => this.store.refresh());
    return dir;
  }

  async controlTraining(runId: string, action: 'pause' | 'resume' | 'cancel', ui: UiSettings): Promise<void> {
    const t = this.training.get(runId);
    if (action === 'resume') {
      const form = t?.info.params as TrainingParams | undefined;
      if (!form) throw new Error(`no run ${runId} started in this window to resume`);
      this.startTraining(form, ui, runId);
      return;
    }
    if (!t?.control) throw new Error(`run ${path.basename(runId)} is not running`);
    t.pausing = action === 'pause';
    await t.control.cancel();
  }

  private update(t: LiveTraining, change: Partial<RunInfo>): void {
    t.info = { ...t.info, ...change };
    this.store.setLive({ runId: t.info.runId, dir: t.dir, state: t.info.state, message: t.info.message });
    this.broadcastRuns({ type: 'runStatus', run: t.info });
  }
}

function divergedNote(d: NonNullable<RunSummary['diverged']>): string {
  return `diverged at step ${d.step}: ${d.reason}${d.checkpointStep !== undefined ? `; last good checkpoint: step ${d.checkpointStep}` : ''}`;
}

function readMetrics(dir: string): MetricsRow[] {
  const f = path.join(dir, 'metrics.jsonl');
  if (!fs.existsSync(f)) return [];
  const raw = fs.readFileSync(f, 'utf8').split('\n').flatMap((l) => {
    try {
      return l.trim() ? [JSON.parse(l) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
  return toMetricsRows(raw);
}

