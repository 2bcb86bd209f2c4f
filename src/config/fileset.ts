// What the first stage of validation (each file on its own) hands to the second (how they fit
// together, crossref.ts): every file read, parsed and schema-checked, by kind and name.
import type { ParsedFile, PathSeg } from './yaml.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { SourceFile } from './source.ts';
import type { Deployment, Group, Template, User, Workspace } from './types.ts';

export interface Loaded<T> {
  value: T;
  parsed: ParsedFile;
  /**
   * false, or why its fields cannot be trusted: 'schema' (it parsed, the schema found errors) or
   * 'unreadable' (not even that). Either way the file exists, so references to it still hold.
   */
  broken: false | 'schema' | 'unreadable';
}

/** What stage one hands to the cross-reference checks. */
export interface FileSet {
  deployment: Loaded<Deployment> | undefined;
  users: Map<string, Loaded<User>>;
  groups: Map<string, Loaded<Group>>;
  templates: Map<string, Loaded<Template>>;
  workspaces: Map<string, Loaded<Workspace>>;
  /** templates/<name>/… files, by template name, including folders that have no valid template.yaml */
  templateFiles: Map<string, Map<string, SourceFile>>;
}

/** Reports a problem at path in file (its key with key: true). */
export type At = (file: string, parsed: ParsedFile | undefined, path: PathSeg[], message: string, code: Diagnostic['code'], key?: boolean, severity?: Diagnostic['severity']) => void;
