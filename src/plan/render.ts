// Plans for people (text, like terraform plan), for pull requests (markdown: a summary table, then
// collapsible details per workspace) and for tools (json: the Plan object, stable).

import { fenceFor, PLAIN, type Colors } from '../config/format.ts';
import type { FieldChange, ObjectChange, Plan, WorkspaceChange } from './types.ts';

export const PLAN_FORMATS = ['text', 'markdown', 'json'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

const SIGN = { create: '+', update: '~', delete: '-', noop: ' ' } as const;

const show = (v: unknown) => (v === null || v === undefined ? '(none)' : JSON.stringify(v));

function fieldLine(f: FieldChange): string {
  if (f.before === null) return `${f.field} = ${show(f.after)}`;
  if (f.after === null) return `${f.field} = ${show(f.before)} -> (none)`;
  return `${f.field}: ${show(f.before)} -> ${show(f.after)}`;
}

function buildLine(w: WorkspaceChange): string | undefined {
  if (w.inProgress) return `build: none (${w.inProgress})`;
  if (!w.build) return undefined;
  return `build: ${w.build.transition} (${w.build.why.join('; ')})`;
}

const TF_SIGN = { create: '+', update: '~', replace: '-/+', delete: '-', read: '<=' } as const;

export function terraformSummary(w: WorkspaceChange): string | undefined {
  // (the whole diagnostic is among the plan's errors; here its first line)
  if (w.terraformError) return `terraform: could not plan (see the errors): ${firstLine(w.terraformError)}`;
  if (!w.terraform) return undefined;
  const t = w.terraform;
  return `terraform: ${t.add} to add, ${t.change} to change, ${t.destroy} to destroy`;
}

function terraformLines(w: WorkspaceChange): string[] {
  return (w.terraform?.resources ?? []).map((r) => `  ${TF_SIGN[r.action]} ${r.address}${r.action === 'replace' ? ' (replace)' : ''}`);
}

export function renderText(p: Plan, c: Colors = PLAIN): string {
  const out: string[] = [];
  const color = (a: ObjectChange['action']) => (a === 'create' ? c.green : a === 'delete' ? c.red : a === 'update' ? c.yellow : (s: string) => s);
  const section = <T extends ObjectChange>(title: string, xs: T[], extra?: (x: T) => string[]) => {
    const changed = xs.filter((x) => x.action !== 'noop' || (extra && extra(x).length));
    if (!changed.length) return;
    out.push(c.bold(title));
    for (const x of changed) {
      out.push(color(x.action)(`  ${SIGN[x.action]} ${x.key}${x.action === 'noop' ? '' : ` (${x.action})`}`));
      for (const f of x.fields) if (x.action !== 'delete') out.push(`      ${fieldLine(f)}`);
      for (const e of extra?.(x) ?? []) out.push(`      ${e}`);
    }
    out.push('');
  };
  section('Deployment:', [p.deployment]);
  section('Users:', p.users);
  section('Groups:', p.groups ?? []);
  section('Templates:', p.templates, (t) => (t.workspaces.length ? [`rebuilds: ${t.workspaces.join(', ')}`] : []));
  section('Workspaces:', p.workspaces, (w) => {
    const b = buildLine(w);
    const t = terraformSummary(w);
    return [...(b ? [b] : []), ...(t ? [t, ...terraformLines(w)] : [])];
  });
  for (const e of p.errors) out.push(c.red(`Error: ${e.file}: ${e.message.replace(/\n(?=.)/g, '\n    ')}`));
  if (p.errors.length) out.push('');
  out.push(summaryLine(p));
  return `${out.join('\n')}\n`;
}

export function summaryLine(p: Plan): string {
  const s = p.summary;
  const dep = (k: 'create' | 'update' | 'delete') => (p.deployment.action === k ? 1 : 0);
  const n = (k: 'create' | 'update' | 'delete') => dep(k) + s.users[k] + (s.groups?.[k] ?? 0) + s.templates[k] + s.workspaces[k];
  if (!n('create') && !n('update') && !n('delete') && !s.builds.start && !s.builds.stop && !s.builds.delete) return 'No changes. The deployment matches the commit.';
  return `Plan: ${n('create')} to add, ${n('update')} to change, ${n('delete')} to destroy; builds: ${s.builds.start} start, ${s.builds.stop} stop, ${s.builds.delete} delete.`;
}

export function renderMarkdown(p: Plan): string {
  const out: string[] = ['### coder-git plan', '', summaryLine(p), ''];
  const s = p.summary;
  out.push('| | add | change | destroy |', '| --- | ---: | ---: | ---: |');
  for (const k of ['users', 'groups', 'templates', 'workspaces'] as const) if (k !== 'groups' || s.groups) out.push(`| ${k} | ${s[k].create} | ${s[k].update} | ${s[k].delete} |`);
  out.push('');
  if (p.errors.length) {
    out.push('**Errors** (nothing can be applied):', '');
    for (const e of p.errors) {
      const [first, ...rest] = e.message.split('\n');
      out.push(`- \`${e.file}\`: ${escapeMd(first!)}`);
      // terraform's diagnostic as it wrote it, in a block inside the list item
      if (rest.length) {
        const fence = fenceFor(rest.join('\n'));
        out.push('', `  ${fence}`, ...rest.map((l) => (l ? `  ${l}` : '')), `  ${fence}`);
      }
    }
    out.push('');
  }
  const builds = p.workspaces.filter((w) => w.build || w.inProgress);
  if (builds.length) {
    // Per workspace, what its terraform plan would do: resources to add, change, destroy.
    out.push('| workspace | change | build | to add | to change | to destroy | why |', '| --- | --- | --- | ---: | ---: | ---: | --- |');
    for (const w of builds) {
      const tf = w.terraform ? [w.terraform.add, w.terraform.change, w.terraform.destroy] : w.terraformError ? ['⚠', '⚠', '⚠'] : ['—', '—', '—'];
      const why = `${w.terraformError ? 'terraform could not plan (see details); ' : ''}${w.build?.why.join('; ') ?? w.inProgress ?? ''}`;
      out.push(`| \`${w.key}\` | ${w.action} | ${w.build?.transition ?? '—'} | ${tf.join(' | ')} | ${escapeMd(why)} |`);
    }
    out.push('');
  }
  const details = [p.deployment, ...p.users, ...(p.groups ?? []).map((g) => ({ ...g, key: `group ${g.key}` })), ...p.templates, ...p.workspaces].filter((x) => x.action !== 'noop');
  if (details.length) {
    const lines: string[] = [];
    for (const x of details) {
      lines.push(`${SIGN[x.action]} ${x.key}`);
      for (const f of x.fields) if (x.action !== 'delete') lines.push(`${SIGN[x.action]}     ${fieldLine(f)}`);
      const w = x as WorkspaceChange;
      if (w.terraform || w.terraformError) lines.push(`      ${terraformSummary(w)}`, ...terraformLines(w).map((l) => `    ${l}`));
    }
    // A value or a terraform error holding ``` must not end the block early.
    const fence = fenceFor(lines.join('\n'));
    out.push('<details><summary>Details</summary>', '', `${fence}diff`, ...lines, fence, '', '</details>', '');
  }
  return `${out.join('\n')}`;
}

/** terraform's first error's summary ("Error: …"), else the message's first line */
const firstLine = (s: string) => s.split('\n').find((l) => l.startsWith('Error: ')) ?? s.split('\n', 1)[0]!;

function escapeMd(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

export function renderPlan(format: PlanFormat, p: Plan, c: Colors = PLAIN): string {
  if (format === 'json') return `${JSON.stringify(p, null, 2)}\n`;
  if (format === 'markdown') return renderMarkdown(p);
  return renderText(p, c);
}
