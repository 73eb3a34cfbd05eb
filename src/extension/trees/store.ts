// One scan result shared by the Checkpoints and Runs views, refreshed by a file watcher (debounced:
// a training run appends metrics.jsonl every step) and by live training runs the extension started.
import * as vscode from 'vscode';
import { scanWorkspace, type ScanResult } from './scan';
import type { RunState } from '../../shared/webviewProtocol';

export interface LiveRun {
  runId: string;
  dir?: string;
  state: RunState;
  message?: string;
}

export class ArtifactStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private current?: Promise<ScanResult>;
  private timer?: NodeJS.Timeout;
  private readonly watcher: vscode.FileSystemWatcher;
  /** runs started from this window, by run dir (or runId before the dir exists) */
  readonly live = new Map<string, LiveRun>();

  constructor() {
    this.watcher = vscode.workspace.createFileSystemWatcher('**/{*.safetensors,metrics.jsonl,latest.json,config.json}');
    const later = () => this.refreshSoon();
    this.watcher.onDidCreate(later);
    this.watcher.onDidChange(later);
    this.watcher.onDidDelete(later);
  }

  scan(): Promise<ScanResult> {
    this.current ??= scanWorkspace();
    return this.current;
  }

  refresh(): void {
    this.current = undefined;
    this.changed.fire();
  }

  refreshSoon(ms = 1000): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), ms);
  }

  setLive(run: LiveRun): void {
    this.live.set(run.dir ?? run.runId, run);
    this.refresh();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.watcher.dispose();
    this.changed.dispose();
  }
}
