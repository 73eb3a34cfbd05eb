// What an export needs from a labeling session (label/service.ts builds it, label/export consumes it),
// in a file of its own so the export does not depend on the service.
import type { IndexMask } from '../types';
import type { LabelModelInfo } from './methods';
import type { ClassDef, ImageStatus } from './state';

/** What an export needs of one image (label/export). */
export interface ExportItem {
  id: string;
  file: string;
  hash: string;
  width: number;
  height: number;
  orientation: number;
  format: string;
  /** Where the mask comes from: drawn by a person, an accepted prediction, a prediction not accepted, a pseudo mask from tags. */
  kind: 'human' | 'accepted-prediction' | 'prediction' | 'pseudo';
  status: ImageStatus;
  support: boolean;
  confidence?: number;
  mask(): Promise<IndexMask>;
}

export interface ExportSource {
  folder: string;
  classes: ClassDef[];
  items: ExportItem[];
  /** Images left out and why (broken, unlabeled, not accepted). */
  skipped: Array<{ id: string; status: ImageStatus; reason: string }>;
  model: LabelModelInfo;
  modelKey: string;
  supports: string[];
}
