// Apps and shared ports: HTTP and WebSockets from a browser to a port inside the workspace, through
// its agent (nothing in the workspace listens on the network), at
//   /@<owner>/<workspace>/apps/<app>/…    a template's app: the workspace's owner (or an owner)
//   /@<owner>/<workspace>/ports/<port>/…  a port: its owner, or as the workspace file shares it
//                                          (authenticated: anyone signed in; public: anyone),
//                                          never wider than the template's max_port_share
// HTTP/1.1 is spoken over streams to the port (relay.ts's openAgentStream), kept alive between
// requests; with wildcard_access_url, subdomain apps get an origin of their own (AppHosts).
// coder-git's own cookies and token never reach the app, and the app cannot set them.

import http from 'node:http';
import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from './context.ts';
import { CSRF_COOKIE, issueKey, reachesWorkspace, SESSION_COOKIE, sha256 } from './auth.ts';
import { apiKeys } from '../db/repos/api-keys.ts';
import { openAgentStream, pipe, sameOrigin } from './relay.ts';
import { signInUrl } from './redirect.ts';
import { workspaces, type AppTarget } from '../db/repos/workspaces.ts';
import { held } from './replicas.ts';
import { html, page } from './html.ts';
import { PORT_SHARES, type PortShare } from '../config/types.ts';

interface Target {
  agentId: string;
  port: number;
  /** the path the app gets */
  path: string;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
/** The cookie an app host keeps its visitor's key in (host-only: each app origin has its own). */
const APP_COOKIE = 'coder_git_app';
const APP_KEY_TTL_MS = 86_400_000;
const OURS = new Set([SESSION_COOKIE, CSRF_COOKIE, APP_COOKIE]);

/** Who a port is shared with: as the workspace file says, never wider than the template allows now (it may have been narrowed since). */
export function portShare(t: Pick<AppTarget, 'ports' | 'max_share'>, port: number): PortShare {
  const shared = t.ports.find((x) => x.port === port)?.share ?? 'owner';
  return PORT_SHARES[Math.min(PORT_SHARES.indexOf(shared), PORT_SHARES.indexOf(t.max_share ?? 'owner'))]!;
}

/** A WebSocket as a byte stream (each binary frame a chunk), for node:http to speak HTTP over. */
function streamOf(ws: WebSocket, early?: (to: WebSocket) => void): Duplex & { closeReason: () => string } {
  let reason = '';
  const d = new Duplex({
    write(chunk, _enc, cb) {
      if (ws.readyState !== ws.OPEN) return cb(new Error(reason || 'the stream to the workspace closed'));
      ws.send(chunk, { binary: true }, cb);
    },
    final(cb) {
      ws.close(1000);
      cb();
    },
    read() {},
    destroy(err, cb) {
      ws.terminate();
      cb(err);
    },
  }) as Duplex & { closeReason: () => string };
  ws.on('message', (data: Buffer) => d.push(data));
  ws.on('close', (_code, r) => {
    reason = r.toString();
    d.push(null);
  });
  ws.on('error', (err) => d.destroy(err));
  early?.({ send: (data: Buffer) => d.push(data) } as unknown as WebSocket);
  d.closeReason = () => reason;
  // What node:http and ws ask of a socket beyond a stream (ws calls these on the upgraded one).
  Object.assign(d, { setNoDelay: () => d, setTimeout: () => d, setKeepAlive: () => d, ref: () => d, unref: () => d });
  return d;
}

/** The request's headers for the app: no hop-by-hop ones, no coder-git cookie or token. */
function forwardHeaders(req: FastifyRequest): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k.startsWith('sec-websocket-')) continue;
    if (k === 'authorization' && req.actorVia === 'header') continue;
    if (k === 'cookie') {
      const kept = String(v)
        .split(';')
        .map((c) => c.trim())
        .filter((c) => c && !OURS.has(c.split('=')[0]!));
      if (kept.length) out.cookie = kept.join('; ');
      continue;
    }
    out[k] = v;
  }
  out.host = req.headers.host ?? 'localhost';
  out['x-forwarded-for'] = req.clientIp;
  out['x-forwarded-proto'] = req.protocol;
  out['x-forwarded-host'] = req.headers.host ?? '';
  return out;
}

/** The app's answer headers for the browser: no hop-by-hop ones, and no cookie named like coder-git's. */
function answerHeaders(res: http.IncomingMessage): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined || (HOP_BY_HOP.has(k) && k !== 'host')) continue;
    if (k === 'set-cookie') {
      const kept = (v as string[]).filter((c) => !OURS.has(c.split('=')[0]!.trim()));
      if (kept.length) out[k] = kept;
      continue;
    }
    out[k] = v;
  }
  return out;
}

/** The path the app gets for this request: after the prefix, below the app's path (or all of it, keep_prefix). */
function appPath(url: string, prefix: string, base: string, keep: boolean): string {
  if (keep) return url;
  const rest = url.slice(prefix.length).replace(/^\//, '');
  return `${base.endsWith('/') ? base : `${base}/`}${rest}`;
}

/** An http.Agent whose connections are streams through the workspace's agent to one port, kept alive between requests. */
class StreamPool extends http.Agent {
  constructor(
    private readonly ctx: Ctx,
    private readonly agentId: string,
    private readonly port: number,
  ) {
    super({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 1000, timeout: 60_000 });
  }

  override createConnection(_o: unknown, done: (err: Error | null, s?: Duplex) => void): undefined {
    openAgentStream(this.ctx, this.agentId, { kind: 'tcp', port: this.port }).then(
      (opened) => (opened ? done(null, streamOf(opened.ws, opened.flush)) : done(new Error("the workspace's agent is not connected, or could not open the port"))),
      (err: Error) => done(err),
    );
    return undefined;
  }
}

/** Whether an app answers its health check (2xx or 3xx within 2 s), through the agent. */
export async function appHealthy(ctx: Ctx, agentId: string, port: number, path: string): Promise<boolean> {
  const opened = await openAgentStream(ctx, agentId, { kind: 'tcp', port }).catch(() => undefined);
  if (!opened) return false;
  const stream = streamOf(opened.ws, opened.flush);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      stream.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 2000);
    const r = http.request({ createConnection: () => stream as never, method: 'GET', path, headers: { host: 'localhost', connection: 'close' } }, (res) => {
      res.resume();
      done((res.statusCode ?? 500) < 400);
    });
    r.on('error', () => done(false));
    r.end();
  });
}

/** The deployment's wildcard domain for subdomain apps, parsed: which hosts are app hosts. */
interface Wildcard {
  scheme: string;
  /** the host after "*." (with :port when the URL has one) */
  suffix: string;
  re: RegExp;
}

function parseWildcard(url: string | undefined): Wildcard | undefined {
  const m = url ? /^(https?):\/\/\*\.([A-Za-z0-9.-]+(?::\d+)?)$/.exec(url) : null;
  if (!m) return undefined;
  const [host, port] = m[2]!.toLowerCase().split(':') as [string, string | undefined];
  const esc = host.replace(/[.]/g, '\\.');
  return { scheme: m[1]!, suffix: m[2]!.toLowerCase(), re: new RegExp(`^([a-z0-9-]+)\\.${esc}${port ? `:${port}` : '(?::\\d+)?'}$`) };
}

/**
 * Which requests are for app hosts (<app>--<workspace>--<owner>.<wildcard domain>), as a router
 * constraint: such requests match only the app routes, never the dashboard's or the API's.
 */
export class AppHosts {
  wildcard: Wildcard | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: Ctx) {}

  async start(): Promise<void> {
    const refresh = async () => {
      this.wildcard = parseWildcard((await this.ctx.deployment().catch(() => null))?.wildcard_access_url);
    };
    await refresh();
    this.timer = setInterval(() => void refresh(), 5000);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** app--workspace--owner (or port--workspace--owner) of an app host, else undefined */
  parse(host: string | undefined): { label: string; name: string; owner: string } | undefined {
    const m = host && this.wildcard ? this.wildcard.re.exec(host.toLowerCase()) : null;
    const parts = m?.[1]!.split('--');
    return parts?.length === 3 ? { label: parts[0]!, name: parts[1]!, owner: parts[2]! } : undefined;
  }

  url(label: string, name: string, owner: string, path = '/'): string | undefined {
    return this.wildcard ? `${this.wildcard.scheme}://${label}--${name}--${owner}.${this.wildcard.suffix}${path}` : undefined;
  }

  readonly strategy = {
    name: 'appHost',
    storage: () => {
      const stores = new Map<string, unknown>();
      return { get: (k: string) => stores.get(k) ?? null, set: (k: string, v: unknown) => void stores.set(k, v) };
    },
    deriveConstraint: (req: { headers: Record<string, string | string[] | undefined> }) => (this.wildcard && this.wildcard.re.test(String(req.headers.host ?? '').toLowerCase()) ? 'app' : undefined),
    mustMatchWhenDerived: true,
  };
}

interface Want {
  owner: string;
  name: string;
  app?: string;
  port?: string;
  /** the part of the URL that names the app (/@o/w/apps/a), cut before the app gets the path */
  prefix: string;
  /** asked on the app's own host */
  onHost: boolean;
}

export async function appRoutes(app: FastifyInstance, ctx: Ctx, hosts: AppHosts): Promise<void> {
  const { db } = ctx.o.database;
  // Bodies go to the app as they came: nothing here parses them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  const refuse = (req: FastifyRequest, reply: FastifyReply, code: number, message: string) =>
    reply.code(code).type('text/html; charset=utf-8').send(page(code === 404 ? 'Not found' : 'Unavailable', html`<h1>${code === 404 ? 'Not found' : 'Not reachable'}</h1><p class="error">${message}</p>`, { user: req.actor }));

  /** Whether `me` may reach what `want` names, and where it is. */
  const reach = async (want: Want, me: FastifyRequest['actor'], url: string): Promise<{ target?: Target; code: number; message: string; subdomainUrl?: string }> => {
    const w = await workspaces.appTarget(db, want.owner, want.name);
    const what = want.app !== undefined ? `app ${want.app} of ${want.owner}/${want.name}` : `port ${want.port} of ${want.owner}/${want.name}`;
    let level: PortShare = 'owner';
    let target: Omit<Target, 'agentId'> | undefined;
    let subdomainUrl: string | undefined;
    if (w && want.app !== undefined) {
      const a = w.apps?.[want.app];
      if (a) target = { port: a.port, path: appPath(url, want.prefix, a.path ?? '/', a.keep_prefix === true) };
      // a subdomain app is served on its own origin only
      if (a?.subdomain && !want.onHost) subdomainUrl = hosts.url(want.app, want.name, want.owner, url.slice(want.prefix.length) || '/');
      if (a && !a.subdomain && want.onHost) target = undefined;
    } else if (w) {
      const port = Number(want.port);
      if (Number.isInteger(port) && port >= 1 && port <= 65535) {
        level = portShare(w, port);
        target = { port, path: appPath(url, want.prefix, '/', false) };
      }
    }
    const allowed = level === 'public' || (me && (level === 'authenticated' || reachesWorkspace(me.roles, me.username, want.owner)));
    if (!allowed && !me) return { code: 401, message: `Sign in to reach ${what}.` };
    // The same answer for what does not exist and what is not the caller's to reach.
    if (!w || !target || !allowed) return { code: 404, message: `There is no ${what} that you can reach.` };
    if (subdomainUrl) return { code: 302, message: '', subdomainUrl };
    if (!w.agent_id || w.transition !== 'start') return { code: 502, message: `${want.owner}/${want.name} is not running (start it first).` };
    return { target: { agentId: w.agent_id, ...target }, code: 200, message: '' };
  };

  /** What an app host names: <app or port>--<workspace>--<owner>. */
  const hostWant = (h: NonNullable<ReturnType<AppHosts['parse']>>): Want => ({ owner: h.owner, name: h.name, ...(/^\d+$/.test(h.label) ? { port: h.label } : { app: h.label }), prefix: '', onHost: true });
  /** What the request names: from the path (/@owner/workspace/apps/app/…) or from an app host. */
  const wantOf = (req: FastifyRequest): Want => {
    const h = hosts.parse(req.headers.host);
    if (h) return hostWant(h);
    const p = req.params as { owner: string; name: string; app?: string; port?: string };
    return { owner: p.owner, name: p.name, app: p.app, port: p.port, prefix: `/@${p.owner}/${p.name}/${p.app !== undefined ? `apps/${p.app}` : `ports/${p.port}`}`, onHost: false };
  };

  /** The visitor of an app host: the key in its own cookie (the dashboard's cookie is not sent there). */
  const hostActor = async (req: FastifyRequest) => {
    const secret = req.cookies?.[APP_COOKIE];
    return secret ? ((await apiKeys.authenticate(db, sha256(secret))) ?? undefined) : undefined;
  };

  /** Who may reach this app or port, and where it is; or the refusal (or redirect) already sent. */
  const resolve = async (req: FastifyRequest, reply: FastifyReply): Promise<Target | undefined> => {
    const want = wantOf(req);
    if (want.onHost) req.actor = await hostActor(req);
    const r = await reach(want, req.actor, req.url);
    if (r.target) return r.target;
    if (r.subdomainUrl) return void reply.redirect(r.subdomainUrl);
    if (r.code === 401 && req.method === 'GET') {
      // On an app host: the dashboard signs the visitor in to this host (/apps/auth), then comes back.
      const d = await ctx.deployment();
      const back = hosts.url(want.app ?? want.port!, want.name, want.owner, req.url);
      return void reply.redirect(want.onHost && d ? `${d.access_url.replace(/\/+$/, '')}/apps/auth?to=${encodeURIComponent(back!)}` : signInUrl(req));
    }
    return void refuse(req, reply, r.code, r.message);
  };

  // Streams to each app are kept open between requests (HTTP keep-alive over the agent stream):
  // opening one costs a round trip to the agent and its dial-back.
  const pools = new Map<string, StreamPool>();
  const poolFor = (agentId: string, port: number) => {
    const key = `${agentId}:${port}`;
    let p = pools.get(key);
    if (!p) {
      // a handful of workspaces' apps at a time; the oldest pool goes (its streams close)
      if (pools.size >= 256) {
        const [oldest, pool] = pools.entries().next().value!;
        pool.destroy();
        pools.delete(oldest);
      }
      pools.set(key, (p = new StreamPool(ctx, agentId, port)));
    }
    return p;
  };
  app.addHook('onClose', async () => {
    for (const p of pools.values()) p.destroy();
  });

  const proxy = async (req: FastifyRequest, reply: FastifyReply) => {
    const t = await resolve(req, reply);
    if (!t) return reply;
    reply.hijack();
    const res = reply.raw;
    const upstream = http.request({ agent: poolFor(t.agentId, t.port), method: req.method, path: t.path, headers: forwardHeaders(req) }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders(answer));
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' }).end(`the app did not answer: ${err.message}\n`);
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.raw.pipe(upstream);
    return reply;
  };

  // A WebSocket to the app (a notebook's kernel, a live-reload): the browser's socket, and another
  // from here to the app over the agent stream, frames piped both ways.
  const socket = async (client: WebSocket, req: FastifyRequest) => {
    const t = (req as FastifyRequest & { appTarget?: Target }).appTarget!;
    // what the browser sends before the app's side is open is kept, then passed on
    const flush = held(client);
    const opened = await openAgentStream(ctx, t.agentId, { kind: 'tcp', port: t.port });
    if (!opened) return client.close(1011, 'the agent could not open the port');
    const stream = streamOf(opened.ws, opened.flush);
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const upstream = new WebSocket(`ws://${req.headers.host ?? 'localhost'}${t.path}`, protocols, { createConnection: () => stream as never, headers: forwardHeaders(req) as Record<string, string>, perMessageDeflate: false });
    upstream.on('error', () => client.readyState === client.OPEN && client.close(1011, 'the app refused the WebSocket'));
    upstream.on('open', () => {
      flush(upstream);
      pipe(client, upstream);
    });
    client.on('close', () => upstream.readyState !== upstream.CLOSED && upstream.terminate());
  };
  const checkSocket = async (req: FastifyRequest, reply: FastifyReply) => {
    // A browser sends its cookie with a WebSocket opened from any site's page: only this site's own.
    if (req.actorVia === 'cookie' && req.headers.origin !== undefined && !sameOrigin(req)) {
      return reply.code(403).send({ error: { code: 'forbidden', message: 'a session cookie opens sockets only from pages of this site (Origin header)' } });
    }
    const t = await resolve(req, reply);
    if (t) (req as FastifyRequest & { appTarget?: Target }).appTarget = t;
  };

  for (const base of ['/@:owner/:name/apps/:app', '/@:owner/:name/ports/:port']) {
    // Without the slash, relative links in the app would resolve one level up.
    app.all(base, async (req, reply) => reply.redirect(`${req.url.split('?')[0]}/${req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''}`));
  }
  const onHost = { appHost: 'app' };
  for (const [url, constraints] of [['/@:owner/:name/apps/:app/*', undefined], ['/@:owner/:name/ports/:port/*', undefined], ['/*', onHost]] as const) {
    const c = constraints ? { constraints } : {};
    app.route({ method: 'GET', url, ...c, handler: proxy, wsHandler: socket, preValidation: async (req, reply) => (req.headers.upgrade?.toLowerCase() === 'websocket' ? checkSocket(req, reply) : undefined) });
    // (HEAD: fastify answers it with the GET route, whose handler passes the method on)
    app.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url, ...c, handler: proxy });
  }

  // Signing a visitor in to an app host. The dashboard (where the session is) checks they may reach
  // the app, makes a key for that host and sends it there in the URL; the app host keeps it in a
  // cookie of its own and goes on to the page asked for.
  app.get('/apps/auth', async (req, reply) => {
    const to = String((req.query as { to?: string }).to ?? '');
    let u: URL | undefined;
    try {
      u = new URL(to);
    } catch {}
    const h = u ? hosts.parse(u.host) : undefined;
    if (!u || !h || `${u.protocol}` !== `${hosts.wildcard!.scheme}:`) return refuse(req, reply, 400, 'to: expected the URL of an app on this deployment\'s wildcard domain');
    if (!req.actor) return reply.redirect(signInUrl(req));
    const r = await reach(hostWant(h), req.actor, u.pathname);
    if (r.code === 404 || r.code === 401) return refuse(req, reply, 404, r.message);
    const { secret } = await issueKey(db, req.actor.user_id, 'session', `app ${u.host}`, APP_KEY_TTL_MS);
    return reply.redirect(`${u.origin}/.coder-git/auth?key=${encodeURIComponent(secret)}&to=${encodeURIComponent(`${u.pathname}${u.search}`)}`);
  });
  app.get('/.coder-git/auth', { constraints: onHost }, async (req, reply) => {
    const q = req.query as { key?: string; to?: string };
    const to = typeof q.to === 'string' && q.to.startsWith('/') && !q.to.startsWith('//') ? q.to : '/';
    if (typeof q.key !== 'string' || !(await apiKeys.authenticate(db, sha256(q.key)))) return refuse(req, reply, 401, 'This sign-in link is not valid (any more); open the app again.');
    reply.setCookie(APP_COOKIE, q.key, { path: '/', httpOnly: true, sameSite: 'lax', secure: hosts.wildcard?.scheme === 'https', maxAge: APP_KEY_TTL_MS / 1000 });
    return reply.redirect(to, 303);
  });
}
