// The server (README: The server): a factory, so tests build one and call app.inject() or listen on
// a real port. Pages for people, the REST API under /api/v1, agents' WebSocket, the git webhook,
// /healthz and /metrics. Security headers on every answer; secrets never logged.

import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import websocket from '@fastify/websocket';
import { deployment as deploymentRepo } from '../db/repos/deployment.ts';
import type { Deployment } from '../config/types.ts';
import type { Ctx, ServerOptions } from './context.ts';
import { authenticate } from './auth.ts';
import { clientIp } from './client-ip.ts';
import { AuthCache } from './auth-cache.ts';
import { OpenChannels } from './open-channels.ts';
import { AgentEvents } from './events.ts';
import { Replicas } from './replicas.ts';
import { relayRoutes } from './relay.ts';
import { AgentLinks } from './links.ts';
import { pageRoutes } from './pages.ts';
import { terminalRoutes } from './terminal.ts';
import { workspacePageRoutes } from './workspace-pages.ts';
import { AppHosts, appRoutes } from './apps.ts';
import { PAGE_CSP } from './html.ts';
import { apiRoutes, databaseDown } from './api.ts';
import { agentRoutes } from './agents.ts';
import { webhookRoutes } from './webhook.ts';
import { oidcRoutes } from './oidc.ts';
import { githubLoginRoutes } from './github-login.ts';
import { agentInstallRoutes } from './agent-install.ts';
import { ServerMetrics } from './metrics.ts';
import { HEARTBEAT_MS } from '../workspace-view.ts';
import { SCHEMA_KINDS, schemaText, type SchemaKind } from '../config/schemas.ts';
import { server as pgServer } from '../db/repos/server.ts';
import { keyringFromEnv } from '../auth/secret-box.ts';

export type { Ctx, ServerOptions } from './context.ts';


const DEBUG_OR_BELOW = new Set(['trace', 'debug']);

/** Query values that are secrets or grant something (a CSRF token, a token, a relay session, a terminal's reconnect id). */
const SECRET_QUERY = /([?&](?:_csrf|token|session|reconnect|code|state)=)[^&#]*/gi;
export const redactUrl = (url: string) => url.replace(SECRET_QUERY, '$1[redacted]');

/**
 * One log line per request, when it completes: at info for changes (anything but GET and HEAD),
 * refusals and errors (status 400 and up), at debug for successful reads (the "incoming request"
 * line too). A pino line per successful GET cost a quarter of the API's throughput, and the reads
 * that matter (sign-ins, tokens, terminals) are in the audit log anyway; --log-level debug shows
 * them all.
 */
class RequestLog extends LogController {
  /** metrics: every completed request's route, method, status and seconds (here, not in a hook of its own: one less per request) */
  constructor(private readonly metrics: ServerMetrics) {
    super();
  }

  override incomingRequest(req: FastifyRequest): void {
    req.log.debug({ method: req.method, url: redactUrl(req.url) }, 'incoming request');
  }

  override requestCompleted(err: Error | null, req: FastifyRequest, reply: FastifyReply): void {
    this.metrics.request(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
    const read = (req.method === 'GET' || req.method === 'HEAD') && reply.statusCode < 400;
    if (read && !DEBUG_OR_BELOW.has(req.log.level)) return;
    const line = { reqId: req.id, method: req.method, url: redactUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, ip: req.clientIp, user: req.actor?.username };
    if (err) reply.log.error({ ...line, err }, 'request errored');
    else if (read) reply.log.debug(line, 'request');
    else reply.log.info(line, 'request');
  }
}

/** For API answers (JSON, text), what OWASP's REST guidance asks; pages get the full set below. */
const API_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Headers a browser can trust this site by (no inline script anywhere: CSP allows none). */
const SECURITY_HEADERS = {
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

export const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["coder-session-token"]', 'req.headers["coder-agent-token"]', 'req.headers["x-gitlab-token"]', 'req.headers["x-hub-signature-256"]', 'res.headers["set-cookie"]'];

export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  // A malformed CODER_GIT_ENCRYPTION_KEYS stops the server here, not at an agent's first git push.
  keyringFromEnv();
  const metrics = new ServerMetrics();
  const app = Fastify({
    logger: o.logger === undefined ? { level: 'info', redact: REDACT } : o.logger === false ? false : { redact: REDACT, ...(o.logger === true ? {} : o.logger) },
    trustProxy: o.trustedProxies?.length ? o.trustedProxies : false,
    logController: new RequestLog(metrics),
    // No child logger per request (pino's child() on every request cost ~5 % of throughput): the
    // lines that need the request say so themselves (reqId, method, url).
    childLoggerFactory: (logger) => logger,
    bodyLimit: 1_048_576,
  });
  const { db } = o.database;
  let cached: { at: number; d: Deployment | null } | undefined;
  const channels = new OpenChannels(db);
  const authCache = new AuthCache(o.database, () => void channels.check());
  await authCache.start();
  const events = new AgentEvents(o.database);
  await events.start();
  const replicas = new Replicas(db, o.replicaUrl?.replace(/\/+$/, ''));
  const ctx: Ctx = {
    o,
    authCache,
    events,
    links: new AgentLinks(() => replicas.sessionId()),
    replicas,
    metrics,
    channels,
    heartbeatMs: o.heartbeatMs ?? HEARTBEAT_MS,
    async deployment() {
      if (!cached || Date.now() - cached.at > 5000) cached = { at: Date.now(), d: await deploymentRepo.load(db) };
      return cached.d;
    },
    async accessUrl() {
      return o.accessUrl ?? (await ctx.deployment())?.access_url ?? 'http://127.0.0.1:3000';
    },
    async secure() {
      return (await ctx.accessUrl()).startsWith('https:');
    },
  };

  // App hosts (subdomain apps) are told apart by the router: such requests match only app routes.
  const appHosts = new AppHosts(ctx);
  await appHosts.start();
  app.addConstraintStrategy(appHosts.strategy as unknown as Parameters<typeof app.addConstraintStrategy>[0]);

  await app.register(cookie);
  await app.register(formbody);
  await app.register(websocket, { options: { maxPayload: 1_048_576 } });

  app.addHook('onClose', async () => {
    appHosts.close();
    authCache.close();
    events.close();
    channels.close();
  });
  // Worked out when asked (logins, audits, the request log line), not for every request.
  app.decorateRequest('clientIp', {
    getter(this: FastifyRequest) {
      return clientIp(this);
    },
  });
  app.addHook('onRequest', (req, _reply, done) => {
    authenticate(db, req, authCache, (who, err) => {
      if (who) {
        req.actor = who.actor;
        req.actorVia = who.via;
      }
      done(err as Error | undefined);
    });
  });
  // Whether the access URL is https, refreshed in the background: every answer asks (HSTS), and
  // must not wait on the database for it.
  let https = await ctx.secure();
  const refreshHttps = setInterval(() => void ctx.secure().then((v) => (https = v), () => undefined), 5000);
  refreshHttps.unref();
  app.addHook('onClose', async () => clearInterval(refreshHttps));
  app.addHook('onSend', (req, reply, payload, done) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/html')) {
      // A page may narrow or widen its own policy (the terminal page: xterm.js writes <style> elements).
      const own = reply.getHeader('content-security-policy');
      reply.headers(SECURITY_HEADERS);
      if (own) reply.header('content-security-policy', own);
    } else reply.headers(API_HEADERS);
    if (https) reply.header('strict-transport-security', 'max-age=31536000');
    if (req.actor || req.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  app.get('/healthz', async (_req, reply) => {
    try {
      await pgServer.ping(db);
      return { ok: true };
    } catch {
      return reply.code(503).send({ ok: false, error: 'the database is not reachable' });
    }
  });
  app.get('/metrics', async (_req, reply) => reply.type(ctx.metrics.contentType).send(await ctx.metrics.text()));
  // The config repo's JSON Schemas of this server's version, at a stable path (for editors that
  // prefer a URL to the copies `init` puts in .coder-git/schemas/, and for other tools).
  app.get('/schemas/:file', async (req, reply) => {
    const kind = (req.params as { file: string }).file.replace(/\.json$/, '');
    if (!(SCHEMA_KINDS as readonly string[]).includes(kind)) return reply.code(404).send({ error: `no schema ${(req.params as { file: string }).file}; there are ${SCHEMA_KINDS.map((k) => `${k}.json`).join(', ')}` });
    return reply.type('application/schema+json; charset=utf-8').header('cache-control', 'public, max-age=300').send(schemaText(kind as SchemaKind));
  });

  // (the API has its own handler, which says the same)
  app.setErrorHandler((err, req, reply) => {
    if (!databaseDown(err, req, reply)) reply.send(err);
  });
  await app.register(async (s) => pageRoutes(s, ctx));
  await app.register(async (s) => terminalRoutes(s, ctx));
  await app.register(async (s) => workspacePageRoutes(s, ctx));
  await app.register(async (s) => appRoutes(s, ctx, appHosts));
  await app.register(async (s) => apiRoutes(s, ctx));
  await app.register(async (s) => agentRoutes(s, ctx));
  await app.register(async (s) => webhookRoutes(s, ctx));
  await app.register(async (s) => oidcRoutes(s, ctx));
  await app.register(async (s) => githubLoginRoutes(s, ctx));
  await app.register(async (s) => relayRoutes(s, ctx));
  await app.register(async (s) => agentInstallRoutes(s));
  app.addHook('onClose', async () => ctx.metrics.close());
  return app;
}
