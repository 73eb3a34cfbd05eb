// Runs view: training runs with their status — live state for runs this window started, otherwise
// derived from the files (last step in metrics.jsonl vs config steps).
import * as vscode from 'vscode';
import type { RunSummary } from './scan';
import type { ArtifactStore } from './store';

export type RunNode = { type: 'run'; run: RunSummary; status: string } | { type: 'live'; runId: string; status: string; message?: string };

export function runStatus(run: RunSummary, live?: { state: string }): string {
  if (live && (live.state === 'running' || live.state === 'starting' || live.state === 'paused')) return live.state;
  if (run.diverged) return `diverged at step ${run.diverged.step}`;
  if (run.steps !== undefined && run.step !== undefined && run.step >= run.steps) return 'completed';
  if (live) return live.state;
  return run.step !== undefined ? `stopped at step ${run.step}` : 'not started';
}

export class RunsTree implements vscode.TreeDataProvider<RunNode> {
  readonly onDidChangeTreeData: vscode.Event<void>;

  constructor(private readonly store: ArtifactStore) {
    this.onDidChangeTreeData = store.onDidChange;
  }

  getTreeItem(n: RunNode): vscode.TreeItem {
    if (n.type === 'live') {
      const it = new vscode.TreeItem(n.runId, vscode.TreeItemCollapsibleState.None);
      it.description = n.status;
      it.tooltip = n.message ?? n.status;
      it.iconPath = new vscode.ThemeIcon(n.status === 'failed' || n.status === 'diverged' ? 'error' : 'loading~spin');
      it.command = { command: 'protolab.openRuns', title: 'Open Runs Dashboard' };
      return it;
    }
    const r = n.run;
    const it = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.None);
    const progress = r.steps !== undefined ? `${r.step ?? 0}/${r.steps}` : `${r.step ?? 0}`;
    const weak = r.supervision === 'image-labels';
    it.description = `${n.status} · ${progress}${weak ? ' · image labels' : ''}${r.lastValMiou !== undefined ? ` · val mIoU ${(100 * r.lastValMiou).toFixed(1)}` : ''}`;
    it.tooltip = [
      r.dir,
      `${r.method ?? '?'} · fold ${r.fold ?? '?'} · ${r.ways ?? '?'}-way ${r.shots ?? '?'}-shot${weak ? ' · weakly supervised (image-level labels)' : ''}`,
      r.lastLoss !== undefined ? `last loss ${r.lastLoss.toFixed(4)}` : '',
      r.diverged ? `stopped: the loss diverged at step ${r.diverged.step}: ${r.diverged.reason}` : '',
      r.latest ? `latest checkpoint ${r.latest}${r.diverged ? ' (the last good one)' : ''}` : 'no checkpoint yet',
    ].filter(Boolean).join('\n');
    it.iconPath = new vscode.ThemeIcon(n.status === 'completed' ? 'pass' : n.status === 'running' ? 'sync~spin' : n.status === 'failed' || r.diverged ? 'error' : 'circle-outline');
    it.contextValue = 'protolab.run';
    it.id = `run:${r.dir}`;
    it.command = { command: 'protolab.openRuns', title: 'Open Runs Dashboard', arguments: [r.dir] };
    return it;
  }

  async getChildren(n?: RunNode): Promise<RunNode[]> {
    if (n) return [];
    const scan = await this.store.scan();
    const known = new Set(scan.runs.map((r) => r.dir));
    const live = [...this.store.live.values()].filter((l) => !l.dir || !known.has(l.dir));
    return [
      ...live.map((l): RunNode => ({ type: 'live', runId: l.runId, status: l.state, message: l.message })),
      ...scan.runs.map((run): RunNode => ({ type: 'run', run, status: runStatus(run, this.store.live.get(run.dir)) })),
    ];
  }
}
