import type { CommandModule } from 'yargs';
import { loadConfig } from '../../config/index.ts';
import { ANSI, FORMATS, formatValidation, PLAIN, type Format } from '../../config/format.ts';
import { EXIT } from '../../errors.ts';
import { jsonOption, useColor } from '../output.ts';
import { envNote, envString } from '../env.ts';

interface Args {
  dir: string;
  ref?: string;
  format: Format;
  color?: boolean;
}

export const validateCommand: CommandModule<object, Args> = {
  command: 'validate',
  describe: 'Check a config repo and print every problem with its file, line and column',
  builder: (y) =>
    jsonOption(
      y
        .option('ref', { type: 'string', default: envString('ref'), describe: `Validate this git ref (branch, tag, SHA, origin/main) instead of the working tree${envNote('ref')}` })
        .option('format', { choices: FORMATS, default: (envString('format') ?? 'text') as Format, describe: `text for people, json for tools, github for pull-request annotations, gitlab for a Code Quality report${envNote('format')}` }),
    )
      .epilog('Exit status: 0 valid, 1 invalid, 64 usage error.') as never,
  handler: async (argv) => {
    const { source, result } = await loadConfig({ dir: argv.dir, ref: argv.ref });
    process.stdout.write(formatValidation(argv.format, source, result, useColor(argv.color) && argv.format === 'text' ? ANSI : PLAIN));
    process.exitCode = result.state ? EXIT.ok : EXIT.error;
  },
};
