/**
 * The command line's exit codes, its bad-argument error, and commander argument parsers that
 * refuse what is not a number (commander then exits with the usage code), and the shape of a
 * subcommand: a function that adds it to the program and runs its action through `run`; the
 * `--model` / `--endpoint` options of every command that loads a model.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_HUB_URL } from '../model/sources/hub';
import type { Output } from './progress';

export const EXIT = {
  ok: 0,
  /** The work failed: a model not found, a refused file, a training error. */
  failed: 1,
  /** Bad arguments: nothing was started. */
  usage: 2,
  /** Interrupted (Ctrl-C); a training run was checkpointed first. */
  interrupted: 130,
} as const;

/** A bad argument the command's own checks found (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function integer(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError('Not an integer.');
  return n;
}

export function decimal(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('Not a number.');
  return n;
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Runs a command's action with its output (`--json` or not) and turns what it returns or throws into the exit code. */
export type Run = (json: boolean | undefined, action: (out: Output) => Promise<number>) => Promise<void>;

/** Adds one subcommand (`studio train`, …) to the program. */
export type AddCommand = (program: Command, run: Run) => void;

const MODEL_HELP = 'builtin, a diffusers folder, or a hub id owner/name[@revision]';

/** Adds `--model` (required, optional, or with a default) and `--endpoint` to `command`. */
export function modelOptions(command: Command, model: 'required' | 'optional' | { default: string }): Command {
  if (model === 'required') command.requiredOption('--model <model>', MODEL_HELP);
  else command.option('--model <model>', MODEL_HELP, model === 'optional' ? undefined : model.default);
  return command.option('--endpoint <url>', 'the hub to download from', DEFAULT_HUB_URL);
}
