// Where a sign-in (password form or SSO) may send the browser afterwards: a path on this site only.
// An open redirect would let a link to this site's real sign-in page send people elsewhere.

/** `next` when it is a local path, else the workspaces page. */
export function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/workspaces';
}
