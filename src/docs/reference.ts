// Generates the README's config-file reference from schemas/*.json, so the two cannot drift apart:
// `npm run docs` (src/docs/generate.ts) rewrites the README section between the markers; a test
// fails when it is stale.

import { SCHEMA_KINDS, schemaText, type SchemaKind } from '../config/schemas.ts';
import { pkgPath } from '../paths.ts';

type Schema = Record<string, unknown>;

const FILES: Record<SchemaKind, string> = {
  deployment: '`coder-git.yaml`',
  user: '`users/<username>.yaml`',
  group: '`groups/<name>.yaml`',
  template: '`templates/<name>/template.yaml`',
  workspace: '`workspaces/<owner>/<name>.yaml`',
};

function typeOf(s: Schema): string {
  if (s.const !== undefined) return `\`${s.const}\``;
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((v) => `\`${v}\``).join(', ')}`;
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : String(s.type ?? 'any');
  if (t === 'array') {
    const items = (s.items ?? {}) as Schema;
    return `list of ${Array.isArray(items.enum) ? `(${items.enum.map((v) => `\`${v}\``).join(', ')})` : typeOf(items)}`;
  }
  if (t === 'string' && s.format) return `string (${s.format})`;
  if (t === 'string' && s.patternErrorMessage) return 'string (see note)';
  return t === 'object' ? 'mapping' : t;
}

function notes(s: Schema): string {
  const parts: string[] = [];
  if (typeof s.description === 'string') parts.push(s.description);
  if (typeof s.patternErrorMessage === 'string') parts.push(`Must be ${String(s.patternErrorMessage).replace(/^must be /, '')}.`);
  const lim: string[] = [];
  if (s.minimum !== undefined) lim.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) lim.push(`≤ ${s.maximum}`);
  if (s.maxLength !== undefined) lim.push(`at most ${s.maxLength} characters`);
  if (lim.length) parts.push(`(${lim.join(', ')})`);
  return parts.join(' ').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function rows(s: Schema, prefix: string, required: string[], root: Schema, out: string[]): void {
  for (const [key, raw] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
    let prop = raw;
    if (typeof prop.$ref === 'string') prop = resolve(root, prop.$ref);
    const path = `${prefix}${key}`;
    const def = prop.default !== undefined ? `\`${JSON.stringify(prop.default)}\`` : required.includes(key) ? '**required**' : '';
    out.push(`| \`${path}\` | ${typeOf(prop)} | ${def} | ${notes(prop)} |`);
    if (prop.properties) rows(prop, `${path}.`, (prop.required as string[]) ?? [], root, out);
    const extra = prop.additionalProperties as Schema | undefined;
    if (extra && typeof extra === 'object') {
      const item = typeof extra.$ref === 'string' ? resolve(root, extra.$ref) : extra;
      const names = (prop.propertyNames as Schema | undefined)?.patternErrorMessage;
      const label = key === 'parameters' && item.properties ? 'name' : key === 'variables' || key === 'env' ? 'NAME' : 'name';
      out.push(`| \`${path}.<${label}>\` | ${typeOf(item)} |  | ${names ? `Names: ${String(names).replace(/^must be /, '')}. ` : ''}${notes(item)} |`);
      if (item.properties) rows(item, `${path}.<${label}>.`, (item.required as string[]) ?? [], root, out);
    }
  }
}

function resolve(root: Schema, ref: string): Schema {
  let cur: unknown = root;
  for (const seg of ref.replace(/^#\//, '').split('/')) cur = (cur as Schema)[seg];
  return cur as Schema;
}

export function referenceMarkdown(): string {
  const out: string[] = [];
  for (const kind of SCHEMA_KINDS) {
    const s = JSON.parse(schemaText(kind)) as Schema;
    out.push(`#### ${FILES[kind]} — kind \`${(s.properties as Record<string, Schema>).kind!.const}\``, '', String(s.description), '');
    out.push('| key | type | default | notes |', '| --- | --- | --- | --- |');
    rows(s, '', (s.required as string[]) ?? [], s, out);
    out.push('');
  }
  return out.join('\n');
}

const START = '<!-- reference:start (generated from schemas/ by `npm run docs`) -->';
const END = '<!-- reference:end -->';
export const README = pkgPath('README.md');

export function readmeWithReference(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md needs the markers ${START} and ${END}`);
  return `${readme.slice(0, a + START.length)}\n\n${referenceMarkdown()}\n${readme.slice(b)}`;
}
