// An external PostgreSQL's details. sslmode as psql understands it, against two real PostgreSQL servers: one without TLS (the
// embedded one as it runs) and one with TLS (the same binaries, ssl = on, a self-signed certificate
// made with openssl). prefer and allow fall back where psql does; require insists; verify-ca checks
// the certificate against sslrootcert; nothing prints the driver's security warning. And a role that
// may not create tables gets one line naming the grant, not a trace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.ts';
import { pgDataDir } from '../helpers/db.ts';
import { startEmbedded, stopEmbedded, type EmbeddedServer } from '../../src/db/embedded.ts';
import { openDatabase } from '../../src/db/connect.ts';

const plainDir = pgDataDir('coder-git-ssl-plain-');
const tlsDir = pgDataDir('coder-git-ssl-tls-');
let plain: EmbeddedServer;
let tls: EmbeddedServer;
let cert: string;

const withMode = (url: string, q: string) => `${url}${url.includes('?') ? '&' : '?'}${q}`;
/** whether this connection is encrypted, as the server sees it */
const encrypted = async (url: string) => {
  const d = await openDatabase({ postgresUrl: url, dataDir: '/nonexistent', migrate: false });
  try {
    return (await d.db.one<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).ssl;
  } finally {
    await d.close();
  }
};

test('set-up: a server without TLS and one with TLS (self-signed)', async () => {
  plain = await startEmbedded({ dataDir: plainDir });
  const first = await startEmbedded({ dataDir: tlsDir });
  await first.release();
  await stopEmbedded(tlsDir);
  const pgdata = path.join(tlsDir, 'postgres');
  cert = path.join(pgdata, 'server.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-keyout', path.join(pgdata, 'server.key'), '-out', cert], { stdio: 'ignore' });
  const owner = statSync(pgdata);
  for (const f of ['server.key', 'server.crt']) chownSync(path.join(pgdata, f), owner.uid, owner.gid);
  execFileSync('chmod', ['600', path.join(pgdata, 'server.key')]);
  appendFileSync(path.join(pgdata, 'postgresql.conf'), "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
  tls = await startEmbedded({ dataDir: tlsDir });
});

test('no TLS on the server: prefer (the default), allow and disable connect in plain; require says why it cannot', async () => {
  for (const q of ['', 'sslmode=prefer', 'sslmode=allow', 'sslmode=disable']) {
    const url = q ? withMode(plain.url, q) : plain.url;
    assert.is(await encrypted(url), false, q || '(no sslmode)');
    const r = await cli(['db', 'status', '--postgres-url', url, '--data-dir', '/nonexistent']);
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stderr, /SECURITY WARNING/, "the driver's warning is not printed");
  }
  const req = await cli(['db', 'status', '--postgres-url', withMode(plain.url, 'sslmode=require'), '--data-dir', '/nonexistent']);
  assert.is(req.code, 1, req.stderr);
  assert.match(req.stderr, /^coder-git: cannot connect to .* \(sslmode=require\): The server does not support SSL connections\n/);
  assert.not.match(req.stderr, /SECURITY WARNING|at .*\.js/, 'one clear line, no trace');
});

test('TLS on the server: prefer and require encrypt; verify-ca needs the certificate; allow stays plain', async () => {
  assert.is(await encrypted(tls.url), true, 'the default (prefer) uses TLS when the server has it');
  assert.is(await encrypted(withMode(tls.url, 'sslmode=require')), true);
  assert.is(await encrypted(withMode(tls.url, 'sslmode=allow')), false, 'allow tries plain first, as libpq does');
  assert.is(await encrypted(withMode(tls.url, `sslmode=verify-ca&sslrootcert=${cert}`)), true);
  const unverified = await cli(['db', 'status', '--postgres-url', withMode(tls.url, 'sslmode=verify-full'), '--data-dir', '/nonexistent']);
  assert.is(unverified.code, 1, unverified.stderr);
  assert.match(unverified.stderr, /\(sslmode=verify-full\): self.signed certificate/);
  const badMode = await cli(['db', 'status', '--postgres-url', withMode(tls.url, 'sslmode=sometimes'), '--data-dir', '/nonexistent']);
  assert.is(badMode.code, 64, badMode.stderr);
  assert.match(badMode.stderr, /--postgres-url: sslmode=sometimes is not one of disable, allow, prefer, require, verify-ca, verify-full/);
});

test('a role without CREATE on the schema: one clear error naming the grant, nothing migrated', async () => {
  const admin = await openDatabase({ postgresUrl: plain.url, dataDir: '/nonexistent', migrate: false });
  try {
    await admin.db.none("DROP DATABASE IF EXISTS limited_db");
    await admin.db.none("DROP ROLE IF EXISTS limited");
    await admin.db.none("CREATE ROLE limited LOGIN PASSWORD 'pw'");
    await admin.db.none('CREATE DATABASE limited_db');
    await admin.db.none('GRANT CONNECT ON DATABASE limited_db TO limited');
  } finally {
    await admin.close();
  }
  const url = plain.url.replace(/\/\/[^@]*@/, '//limited:pw@').replace(/\/coder_git$/, '/limited_db');
  const r = await cli(['db', 'migrate', '--postgres-url', url, '--data-dir', '/nonexistent']);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /^coder-git: the database refused: permission denied for schema public\nhint: .*GRANT USAGE, CREATE ON SCHEMA public TO <role>/);
  assert.not.match(r.stderr, /This is a bug|at .*parser/);
  const st = await cli(['db', 'status', '--postgres-url', url, '--data-dir', '/nonexistent']);
  assert.match(st.stdout, /schema version: 0/, 'nothing was migrated');
});

test('cleanup', async () => {
  await plain.release();
  await tls.release();
  await stopEmbedded(plainDir);
  await stopEmbedded(tlsDir);
  rmSync(plainDir, { recursive: true, force: true });
  rmSync(tlsDir, { recursive: true, force: true });
});

test.run();
