// The OpenAPI document (/api/docs) says exactly what the server does: it passes `redocly lint`
// (recommended rules) with no error, every operation has its request and answers as real schemas,
// and every answer the real server gives — successes and refusals — matches the schema the document
// gives for its operation and status (schemas forbid unknown fields, so nothing goes undocumented).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, tempDir } from '../helpers/git.ts';
import { buildServer } from '../../src/server/app.ts';
import { deploymentFixture, PASSWORDS, type Fixture } from './setup.ts';

let d: TestDb;
let app: FastifyInstance;
let f: Fixture;
let doc: { paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, { schema: unknown }> }>; requestBody?: unknown; parameters: unknown[] }>>; components: unknown; servers: { url: string }[] };

const REDOCLY = fileURLToPath(new URL('../../node_modules/.bin/redocly', import.meta.url));

test('set-up: a deployment, builds with logs, a failed build, a server', async () => {
  d = await testDatabase();
  // (so that users get git SSH keys, and the key routes answer)
  process.env.CODER_GIT_ENCRYPTION_KEYS = Buffer.alloc(32, 1).toString('base64');
  f = await deploymentFixture(d);
  const b = await d.db.one<{ id: string }>("SELECT b.id FROM workspace_builds b JOIN workspaces w ON w.latest_build_id = b.id WHERE w.name = 'box'");
  await d.db.none("INSERT INTO build_logs (build_id, stream, line) VALUES ($1, 'stdout', 'Apply complete!'), ($1, 'system', 'build finished')", [b.id]);
  await d.db.none("INSERT INTO agent_logs (agent_id, stream, line) VALUES ($1, 'stdout', 'hello from the startup script')", [f.agentId]);
  await d.db.none("UPDATE workspace_builds SET status = 'failed', error = 'terraform apply exited with 1', started_at = now(), finished_at = now() FROM workspaces w WHERE w.latest_build_id = workspace_builds.id AND w.name = 'lab'");
  app = await buildServer({ database: d, logger: false });
  doc = (await app.inject({ url: '/api/docs' })).json();
});

test('redocly lint (recommended rules): no errors; the only warnings are the WebSockets answering 101, not 2xx', () => {
  const file = path.join(tempDir(), 'openapi.json');
  writeFileSync(file, JSON.stringify(doc));
  let out: string;
  try {
    out = execFileSync(REDOCLY, ['lint', '--format', 'json', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
  } catch (err) {
    out = (err as { stdout: string }).stdout;
  }
  const problems = (JSON.parse(out) as { problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[] }).problems;
  const said = problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
  assert.equal(said.filter((p) => p.startsWith('error')), [], 'no errors');
  const websockets = ['/api/v1/agents/connect', '/api/v1/workspaces/{owner}/{name}/tcp/{port}', '/api/v1/workspaces/{owner}/{name}/ssh', '/api/v1/workspaces/{owner}/{name}/pty', '/api/v1/agents/relay'];
  const expected = websockets.map((p) => `warn operation-2xx-response #/paths/${p.replace(/\//g, '~1')}/get/responses`);
  assert.equal(problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}`).sort(), expected.sort(), said.join('\n'));
});

test('every operation: an operationId, a tag, its path and query parameters, its request body and every answer as schemas; servers from access_url', () => {
  assert.equal(doc.servers, [{ url: 'http://127.0.0.1:3000', description: "the deployment's access URL" }]);
  const missing: string[] = [];
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      const at = `${m.toUpperCase()} ${p}`;
      for (const [status, r] of Object.entries(op.responses)) {
        // (101 opens a WebSocket and 204 has no body; the event stream is text)
        if (!['101', '204'].includes(status) && !r.content) missing.push(`${at} ${status}: no content schema`);
      }
      if (!Object.keys(op.responses).some((s) => s.startsWith('4'))) missing.push(`${at}: no 4xx answer`);
    }
  }
  assert.equal(missing, []);
  const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
  assert.is(new Set(ids).size, ids.length, 'operationIds are unique');
  const tokens = doc.paths['/api/v1/tokens']!.post!.requestBody as { content: { 'application/json': { schema: { properties: Record<string, unknown>; required: string[] } } } };
  assert.equal(Object.keys(tokens.content['application/json'].schema.properties), ['name', 'lifetime']);
  assert.equal(tokens.content['application/json'].schema.required, ['name']);
  const audit = doc.paths['/api/v1/audit']!.get!.parameters as { name: string; in: string }[];
  assert.equal(audit.map((x) => `${x.in}:${x.name}`), ['query:limit', 'query:before']);
});

test("every real answer matches its operation's schema for its status: successes, refusals, bad input", async () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ $id: 'api', components: doc.components });
  const templates = Object.keys(doc.paths).map((p) => ({ p, re: new RegExp(`^${p.replace(/\{\w+\}/g, '[^/]+')}$`) }));
  const bearer = (u: string) => ({ authorization: `Bearer ${f.tokens[u]}` });
  const calls: { method: 'GET' | 'POST' | 'DELETE'; url: string; headers?: Record<string, string>; payload?: object; expect: number }[] = [
    { method: 'GET', url: '/api/v1/me', headers: bearer('bob'), expect: 200 },
    { method: 'GET', url: '/api/v1/me', expect: 401 },
    { method: 'GET', url: '/api/v1/workspaces', headers: bearer('alice'), expect: 200 },
    { method: 'GET', url: '/api/v1/workspaces/bob/box', headers: bearer('bob'), expect: 200 },
    { method: 'GET', url: '/api/v1/workspaces/carol/lab', headers: bearer('bob'), expect: 404 },
    { method: 'GET', url: '/api/v1/workspaces/bob/box/builds/latest/logs', headers: bearer('bob'), expect: 200 },
    { method: 'GET', url: '/api/v1/workspaces/bob/box/builds/latest/logs?after=x', headers: bearer('bob'), expect: 400 },
    { method: 'GET', url: '/api/v1/workspaces/bob/box/builds/7/logs', headers: bearer('bob'), expect: 404 },
    { method: 'GET', url: '/api/v1/workspaces/bob/box/watch?for=0', headers: bearer('bob'), expect: 400 },
    { method: 'POST', url: '/api/v1/workspaces/bob/box/start', headers: bearer('bob'), expect: 200 },
    { method: 'POST', url: '/api/v1/workspaces/carol/lab/start', headers: bearer('carol'), expect: 202 },
    { method: 'POST', url: '/api/v1/workspaces/nobody/none/start', headers: bearer('alice'), expect: 404 },
    { method: 'GET', url: '/api/v1/users', headers: bearer('dave'), expect: 200 },
    { method: 'GET', url: '/api/v1/users', headers: bearer('bob'), expect: 403 },
    { method: 'GET', url: '/api/v1/syncs', headers: bearer('dave'), expect: 200 },
    { method: 'GET', url: '/api/v1/syncs?limit=0', headers: bearer('dave'), expect: 400 },
    { method: 'GET', url: '/api/v1/audit?limit=5', headers: bearer('dave'), expect: 200 },
    { method: 'GET', url: '/api/v1/audit?before=x', headers: bearer('dave'), expect: 400 },
    { method: 'GET', url: '/api/v1/tokens', headers: bearer('bob'), expect: 200 },
    { method: 'POST', url: '/api/v1/tokens', headers: bearer('bob'), payload: { name: 'ci', lifetime: '7d' }, expect: 201 },
    { method: 'POST', url: '/api/v1/tokens', headers: bearer('bob'), payload: { name: '' }, expect: 400 },
    { method: 'POST', url: '/api/v1/tokens', headers: { cookie: `coder_git_session=${f.tokens.bob}` }, payload: { name: 'x' }, expect: 403 },
    { method: 'DELETE', url: '/api/v1/tokens/00000000-0000-0000-0000-000000000000', headers: bearer('bob'), expect: 404 },
    { method: 'POST', url: '/api/v1/login', payload: { username: 'alice', password: PASSWORDS.alice }, expect: 201 },
    { method: 'POST', url: '/api/v1/login', payload: { username: 'alice', password: 'wrong' }, expect: 401 },
    { method: 'POST', url: '/api/v1/login', payload: { username: 'alice' }, expect: 400 },
    { method: 'POST', url: '/api/v1/runner/refresh', headers: bearer('alice'), expect: 202 },
    { method: 'POST', url: '/api/v1/runner/refresh', headers: bearer('bob'), expect: 403 },
    { method: 'POST', url: '/api/v1/webhooks/git', headers: { 'content-type': 'application/json' }, payload: {}, expect: 404 },
    { method: 'GET', url: '/api/v1/users/me/gitsshkey', headers: bearer('bob'), expect: 200 },
    { method: 'POST', url: '/api/v1/users/me/gitsshkey', headers: bearer('bob'), expect: 201 },
    { method: 'POST', url: '/api/v1/users/me/gitsshkey', headers: { cookie: `coder_git_session=${f.tokens.bob}` }, expect: 403 },
    { method: 'GET', url: '/api/v1/agents/me/gitsshkey', headers: { 'coder-agent-token': f.agentToken }, expect: 200 },
    { method: 'GET', url: '/api/v1/agents/me/gitsshkey', headers: { 'coder-agent-token': 'nope' }, expect: 401 },
    { method: 'POST', url: '/api/v1/logout', headers: bearer('erin'), expect: 204 },
  ];
  const wrong: string[] = [];
  const covered = new Set<string>();
  for (const c of calls) {
    const res = await app.inject({ method: c.method, url: c.url, headers: c.headers, ...(c.payload ? { payload: c.payload } : {}) });
    const at = `${c.method} ${c.url}`;
    if (res.statusCode !== c.expect) {
      wrong.push(`${at}: ${res.statusCode}, expected ${c.expect}: ${res.body.slice(0, 200)}`);
      continue;
    }
    const tpl = templates.find((t) => t.re.test(c.url.split('?')[0]!))!;
    const op = doc.paths[tpl.p]![c.method.toLowerCase()]!;
    const answer = op.responses[String(res.statusCode)];
    if (!answer) {
      wrong.push(`${at}: answered ${res.statusCode}, which the document does not list`);
      continue;
    }
    covered.add(`${c.method} ${tpl.p} ${res.statusCode}`);
    const schema = answer.content?.['application/json']?.schema;
    if (!schema) {
      if (res.body) wrong.push(`${at}: ${res.statusCode} has a body but no schema`);
      continue;
    }
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"api#/components/')));
    if (!validate(res.json())) wrong.push(`${at} ${res.statusCode}: ${ajv.errorsText(validate.errors)}\n  ${res.body.slice(0, 300)}`);
  }
  assert.equal(wrong, []);
  // Every documented success of the route table was seen (the WebSockets and the event stream have their own tests).
  const successes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).flatMap(([m, op]) => Object.entries(op.responses).filter(([s, r]) => s.startsWith('2') && r.content?.['application/json']).map(([s]) => `${m.toUpperCase()} ${p} ${s}`)));
  const unseen = successes.filter((s) => !covered.has(s) && !s.startsWith('POST /api/v1/webhooks/git'));
  assert.equal(unseen, []);
});

test('cleanup', async () => {
  await app.close();
  delete process.env.CODER_GIT_ENCRYPTION_KEYS;
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
