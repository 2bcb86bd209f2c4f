import type { CommandModule } from 'yargs';
import { SCHEMA_KINDS, schemaText, type SchemaKind } from '../../config/schemas.ts';

export const schemaCommand: CommandModule<object, { kind?: SchemaKind }> = {
  command: 'schema [kind]',
  describe: 'Print the JSON Schema of a config file kind (for editors and other tools)',
  builder: (y) =>
    y.positional('kind', { choices: SCHEMA_KINDS, describe: 'Which file kind; without it, the list of kinds' }) as never,
  handler: (argv) => {
    if (!argv.kind) {
      process.stdout.write(`${SCHEMA_KINDS.join('\n')}\n`);
      return;
    }
    process.stdout.write(schemaText(argv.kind));
  },
};
