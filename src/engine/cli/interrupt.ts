// Ctrl-C for long commands: the first stops the work at its next boundary (the command still reports and
// writes what it has), the second quits at once with the shell's usual 130.
export interface Interrupt {
  readonly signal: AbortSignal;
  /** Stop listening (call when the work is over). */
  release(): void;
}

/** `what`: what the first Ctrl-C does, e.g. 'stopping after this episode'. */
export function onInterrupt(what: string): Interrupt {
  const abort = new AbortController();
  const handler = (): void => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write(`\n${what} (Ctrl-C again to quit at once)…\n`);
    abort.abort();
  };
  process.on('SIGINT', handler);
  return { signal: abort.signal, release: () => void process.off('SIGINT', handler) };
}
