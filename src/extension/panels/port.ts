// What a webview panel offers the code that answers its messages, and what that code needs from the
// rest of the extension: the types that let handlers.ts and services.ts work with a panel without
// importing panel.ts (which imports them), so the panels have no import cycle (DESIGN.md "Conventions").
import type * as vscode from 'vscode';
import type { DatasetInfo } from '../../shared/engineProtocol';
import type { HostMessage, ReportBundle, TrainingParams, UiSettings, ViewKind } from '../../shared/webviewProtocol';
import type { DatasetSetting } from '../config';
import type { EngineHost } from '../engineHost';

/** One open panel, as the message handlers see it. */
export interface PanelPort {
  readonly view: ViewKind;
  settings: UiSettings;
  /** reports shown (slot a, b) */
  reports: Array<ReportBundle & { path?: string }>;
  /** running jobs started here, by the webview request id (for `cancel`) */
  readonly jobs: Map<number, { cancel: () => Promise<boolean> }>;
  post(msg: HostMessage): void;
  saveHostState(): void;
  showReport(file: string, slot?: 'a' | 'b'): void;
}

/** What the training service posts to: any panel, of which the runs panels listen. */
export type RunsView = Pick<PanelPort, 'view' | 'post'>;

/** The extension's services the handlers use (services.ts implements it). */
export interface PanelServices {
  readonly ctx: vscode.ExtensionContext;
  readonly host: EngineHost;
  readonly datasets: { info(ds: DatasetSetting): Promise<DatasetInfo> };
  readonly store: { refresh(): void };
  lastReportPath?: string;
  datasetFor(root: string | undefined): DatasetSetting | undefined;
  loadReport(file: string): ReportBundle;
  startTraining(form: TrainingParams, ui: UiSettings, resumeDir?: string): string;
  controlTraining(runId: string, action: 'pause' | 'resume' | 'cancel', ui: UiSettings): Promise<void>;
}
