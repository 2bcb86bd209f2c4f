// listen(): a LISTEN that survives its connection being killed (onLost says events may be missed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stopOwnServer, testDatabase } from '../helpers/db.ts';
import { listen } from '../../src/db/listen.ts';
import { until as poll } from '../helpers/wait.ts';

test('notifications arrive; a killed connection is reported and reopened', async () => {
  const d = await testDatabase();
  const got: string[] = [];
  let lost = 0;
  const l = listen(d, 'coder_git_test', (p) => got.push(p), () => lost++);
  try {
    await l.ready;
    assert.ok(l.up);
    const until = (what: string, fn: () => boolean) => poll(what, fn, { ms: 10_000, every: 20 });
    await d.db.one("SELECT pg_notify('coder_git_test', 'one')");
    await until('one', () => got.includes('one'));
    const killed = await d.db.one<{ n: number }>("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'");
    assert.is(killed.n, 1);
    await until('lost', () => lost === 1 && !l.up);
    await until('up again', () => l.up);
    await d.db.one("SELECT pg_notify('coder_git_test', 'two')");
    await until('two', () => got.includes('two'));
    assert.equal(got, ['one', 'two']);
  } finally {
    l.close();
    await d.drop();
  }
});

test('a connection the server ends as it is closed (a dropped database) is no crash and no retry', async () => {
  const d = await testDatabase();
  const crashes: unknown[] = [];
  const onCrash = (e: unknown) => crashes.push(e);
  process.on('uncaughtException', onCrash);
  try {
    for (let i = 0; i < 20; i++) {
      const l = listen(d, 'coder_git_test', () => undefined);
      await l.ready;
      // the server's "terminating connection" is on its way when close() releases the connection
      await d.db.any("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'");
      l.close();
    }
    await new Promise((r) => setTimeout(r, 2500)); // past the 2 s retry
    assert.equal(crashes.map(String), [], 'no crash');
    const open = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'");
    assert.is(open.n, 0, 'a closed listener never reopens');
  } finally {
    process.off('uncaughtException', onCrash);
    await d.drop();
    await stopOwnServer();
  }
});

test.run();
