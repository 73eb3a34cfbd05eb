// Which files a ProtoLab webview may load (localResourceRoots): the bundle (dist/webview), the icons and
// CSS (media) and the configured datasets — nothing else of the extension (not dist/engine), not the
// workspace, not the home folder. A COCO dataset given as one .json file contributes its folder, and its
// images folder when that is elsewhere. Free of `vscode`: the panel maps these to Uris, a test reads them.
import * as path from 'path';
import type { DatasetSetting } from '../config';

export function webviewResourceRoots(extensionPath: string, datasets: readonly DatasetSetting[]): string[] {
  const roots = [path.join(extensionPath, 'dist', 'webview'), path.join(extensionPath, 'media')];
  for (const d of datasets) {
    roots.push(d.kind === 'coco' && /\.json$/i.test(d.path) ? path.dirname(d.path) : d.path);
    if (d.images) roots.push(d.images);
  }
  return [...new Set(roots.map((r) => path.resolve(r)))];
}
