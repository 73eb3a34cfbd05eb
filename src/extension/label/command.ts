// ProtoLab: Label Images in Folder (protolab.labelFolder), from the Explorer's folder context menu, a
// folder dataset in the Datasets view, or the palette (folder picker). Asks for the class names
// (comma-separated; the saved ones are offered when the folder was labelled before), then opens the
// labeling view. Scripts and tests may pass { folder, classes } and nothing is asked.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { workspaceRoot } from '../config';
import { describeError } from '../engineHost';
import type { Services } from '../services';
import type { DatasetNode } from '../trees/datasets';
import { LabelPanel } from './panel';
import { LABEL_STATE_DIR, labelStateDir, parseClassList, savedClassNames } from './paths';

export interface LabelFolderOptions { folder?: string; classes?: string[]; saveDelayMs?: number }

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

async function folderOf(arg: unknown): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (isObj(arg) && arg.type === 'dataset' && isObj(arg.ds)) return (arg as { ds: { path: string } }).ds.path;
  if (isObj(arg) && typeof arg.folder === 'string') return arg.folder;
  const u = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Label images in this folder', title: 'ProtoLab: folder of images to label' });
  return u?.[0]?.fsPath;
}

async function askClasses(svc: Services, folder: string): Promise<string[] | undefined> {
  const saved = savedClassNames(labelStateDir(folder, workspaceRoot(), svc.ctx.globalStorageUri.fsPath) ?? path.join(folder, LABEL_STATE_DIR));
  const text = await vscode.window.showInputBox({
    title: `ProtoLab: classes to label in ${path.basename(folder)}`,
    prompt: saved.length
      ? `Classes so far: ${saved.join(', ')}. Keep them (add more at the end, comma-separated).`
      : 'One or several class names, comma-separated (e.g. "cat, dog"). Each gets a colour; add or rename classes later in the view.',
    value: saved.join(', '),
    placeHolder: 'cat, dog',
    ignoreFocusOut: true,
    validateInput: (t) => parseClassList(t).problem,
  });
  return text === undefined ? undefined : parseClassList(text).names;
}

export function registerLabelCommand(svc: Services): vscode.Disposable {
  return vscode.commands.registerCommand('protolab.labelFolder', async (arg?: vscode.Uri | DatasetNode | LabelFolderOptions) => {
    try {
      const folder = await folderOf(arg);
      if (!folder) return undefined;
      if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new Error(`${folder} is not a folder`);
      const given = isObj(arg) && !(arg instanceof vscode.Uri) && Array.isArray((arg as LabelFolderOptions).classes) ? (arg as LabelFolderOptions).classes : undefined;
      const open = LabelPanel.all.get(path.resolve(folder));
      const classes = given ?? (open ? undefined : await askClasses(svc, folder));
      if (!open && classes === undefined) return undefined; // the user pressed Escape
      const saveDelayMs = isObj(arg) && typeof (arg as LabelFolderOptions).saveDelayMs === 'number' ? (arg as LabelFolderOptions).saveDelayMs : undefined;
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `ProtoLab: opening ${path.basename(folder)} for labeling` }, () =>
        LabelPanel.open(svc, folder, { classes, saveDelayMs }));
    } catch (e) {
      void vscode.window.showErrorMessage(`ProtoLab: ${describeError(e)}`);
      return undefined;
    }
  });
}
