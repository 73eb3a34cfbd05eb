// What the label service tells its host (events) and answers (summaries, prediction results, grid
// runs): the types the service's parts (grid pass, previews) and its callers share.
import type { ScanChanges } from './scan';
import type { ImageStatus, ShapesOrigin } from './state';

export type LabelEvent =
  | { type: 'scan'; changes: ScanChanges; images: number }
  | { type: 'generation'; generation: number; modelKey: string }
  | { type: 'prediction'; id: string; generation: number; confidence: number; status: ImageStatus }
  | { type: 'broken'; id: string; reason: string }
  | { type: 'status'; id: string; status: ImageStatus }
  | { type: 'grid'; generation: number; done: number; total: number; id: string }
  | { type: 'gridDone'; summary: GridSummary }
  /** state.json was written: every change made before it is on disk. */
  | { type: 'saved' };

export interface ImageSummary {
  id: string;
  status: ImageStatus;
  width?: number;
  height?: number;
  support: boolean;
  shapes: number;
  origin?: ShapesOrigin;
  confidence?: number;
  /** A prediction exists but was made by another model (the supports changed since). */
  stale: boolean;
  reason?: string;
  note?: string;
  /** Image tags (labeling from tags only). */
  tags?: string[];
}

export interface PredictResult {
  id: string;
  generation: number;
  /** S */
  size: number;
  /** S×S: the prediction with the image's own marks painted over it (0..K, 255 unsure). */
  labels: Uint8Array;
  confidence: number;
  status: ImageStatus;
}

export interface GridSummary {
  generation: number;
  /** Every image that needed a prediction got one. */
  completed: boolean;
  predicted: number;
  /** Already current, drawn, accepted or broken. */
  skipped: number;
  broken: number;
  /** Why the pass stopped early: 'newer request', 'model changed', 'cancelled', 'no supports'. */
  stopped?: string;
}

export interface GridRun {
  generation: number;
  done: Promise<GridSummary>;
  cancel(): void;
}
