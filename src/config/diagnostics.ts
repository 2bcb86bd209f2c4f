// A diagnostic is one problem in one file at one position. Validation collects all of them
// (never stops at the first) and the formatters print them for people, for tools and for GitHub.

export type Severity = 'error' | 'warning';

/** Stable codes: part of the `--format json` contract (README: "Validation errors"). */
export type DiagnosticCode =
  | 'file' // unreadable, too large, not UTF-8, empty, a symlink
  | 'location' // a file where no config file belongs
  | 'yaml' // YAML syntax, duplicate keys, aliases, several documents
  | 'schema' // the file's JSON Schema rejects it
  | 'identity' // names from paths and name/owner fields
  | 'reference' // cross-references between files
  | 'terraform' // the template's Terraform module
  | 'schedule' // cron and TTLs
  | 'quota'; // a user's workspaces exceed their quota

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
}

export function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col;
}
