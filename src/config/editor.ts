// Editor support for a config repo, offline: the schemas are copied into the repo (.coder-git/schemas/),
// each scaffolded file's yaml-language-server modeline points at its schema by a relative path, and
// .vscode/settings.json maps the files to the same schemas for VS Code's YAML extension. Nothing
// points at a URL, so validation in the editor works without a network and matches the coder-git
// that wrote the files; `coder-git schema --write` refreshes the copies after an upgrade.
import { SCHEMA_KINDS, schemaText, type SchemaKind } from './schemas.ts';

export const EDITOR_SCHEMA_DIR = '.coder-git/schemas';

/** Where each kind's files are, as yaml.schemas globs; their depth gives the modeline's "../". */
const FILES: Record<SchemaKind, { glob: string; depth: number }> = {
  deployment: { glob: 'coder-git.yaml', depth: 0 },
  user: { glob: 'users/*.yaml', depth: 1 },
  group: { glob: 'groups/*.yaml', depth: 1 },
  template: { glob: 'templates/*/template.yaml', depth: 2 },
  workspace: { glob: 'workspaces/*/*.yaml', depth: 2 },
};

/** The first line of a scaffolded file of this kind (at its place in the repo). */
export function schemaModeline(kind: SchemaKind): string {
  return `# yaml-language-server: $schema=${'../'.repeat(FILES[kind].depth)}${EDITOR_SCHEMA_DIR}/${kind}.json`;
}

/** The schema copies, relative to the repo root. */
export function schemaCopies(): Map<string, string> {
  return new Map(SCHEMA_KINDS.map((k) => [`${EDITOR_SCHEMA_DIR}/${k}.json`, schemaText(k)]));
}

/** Files a new config repo gets for editors: the schema copies and VS Code settings using them. */
export function editorFiles(): Map<string, string> {
  const schemas = Object.fromEntries(SCHEMA_KINDS.map((k) => [`./${EDITOR_SCHEMA_DIR}/${k}.json`, FILES[k].glob]));
  const settings = { 'yaml.schemas': schemas, 'files.associations': { '*.tf': 'terraform' } };
  const extensions = { recommendations: ['redhat.vscode-yaml', 'hashicorp.terraform'] };
  return new Map([
    ...schemaCopies(),
    ['.vscode/settings.json', `${JSON.stringify(settings, null, 2)}\n`],
    ['.vscode/extensions.json', `${JSON.stringify(extensions, null, 2)}\n`],
  ]);
}
