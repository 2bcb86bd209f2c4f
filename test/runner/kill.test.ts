// The runner SIGKILLed at random moments: after each commit the runner is killed somewhere between
// planning and the end of the build, restarted, and must converge with every resource of that commit
// created exactly once (nothing lost, nothing duplicated). 20 trials in the suite; a longer soak:
//   SOAK_TRIALS=200 node --import tsx test/runner/kill.test.ts

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN } from '../helpers/cli.ts';
import { cleanup, commitAll, gitRepo, tempDir } from '../helpers/git.ts';
import { stopOwnServer, testDatabase } from '../helpers/db.ts';
import { chainModule, chainRepoFiles, chainWorkspace, waitApplied } from '../fixtures/chain.ts';

const TRIALS = Number(process.env.SOAK_TRIALS ?? 20);

test(`runner SIGKILLed at random moments, ${TRIALS} trials: every resource of every commit created exactly once`, async () => {
  const d = await testDatabase();
  const base = tempDir();
  const effects = path.join(base, 'effects');
  const repo = gitRepo(chainRepoFiles(chainModule(effects, { sleep: 0.15 })));
  const data = path.join(base, 'data');
  let runner: ChildProcess | undefined;
  const start = () => {
    runner = spawn(process.execPath, [BIN, 'runner', '--repo', repo, '--postgres-url', d.url, '--data-dir', data, '--workers', '2', '--retry-after', '1s'], {
      env: { ...process.env, CODER_GIT_BUILD_LEASE_SECONDS: '2' },
      stdio: 'ignore',
    });
  };
  const kill = async () => {
    const r = runner!;
    if (r.exitCode === null && r.signalCode === null) {
      const closed = new Promise((res) => r.on('close', res));
      r.kill('SIGKILL');
      await closed;
    }
  };
  const count = (label: string) => {
    const lines = existsSync(effects) ? readFileSync(effects, 'utf8').trim().split('\n') : [];
    return [0, 1, 2].map((i) => lines.filter((l) => l === `${label}-r${i}`).length);
  };
  try {
    start();
    for (let t = 1; t <= TRIALS; t++) {
      writeFileSync(path.join(repo, 'workspaces/alice/dev.yaml'), chainWorkspace(`t${t}`));
      const sha = commitAll(repo, `trial ${t}`);
      await new Promise((res) => setTimeout(res, Math.random() * 1200));
      await kill();
      start();
      await waitApplied(d.db, sha);
      if (process.env.DEBUG_KILL && count(`t${t}`).join() !== '1,1,1') {
        console.log(JSON.stringify(await d.db.any('SELECT build_number, transition, status, reason, error, parameters FROM workspace_builds ORDER BY created_at'), null, 1));
        console.log(JSON.stringify(await d.db.any('SELECT id, commit_sha, status, plan_summary FROM syncs ORDER BY id')));
        console.log(readFileSync(effects, 'utf8'));
      }
      assert.equal(count(`t${t}`), [1, 1, 1], `trial ${t}: each resource created exactly once`);
    }
    const st = await d.db.one<{ state: Buffer }>('SELECT state FROM terraform_states ORDER BY id DESC LIMIT 1');
    const inputs = JSON.parse(st.state.toString()).resources.map((r: { instances: { attributes: { triggers_replace: { value: string[] } } }[] }) => r.instances[0]!.attributes.triggers_replace.value[0]);
    assert.equal(inputs, [`t${TRIALS}`, `t${TRIALS}`, `t${TRIALS}`], 'the saved state is the last commit\'s');
  } finally {
    await kill().catch(() => undefined);
    await d.drop();
  }
});

test('cleanup', async () => {
  await stopOwnServer();
  cleanup();
});
test.run();
