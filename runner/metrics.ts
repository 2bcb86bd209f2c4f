// The runner's Prometheus endpoint (--metrics-listen HOST:PORT): GET /metrics in the text exposition
// format. Figures are read from PostgreSQL at scrape time, so every runner of a deployment reports
// the same totals; `coder_git_runner_leader` says which one reconciles.
import { createServer, type Server } from 'node:http';
import type { Db } from '../src/db/connect.ts';
import { sql } from '../src/db/sql.ts';
import { jobs } from '../src/db/repos/jobs.ts';

interface Figures {
  syncs: Record<string, number>;
  builds: Record<string, number>;
  build_seconds_sum: string;
  build_seconds_count: string;
  last_applied_age: string | null;
  drifted: string;
  agent_lost: string;
}

export async function metricsText(db: Db, leader: boolean): Promise<string> {
  const f = await db.one<Figures>(sql('syncs/metrics'));
  const q = await jobs.depth(db);
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, rows: [string, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows.map(([labels, v]) => `${name}${labels} ${v}`));
  };
  const statuses = (all: string[], got: Record<string, number>) => all.map((s) => [`{status="${s}"}`, Number(got[s] ?? 0)] as [string, number]);
  metric('coder_git_syncs', 'gauge', 'Commits seen, by sync status.', statuses(['invalid', 'applying', 'applied', 'failed', 'superseded'], f.syncs));
  metric('coder_git_builds', 'gauge', 'Workspace builds, by status.', statuses(['pending', 'running', 'succeeded', 'failed', 'canceled', 'interrupted'], f.builds));
  metric('coder_git_build_duration_seconds_sum', 'counter', 'Total run time of finished builds.', [['', Number(f.build_seconds_sum)]]);
  metric('coder_git_build_duration_seconds_count', 'counter', 'Finished builds with a run time.', [['', Number(f.build_seconds_count)]]);
  metric('coder_git_queue_jobs', 'gauge', 'Build jobs waiting and leased.', [['{state="waiting"}', q.waiting], ['{state="leased"}', q.leased]]);
  metric('coder_git_drifted_workspaces', 'gauge', 'Workspaces whose last drift check found changes.', [['', Number(f.drifted)]]);
  metric('coder_git_agent_lost_workspaces', 'gauge', "Running workspaces whose agent has been gone for longer than the template's connection timeout.", [['', Number(f.agent_lost)]]);
  if (f.last_applied_age !== null) metric('coder_git_last_applied_age_seconds', 'gauge', 'Seconds since the newest applied commit finished.', [['', Math.round(Number(f.last_applied_age))]]);
  metric('coder_git_runner_leader', 'gauge', '1 if this runner reconciles.', [['', leader ? 1 : 0]]);
  return `${out.join('\n')}\n`;
}

/** Listens on host:port (port 0: any); resolves with the address it got. */
export function serveMetrics(db: Db, listen: string, isLeader: () => boolean): Promise<{ server: Server; url: string }> {
  const m = /^(.*):(\d+)$/.exec(listen);
  const host = m?.[1] || '127.0.0.1';
  const port = Number(m?.[2] ?? listen);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end('not found; try /metrics\n');
      return;
    }
    metricsText(db, isLeader()).then(
      (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text),
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
