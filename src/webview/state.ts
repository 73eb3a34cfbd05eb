// What the webview remembers across a hidden panel, a reload or a VS Code restart: the host's panel
// serializer hands it back in `init.state`, and getState() has it within one webview lifetime.
import type { ViewerOptions } from './viewer';
import type { LabelSavedState } from './views/label/savedState';
import type { ReportBundle, TrainingParams, ViewKind } from '../shared/webviewProtocol';

export interface SavedState {
  version: 1;
  view?: ViewKind;
  viewer?: ViewerOptions;
  episodes?: { scrollTop: number; selected?: string; selectedIndex?: number };
  failures?: { classFilter?: number; cell?: [number, number]; selected?: string };
  runs?: { selectedRun?: string; form?: TrainingParams };
  label?: LabelSavedState;
  /** the labeling view's folder, put here by the host in `init` (the webview keeps it with the rest of its
   *  state, so the host's panel serializer knows which folder a restored panel was labeling) */
  labelFolder?: string;
  /** the last report(s) shown, so report / compare / failure views come back without the host */
  reports?: { a?: ReportBundle; b?: ReportBundle };
}

/** Keep saved reports small enough for the webview state store (records beyond this are dropped). */
export const MAX_SAVED_RECORDS = 20000;

export function isSavedState(x: unknown): x is SavedState {
  return typeof x === 'object' && x !== null && (x as { version?: unknown }).version === 1;
}

export class StateStore {
  private state: SavedState;
  constructor(private readonly api: { getState(): unknown; setState(s: unknown): void }, initial?: unknown) {
    const own = api.getState();
    this.state = isSavedState(initial) ? initial : isSavedState(own) ? own : { version: 1 };
  }

  get(): SavedState {
    return this.state;
  }

  patch(p: Partial<SavedState>): void {
    this.state = { ...this.state, ...p, version: 1 };
    this.api.setState(this.state);
  }
}

export function trimBundle(b: ReportBundle): ReportBundle {
  return b.records.length <= MAX_SAVED_RECORDS ? b : { ...b, records: b.records.slice(0, MAX_SAVED_RECORDS) };
}
