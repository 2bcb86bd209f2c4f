// Benchmark (issue 3): the applied state of 10,000 users, 50 templates and 20,000 workspaces on the
// embedded PostgreSQL: a bulk write of all of it, a rewrite (every row updated), and loading it all
// back, with the number of queries each takes. Median of RUNS for the load.
import { openDatabase, queryCount } from '../../src/db/connect.ts';
import { stopEmbedded } from '../../src/db/embedded.ts';
import { users } from '../../src/db/repos/users.ts';
import { templates } from '../../src/db/repos/templates.ts';
import { workspaces } from '../../src/db/repos/workspaces.ts';
import { loadAppliedState } from '../../src/db/state.ts';
import { pgDataDir } from '../helpers/db.ts';
import { rmSync } from 'node:fs';

const U = 10_000;
const T = 50;
const W = 20_000;

export async function benchState(opts: { runs: number }): Promise<string[]> {
  const dir = pgDataDir('coder-git-bench-pg-');
  const d = await openDatabase({ dataDir: dir });
  const lines: string[] = [];
  const timed = async (fn: () => Promise<unknown>) => {
    const q0 = queryCount();
    const t0 = performance.now();
    await fn();
    return { ms: performance.now() - t0, queries: queryCount() - q0 };
  };
  try {
    const write = (gen: number) =>
      d.db.tx(async (t) => {
        await users.upsert(t, Array.from({ length: U }, (_, i) => ({ username: `user${i}`, email: `user${i}@example.com`, full_name: `User ${i} ${gen}`, roles: ['member'], login_type: 'password', status: 'active', password_hash: null })));
        await templates.upsert(t, Array.from({ length: T }, (_, i) => ({ name: `t${i}`, display_name: `Template ${i}`, description: `gen ${gen}`, icon: null })));
        await templates.upsertVersions(t, Array.from({ length: T }, (_, i) => ({ template: `t${i}`, content_hash: `h${i}-${gen}`, commit_sha: `c${gen}`, manifest: { parameters: { cpu: { type: 'integer' } } }, files: { 'main.tf': Buffer.from(`# ${i} ${gen}\n`).toString('base64') } })));
        await workspaces.upsert(t, Array.from({ length: W }, (_, i) => ({ owner: `user${i % U}`, name: `ws${i}`, template: `t${i % T}`, parameters: { cpu: (i % 8) + 1, label: `ws-${i}-${gen}` }, desired_state: 'running', schedule: { autostart: 'CRON_TZ=Europe/Berlin 0 9 * * 1-5', ttl: '8h' } })));
      });
    const first = await timed(() => write(1));
    const second = await timed(() => write(2));
    await loadAppliedState(d.db); // warm
    const loads = [];
    for (let i = 0; i < opts.runs; i++) loads.push(await timed(() => loadAppliedState(d.db)));
    loads.sort((a, b) => a.ms - b.ms);
    const load = loads[Math.floor(loads.length / 2)]!;
    const s = await loadAppliedState(d.db);
    lines.push(`state: ${U} users, ${T} templates, ${W} workspaces on the embedded PostgreSQL`);
    lines.push(`  bulk write (insert everything, one transaction)   ${first.ms.toFixed(0).padStart(6)} ms  ${first.queries} queries`);
    lines.push(`  bulk write (update every row, one transaction)    ${second.ms.toFixed(0).padStart(6)} ms  ${second.queries} queries`);
    lines.push(`  load the applied state (median of ${opts.runs})           ${load.ms.toFixed(0).padStart(6)} ms  ${load.queries} queries  (${s.users.size + s.templates.size + s.workspaces.size} objects)`);
  } finally {
    await d.close();
    await stopEmbedded(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
