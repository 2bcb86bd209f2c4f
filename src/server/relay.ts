// Byte streams between a person and their workspace, through the server: nothing in the workspace
// listens on the network. A client opens a WebSocket to
//   GET /api/v1/workspaces/{owner}/{name}/tcp/{port}      (the workspace's owner, or an owner)
// the server asks the workspace's agent over its control socket to {type:"open", session, port};
// the agent dials 127.0.0.1:port and opens its own WebSocket back to
//   GET /api/v1/agents/relay?session=…                    (the agent token)
// and the server pipes the two, frames both ways as they came. Port forwarding uses it directly;
// SSH (…/ssh) carries an SSH connection to the agent's SSH server; the web terminal (…/pty) attaches
// to a shell the agent keeps for a while (agent/terminals.ts). When the person's socket or the
// agent's dial-back reaches another replica than the one holding the agent's control socket, it is
// forwarded there (replicas.ts).

import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Ctx } from './context.ts';
import type { RelayTarget } from './links.ts';
import { agentFromRequest } from './agents.ts';
import { reachesWorkspace } from './auth.ts';
import { workspaces } from '../db/repos/workspaces.ts';
import { agents } from '../db/repos/agents.ts';
import { held, type Dialed } from './replicas.ts';
import { audit } from '../db/repos/audit.ts';
import type { AgentRow } from '../db/repos/agents.ts';


export function pipe(a: WebSocket, b: WebSocket): void {
  a.on('message', (data, binary) => b.readyState === b.OPEN && b.send(data, { binary }));
  b.on('message', (data, binary) => a.readyState === a.OPEN && a.send(data, { binary }));
  // One side's close (with its code and reason: "nothing listens on port 1") closes the other.
  const close = (code: number, reason: Buffer) => {
    const sendable = code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
    for (const s of [a, b]) if (s.readyState === s.OPEN || s.readyState === s.CONNECTING) s.close(sendable, reason.subarray(0, 120));
  };
  a.on('close', close);
  b.on('close', close);
}

const INTERNAL_RELAY = '/api/v1/internal/relay';

/**
 * A stream to the agent (a port inside the workspace, its SSH server, a terminal): asked of the
 * agent here when this replica holds its control socket, else through the replica that does.
 * flush: for a stream from another replica, hands it what the caller's side sent meanwhile.
 */
export async function openAgentStream(ctx: Ctx, agentId: string, target: RelayTarget): Promise<{ ws: WebSocket; flush?: Dialed['flush'] } | undefined> {
  const local = await ctx.links.open(agentId, target);
  if (local) return { ws: local };
  const where = ctx.replicas.url ? await agents.replicaOf(ctx.o.database.db, agentId) : null;
  if (!where || where === ctx.replicas.url) return undefined;
  return ctx.replicas.dial(where, INTERNAL_RELAY, { agent: agentId, target: JSON.stringify(target) });
}
const INTERNAL_ARRIVE = '/api/v1/internal/arrive';

/** The request's Origin is this server (as the browser reached it). */
export function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export async function relayRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const { db } = ctx.o.database;

  type Target = { agentId: string; workspace: string; target: RelayTarget };
  const reachable = (kind: RelayTarget['kind']) => async (req: FastifyRequest, reply: FastifyReply) => {
    const me = req.actor;
    const { owner, name, port } = req.params as { owner: string; name: string; port?: string };
    if (!me) return reply.code(401).send({ error: { code: 'unauthenticated', message: 'sign in: send an API token as Authorization: Bearer <token>' } });
    // A browser sends its cookie with a WebSocket opened by any site's page: only this site's own.
    if (req.actorVia === 'cookie' && !sameOrigin(req)) return reply.code(403).send({ error: { code: 'forbidden', message: 'a session cookie opens sockets only from pages of this site (Origin header)' } });
    // Only the workspace's owner, or an owner: reading all workspaces is not reaching into them.
    if (!reachesWorkspace(me.roles, me.username, owner)) return reply.code(404).send({ error: { code: 'not_found', message: `no workspace ${owner}/${name}` } });
    const n = Number(port);
    if (kind === 'tcp' && (!Number.isInteger(n) || n < 1 || n > 65535)) return reply.code(400).send({ error: { code: 'bad_request', message: 'port: 1 to 65535' } });
    const q = req.query as { reconnect?: string; cols?: string; rows?: string };
    if (kind === 'pty' && !/^[A-Za-z0-9_-]{8,64}$/.test(q.reconnect ?? '')) return reply.code(400).send({ error: { code: 'bad_request', message: 'reconnect: the terminal\'s id, 8 to 64 letters, digits, _ or -' } });
    const w = (await workspaces.listing(db, owner)).find((x) => x.name === name);
    if (!w) return reply.code(404).send({ error: { code: 'not_found', message: `no workspace ${owner}/${name}` } });
    if (!w.agent_id || w.transition !== 'start') return reply.code(409).send({ error: { code: 'no_agent', message: `${owner}/${name} has no running agent (start the workspace first)` } });
    const size = (v: string | undefined, d: number) => (Number.isInteger(Number(v)) && Number(v) > 0 ? Math.min(Number(v), 1000) : d);
    // A terminal's reconnect id is the browser's; the agent keeps the shell under a name bound to the
    // user who opened it, so nobody else (an owner who learned the id) can attach to it.
    const reconnect = createHash('sha256').update(`${me.user_id}\0${q.reconnect}`).digest('base64url');
    const target: RelayTarget = kind === 'tcp' ? { kind, port: n } : kind === 'pty' ? { kind, reconnect, cols: size(q.cols, 80), rows: size(q.rows, 24) } : { kind };
    (req as FastifyRequest & { relayTo?: Target }).relayTo = { agentId: w.agent_id, workspace: `${owner}/${name}`, target };
  };
  const relay = async (client: WebSocket, req: FastifyRequest) => {
    const t = (req as FastifyRequest & { relayTo: Target }).relayTo;
    const flush = held(client);
    const action = { ssh: 'ssh_session', tcp: 'port_forward', pty: 'terminal_session' }[t.target.kind];
    // (never a terminal's reconnect id: it is what attaches to the shell)
    const details = t.target.kind === 'tcp' ? { port: t.target.port } : {};
    await audit.append(db, { actor: req.actor!.username, action, target: t.workspace, details, ip: req.clientIp });
    const opened = await openAgentStream(ctx, t.agentId, t.target);
    if (!opened) {
      client.close(4004, 'the agent is not connected to a server replica this one can reach, or could not open the stream');
      return;
    }
    const agentSide = opened.ws;
    flush(agentSide);
    opened.flush?.(client);
    pipe(client, agentSide);
    // The right to this stream ends with the key that opened it (revoked, signed out, user suspended or removed).
    // Into another user's workspace, only while the caller may still reach it (an owner demoted by a commit may not).
    const { username } = req.actor!;
    const owner = t.workspace.split('/')[0]!;
    const forget = ctx.channels.add(req.actor!.id, (reason) => client.close(4401, reason.slice(0, 120)), (roles) => reachesWorkspace(roles, username, owner));
    client.on('close', forget);
  };
  app.get('/api/v1/workspaces/:owner/:name/tcp/:port', { websocket: true, preValidation: reachable('tcp') }, relay);
  app.get('/api/v1/workspaces/:owner/:name/ssh', { websocket: true, preValidation: reachable('ssh') }, relay);
  app.get('/api/v1/workspaces/:owner/:name/pty', { websocket: true, preValidation: reachable('pty') }, relay);

  app.get('/api/v1/agents/relay', { websocket: true, preValidation: agentFromRequest(ctx) }, async (socket: WebSocket, req) => {
    const agent = (req as FastifyRequest & { agent: AgentRow }).agent;
    const session = String((req.query as { session?: string }).session ?? '');
    if (ctx.links.arrive(session, agent.id, socket)) return;
    // The dial-back reached another replica than the one waiting for it: pass it on.
    const waiting = ctx.replicas.elsewhere(session);
    if (!waiting) return socket.close(4004, 'no such session');
    const flush = held(socket);
    const there = await ctx.replicas.dial(waiting, INTERNAL_ARRIVE, { session, agent: agent.id });
    if (!there) return socket.close(4004, 'the replica waiting for this stream cannot be reached');
    flush(there.ws);
    there.flush(socket);
    pipe(socket, there.ws);
  });

  // Internal routes, for other replicas only (signed with the shared relay key).
  const signed = (path: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (!(await ctx.replicas.verify(path, req.query as Record<string, string>))) return reply.code(403).send({ error: { code: 'forbidden', message: 'internal: for server replicas only' } });
  };
  app.get(INTERNAL_RELAY, { websocket: true, preValidation: signed(INTERNAL_RELAY) }, async (socket: WebSocket, req) => {
    const q = req.query as { agent: string; target: string };
    const flush = held(socket);
    let target: RelayTarget;
    try {
      target = JSON.parse(q.target) as RelayTarget;
    } catch {
      return socket.close(4000, 'target: not JSON');
    }
    const agentSide = await ctx.links.open(q.agent, target);
    if (!agentSide) return socket.close(4004, 'the agent is not connected to this server, or could not open the stream');
    flush(agentSide);
    pipe(socket, agentSide);
  });
  app.get(INTERNAL_ARRIVE, { websocket: true, preValidation: signed(INTERNAL_ARRIVE) }, (socket: WebSocket, req) => {
    const q = req.query as { session: string; agent: string };
    if (!ctx.links.arrive(q.session, q.agent, socket)) socket.close(4004, 'no such session');
  });
}
