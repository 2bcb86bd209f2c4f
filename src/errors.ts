// Typed failures with stable codes, and the one place that maps them to exit codes.
// Library code throws CoderGitError; the CLI's top-level handler turns it into a message and an exit code.

export type ErrorCode =
  | 'CG_USAGE' // a flag or argument is wrong
  | 'CG_INVALID_CONFIG' // the config repo does not validate
  | 'CG_GIT' // git failed (bad ref, not a repository)
  | 'CG_EXISTS' // refusing to overwrite something
  | 'CG_NOT_FOUND' // a named thing does not exist
  | 'CG_IO' // reading or writing a file failed
  | 'CG_DB' // the database cannot be reached, started or used
  | 'CG_DB_NEWER' // the database schema is newer than this coder-git
  | 'CG_TERRAFORM' // terraform cannot be run
  | 'CG_PLAN' // a plan cannot be applied (errors in it, stale, too destructive)
  | 'CG_FENCED' // this runner is no longer the reconciler
  | 'CG_CONFLICT' // the thing is busy or in a state that does not allow it (try again later)
  | 'CG_AUTH' // not signed in, or the server refused the credentials
  | 'CG_HTTP'; // the server cannot be reached or answered with an error

export class CoderGitError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; hint?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CoderGitError';
    this.code = code;
    this.hint = opts.hint;
  }
}

export const EXIT = {
  ok: 0,
  error: 1,
  /** `plan --detailed-exitcode`: changes present (Terraform's convention). */
  changes: 2,
  /** sysexits EX_USAGE: kept apart from 1 and 2 so scripts can tell a typo from a failure. */
  usage: 64,
  /** sysexits EX_SOFTWARE: a bug in coder-git itself. */
  internal: 70,
} as const;

const exitByCode: Record<ErrorCode, number> = {
  CG_USAGE: EXIT.usage,
  CG_INVALID_CONFIG: EXIT.error,
  CG_GIT: EXIT.error,
  CG_EXISTS: EXIT.error,
  CG_NOT_FOUND: EXIT.error,
  CG_IO: EXIT.error,
  CG_DB: EXIT.error,
  CG_DB_NEWER: EXIT.error,
  CG_TERRAFORM: EXIT.error,
  CG_PLAN: EXIT.error,
  CG_FENCED: EXIT.error,
  CG_CONFLICT: EXIT.error,
  CG_AUTH: EXIT.error,
  CG_HTTP: EXIT.error,
};

export function exitCodeFor(err: unknown): number {
  return err instanceof CoderGitError ? exitByCode[err.code] : EXIT.internal;
}

/** One line per cause, outermost first: "loading config repo: git: unknown revision 'nope'". */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  while (e !== undefined && e !== null && parts.length < 8) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ');
}
