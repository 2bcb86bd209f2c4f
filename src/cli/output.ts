// How commands print: one spelling for machine-readable output across commands, `--format <name>`
// (text, json, and whatever else a command prints) with `--json` accepted as short for
// `--format json`; and whether to colour.
import type { Argv } from 'yargs';
import { envNote, envString } from './env.ts';

export interface FormatArgs<F extends string = string> {
  format: F;
  json?: boolean;
}

/** Adds --format (choices, default text or CODER_GIT_FORMAT) and --json to a command. */
export function formatOptions<T, F extends string>(y: Argv<T>, formats: readonly F[], describe: string): Argv<T & FormatArgs<F>> {
  const fromEnv = envString('format') as F | undefined;
  return jsonOption(
    y.option('format', {
      choices: formats,
      default: (fromEnv && formats.includes(fromEnv) ? fromEnv : 'text') as F,
      describe: `${describe}${envNote('format')}`,
    }),
  ) as never;
}

/** --json, short for --format json, for commands whose --format has choices and a default of its own. */
export function jsonOption<T>(y: Argv<T>): Argv<T & { json?: boolean }> {
  return y.option('json', { type: 'boolean', describe: 'Short for --format json' }).middleware(jsonIsFormat) as never;
}

function jsonIsFormat(argv: Record<string, unknown>): void {
  if (argv.json) argv.format = 'json';
}

/** Colour only on a terminal, unless --color/--no-color or NO_COLOR/FORCE_COLOR say otherwise. */
export function useColor(flag: boolean | undefined, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (flag !== undefined) return flag;
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}
