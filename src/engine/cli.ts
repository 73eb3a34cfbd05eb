// `protolab eval|merge|train|segment|label|score|masks|sample` — the engine without VS Code. Each command lives in
// commands/<name>.ts; this file only dispatches and turns errors into messages and exit codes.
import { CancelledError, DataError, TrainingDivergedError, UsageError } from './errors';
import { internalErrorMessage } from './cli/internalError';
import { evalCommand, evalHelp } from './commands/eval';
import { labelCommand, labelHelp } from './commands/label';
import { masksCommand, masksHelp } from './commands/masks';
import { mergeCommand, mergeHelp } from './commands/merge';
import { sampleCommand, sampleHelp } from './commands/sample';
import { scoreCommand, scoreHelp } from './commands/score';
import { segmentCommand, segmentHelp } from './commands/segment';
import { trainCommand, trainHelp } from './commands/train';

const commands: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  eval: { run: evalCommand, help: evalHelp },
  merge: { run: mergeCommand, help: mergeHelp },
  train: { run: trainCommand, help: trainHelp },
  segment: { run: segmentCommand, help: segmentHelp },
  label: { run: labelCommand, help: labelHelp },
  score: { run: scoreCommand, help: scoreHelp },
  masks: { run: masksCommand, help: masksHelp },
  sample: { run: sampleCommand, help: sampleHelp },
};

const usage = `ProtoLab — few-shot semantic segmentation engine (PANet in tfjs)

usage: protolab <command> [flags]   (protolab <command> --help for its flags; --debug: stack traces)

${Object.values(commands).map((c) => c.help.split('\n')[0]).join('\n')}`;

export async function main(argv: string[]): Promise<number> {
  // --debug is the CLI's own flag (any position): errors then print their stack trace too.
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`protolab: unknown command '${name}'\n\n${usage}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n\n${cmd.help}`);
      return 2;
    }
    if (e instanceof DataError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    if (e instanceof CancelledError) {
      console.error('cancelled');
      return 130;
    }
    if (e instanceof TrainingDivergedError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    console.error(internalErrorMessage(e, debug));
    return 70; // EX_SOFTWARE: an internal error
  }
}
