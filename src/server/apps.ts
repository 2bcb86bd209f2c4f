// Apps and shared ports: HTTP and WebSockets from a browser to a port inside the workspace, through
// its agent (nothing in the workspace listens on the network), at
//   /@<owner>/<workspace>/apps/<app>/…    a template's app: the workspace's owner (or an owner)
//   /@<owner>/<workspace>/ports/<port>/…  a port: its owner, or as the workspace file shares it
//                                          (authenticated: anyone signed in; public: anyone),
//                                          never wider than the template's max_port_share
// Each request gets its own stream to the port (relay.ts's openAgentStream), spoken HTTP/1.1 over.
// coder-git's own cookies and token never reach the app, and the app cannot set them.

import http from 'node:http';
import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from './context.ts';
import { CSRF_COOKIE, reachesWorkspace, SESSION_COOKIE } from './auth.ts';
import { openAgentStream, pipe } from './relay.ts';
import { held } from './replicas.ts';
import { html, page } from './html.ts';
import { sql } from '../db/sql.ts';
import { PORT_SHARES, type PortShare, type TemplateApp } from '../config/types.ts';

interface Target {
  agentId: string;
  port: number;
  /** the path the app gets */
  path: string;
}

interface WorkspaceTarget {
  agent_id: string | null;
  transition: string | null;
  apps: Record<string, TemplateApp> | null;
  max_share: PortShare | null;
  ports: { port: number; share: PortShare }[];
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
const OURS = new Set([SESSION_COOKIE, CSRF_COOKIE]);

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

export async function appRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const { db } = ctx.o.database;
  // Bodies go to the app as they came: nothing here parses them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  const lookup = (owner: string, name: string) => db.oneOrNone<WorkspaceTarget>(sql('workspaces/app-target'), { owner, name });
  const refuse = (req: FastifyRequest, reply: FastifyReply, code: number, message: string) => {
    if (code === 401 && req.method === 'GET') return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`);
    return reply.code(code).type('text/html; charset=utf-8').send(page(code === 404 ? 'Not found' : 'Unavailable', html`<h1>${code === 404 ? 'Not found' : 'Not reachable'}</h1><p class="error">${message}</p>`, { user: req.actor }));
  };

  /** Who may reach this app or port, and where it is; or the refusal already sent. */
  const resolve = async (req: FastifyRequest, reply: FastifyReply): Promise<Target | undefined> => {
    const p = req.params as { owner: string; name: string; app?: string; port?: string };
    const me = req.actor;
    const w = await lookup(p.owner, p.name);
    const prefix = `/@${p.owner}/${p.name}/${p.app !== undefined ? `apps/${p.app}` : `ports/${p.port}`}`;
    const what = p.app !== undefined ? `app ${p.app} of ${p.owner}/${p.name}` : `port ${p.port} of ${p.owner}/${p.name}`;
    let level: PortShare = 'owner';
    let target: Omit<Target, 'agentId'> | undefined;
    if (w && p.app !== undefined) {
      const a = w.apps?.[p.app];
      if (a) target = { port: a.port, path: appPath(req.url, prefix, a.path ?? '/', a.keep_prefix === true) };
    } else if (w) {
      const port = Number(p.port);
      if (Number.isInteger(port) && port >= 1 && port <= 65535) {
        const shared = w.ports.find((x) => x.port === port)?.share ?? 'owner';
        // never wider than the template allows now (it may have been narrowed since the file was applied)
        level = PORT_SHARES[Math.min(PORT_SHARES.indexOf(shared), PORT_SHARES.indexOf(w.max_share ?? 'owner'))]!;
        target = { port, path: appPath(req.url, prefix, '/', false) };
      }
    }
    const allowed = level === 'public' || (me && (level === 'authenticated' || reachesWorkspace(me.roles, me.username, p.owner)));
    if (!allowed && !me) return void refuse(req, reply, 401, `Sign in to reach ${what}.`);
    // The same answer for what does not exist and what is not the caller's to reach.
    if (!w || !target || !allowed) return void refuse(req, reply, 404, `There is no ${what} that you can reach.`);
    if (!w.agent_id || w.transition !== 'start') return void refuse(req, reply, 502, `${p.owner}/${p.name} is not running (start it first).`);
    return { agentId: w.agent_id, ...target };
  };

  const proxy = async (req: FastifyRequest, reply: FastifyReply) => {
    const t = await resolve(req, reply);
    if (!t) return reply;
    const opened = await openAgentStream(ctx, t.agentId, { kind: 'tcp', port: t.port });
    if (!opened) return refuse(req, reply, 502, 'The workspace\'s agent is not connected, or could not open the port.');
    const stream = streamOf(opened.ws, opened.flush);
    reply.hijack();
    const res = reply.raw;
    const upstream = http.request({ createConnection: () => stream as never, method: req.method, path: t.path, headers: { ...forwardHeaders(req), connection: 'close' } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders(answer));
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' }).end(`the app did not answer: ${stream.closeReason() || 'the connection closed'}\n`);
      else res.destroy();
    });
    res.on('close', () => stream.destroy());
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
    if (req.actorVia === 'cookie' && req.headers.origin && new URL(req.headers.origin).host !== req.headers.host) {
      return reply.code(403).send({ error: { code: 'forbidden', message: 'a session cookie opens sockets only from pages of this site (Origin header)' } });
    }
    const t = await resolve(req, reply);
    if (t) (req as FastifyRequest & { appTarget?: Target }).appTarget = t;
  };

  for (const base of ['/@:owner/:name/apps/:app', '/@:owner/:name/ports/:port']) {
    // Without the slash, relative links in the app would resolve one level up.
    app.all(base, async (req, reply) => reply.redirect(`${req.url.split('?')[0]}/${req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''}`));
    app.route({ method: 'GET', url: `${base}/*`, handler: proxy, wsHandler: socket, preValidation: async (req, reply) => (req.headers.upgrade?.toLowerCase() === 'websocket' ? checkSocket(req, reply) : undefined) });
    // (HEAD: fastify answers it with the GET route, whose handler passes the method on)
    app.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url: `${base}/*`, handler: proxy });
  }
}
