// Prints validation results: text for people, json for tools (a documented, stable shape),
// github for workflow-command annotations on a pull request's files, gitlab for a Code Quality
// report (shown on merge requests), markdown for a pull-request comment.

import { createHash } from 'node:crypto';
import type { Diagnostic } from './diagnostics.ts';
import type { ConfigSource } from './source.ts';
import type { ValidationResult } from './validate.ts';
import { plural } from '../plural.ts';

export const FORMATS = ['text', 'json', 'github', 'gitlab'] as const;
export type Format = (typeof FORMATS)[number];

export interface Colors {
  bold(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  dim(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
export const ANSI: Colors = { bold: wrap(1, 22), red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), dim: wrap(2, 22) };
export const PLAIN: Colors = { bold: (s) => s, red: (s) => s, yellow: (s) => s, green: (s) => s, dim: (s) => s };

export function formatValidation(format: Format, source: ConfigSource, result: ValidationResult, color: Colors = PLAIN): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(toJson(source, result), null, 2)}\n`;
    case 'github':
      return githubAnnotations(result.diagnostics) + summary(source, result, PLAIN);
    case 'gitlab':
      return `${JSON.stringify(codeQuality(result.diagnostics), null, 2)}\n`;
    default:
      return result.diagnostics.map((d) => textLine(d, color)).join('') + summary(source, result, color);
  }
}

export function textLine(d: Diagnostic, c: Colors = PLAIN): string {
  const sev = d.severity === 'warning' ? `${c.yellow('warning')}: ` : '';
  return `${c.bold(`${d.file}:${d.line}:${d.col}`)}: ${sev}${d.message}\n`;
}

function where(source: ConfigSource): string {
  return source.commit ? `${source.ref} (${source.commit.sha.slice(0, 12)})` : 'the working tree';
}

function summary(source: ConfigSource, r: ValidationResult, c: Colors): string {
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  const warnings = r.diagnostics.length - errors.length;
  const objects = `${plural(r.counts.users, 'user')}, ${r.counts.groups ? `${plural(r.counts.groups, 'group')}, ` : ''}${plural(r.counts.templates, 'template')}, ${plural(r.counts.workspaces, 'workspace')}`;
  const warn = warnings ? `, ${plural(warnings, 'warning')}` : '';
  if (!errors.length && r.state) return `${c.green('valid')}: ${where(source)}: ${objects}${warn}\n`;
  const files = new Set(errors.map((d) => d.file)).size;
  return `${c.red('invalid')}: ${where(source)}: ${plural(errors.length, 'error')} in ${plural(files, 'file')}${warn}\n`;
}

/** The `--format json` document. Changing its shape is a breaking change (README). */
export function toJson(source: ConfigSource, r: ValidationResult) {
  return {
    valid: r.state !== undefined,
    source: source.commit ? { ref: source.ref, commit: source.commit.sha } : { ref: null, commit: null },
    counts: r.counts,
    errors: r.diagnostics.filter((d) => d.severity === 'error').length,
    warnings: r.diagnostics.filter((d) => d.severity === 'warning').length,
    diagnostics: r.diagnostics.map((d) => ({ file: d.file, line: d.line, col: d.col, severity: d.severity, code: d.code, message: d.message })),
  };
}

// https://docs.github.com/actions/reference/workflow-commands-for-github-actions
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProp = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function githubAnnotations(diags: Diagnostic[]): string {
  return diags
    .map((d) => `::${d.severity} file=${escapeProp(d.file)},line=${d.line},col=${d.col},title=${escapeProp(`coder-git ${d.code}`)}::${escapeData(d.message)}\n`)
    .join('');
}

// https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format
function codeQuality(diags: Diagnostic[]) {
  return diags.map((d) => ({
    description: d.message,
    check_name: d.code,
    fingerprint: createHash('sha1').update(`${d.file}:${d.line}:${d.col}:${d.code}:${d.message}`).digest('hex'),
    severity: d.severity === 'error' ? 'major' : 'minor',
    location: { path: d.file, lines: { begin: d.line } },
  }));
}

/** A fence longer than any run of backticks in the text, so nothing inside can close it. */
export function fenceFor(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  return '`'.repeat(Math.max(3, longest + 1));
}

/** An invalid commit, for the pull-request comment that would otherwise hold the plan. */
export function markdownValidation(title: string, source: ConfigSource, result: ValidationResult): string {
  const lines = result.diagnostics.map((d) => textLine(d)).join('');
  const fence = fenceFor(lines);
  return `### ${title}\n\n**Nothing can be applied**: ${summary(source, result, PLAIN).trim()}.\n\n${fence}text\n${lines}${fence}\n`;
}
