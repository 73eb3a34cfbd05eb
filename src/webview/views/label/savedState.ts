// What the labeling view keeps in the webview's own state (vscode.setState): the open image and how it
// was viewed, the tool settings, the grid's sort / filter / scroll. Shapes and undo stacks are NOT kept
// here: the host holds them (it is the source of truth) and sends them back with the image.
import type { SortKey, StatusFilter } from './grid';
import type { ToolId } from './tools';
import type { TransformState } from './transform';

export interface LabelSavedState {
  open?: string;
  transform?: TransformState & { imageId: string };
  tool?: ToolId;
  label?: number;
  radius?: number;
  opacity?: number;
  sort?: SortKey;
  filter?: StatusFilter;
  gridScroll?: number;
}
