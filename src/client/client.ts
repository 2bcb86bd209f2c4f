// The CLI's side of the API (coder-git login, logout, list): the HTTP client adapter for the server,
// and where the CLI keeps its credentials — <config dir>/coder-git/session.json, mode 0600
// ($XDG_CONFIG_HOME or ~/.config). CODER_GIT_URL and CODER_GIT_TOKEN take precedence (CI, scripts).

import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoderGitError } from '../errors.ts';

export interface Session {
  url: string;
  token: string;
  username: string;
}

export function sessionFile(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'coder-git', 'session.json');
}

export async function saveSession(s: Session): Promise<string> {
  const file = sessionFile();
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written to a new file with 0600 from the start (never readable by others, not even briefly).
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  await fsp.rename(tmp, file);
  return file;
}

export async function loadSession(): Promise<Session> {
  const envUrl = process.env.CODER_GIT_URL;
  const envToken = process.env.CODER_GIT_TOKEN;
  if (envUrl && envToken) return { url: envUrl, token: envToken, username: '' };
  try {
    const s = JSON.parse(await fsp.readFile(sessionFile(), 'utf8')) as Session;
    return { ...s, url: envUrl || s.url, token: envToken || s.token };
  } catch {
    throw new CoderGitError('CG_AUTH', 'not signed in', { hint: 'run coder-git login <url> (or set CODER_GIT_URL and CODER_GIT_TOKEN)' });
  }
}

export async function forgetSession(): Promise<boolean> {
  return fsp.rm(sessionFile()).then(
    () => true,
    () => false,
  );
}

export function normaliseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(/^https?:\/\//.test(url) ? url : `https://${url}`);
  } catch {
    throw new CoderGitError('CG_USAGE', `${JSON.stringify(url)} is not a URL; expected one like https://coder.example.com`);
  }
  return u.origin + u.pathname.replace(/\/+$/, '');
}

/** The server's reason for refusing a WebSocket upgrade (its JSON error message, else the status). */
export function refusal(res: NodeJS.ReadableStream & { statusCode?: number }): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => {
      try {
        resolve(JSON.parse(body).error.message as string);
      } catch {
        resolve(`HTTP ${res.statusCode}`);
      }
    });
  });
}

/** A JSON request to the server; errors carry the server's message. */
export async function api<T>(base: string, method: string, route: string, o: { token?: string; body?: unknown } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${base}${route}`, {
      method,
      headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), 'user-agent': 'coder-git-cli' },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CoderGitError('CG_HTTP', `cannot reach ${base}: ${err instanceof Error ? (err.cause as Error | undefined)?.message ?? err.message : String(err)}`);
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    throw new CoderGitError('CG_HTTP', `${method} ${route}: ${res.status}, and the answer is not JSON (is ${base} a coder-git server?)`);
  }
  if (!res.ok) {
    const msg = (data as { error?: { message?: string } } | undefined)?.error?.message ?? `HTTP ${res.status}`;
    throw new CoderGitError(res.status === 401 || res.status === 403 || res.status === 429 ? 'CG_AUTH' : 'CG_HTTP', msg, res.status === 401 && o.token ? { hint: 'the token is no longer valid: coder-git login <url>' } : {});
  }
  return data as T;
}
