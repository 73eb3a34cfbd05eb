// Extension entry: wires the engine host, the three views, the commands and the webview serializers,
// and returns a small API for integration tests (test/integration). Nothing here touches tensors.
import * as vscode from 'vscode';
import { VIEW_KINDS } from '../shared/webviewProtocol';
import { registerCommands } from './commands';
import type { EngineClient } from './engineClient';
import { EngineHost } from './engineHost';
import { registerLabelCommand } from './label/command';
import { LabelPanel, LABEL_VIEW_TYPE } from './label/panel';
import { ProtoLabPanel } from './panels/panel';
import { Services } from './services';
import { CheckpointsTree } from './trees/checkpoints';
import { DatasetsTree } from './trees/datasets';
import { RunsTree } from './trees/runs';
import { ArtifactStore } from './trees/store';

export interface ProtoLabApi {
  readonly engine: EngineClient;
  readonly trees: { datasets: DatasetsTree; checkpoints: CheckpointsTree; runs: RunsTree };
  readonly lastReportPath: string | undefined;
  panels(): ProtoLabPanel[];
  /** open labeling views, one per folder */
  labelPanels(): LabelPanel[];
  services: Services;
}

let host: EngineHost | undefined;

export function activate(ctx: vscode.ExtensionContext): ProtoLabApi {
  host = new EngineHost(ctx);
  const store = new ArtifactStore();
  const datasets = new DatasetsTree(host);
  const checkpoints = new CheckpointsTree(store);
  const runs = new RunsTree(store);
  const svc = new Services(ctx, host, datasets, store);
  svc.panels = () => ProtoLabPanel.all;

  ctx.subscriptions.push(
    store,
    vscode.window.registerTreeDataProvider('protolab.datasets', datasets),
    vscode.window.registerTreeDataProvider('protolab.checkpoints', checkpoints),
    vscode.window.registerTreeDataProvider('protolab.runs', runs),
    ...registerCommands(svc),
    registerLabelCommand(svc),
    vscode.window.registerWebviewPanelSerializer(LABEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => {
        LabelPanel.revive(svc, panel, state);
      },
    }),
    // the labeling view has its own host (label/panel.ts)
    ...VIEW_KINDS.filter((v) => v !== 'label').map((view) =>
      vscode.window.registerWebviewPanelSerializer(`protolab.${view}`, {
        deserializeWebviewPanel: async (panel, state) => {
          ProtoLabPanel.revive(svc, view, panel, state);
        },
      }),
    ),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('protolab.datasets') || e.affectsConfiguration('protolab.defaults.split')) datasets.refresh();
      if (e.affectsConfiguration('protolab.checkpointPaths')) store.refresh();
    }),
  );
  // The engine starts on first use (expanding a dataset, opening a panel): activation stays instant.
  const h = host;
  return {
    get engine() {
      return h.engine;
    },
    trees: { datasets, checkpoints, runs },
    get lastReportPath() {
      return svc.lastReportPath;
    },
    panels: () => [...ProtoLabPanel.all],
    labelPanels: () => [...LabelPanel.all.values()],
    services: svc,
  };
}

export async function deactivate(): Promise<void> {
  // labeling views stop asking the engine; its shutdown saves every folder and releases the locks
  LabelPanel.detachAll();
  // shutdown, then kill after the grace period: no engine process outlives the window
  await host?.dispose();
  host = undefined;
}
