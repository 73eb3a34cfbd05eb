// What the CLI prints for an error that is not the user's doing (not a bad flag, file or setting): it
// says it is a bug and where to take it, and keeps the JavaScript stack trace out of the way unless
// --debug asks for it (users act on messages, maintainers need the stack).
export function internalErrorMessage(e: unknown, debug: boolean): string {
  const message = e instanceof Error ? e.message : String(e);
  const lines = [
    `internal error: ${message}`,
    'This is a bug in ProtoLab, not a problem with your data or flags. Please report it to the ProtoLab',
    'maintainers (the issue tracker of the repository you got ProtoLab from) with the command line you ran',
    debug ? 'and the stack trace below.' : 'and this message; run the same command with --debug to add the stack trace.',
  ];
  if (debug && e instanceof Error && e.stack) lines.push('', e.stack);
  return lines.join('\n');
}

