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
  | 'CG_PLAN_STALE' // a saved plan no longer matches (the applied state or its ref moved)
  | 'CG_PLAN_INVALID' // the plan has errors (a change the applied state does not allow)
  | 'CG_DESTROY_GUARD' // the plan destroys more workspaces than --max-destroy allows
  | 'CG_FENCED' // this runner is no longer the reconciler
  | 'CG_CONFLICT' // the thing is busy or in a state that does not allow it (try again later)
  | 'CG_AUTH' // not signed in, or the server refused the credentials
  | 'CG_QUOTA' // starting it would exceed its owner's quota (running workspaces or budget)
  | 'CG_SECRET' // a secret kept encrypted cannot be opened (its key is not in CODER_GIT_ENCRYPTION_KEYS)
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
  CG_PLAN_STALE: EXIT.error,
  CG_PLAN_INVALID: EXIT.error,
  CG_DESTROY_GUARD: EXIT.error,
  CG_FENCED: EXIT.error,
  CG_CONFLICT: EXIT.error,
  CG_AUTH: EXIT.error,
  CG_QUOTA: EXIT.error,
  CG_SECRET: EXIT.error,
  CG_HTTP: EXIT.error,
};

/**
 * The HTTP status a server answer gets for a library failure that reaches a route (the routes'
 * own refusals are ApiErrors with their status). Anything not listed is a 500.
 */
export const HTTP_STATUS: Partial<Record<ErrorCode, { status: number; code: string }>> = {
  CG_USAGE: { status: 400, code: 'bad_request' },
  CG_INVALID_CONFIG: { status: 422, code: 'invalid_config' },
  CG_NOT_FOUND: { status: 404, code: 'not_found' },
  CG_EXISTS: { status: 409, code: 'conflict' },
  CG_CONFLICT: { status: 409, code: 'conflict' },
  CG_PLAN_STALE: { status: 409, code: 'plan_stale' },
  CG_PLAN_INVALID: { status: 422, code: 'plan_invalid' },
  CG_DESTROY_GUARD: { status: 422, code: 'destroy_guard' },
  CG_FENCED: { status: 409, code: 'fenced' },
  CG_AUTH: { status: 401, code: 'unauthenticated' },
  CG_QUOTA: { status: 403, code: 'quota_exceeded' },
  CG_DB: { status: 503, code: 'database_unavailable' },
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
