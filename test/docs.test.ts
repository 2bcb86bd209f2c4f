// The README's config reference is generated from schemas/: it must be up to date (`npm run docs`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { README, readmeWithReference } from '../src/docs/reference.ts';
import { readmeWithCli } from '../src/docs/cli.ts';

test('README reference matches schemas/ (run `npm run docs` after changing a schema)', () => {
  const readme = readFileSync(README, 'utf8');
  assert.ok(readme === readmeWithReference(readme), 'README.md reference section is stale: run npm run docs');
});

test('README CLI reference matches the yargs definitions (run `npm run docs` after changing a command)', async () => {
  const readme = readFileSync(README, 'utf8');
  const fresh = await readmeWithCli(readme);
  assert.ok(readme === fresh, 'README.md CLI reference is stale: run npm run docs');
  for (const c of ['comment', 'up', 'db migrate', 'port-forward']) assert.match(fresh, new RegExp(`#### \`coder-git ${c}\``));
});

test('README documents every command and the test command', () => {
  const readme = readFileSync(README, 'utf8');
  for (const s of ['coder-git validate', 'coder-git init', 'coder-git schema', 'npm test', '--format json', '--format github']) assert.ok(readme.includes(s), s);
});

test.run();
