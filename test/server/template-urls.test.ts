// Every URL path of the server that a built-in template reaches — written in its .tf files, or in the
// contract's coder_agent_init_script it runs, or in the install.sh that script fetches — is served.
// (The docker, kubernetes and aws-ec2 templates once started the agent from a route that did not exist.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { stopOwnServer, testDatabase } from '../helpers/db.ts';
import { buildServer } from '../../src/server/app.ts';
import { agentInitScript } from '../../src/terraform/contract.ts';
import { pkgPath } from '../../src/paths.ts';

const paths = (text: string) => [...text.matchAll(/\/api\/v\d+\/[A-Za-z0-9/_.-]*[A-Za-z0-9_]/g)].map((m) => m[0]);

test('the paths of the templates, the init script and install.sh answer', async () => {
  const d = await testDatabase();
  const app = await buildServer({ database: d, logger: false });
  try {
    const found = new Map<string, string>();
    for (const t of readdirSync(pkgPath('templates'))) {
      for (const f of readdirSync(pkgPath('templates', t), { recursive: true, encoding: 'utf8' }).filter((f) => statSync(pkgPath('templates', t, f)).isFile())) for (const p of paths(readFileSync(pkgPath('templates', t, f), 'utf8'))) found.set(p, `templates/${t}/${f}`);
      const tf = readFileSync(pkgPath('templates', t, 'main.tf'), 'utf8');
      if (/var\.coder_agent_init_script/.test(tf)) assert.match(tf, /variable "coder_agent_init_script"/, `${t} declares what it uses`);
    }
    for (const p of paths(agentInitScript('https://coder.example.com'))) found.set(p, 'coder_agent_init_script');
    const install = await app.inject({ url: '/api/v1/agent/install.sh' });
    assert.is(install.statusCode, 200);
    // install.sh names its files by variables: the files of this server's version
    const base = paths(install.body).find((p) => p.endsWith('/files'))!;
    for (const v of ['AGENT_FILE', 'NODE_FILE']) {
      const name = new RegExp(`${v}='([^']+)'`).exec(install.body)?.[1];
      assert.ok(name, `install.sh names ${v}`);
      found.set(`${base}/${name}`, `install.sh ${v}`);
    }
    found.delete(base);
    assert.ok(found.size >= 3, [...found.keys()].join(' '));
    for (const [p, where] of found) {
      const res = await app.inject({ url: p });
      assert.ok(res.statusCode < 400, `${p} (from ${where}) answers ${res.statusCode}`);
    }
    for (const t of ['docker', 'kubernetes', 'aws-ec2']) {
      assert.match(readFileSync(pkgPath('templates', t, 'main.tf'), 'utf8'), /var\.coder_agent_init_script/, `${t} starts the agent with the contract's init script`);
    }
  } finally {
    await app.close();
    await d.drop();
    await stopOwnServer();
  }
});

test.run();
