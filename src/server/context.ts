// What every route of the server shares (ServerOptions, and the per-server Ctx that buildServer
// makes), in a module of its own: route files import it without importing app.ts, which imports
// them. The request's `actor` is declared here too.
import type { Database } from '../db/connect.ts';
import type { Authenticated } from '../db/repos/api-keys.ts';
import type { Deployment } from '../config/types.ts';
import type { AuthCache } from './auth-cache.ts';
import type { AgentEvents } from './events.ts';
import type { Replicas } from './replicas.ts';
import type { AgentLinks } from './links.ts';
import type { ServerMetrics } from './metrics.ts';
import type { OpenChannels } from './open-channels.ts';

export interface ServerOptions {
  database: Database;
  /** overrides coder-git.yaml's access_url (e.g. behind a proxy that rewrites it) */
  accessUrl?: string;
  /** the git webhook's shared secret (GitHub: HMAC key; GitLab: the token); unset: the webhook is off */
  webhookSecret?: string;
  /** pino options, or false */
  logger?: boolean | Record<string, unknown>;
  heartbeatMs?: number;
  /** bytes of startup log kept per agent */
  agentLogCap?: number;
  /** how other server replicas reach this one, for relays across replicas (replicas.ts) */
  replicaUrl?: string;
  /** whose X-Forwarded-For to believe (addresses, CIDRs; client-ip.ts); none by default */
  trustedProxies?: string[];
}

export interface Ctx {
  o: ServerOptions;
  /** revoking a key here forgets it at once (other replicas hear it through NOTIFY) */
  authCache: AuthCache;
  /** agent state changes from every replica */
  events: AgentEvents;
  /** the agents connected to this process (to open streams through them) */
  links: AgentLinks;
  /** relays to and from the other replicas */
  replicas: Replicas;
  metrics: ServerMetrics;
  /** terminals, SSH, port forwards and watch streams open on this server, closed when their key ends */
  channels: OpenChannels;
  heartbeatMs: number;
  /** coder-git.yaml as last applied (re-read every few seconds) */
  deployment(): Promise<Deployment | null>;
  accessUrl(): Promise<string>;
  secure(): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Authenticated;
    /** how the actor's secret came: a cookie (pages; needs CSRF protection) or a header */
    actorVia?: 'cookie' | 'header';
    /** the client's address (client-ip.ts): what the limits count and the audit log records */
    readonly clientIp: string;
  }
}
