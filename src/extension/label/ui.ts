// The editor side of the labeling controller's needs (controller.ts LabelUi): the export folder picker,
// a cancellable progress notification, the exported dataset added to Datasets, the checkpoint choices.
import * as path from 'path';
import * as vscode from 'vscode';
import { addDatasetSetting } from '../commands';
import { readSettings, workspaceRoot } from '../config';
import type { Services } from '../services';
import type { ExportChoice, LabelUi } from './controller';
import { exportTarget } from './paths';

export function labelUi(svc: Services, folder: string): LabelUi {
  const name = path.basename(folder);
  return {
    log: (line) => svc.host.log(line),

    async pickExport(_folder, counts) {
      let include: ExportChoice['include'] = 'all';
      if (counts.predicted > 0) {
        const items = [
          { label: `All ${counts.total} images`, description: `${counts.predicted} of them predicted, not reviewed (manifest.json marks every mask's origin)`, include: 'all' as const },
          ...(counts.reviewed > 0 ? [{ label: `Only the ${counts.reviewed} accepted or drawn images`, description: 'what a person checked', include: 'accepted' as const }] : []),
        ];
        const pick = await vscode.window.showQuickPick(items, { title: `Export the labels of ${name}`, ignoreFocusOut: true });
        if (!pick) return undefined;
        include = pick.include;
      }
      const root = workspaceRoot();
      const u = await vscode.window.showOpenDialog({
        canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Export here',
        title: `Export the labels of ${name} (VOC/COCO) into…`, defaultUri: vscode.Uri.file(root ?? path.dirname(folder)),
      });
      const dir = u?.[0]?.fsPath;
      if (!dir) return undefined;
      return { ...exportTarget(dir, name), include };
    },

    withProgress(title, work) {
      return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
        let last = 0;
        return work((done, total) => {
          progress.report({ message: `${done} / ${total}`, increment: total ? ((done - last) / total) * 100 : 0 });
          last = done;
        }, (f) => token.onCancellationRequested(f));
      }));
    },

    async exported(out, formats, images) {
      const voc = formats.includes('voc');
      await addDatasetSetting(voc
        ? { name: `${name} (labels)`, path: out, kind: 'voc' }
        : { name: `${name} (labels, COCO)`, path: path.join(out, 'annotations.json'), kind: 'coco', images: out });
      svc.datasets.refresh();
      void vscode.window.showInformationMessage(`ProtoLab: exported ${images} labelled image${images === 1 ? '' : 's'} of ${name} to ${out}; it is in the Datasets view.`, 'Show Datasets').then((a) => {
        if (a) void vscode.commands.executeCommand('protolab.datasets.focus');
      });
    },

    async checkpoints() {
      const scan = await svc.store.scan();
      const files = [...scan.files, ...scan.runs.flatMap((r) => (r.latest ? [r.latest] : r.checkpoints.slice(-1)))];
      const root = workspaceRoot();
      return files.map((f) => ({ id: f, label: root && f.startsWith(root + path.sep) ? path.relative(root, f) : f }));
    },

    vggWeights: () => readSettings().weights,
  };
}
