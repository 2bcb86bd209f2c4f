// The runner's Prometheus endpoint (--metrics-listen HOST:PORT): GET /metrics through prom-client,
// with its process and Node figures. coder-git's own figures are read from PostgreSQL at scrape
// time, so every runner of a deployment reports the same totals; `coder_git_runner_leader` says
// which one reconciles.
import { createServer, type Server } from 'node:http';
import { Gauge, type Metric, type Registry } from 'prom-client';
import type { Db } from '../src/db/connect.ts';
import { sql } from '../src/db/sql.ts';
import { jobs } from '../src/db/repos/jobs.ts';
import { processRegistry } from '../src/server/prometheus.ts';

interface Figures {
  syncs: Record<string, number>;
  builds: Record<string, number>;
  build_seconds_sum: string;
  build_seconds_count: string;
  build_seconds_buckets: string[];
  last_applied_age: string | null;
  drifted: string;
  agent_lost: string;
}

/** Build run times, in seconds: a start is seconds to minutes, a cloud VM's first one up to an hour. */
const BUILD_BUCKETS = [5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];
const SYNC_STATUSES = ['invalid', 'applying', 'applied', 'failed', 'superseded'];
const BUILD_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'canceled', 'interrupted'];

/** A registry whose coder-git figures are set from one read of PostgreSQL before each scrape's text. */
function runnerRegistry(db: Db, leader: () => boolean): { registry: Registry; scrape: () => Promise<string> } {
  const registry = processRegistry();
  const registers = [registry];
  const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) => new Gauge<L>({ name, help, labelNames, registers });
  const syncs = gauge('coder_git_syncs', 'Commits seen, by sync status.', ['status']);
  const builds = gauge('coder_git_builds', 'Workspace builds, by status.', ['status']);
  const queue = gauge('coder_git_queue_jobs', 'Build jobs waiting and leased.', ['state']);
  const drifted = gauge('coder_git_drifted_workspaces', 'Workspaces whose last drift check found changes.');
  const lost = gauge('coder_git_agent_lost_workspaces', "Running workspaces whose agent has been gone for longer than the template's connection timeout.");
  const age = gauge('coder_git_last_applied_age_seconds', 'Seconds since the newest applied commit finished.');
  const isLeader = gauge('coder_git_runner_leader', '1 if this runner reconciles.');
  let latest: Figures | undefined;
  // A histogram whose counts PostgreSQL keeps (prom-client's Histogram only counts what this process observed).
  const name = 'coder_git_build_duration_seconds';
  const about = { name, help: 'Run time of finished builds.', type: 'histogram', aggregator: 'sum' };
  const durations = {
    ...about,
    get: async () => {
      const f = latest!;
      return {
        ...about,
        values: [
          ...BUILD_BUCKETS.map((le, i) => ({ metricName: `${name}_bucket`, labels: { le }, value: Number(f.build_seconds_buckets[i] ?? 0) })),
          { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: Number(f.build_seconds_count) },
          { metricName: `${name}_sum`, labels: {}, value: Number(f.build_seconds_sum) },
          { metricName: `${name}_count`, labels: {}, value: Number(f.build_seconds_count) },
        ],
      };
    },
  };
  registry.registerMetric(durations as unknown as Metric);
  const scrape = async () => {
    const [f, q] = await Promise.all([db.one<Figures>(sql('syncs/metrics'), [BUILD_BUCKETS]), jobs.depth(db)]);
    latest = f;
    for (const s of SYNC_STATUSES) syncs.set({ status: s }, Number(f.syncs[s] ?? 0));
    for (const s of BUILD_STATUSES) builds.set({ status: s }, Number(f.builds[s] ?? 0));
    queue.set({ state: 'waiting' }, q.waiting);
    queue.set({ state: 'leased' }, q.leased);
    drifted.set(Number(f.drifted));
    lost.set(Number(f.agent_lost));
    // (no applied commit yet: no such figure, rather than a made-up age)
    if (f.last_applied_age === null) registry.removeSingleMetric('coder_git_last_applied_age_seconds');
    else {
      age.set(Math.round(Number(f.last_applied_age)));
      registry.registerMetric(age);
    }
    isLeader.set(leader() ? 1 : 0);
    return registry.metrics();
  };
  return { registry, scrape };
}

/** Listens on host:port (port 0: any); resolves with the address it got. */
export function serveMetrics(db: Db, listen: string, isLeader: () => boolean): Promise<{ server: Server; url: string }> {
  const m = /^(.*):(\d+)$/.exec(listen);
  const host = m?.[1] || '127.0.0.1';
  const port = Number(m?.[2] ?? listen);
  const { registry, scrape } = runnerRegistry(db, isLeader);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end('not found; try /metrics\n');
      return;
    }
    scrape().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(503).end('the database is not reachable\n'),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const a = server.address() as { address: string; port: number };
      resolve({ server, url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}/metrics` });
    });
  });
}
