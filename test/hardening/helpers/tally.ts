// What the hardening suite tried, counted as it goes, for the summary `npm run test:hardening` prints
// (scripts/test-hardening.cjs reads this module after mocha has run). A counter moves only after the
// assertion about that input, fault or cancel passed: the summary counts what was tried AND survived.
export interface Tally {
  /** bad inputs tried, by family (image, mask, coco, path, protocol, checkpoint, engine-request) */
  inputs: Record<string, number>;
  /** surfaces each input went through (CLI command, engine request), summed over inputs */
  runs: number;
  /** faults injected, by kind (SIGKILL, ENOSPC, EROFS, concurrent-writer, …) */
  faults: Record<string, number>;
  /** cancels at random points, and how many left a tensor behind (always 0 in a passing run) */
  cancels: { eval: number; train: number; engine: number; leakedTensors: number };
  /** malformed webview messages fed to the panel's gate, and how many reached a handler */
  webview: { messages: number; reachedHandler: number };
  /** CSP probes in chromium (each a thing that must be blocked) */
  csp: { probes: number; ran: number };
  /** engine processes that died while a test fed them bad input (always 0 in a passing run) */
  engineCrashes: number;
  /** folders checked for half-written files after a fault, and the temp files found there */
  leftoverChecks: number;
  leftovers: number;
}

export const tally: Tally = {
  inputs: {},
  runs: 0,
  faults: {},
  cancels: { eval: 0, train: 0, engine: 0, leakedTensors: 0 },
  webview: { messages: 0, reachedHandler: 0 },
  csp: { probes: 0, ran: 0 },
  engineCrashes: 0,
  leftoverChecks: 0,
  leftovers: 0,
};

export function countInput(family: string, surfaces = 1): void {
  tally.inputs[family] = (tally.inputs[family] ?? 0) + 1;
  tally.runs += surfaces;
}

export function countFault(kind: string, n = 1): void {
  tally.faults[kind] = (tally.faults[kind] ?? 0) + n;
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const list = (r: Record<string, number>): string => Object.entries(r).sort().map(([k, v]) => `${k} ${v}`).join(', ');

/** The summary lines (also written to test-output/hardening/summary.txt by the runner). */
export function summaryLines(): string[] {
  const t = tally;
  const c = t.cancels;
  return [
    `bad inputs: ${sum(t.inputs)} tried (${list(t.inputs)}) through ${t.runs} CLI commands and engine requests; ` +
      `engine processes crashed: ${t.engineCrashes}`,
    `faults: ${sum(t.faults)} injected (${list(t.faults)}); half-written files found in ${t.leftoverChecks} checked folders: ${t.leftovers}`,
    `cancels: ${c.eval + c.train + c.engine} at seeded random points (eval ${c.eval}, train ${c.train}, engine ${c.engine}); ` +
      `tensors leaked: ${c.leakedTensors}`,
    `webview: ${t.webview.messages} malformed messages dropped by the gate, ${t.webview.reachedHandler} reached a handler; ` +
      `CSP: ${t.csp.probes} probes in chromium, ${t.csp.ran} got through`,
  ];
}
