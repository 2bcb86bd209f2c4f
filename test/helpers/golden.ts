// Golden files: expected output kept in test/golden/. UPDATE_GOLDEN=1 rewrites them after an
// intended change; a missing one is written and the test fails, so it gets looked at and checked in.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../golden/', import.meta.url));

export function golden(name: string, actual: string): void {
  const file = path.join(root, name);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
    if (!process.env.UPDATE_GOLDEN) throw new Error(`${file} did not exist; written now, check it in`);
    return;
  }
  assert.fixture(actual, readFileSync(file, 'utf8'), `${name} changed (UPDATE_GOLDEN=1 to accept)`);
}
