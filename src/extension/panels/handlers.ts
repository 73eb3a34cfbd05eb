// Webview requests → engine calls, for the episode / failure / report / compare / runs panels (the
// labeling view's requests are label/controller.ts's). Each handler answers with exactly one reply
// carrying the request's id (`episodes`, `episode`, `settings`, `ack` or `error`); long jobs ack first
// and then stream.
import * as vscode from 'vscode';
import type { LabelWebviewMessage } from '../../shared/webviewLabelProtocol';
import type { UiSettings, WebviewRequest } from '../../shared/webviewProtocol';
import { episodeSet, modelFor, runEvaluation } from '../jobs';
import { pickReports } from '../reports';
import type { PanelPort, PanelServices } from './port';
import { rememberUiSettings } from './uiSettings';

function currentDataset(p: PanelPort, svc: PanelServices) {
  const ds = svc.datasetFor(p.settings.dataset);
  if (!ds) throw new Error('No dataset selected: add one (ProtoLab: Add Dataset or Create Sample Dataset) and pick it in the settings bar.');
  return ds;
}

function model(p: PanelPort) {
  const s = p.settings;
  return modelFor({ backbone: s.backbone ?? 'mobilenetv2', weights: s.weights, size: s.size }, s.checkpoint);
}

/** The message set of these panels: every webview request but the labeling view's. */
export type PanelRequest = Exclude<WebviewRequest, LabelWebviewMessage>;

/** Answer one validated webview request (gate.ts let it in) for panel `p`, with the extension's `svc`. */
export async function handleRequest(p: PanelPort, svc: PanelServices, msg: PanelRequest): Promise<void> {
  const engine = svc.host.engine;
  switch (msg.type) {
    case 'listEpisodes': {
      const set = episodeSet(currentDataset(p, svc), p.settings);
      const run = msg.run ?? 0;
      const total = p.settings.episodes;
      const count = Math.max(0, Math.min(msg.count, total - msg.from));
      const r = count ? await engine.call({ type: 'listEpisodes', set, run, from: msg.from, count }) : { episodes: [] };
      p.post({ type: 'episodes', inReplyTo: msg.id, from: msg.from, total, episodes: r.episodes, run });
      return;
    }
    case 'openEpisode': {
      const set = episodeSet(currentDataset(p, svc), p.settings);
      const view = await engine.call({ type: 'episodeView', set, model: model(p).model, annotation: msg.annotation, episode: msg.episodeId, maxSide: 640 });
      p.post({ type: 'episode', inReplyTo: msg.id, view });
      return;
    }
    case 'setSettings': {
      const before = p.settings;
      const next: UiSettings = { ...before, ...msg.settings };
      const ds = svc.datasetFor(next.dataset);
      next.datasetKind = ds && ds.kind !== 'folder' ? ds.kind : undefined;
      p.settings = next;
      rememberUiSettings(svc.ctx, next);
      p.saveHostState();
      const datasetInfo = ds && next.dataset !== before.dataset ? await svc.datasets.info(ds) : undefined;
      p.post({ type: 'settings', inReplyTo: msg.id, settings: next, datasetInfo, totalEpisodes: next.episodes });
      return;
    }
    case 'runEval': {
      const ds = currentDataset(p, svc);
      const set = episodeSet(ds, p.settings);
      const m = model(p);
      p.post({ type: 'ack', inReplyTo: msg.id });
      const out = await runEvaluation(svc.ctx, svc.host, { ds, set, model: m.model, modelLabel: m.label, episodes: p.settings.episodes, runs: p.settings.runs, annotation: p.settings.annotation }, {
        progress: (done, total, note) => p.post({ type: 'progress', requestId: msg.id, done, total, note }),
        records: (records) => p.post({ type: 'evalRecords', requestId: msg.id, records }),
      }, (c) => p.jobs.set(msg.id, c)).finally(() => p.jobs.delete(msg.id));
      if (!out) {
        p.post({ type: 'error', inReplyTo: msg.id, message: 'evaluation cancelled' });
        return;
      }
      svc.lastReportPath = out.json;
      const bundle = svc.loadReport(out.json);
      p.reports[0] = { ...bundle, path: out.json };
      p.saveHostState();
      p.post({ type: 'evalResult', requestId: msg.id, label: bundle.label, result: bundle.result, records: bundle.records, slot: 'a' });
      svc.store.refresh();
      return;
    }
    case 'cancel': {
      const job = p.jobs.get(msg.requestId);
      const cancelled = job ? await job.cancel() : false;
      p.post(cancelled ? { type: 'ack', inReplyTo: msg.id } : { type: 'error', inReplyTo: msg.id, message: 'nothing to cancel (already finished?)' });
      return;
    }
    case 'openReport': {
      const files = msg.path ? [msg.path] : await pickReports(svc.ctx, msg.compare ? 'Report to compare with' : 'Open report', false);
      if (!files?.length) {
        p.post({ type: 'error', inReplyTo: msg.id, message: 'no report chosen' });
        return;
      }
      p.showReport(files[0], msg.compare ? 'b' : 'a');
      p.post({ type: 'ack', inReplyTo: msg.id });
      return;
    }
    case 'startTraining': {
      const runId = svc.startTraining(msg.params, p.settings);
      p.post({ type: 'ack', inReplyTo: msg.id, runId });
      return;
    }
    case 'pauseTraining':
    case 'resumeTraining':
    case 'cancelTraining': {
      const action = msg.type === 'pauseTraining' ? 'pause' : msg.type === 'resumeTraining' ? 'resume' : 'cancel';
      await svc.controlTraining(msg.runId, action, p.settings);
      p.post({ type: 'ack', inReplyTo: msg.id, runId: msg.runId });
      return;
    }
    default: {
      const never: never = msg;
      void vscode.window.showWarningMessage(`ProtoLab: unhandled webview request ${JSON.stringify(never)}`);
    }
  }
}
