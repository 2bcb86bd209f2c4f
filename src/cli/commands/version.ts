import type { CommandModule } from 'yargs';
import { renderVersion, versionReport } from '../../version.ts';
import { formatOptions, type FormatArgs } from '../output.ts';

type Args = FormatArgs<'text' | 'json'> & { dir: string };

export const versionCommand: CommandModule<object, Args> = {
  command: 'version',
  describe: 'Print the version, the commit it was built from, Node and the terraform binary it would run',
  builder: (y) => formatOptions(y, ['text', 'json'] as const, 'text, or json (like terraform version -json)') as never,
  handler: async (argv) => {
    const r = await versionReport(argv.dir);
    process.stdout.write(argv.format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : renderVersion(r));
  },
};
