/**
 * `studio`: the studio's command line (bin/studio.mjs runs `main` through Vite's module runner).
 * Each subcommand is one `AddCommand` in COMMANDS; a new one (`studio bench quality`) is its
 * module plus one line there. Exit codes (usage.ts): 0 done, 1 failed, 2 bad arguments, 130
 * interrupted. Failures print the StudioError's message and hint, no stack; a bug prints its stack.
 */
import { Command, CommanderError } from 'commander';
import { StudioError } from '../common/errors';
import { addBenchCommand } from './bench';
import { addEvaluateCommand } from './evaluate';
import { addGenerateCommand } from './generate';
import { addInfoCommand } from './info';
import { addInspectCommand } from './inspect';
import { createOutput, type Output } from './progress';
import { addTrainCommand } from './train';
import { EXIT, UsageError, type AddCommand, type Run } from './usage';

const COMMANDS: AddCommand[] = [addTrainCommand, addGenerateCommand, addInfoCommand, addInspectCommand, addBenchCommand, addEvaluateCommand];

/** What a thrown error means for the user: a message on stderr (and a JSON line with --json) and the exit code. */
export function report(error: unknown, out: Output, stderr: NodeJS.WritableStream = process.stderr): number {
  out.stop();
  if (error instanceof UsageError) {
    stderr.write(`error: ${error.message}\n(add --help for usage)\n`);
    if (out.json) out.result({ event: 'error', name: 'UsageError', message: error.message });
    return EXIT.usage;
  }
  if (error instanceof StudioError) {
    stderr.write(`error: ${error.message}\nhint: ${error.hint}\n`);
    if (out.json) out.result({ event: 'error', ...error.toJSON() });
    return error.name === 'Cancelled' ? EXIT.interrupted : EXIT.failed;
  }
  const system = error as NodeJS.ErrnoException;
  if (typeof system?.code === 'string' && typeof system.syscall === 'string') {
    stderr.write(`error: ${system.message}\n`); // the file system said no: not a bug
    if (out.json) out.result({ event: 'error', name: system.code, message: system.message });
    return EXIT.failed;
  }
  stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  if (out.json) out.result({ event: 'error', name: 'InternalError', message: error instanceof Error ? error.message : String(error) });
  return EXIT.failed;
}

export function program(run: Run): Command {
  const studio = new Command('studio')
    .description('Personalize Stable Diffusion on your own GPU: train concepts, generate with them.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  for (const add of COMMANDS) add(studio, run);
  return studio;
}

export async function main(argv: string[]): Promise<number> {
  // stdout is for results and --json: anything a library logs goes to stderr.
  console.log = console.info = console.debug = console.error;
  let code: number = EXIT.ok;
  const run: Run = async (json, action) => {
    const out = createOutput(Boolean(json));
    try {
      code = await action(out);
    } catch (error) {
      code = report(error, out);
    }
  };
  try {
    await program(run).parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // commander has printed its message; help and version are not failures.
    return ['commander.helpDisplayed', 'commander.version'].includes(error.code) ? EXIT.ok : EXIT.usage;
  }
  return code;
}
