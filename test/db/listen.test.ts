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
    await stopOwnServer();
  }
});

test.run();
