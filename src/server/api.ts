// The REST API under /api/v1. Routes are declared once, in API_ROUTES: the table registers them, checks
// who may call each (anonymous, any signed-in user, or a permission of GRANTS) and generates the
// OpenAPI document served at /api/docs, so the docs cannot drift from what runs.
//
// A member sees only their own workspaces; an auditor reads everything and changes nothing (nothing
// here changes the deployment: git does). Requests that change something (tokens, a refresh) must
// authenticate with a header, not the session cookie: a cross-site form cannot set headers.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from './context.ts';
import { can, issueKey, reachesWorkspace, revokeKey, visibleWorkspace, type Permission } from './auth.ts';
import { passwordLogin } from './login.ts';
import { parseLifetime, TOKEN_LIFETIMES } from './tokens.ts';
import { workspaces } from '../db/repos/workspaces.ts';
import { users } from '../db/repos/users.ts';
import { syncs } from '../db/repos/syncs.ts';
import { builds } from '../db/repos/builds.ts';
import { logs } from '../db/repos/logs.ts';
import { agents } from '../db/repos/agents.ts';
import { apiKeys } from '../db/repos/api-keys.ts';
import { audit } from '../db/repos/audit.ts';
import { workspaceView } from '../workspace-view.ts';
import { VERSION } from '../version.ts';
import { publish, REFRESH_CHANNEL } from '../db/channels.ts';
import { requestStart } from '../apply/manual-builds.ts';
import { CoderGitError, HTTP_STATUS } from '../errors.ts';
import { asDatabaseError } from '../db/connect.ts';
import { list, obj, ref, SCHEMAS, str } from './api-schemas.ts';
import { gitSshKeys } from '../db/repos/git-ssh-keys.ts';
import { keyringFromEnv } from '../auth/secret-box.ts';
import { resetGitSshKey } from '../auth/git-ssh.ts';
import { fingerprint } from '../auth/ssh-key.ts';

export type Access = 'anonymous' | 'user' | Permission;

export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  summary: string;
  access: Access;
  /** changes something: header authentication only */
  mutates?: boolean;
  /** the JSON body it accepts (checked by the handler, whose messages name the field) */
  body?: Record<string, unknown>;
  /** query parameters: name → schema (with a description) */
  query?: Record<string, Record<string, unknown>>;
  /** the answers it gives besides the ones every route shares (401, 403, 503): status → description and JSON schema */
  responses: Record<number, { description: string; schema?: Record<string, unknown>; type?: string }>;
  /** the JSON Schema of a 200 answer to serialize it with (fast-json-stringify): for the hottest route */
  response?: Record<string, unknown>;
  handler: (req: FastifyRequest, reply: FastifyReply, ctx: Ctx) => Promise<unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const gitSshKeyView = (r: { public_key: string; created_at: Date }) => ({ public_key: r.public_key, fingerprint: fingerprint(r.public_key), created_at: r.created_at });

const params = (req: FastifyRequest) => req.params as Record<string, string>;

/** A workspace the actor may see, or 404 (not 403: whether another's workspace exists is not told). */
async function visibleOr404(req: FastifyRequest, ctx: Ctx) {
  const { owner, name } = params(req);
  const row = await visibleWorkspace(ctx.o.database.db, req.actor!, owner!, name!);
  if (!row) throw new ApiError(404, 'not_found', `no workspace ${owner}/${name}`);
  return row;
}

const limitOf = (req: FastifyRequest, max = 200) => {
  const n = Number((req.query as { limit?: string }).limit ?? 50);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ApiError(400, 'bad_request', `limit: expected a whole number from 1 to ${max}`);
  return n;
};

const NOT_FOUND = { description: 'no such thing, or not one the caller may see', schema: ref('Error') };
const BAD_REQUEST = { description: 'a parameter or field is wrong: the message names it', schema: ref('Error') };
const LIMIT = (max: number) => ({ type: 'integer', minimum: 1, maximum: max, default: 50, description: 'at most this many' });
const TOKEN_NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$', description: '1 to 64 letters, digits, spaces, . _ or -' };
const LIFETIME = { type: 'string', enum: [...TOKEN_LIFETIMES], default: '30d' };

export const API_ROUTES: ApiRoute[] = [
  {
    method: 'GET',
    url: '/api/v1/me',
    summary: 'The signed-in user',
    access: 'user',
    responses: { 200: { description: 'the caller', schema: ref('Me') } },
    response: SCHEMAS.Me,
    handler: async (req) => ({ username: req.actor!.username, roles: req.actor!.roles, via: req.actor!.kind }),
  },
  {
    method: 'GET',
    url: '/api/v1/workspaces',
    summary: "Workspaces: the caller's own, or every one for roles that read all",
    access: 'user',
    responses: { 200: { description: 'the workspaces, by owner and name', schema: obj({ workspaces: list(ref('Workspace')) }) } },
    handler: async (req, _r, ctx) => {
      const me = req.actor!;
      const rows = await workspaces.listing(ctx.o.database.db, can(me, 'workspaces:read-all') ? null : me.username);
      return { workspaces: rows.map((r) => workspaceView(r)) };
    },
  },
  {
    method: 'GET',
    url: '/api/v1/workspaces/:owner/:name',
    summary: 'One workspace with its last build and agent',
    access: 'user',
    responses: { 200: { description: 'the workspace', schema: ref('Workspace') }, 404: NOT_FOUND },
    handler: async (req, _r, ctx) => workspaceView(await visibleOr404(req, ctx)),
  },
  {
    method: 'POST',
    url: '/api/v1/workspaces/:owner/:name/start',
    summary: "Start a stopped workspace now (start on connect: what `coder-git ssh` does first); the workspace's owner, or an owner. 202 with the start build's number; 200 when it is already running or starting",
    access: 'user',
    mutates: true,
    responses: {
      200: { description: 'already running or starting', schema: ref('StartRequest') },
      202: { description: 'a start build was queued', schema: ref('StartRequest') },
      403: { description: "starting it would exceed its owner's quota (running workspaces or budget; code quota_exceeded)", schema: ref('Error') },
      404: NOT_FOUND,
      409: { description: 'it cannot start now (for example: it is being deleted)', schema: ref('Error') },
    },
    handler: async (req, reply, ctx) => {
      const { owner, name } = params(req);
      const me = req.actor!;
      if (!reachesWorkspace(me.roles, me.username, owner!)) throw new ApiError(404, 'not_found', `no workspace ${owner}/${name}`);
      // CG_NOT_FOUND and CG_CONFLICT become 404 and 409 through HTTP_STATUS (src/errors.ts).
      const r = await requestStart(ctx.o.database.db, owner!, name!, { username: me.username, ip: req.clientIp });
      return reply.code(r.queued ? 202 : 200).send(r);
    },
  },
  {
    method: 'GET',
    url: '/api/v1/workspaces/:owner/:name/builds/:number/logs',
    summary: "A build's Terraform log (number: a build number or latest)",
    access: 'user',
    query: { after: { type: 'string', pattern: '^[0-9]{1,18}$', description: 'only lines after this line id (0: from the start)' } },
    responses: { 200: { description: 'the build, up to 1000 of its log lines, and its agent\'s startup log', schema: ref('BuildLogs') }, 400: BAD_REQUEST, 404: NOT_FOUND },
    handler: async (req, _r, ctx) => {
      await visibleOr404(req, ctx);
      const { owner, name, number } = params(req);
      if (number !== 'latest' && !/^\d{1,9}$/.test(number!)) throw new ApiError(400, 'bad_request', 'number: expected a build number or "latest"');
      const b = await builds.byNumber(ctx.o.database.db, owner!, name!, number === 'latest' ? null : Number(number));
      if (!b) throw new ApiError(404, 'not_found', `no build ${number} of ${owner}/${name}`);
      const after = String((req.query as { after?: string }).after ?? '0');
      if (!/^\d{1,18}$/.test(after)) throw new ApiError(400, 'bad_request', 'after: expected a log line id');
      const lines = await logs.read(ctx.o.database.db, b.id, after, 1000);
      const agentLog = b.agent_id ? await agents.readLogs(ctx.o.database.db, b.agent_id) : [];
      return { build: b, lines, agent_startup_log: agentLog };
    },
  },
  {
    method: 'GET',
    url: '/api/v1/workspaces/:owner/:name/watch',
    summary: 'Server-sent events: the workspace now, then again whenever its agent changes (on any replica); for=<seconds> ends the stream',
    access: 'user',
    query: { for: { type: 'number', exclusiveMinimum: 0, maximum: 3600, description: 'end the stream after this many seconds' } },
    responses: {
      200: { description: 'a text/event-stream: `event: workspace` with a Workspace as data, again on each change; `event: closed` with {reason} when the key that opened it ends', type: 'text/event-stream' },
      400: BAD_REQUEST,
      404: NOT_FOUND,
    },
    handler: async (req, reply, ctx) => {
      const row = await visibleOr404(req, ctx);
      const forS = (req.query as { for?: string }).for;
      if (forS !== undefined && !(Number(forS) > 0 && Number(forS) <= 3600)) throw new ApiError(400, 'bad_request', 'for: seconds, more than 0 and at most 3600');
      const { owner, name } = params(req);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
      let sending: Promise<void> = Promise.resolve();
      const send = () =>
        (sending = sending.then(async () => {
          const now = (await workspaces.listing(ctx.o.database.db, owner!)).find((w) => w.name === name);
          if (now && !res.writableEnded) res.write(`event: workspace\ndata: ${JSON.stringify(workspaceView(now))}\n\n`);
        }).catch(() => undefined));
      const onEvent = (e: { workspace_id: string }) => {
        if (e.workspace_id === row.id || e.workspace_id === '*') void send();
      };
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      const end = () => {
        forget();
        clearInterval(keepAlive);
        clearTimeout(stop);
        ctx.events.off('event', onEvent);
        if (!res.writableEnded) void sending.then(() => res.end());
      };
      // Ends, with a last event saying why, when the key that opened it ends.
      const own = owner === req.actor!.username;
      const forget = ctx.channels.add(
        req.actor!.id,
        (reason) => {
          if (!res.writableEnded) res.write(`event: closed\ndata: ${JSON.stringify({ reason })}\n\n`);
          end();
        },
        own ? undefined : (roles) => can({ ...req.actor!, roles }, 'workspaces:read-all'),
      );
      const stop = forS ? setTimeout(end, Number(forS) * 1000) : undefined;
      ctx.events.on('event', onEvent);
      req.raw.on('close', end);
      void send();
    },
  },
  {
    method: 'GET',
    url: '/api/v1/users',
    summary: 'Users as applied from git (no password hashes)',
    access: 'users:read',
    responses: { 200: { description: 'every user', schema: obj({ users: list(ref('User')) }) } },
    handler: async (_req, _r, ctx) => ({ users: await users.list(ctx.o.database.db) }),
  },
  {
    method: 'GET',
    url: '/api/v1/syncs',
    summary: 'The latest syncs (commits seen by the runner or applied by CI)',
    access: 'syncs:read',
    query: { limit: LIMIT(200) },
    responses: { 200: { description: 'the latest syncs, newest first, and the workspaces whose latest build failed', schema: obj({ syncs: list(ref('Sync')), failed_builds: list(ref('FailedBuild')) }) }, 400: BAD_REQUEST },
    handler: async (req, _r, ctx) => ({ syncs: await syncs.recent(ctx.o.database.db, limitOf(req)), failed_builds: await builds.failedLatest(ctx.o.database.db) }),
  },
  {
    method: 'GET',
    url: '/api/v1/audit',
    summary: 'The audit log, newest first (before: an entry id, for paging)',
    access: 'audit:read',
    query: { limit: LIMIT(1000), before: { type: 'string', pattern: '^[0-9]{1,18}$', description: 'only entries older than this entry id' } },
    responses: { 200: { description: 'audit entries, newest first', schema: obj({ entries: list(ref('AuditEntry')) }) }, 400: BAD_REQUEST },
    handler: async (req, _r, ctx) => {
      const before = (req.query as { before?: string }).before ?? null;
      if (before !== null && !/^\d{1,18}$/.test(before)) throw new ApiError(400, 'bad_request', 'before: expected an audit entry id');
      return { entries: await audit.recent(ctx.o.database.db, limitOf(req, 1000), before) };
    },
  },
  {
    method: 'GET',
    url: '/api/v1/tokens',
    summary: "The caller's API tokens (never their secrets)",
    access: 'user',
    responses: { 200: { description: "the caller's tokens", schema: obj({ tokens: list(ref('Token')) }) } },
    handler: async (req, _r, ctx) => ({ tokens: await apiKeys.list(ctx.o.database.db, req.actor!.user_id, 'token') }),
  },
  {
    method: 'POST',
    url: '/api/v1/tokens',
    summary: 'Create an API token; its secret is in this answer only',
    access: 'user',
    mutates: true,
    body: obj({ name: TOKEN_NAME, lifetime: LIFETIME }, { required: ['name'] }),
    responses: { 201: { description: 'the new token, with its secret', schema: ref('NewToken') }, 400: BAD_REQUEST },
    handler: async (req, reply, ctx) => {
      const b = (req.body ?? {}) as { name?: unknown; lifetime?: unknown };
      if (typeof b.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(b.name)) throw new ApiError(400, 'bad_request', 'name: 1 to 64 letters, digits, spaces, . _ or -, starting with a letter or digit');
      const lifetime = parseLifetime(b.lifetime ?? '30d');
      if (lifetime === undefined) throw new ApiError(400, 'bad_request', `lifetime: one of ${TOKEN_LIFETIMES.join(', ')}`);
      const me = req.actor!;
      const { secret, row } = await issueKey(ctx.o.database.db, me.user_id, 'token', b.name, lifetime);
      await audit.append(ctx.o.database.db, { actor: me.username, action: 'token_created', target: row.id, details: { name: b.name, expires_at: row.expires_at }, ip: req.clientIp });
      reply.code(201);
      return { token: secret, id: row.id, name: row.name, expires_at: row.expires_at };
    },
  },
  {
    method: 'DELETE',
    url: '/api/v1/tokens/:id',
    summary: "Revoke one of the caller's tokens",
    access: 'user',
    mutates: true,
    responses: { 204: { description: 'revoked' }, 404: NOT_FOUND },
    handler: async (req, reply, ctx) => {
      const { id } = params(req);
      const me = req.actor!;
      if (!/^[0-9a-f-]{36}$/.test(id!) || !(await revokeKey(ctx.o.database.db, ctx.authCache, me.user_id, id!))) throw new ApiError(404, 'not_found', `no token ${id}`);
      await audit.append(ctx.o.database.db, { actor: me.username, action: 'token_revoked', target: id, ip: req.clientIp });
      return reply.code(204).send();
    },
  },
  {
    method: 'GET',
    url: '/api/v1/users/me/gitsshkey',
    summary: "The caller's git SSH key: the public half, to add to a git host (the private half never leaves coder-git but for the agents of the caller's workspaces)",
    access: 'user',
    responses: { 200: { description: 'the public key', schema: ref('GitSshKey') }, 404: { description: 'no key yet (made when the user file is applied) or none kept here', schema: ref('Error') } },
    handler: async (req, _r, ctx) => {
      const row = await gitSshKeys.byUser(ctx.o.database.db, req.actor!.user_id);
      if (!row) throw new ApiError(404, 'not_found', keyringFromEnv() ? `${req.actor!.username} has no git SSH key yet: one is made when their user file is applied` : 'this deployment keeps no git SSH keys: CODER_GIT_ENCRYPTION_KEYS is not set where it applies and serves');
      return gitSshKeyView(row);
    },
  },
  {
    method: 'POST',
    url: '/api/v1/users/me/gitsshkey',
    summary: "A new git SSH key for the caller: the old one stops working wherever it was added (what `coder-git publickey --reset` does)",
    access: 'user',
    mutates: true,
    responses: { 201: { description: 'the new public key', schema: ref('GitSshKey') }, 409: { description: 'this server keeps no git SSH keys (no CODER_GIT_ENCRYPTION_KEYS)', schema: ref('Error') } },
    handler: async (req, reply, ctx) => {
      const ring = keyringFromEnv();
      if (!ring) throw new ApiError(409, 'conflict', 'this server keeps no git SSH keys: CODER_GIT_ENCRYPTION_KEYS is not set');
      const me = req.actor!;
      const row = await resetGitSshKey(ctx.o.database.db, ring, { id: me.user_id, username: me.username }, req.clientIp);
      reply.code(201);
      return gitSshKeyView(row);
    },
  },
  {
    method: 'POST',
    url: '/api/v1/login',
    summary: 'Sign in with a password and get an API token (what `coder-git login` does)',
    access: 'anonymous',
    body: obj({ username: { type: 'string', description: 'the username or the email' }, password: str, token_name: { ...TOKEN_NAME, description: 'the new token\'s name (default cli)' }, lifetime: LIFETIME }, { required: ['username', 'password'] }),
    responses: {
      201: { description: 'signed in: a new token, with its secret', schema: ref('LoginToken') },
      400: BAD_REQUEST,
      401: { description: 'wrong username or password (the same answer for both), or password sign-in is off', schema: ref('Error') },
      429: { description: 'too many failed attempts for this user or address; try again later', schema: ref('Error') },
    },
    handler: async (req, reply, ctx) => {
      const b = (req.body ?? {}) as { username?: unknown; password?: unknown; token_name?: unknown; lifetime?: unknown };
      if (typeof b.username !== 'string' || typeof b.password !== 'string') throw new ApiError(400, 'bad_request', 'username and password: strings');
      const lifetime = parseLifetime(b.lifetime ?? '30d');
      if (lifetime === undefined) throw new ApiError(400, 'bad_request', `lifetime: one of ${TOKEN_LIFETIMES.join(', ')}`);
      const name = typeof b.token_name === 'string' && /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(b.token_name) ? b.token_name : 'cli';
      const r = await passwordLogin(ctx.o.database.db, await ctx.deployment(), { username: b.username, password: b.password, ip: req.clientIp });
      ctx.metrics.login(r.ok ? 'success' : r.reason);
      if (!r.ok) throw new ApiError(r.reason === 'rate_limited' ? 429 : 401, r.reason, r.message);
      const { secret, row } = await issueKey(ctx.o.database.db, r.user.id, 'token', name, lifetime);
      await audit.append(ctx.o.database.db, { actor: r.user.username, action: 'token_created', target: row.id, details: { name, expires_at: row.expires_at, via: 'login' }, ip: req.clientIp });
      reply.code(201);
      return { token: secret, username: r.user.username, expires_at: row.expires_at };
    },
  },
  {
    method: 'POST',
    url: '/api/v1/logout',
    summary: 'Revoke the token (or session) this request is made with',
    access: 'user',
    mutates: true,
    responses: { 204: { description: 'signed out' } },
    handler: async (req, reply, ctx) => {
      const me = req.actor!;
      await revokeKey(ctx.o.database.db, ctx.authCache, me.user_id, me.id);
      await audit.append(ctx.o.database.db, { actor: me.username, action: me.kind === 'session' ? 'logout' : 'token_revoked', target: me.kind === 'session' ? me.username : me.id, ip: req.clientIp });
      return reply.code(204).send();
    },
  },
  {
    method: 'POST',
    url: '/api/v1/runner/refresh',
    summary: 'Ask the runners to fetch the config repo now',
    access: 'runner:refresh',
    mutates: true,
    responses: { 202: { description: 'asked', schema: obj({ ok: { type: 'boolean', const: true } }) } },
    handler: async (req, reply, ctx) => {
      await publish(ctx.o.database.db, REFRESH_CHANNEL, { by: req.actor!.username });
      return reply.code(202).send({ ok: true });
    },
  },
];


/**
 * The database is unreachable (refused, lost, restarting): 503 with a reason and a Retry-After, as
 * /healthz says, never a 500. True when answered.
 */
export function databaseDown(err: unknown, req: FastifyRequest, reply: FastifyReply): boolean {
  const db = asDatabaseError(err);
  if (!db) return false;
  req.log.warn({ err }, 'database unavailable');
  void reply
    .code(503)
    .header('retry-after', '5')
    .send({ error: { code: 'database_unavailable', message: `the server cannot reach its database right now (${db.message.replace(/^the database connection failed: /, '')}); try again in a few seconds` } });
  return true;
}

export async function apiRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    if (databaseDown(err, req, reply)) return reply;
    const mapped = err instanceof CoderGitError ? HTTP_STATUS[err.code] : undefined;
    if (mapped && mapped.status < 500) return reply.code(mapped.status).send({ error: { code: mapped.code, message: (err as CoderGitError).message } });
    if (mapped) {
      req.log.warn({ err }, 'request failed');
      return reply.code(mapped.status).send({ error: { code: mapped.code, message: 'the server cannot do that right now; try again' } });
    }
    const e = err as { statusCode?: number; message: string };
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: { code: 'bad_request', message: e.message } });
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: 'internal', message: 'something went wrong; the server log has the details' } });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } }));
  for (const r of API_ROUTES) {
    app.route({
      method: r.method,
      url: r.url,
      ...(r.response ? { schema: { response: { 200: r.response } } } : {}),
      handler: async (req, reply) => {
        if (r.access !== 'anonymous') {
          if (!req.actor) throw new ApiError(401, 'unauthenticated', 'sign in: send an API token as Authorization: Bearer <token>');
          if (r.access !== 'user' && !can(req.actor, r.access)) throw new ApiError(403, 'forbidden', `needs a role that grants ${r.access}`);
          if (r.mutates && req.actorVia === 'cookie') throw new ApiError(403, 'forbidden', 'changes through the API need an API token header, not the browser session');
        }
        return r.handler(req, reply, ctx);
      },
    });
  }
  app.get('/api/docs', async (_req, reply) => reply.send(openApi((await ctx.deployment())?.access_url)));
}

interface DocRoute {
  method: string;
  url: string;
  summary: string;
  access: string;
  mutates?: boolean;
  body?: Record<string, unknown>;
  bodyTypes?: string[];
  query?: Record<string, Record<string, unknown>>;
  responses: ApiRoute['responses'];
}

const WEBSOCKET = { 101: { description: 'Switching Protocols: the WebSocket is open' } };
/** The endpoints outside the route table (WebSockets, the webhook), for the document. */
const OTHER_ROUTES: DocRoute[] = [
  { method: 'GET', url: '/api/v1/agents/connect', summary: 'Workspace agents: a WebSocket, authenticated by the agent token (Coder-Agent-Token header); protocol in the README', access: 'agent', responses: WEBSOCKET },
  { method: 'GET', url: '/api/v1/workspaces/:owner/:name/tcp/:port', summary: "A WebSocket carrying one TCP connection to a port inside the workspace, through its agent (the workspace's owner, or an owner)", access: 'workspace-owner', responses: { ...WEBSOCKET, 404: NOT_FOUND } },
  { method: 'GET', url: '/api/v1/workspaces/:owner/:name/ssh', summary: "A WebSocket carrying an SSH connection to the workspace's agent (what `coder-git ssh --stdio` uses; the workspace's owner, or an owner)", access: 'workspace-owner', responses: { ...WEBSOCKET, 404: NOT_FOUND } },
  {
    method: 'GET',
    url: '/api/v1/workspaces/:owner/:name/pty',
    summary: "A WebSocket to a terminal in the workspace (binary frames are terminal bytes, text frames {type:'resize',cols,rows}); the same reconnect id reattaches to the same shell for 5 minutes. The web terminal page uses it with its session cookie (same origin only)",
    access: 'workspace-owner',
    query: { reconnect: { type: 'string', description: 'an id of the caller\'s choosing: the same one reattaches to the same shell' }, cols: { type: 'integer', minimum: 1 }, rows: { type: 'integer', minimum: 1 } },
    responses: { ...WEBSOCKET, 404: NOT_FOUND },
  },
  {
    method: 'GET',
    url: '/api/v1/agents/me/gitsshkey',
    summary: "The workspace owner's git SSH key pair, for the agent to hold in memory and sign with (agent token)",
    access: 'agent',
    responses: { 200: { description: 'the key pair', schema: obj({ public_key: str, private_key: { type: 'string', description: 'PKCS#8 PEM' } }) }, 404: { description: 'the owner has no key, or the server keeps none', schema: ref('Error') } },
  },
  { method: 'GET', url: '/api/v1/agents/relay', summary: "The agent's side of a relayed stream (agent token; session from the agent's control socket)", access: 'agent', query: { session: { type: 'string', description: 'the stream the agent was asked to open' } }, responses: WEBSOCKET },
  {
    method: 'POST',
    url: '/api/v1/webhooks/git',
    summary: 'GitHub and GitLab push webhooks (X-Hub-Signature-256 HMAC, or X-Gitlab-Token): the runners fetch at once',
    access: 'webhook',
    body: { type: 'object', description: "the forge's push (or ping) event; GitHub may send it as a form with a payload field" },
    bodyTypes: ['application/json', 'application/x-www-form-urlencoded'],
    responses: {
      200: { description: 'a ping, or a delivery already seen (duplicate: true): nothing fetched', schema: { type: 'object', required: ['ok'], additionalProperties: false, properties: { ok: { type: 'boolean' }, pong: { type: 'boolean' }, duplicate: { type: 'boolean' } } } },
      202: { description: 'the runners were asked to fetch', schema: obj({ ok: { type: 'boolean' }, ref: { type: ['string', 'null'] } }) },
      400: BAD_REQUEST,
      401: { description: 'the signature or token does not match the webhook secret', schema: ref('Error') },
      404: { description: 'the webhook is off (no CODER_GIT_WEBHOOK_SECRET)', schema: ref('Error') },
      415: { description: 'not application/json or a GitHub form', schema: ref('Error') },
    },
  },
];

const TAGS: Record<string, string> = {
  auth: 'Signing in and out, and who the caller is',
  workspaces: 'Workspaces, their builds and logs, and the ways into them',
  users: 'Users as applied from git',
  syncs: 'Commits the runners and CI saw, and what became of them',
  audit: 'The audit log',
  tokens: "The caller's API tokens",
  runner: 'Asking the runners to act now',
  agents: "The workspace agent's endpoints",
  webhooks: 'Push notifications from the forge',
};

function tagOf(url: string): string {
  const seg = url.split('/')[3]!;
  return seg === 'me' || seg === 'login' || seg === 'logout' ? 'auth' : seg;
}

/** A stable operationId from the route: GET /api/v1/workspaces/:owner/:name/start → postWorkspacesByOwnerByNameStart. */
function operationId(method: string, url: string): string {
  const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
  const words = url
    .split('/')
    .slice(3)
    .map((seg) => (seg.startsWith(':') ? `By${cap(seg.slice(1))}` : seg.split('-').map(cap).join('')));
  return method.toLowerCase() + words.join('');
}

/** The OpenAPI 3.1 document, from API_ROUTES and OTHER_ROUTES; servers: the deployment's access URL. */
export function openApi(accessUrl = 'http://127.0.0.1:3000'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const err = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
  const security = (a: string) =>
    a === 'anonymous' ? [] : a === 'agent' ? [{ agentToken: [] }] : a === 'webhook' ? [{ githubSignature: [] }, { gitlabToken: [] }] : [{ token: [] }, { session: [] }];
  for (const r of [...API_ROUTES, ...OTHER_ROUTES] as DocRoute[]) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, x] of Object.entries(r.responses)) {
      responses[status] = { description: x.description, ...(x.schema ? { content: { 'application/json': { schema: x.schema } } } : x.type ? { content: { [x.type]: { schema: { type: 'string' } } } } : {}) };
    }
    if (r.access !== 'anonymous' && r.access !== 'webhook') responses[401] ??= err(r.access === 'agent' ? 'no valid agent token' : 'not signed in (no valid token or session)');
    if ((r.access !== 'anonymous' && r.access !== 'user' && r.access !== 'agent' && r.access !== 'webhook') || r.mutates) {
      responses[403] ??= err(r.mutates ? 'not allowed: a role is missing, or a change was made with the browser session instead of a token header' : 'not allowed: the caller lacks the role');
    }
    responses[503] = { ...err('the server cannot reach its database right now; try again in a few seconds'), headers: { 'Retry-After': { description: 'seconds', schema: { type: 'integer' } } } };
    paths[path] ??= {};
    paths[path]![r.method.toLowerCase()] = {
      operationId: operationId(r.method, r.url),
      summary: r.summary,
      tags: [tagOf(r.url)],
      'x-coder-git-access': r.access,
      security: security(r.access),
      parameters: [
        ...[...r.url.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
        ...Object.entries(r.query ?? {}).map(([name, schema]) => {
          const { description, ...rest } = schema as { description?: string };
          return { name, in: 'query', required: false, ...(description ? { description } : {}), schema: rest };
        }),
      ],
      ...(r.body ? { requestBody: { required: true, content: Object.fromEntries((r.bodyTypes ?? ['application/json']).map((t) => [t, { schema: r.body }])) } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'coder-git',
      version: VERSION,
      description: 'The API of a coder-git server: what git applied (workspaces, users, syncs, the audit log), API tokens, and the ways into workspaces. Nothing here changes the deployment: git does.',
      license: { name: 'AGPL-3.0-only', identifier: 'AGPL-3.0-only' },
    },
    servers: [{ url: accessUrl.replace(/\/+$/, ''), description: "the deployment's access URL" }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    components: {
      securitySchemes: {
        token: { type: 'http', scheme: 'bearer', description: 'an API token (coder-git login, or POST /api/v1/tokens)' },
        session: { type: 'apiKey', in: 'cookie', name: 'coder_git_session', description: 'the browser session (reads only)' },
        agentToken: { type: 'apiKey', in: 'header', name: 'Coder-Agent-Token', description: "the agent token of the workspace's build" },
        githubSignature: { type: 'apiKey', in: 'header', name: 'X-Hub-Signature-256', description: "GitHub's HMAC-SHA256 of the body with the webhook secret" },
        gitlabToken: { type: 'apiKey', in: 'header', name: 'X-Gitlab-Token', description: 'the webhook secret, as GitLab sends it' },
      },
      schemas: SCHEMAS,
    },
    paths,
  };
}
