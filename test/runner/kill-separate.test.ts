// Two runners on separate machines (separate data dirs), one database and one config repo; after
// each commit the runner running a build is SIGKILLed mid-build and started again. Its builds
// continue in their own processes, which keep the lease and record the state, so the other runner
// never builds them a second time: every resource of every commit is created exactly once, and no
// process is left over. 20 trials in the suite; a longer soak:
//   SOAK_TRIALS=200 node --import tsx test/runner/kill-separate.test.ts
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN } from '../helpers/cli.ts';
import { cleanup, commitAll, gitRepo, tempDir } from '../helpers/git.ts';
import { stopOwnServer, testDatabase } from '../helpers/db.ts';
import { until } from '../helpers/wait.ts';
import { chainModule, chainRepoFiles, chainWorkspace, waitApplied } from '../fixtures/chain.ts';

const TRIALS = Number(process.env.SOAK_TRIALS ?? 20);
const WORKSPACES = ['dev', 'two'];

/** Processes whose command line or working directory is under dir. */
function under(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cmd.includes(dir) || cwd.startsWith(dir)) out.push(`${pid} ${cmd.slice(0, 200)} (in ${cwd})`);
    } catch {}
  }
  return out;
}

test(`runners on separate data dirs, the building one SIGKILLed, ${TRIALS} trials: every resource created exactly once, nothing left running`, async () => {
  const d = await testDatabase();
  const base = tempDir();
  const effects = path.join(base, 'effects');
  const main = chainModule(effects, { prefix: '${var.coder_workspace_name}-', sleep: 0.3, variables: 'variable "coder_workspace_name" {\n  type = string\n}\n\n' });
  const repo = gitRepo(chainRepoFiles(main, WORKSPACES));
  const runners = new Map<string, ChildProcess>();
  const start = (name: string) => {
    const r = spawn(process.execPath, [BIN, 'runner', '--repo', repo, '--postgres-url', d.url, '--data-dir', path.join(base, name), '--workers', '2', '--retry-after', '1s', '--interval', '1s'], {
      env: { ...process.env, CODER_GIT_BUILD_LEASE_SECONDS: '2' },
      stdio: 'ignore',
    });
    runners.set(name, r);
  };
  const kill = async (name: string) => {
    const r = runners.get(name)!;
    if (r.exitCode === null && r.signalCode === null) {
      const closed = new Promise((res) => r.on('close', res));
      r.kill('SIGKILL');
      await closed;
    }
  };
  /** the runner whose worker holds a build's job (host:pid:n), if any */
  const building = async () => {
    const held = await d.db.any<{ locked_by: string }>('SELECT locked_by FROM build_jobs WHERE locked_by IS NOT NULL');
    const pids = new Set(held.map((h) => Number(h.locked_by.split(':')[1])));
    return [...runners].find(([, r]) => pids.has(r.pid!))?.[0];
  };
  const count = (w: string, label: string) => {
    const lines = existsSync(effects) ? readFileSync(effects, 'utf8').trim().split('\n') : [];
    return [0, 1, 2].map((i) => lines.filter((l) => l === `${w}-${label}-r${i}`).length);
  };
  let killedMidBuild = 0;
  try {
    start('a');
    start('b');
    for (let t = 1; t <= TRIALS; t++) {
      for (const w of WORKSPACES) writeFileSync(path.join(repo, `workspaces/alice/${w}.yaml`), chainWorkspace(`t${t}`));
      const sha = commitAll(repo, `trial ${t}`);
      // until a build runs, then a moment into it (its resources take 0.9 s)
      const victim = await until('a build running', building, { ms: 30_000 }).catch(() => undefined);
      await new Promise((res) => setTimeout(res, Math.random() * 800));
      if (victim && (await building()) === victim) killedMidBuild++;
      await kill(victim ?? 'a');
      start(victim ?? 'a');
      const killedAt = Date.now();
      await waitApplied(d.db, sha);
      if (process.env.DEBUG_KILL) console.log(`trial ${t}: victim ${victim}, applied ${Date.now() - killedAt} ms after the kill`);
      if (process.env.DEBUG_KILL && WORKSPACES.some((w) => count(w, `t${t}`).join() !== '1,1,1')) {
        console.log(JSON.stringify(await d.db.any('SELECT b.build_number, w.name, b.transition, b.status, b.reason, b.error, b.runner_id, b.created_at, b.finished_at FROM workspace_builds b JOIN workspaces w ON w.id = b.workspace_id ORDER BY b.created_at'), null, 1));
        console.log(readFileSync(effects, 'utf8'));
      }
      for (const w of WORKSPACES) assert.equal(count(w, `t${t}`), [1, 1, 1], `trial ${t}: each resource of ${w} created exactly once`);
    }
    assert.ok(killedMidBuild >= TRIALS / 2, `most kills landed mid-build (${killedMidBuild} of ${TRIALS})`);
    const states = await d.db.any<{ state: Buffer }>('SELECT DISTINCT ON (workspace_id) state FROM terraform_states ORDER BY workspace_id, id DESC');
    assert.is(states.length, WORKSPACES.length);
    for (const st of states) {
      const inputs = JSON.parse(st.state.toString()).resources.map((r: { instances: { attributes: { triggers_replace: { value: string[] } } }[] }) => r.instances[0]!.attributes.triggers_replace.value[0]);
      assert.equal(inputs, [`t${TRIALS}`, `t${TRIALS}`, `t${TRIALS}`], "the saved state is the last commit's");
    }
  } finally {
    await kill('a').catch(() => undefined);
    await kill('b').catch(() => undefined);
  }
  await until('no build process or terraform left', async () => under(base).length === 0, { ms: 30_000, detail: () => under(base).join('\n') });
  await d.drop();
});

test('cleanup', async () => {
  await stopOwnServer();
  cleanup();
});
test.run();
