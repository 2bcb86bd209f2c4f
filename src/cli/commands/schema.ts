import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { SCHEMA_KINDS, schemaText, type SchemaKind } from '../../config/schemas.ts';
import { EDITOR_SCHEMA_DIR, schemaCopies } from '../../config/editor.ts';

export const schemaCommand: CommandModule<object, { kind?: SchemaKind; write?: boolean; dir: string }> = {
  command: 'schema [kind]',
  describe: 'Print the JSON Schema of a config file kind (for editors and other tools), or refresh the repo\'s copies',
  builder: (y) =>
    y
      .positional('kind', { choices: SCHEMA_KINDS, describe: 'Which file kind; without it, the list of kinds' })
      .option('write', { type: 'boolean', describe: `Write every schema of this version into the config repo's ${EDITOR_SCHEMA_DIR}/ (what init did), for editors` }) as never,
  handler: async (argv) => {
    if (argv.write) {
      for (const [rel, text] of schemaCopies()) {
        const file = path.join(argv.dir, rel);
        await fsp.mkdir(path.dirname(file), { recursive: true });
        await fsp.writeFile(file, text);
        process.stdout.write(`wrote ${rel}\n`);
      }
      return;
    }
    if (!argv.kind) {
      process.stdout.write(`${SCHEMA_KINDS.join('\n')}\n`);
      return;
    }
    process.stdout.write(schemaText(argv.kind));
  },
};
