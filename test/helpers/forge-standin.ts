// A stand-in for the parts of GitHub's and GitLab's REST APIs that `coder-git comment` uses, on a
// real port: issue comments on a pull request (GitHub) and notes on a merge request (GitLab), kept in
// memory, paginated, refusing a wrong token and a body over the host's limit as the hosts do.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredComment {
  id: number;
  body: string;
  system?: boolean;
}

export interface ForgeStandin {
  url: string;
  /** comments by thread: "github:o/r#5" or "gitlab:42!7" */
  threads: Map<string, StoredComment[]>;
  /** a pull request's reviews, oldest first, by "github:o/r#5" */
  reviews: Map<string, { user: { login: string }; state: string; commit_id: string }[]>;
  /** a pull request's head commit, by "github:o/r#5" */
  heads: Map<string, string>;
  /** who opened a pull or merge request, by "github:o/r#5" or "gitlab:42!7" */
  authors: Map<string, string>;
  /** who approved a merge request, by "gitlab:42!7" */
  approvals: Map<string, string[]>;
  requests: string[];
  close(): Promise<void>;
}

const GITHUB_LIMIT = 65_536;
const GITLAB_LIMIT = 1_000_000;

export async function forgeStandin(tokens: { github: string; gitlab: string }): Promise<ForgeStandin> {
  const threads = new Map<string, StoredComment[]>();
  const reviews: ForgeStandin['reviews'] = new Map();
  const approvals: ForgeStandin['approvals'] = new Map();
  const heads = new Map<string, string>();
  const authors = new Map<string, string>();
  const requests: string[] = [];
  let nextId = 1000;
  const thread = (k: string) => threads.get(k) ?? threads.set(k, []).get(k)!;

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const readJson = async (req: IncomingMessage) => {
    let s = '';
    for await (const c of req) s += c;
    return s ? (JSON.parse(s) as { body?: string }) : {};
  };
  const page = <T>(rows: T[], u: URL) => {
    const per = Number(u.searchParams.get('per_page') ?? 30);
    const p = Number(u.searchParams.get('page') ?? 1);
    return rows.slice((p - 1) * per, p * per);
  };

  const server = createServer(async (req, res) => {
    const u = new URL(req.url!, 'http://x');
    requests.push(`${req.method} ${u.pathname}`);
    let m: RegExpExecArray | null;
    if (u.pathname.startsWith('/github/')) {
      if (req.headers.authorization !== `Bearer ${tokens.github}`) return send(res, 401, { message: 'Bad credentials' });
      const p = u.pathname.slice('/github'.length);
      if ((m = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(p))) {
        const t = thread(`github:${m[1]}#${m[2]}`);
        if (req.method === 'GET') return send(res, 200, page(t, u));
        if (req.method === 'POST') {
          const { body = '' } = await readJson(req);
          if (body.length > GITHUB_LIMIT) return send(res, 422, { message: 'Validation Failed', errors: [{ message: `Body is too long (maximum is ${GITHUB_LIMIT} characters)` }] });
          const c = { id: nextId++, body };
          t.push(c);
          return send(res, 201, c);
        }
      }
      if ((m = /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/.exec(p)) && req.method === 'GET') return send(res, 200, { number: Number(m[2]), user: { login: authors.get(`github:${m[1]}#${m[2]}`) ?? 'octocat' }, head: { sha: heads.get(`github:${m[1]}#${m[2]}`) ?? '0'.repeat(40) } });
      if ((m = /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)\/reviews$/.exec(p)) && req.method === 'GET') return send(res, 200, page(reviews.get(`github:${m[1]}#${m[2]}`) ?? [], u));
      if ((m = /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/.exec(p))) {
        for (const [k, t] of threads) {
          const i = t.findIndex((c) => c.id === Number(m![2]));
          if (!k.startsWith(`github:${m[1]}#`) || i < 0) continue;
          if (req.method === 'DELETE') {
            t.splice(i, 1);
            return send(res, 204);
          }
          const { body = '' } = await readJson(req);
          if (body.length > GITHUB_LIMIT) return send(res, 422, { message: 'Validation Failed' });
          t[i]!.body = body;
          return send(res, 200, t[i]);
        }
      }
      return send(res, 404, { message: 'Not Found' });
    }
    if (u.pathname.startsWith('/gitlab/api/v4/')) {
      if (req.headers['private-token'] !== tokens.gitlab) return send(res, 401, { message: '401 Unauthorized' });
      const p = u.pathname.slice('/gitlab/api/v4'.length);
      if ((m = /^\/projects\/([^/]+)\/merge_requests\/(\d+)$/.exec(p)) && req.method === 'GET') return send(res, 200, { iid: Number(m[2]), author: { username: authors.get(`gitlab:${decodeURIComponent(m[1]!)}!${m[2]}`) ?? 'root' } });
      if ((m = /^\/projects\/([^/]+)\/merge_requests\/(\d+)\/approvals$/.exec(p)) && req.method === 'GET') {
        const by = approvals.get(`gitlab:${decodeURIComponent(m[1]!)}!${m[2]}`) ?? [];
        return send(res, 200, { iid: Number(m[2]), approved: by.length > 0, approved_by: by.map((username, id) => ({ user: { id, username, name: username, state: 'active' } })) });
      }
      if ((m = /^\/projects\/([^/]+)\/merge_requests\/(\d+)\/notes(?:\/(\d+))?$/.exec(p))) {
        const t = thread(`gitlab:${decodeURIComponent(m[1]!)}!${m[2]}`);
        if (!m[3] && req.method === 'GET') return send(res, 200, page(t, u));
        if (!m[3] && req.method === 'POST') {
          const { body = '' } = await readJson(req);
          if (body.length > GITLAB_LIMIT) return send(res, 400, { message: { note: ['is too long (maximum is 1000000 characters)'] } });
          const c = { id: nextId++, body, system: false };
          t.push(c);
          return send(res, 201, c);
        }
        const i = t.findIndex((c) => c.id === Number(m![3]));
        if (i < 0) return send(res, 404, { message: '404 Not found' });
        if (req.method === 'DELETE') {
          t.splice(i, 1);
          return send(res, 204);
        }
        if (req.method === 'PUT') {
          t[i]!.body = (await readJson(req)).body ?? '';
          return send(res, 200, t[i]);
        }
      }
      return send(res, 404, { message: '404 Not found' });
    }
    send(res, 404, {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, threads, reviews, heads, authors, approvals, requests, close: () => new Promise((r) => server.close(() => r())) };
}
