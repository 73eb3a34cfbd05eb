// What every view gets: the host connection, the settings and dataset in force, saved state, and the
// latest evaluation (which several views show).
import type { Host } from './host';
import type { DatasetInfo, EvalRecord, HostMessage, InitMessage, ReportBundle, UiSettings } from '../shared/webviewProtocol';
import type { StateStore } from './state';

export interface View {
  readonly el: HTMLElement;
  onMessage(m: HostMessage): void;
}

export interface AppContext {
  host: Host;
  init: InitMessage;
  settings: UiSettings;
  datasetInfo?: DatasetInfo;
  store: StateStore;
  /** report bundles: `a` the current one, `b` the one compared with it */
  reports: { a?: ReportBundle; b?: ReportBundle };
  /** records streamed by an eval still running (moved into reports.a when it ends) */
  liveRecords: EvalRecord[];
}

/** Class name of a dataset ordinal, from whatever the context knows. */
export function className(ctx: AppContext, c: number): string {
  if (c === 0) return 'background';
  const fromInfo = ctx.datasetInfo?.classNames[c];
  if (fromInfo) return fromInfo;
  const fold = ctx.reports.a?.result.data?.foldClasses.find((f) => f.cls === c) ?? ctx.reports.b?.result.data?.foldClasses.find((f) => f.cls === c);
  return fold?.name ?? `class ${c}`;
}
