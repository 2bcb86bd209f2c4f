// Property tests: whatever bytes land in a config repo, validation returns diagnostics (each with a
// file, a line and a column inside the file) or a valid state, never throws, and finishes quickly.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import YAML from 'yaml';
import { validateSource } from '../../src/config/validate.ts';
import { readSource } from '../../src/config/source.ts';
import type { ConfigSource } from '../../src/config/source.ts';
import { baseFiles } from '../fixtures/base.ts';
import { cleanup, tempDir, writeFiles } from '../helpers/git.ts';

const PATHS = ['coder-git.yaml', 'users/alice.yaml', 'users/bob.yaml', 'templates/small/template.yaml', 'templates/small/main.tf', 'workspaces/alice/dev.yaml', 'workspaces/bob/box.yaml'];

function sourceWith(overrides: Record<string, Buffer>): ConfigSource {
  const files = new Map<string, Buffer>();
  for (const [p, t] of Object.entries(baseFiles())) if (t !== null) files.set(p, Buffer.from(t));
  for (const [p, b] of Object.entries(overrides)) files.set(p, b);
  return {
    dir: '/nowhere',
    ref: undefined,
    commit: undefined,
    files: [...files].map(([path, content]) => ({ path, size: content.length, content, kind: 'file' as const })),
  };
}

function checkResult(src: ConfigSource, ms: number): void {
  const started = performance.now();
  const r = validateSource(src);
  const took = performance.now() - started;
  assert.ok(took < ms, `validation took ${took.toFixed(0)}ms`);
  const lines = new Map(src.files.map((f) => [f.path, (f.content?.toString('utf8').split('\n').length ?? 1) + 1]));
  for (const d of r.diagnostics) {
    assert.type(d.message, 'string');
    assert.ok(d.message.length > 0);
    assert.ok(['error', 'warning'].includes(d.severity));
    assert.ok(d.line >= 1 && d.col >= 1, `${d.file}:${d.line}:${d.col}`);
    const max = lines.get(d.file);
    if (max !== undefined) assert.ok(d.line <= max, `${d.file}:${d.line} is past the end of the file (${max} lines)`);
  }
  assert.is(r.state === undefined, r.diagnostics.some((d) => d.severity === 'error'));
}

const yamlChars = fc.constantFrom(...'ab:- \n\t[]{}&*!#"\'|>?,%@`10.~\\x'.split(''), ': ', '- ', '  ', '\n  ', '&a ', '*a', 'apiVersion: coder-git/v1\n', 'kind: User\n', '---\n', '!!binary ', '<<: ');
const yamlish = fc.string({ unit: yamlChars, maxLength: 300 });
const bytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));
const anyPath = fc.constantFrom(...PATHS);

test('random bytes in any config file: only diagnostics', () => {
  fc.assert(fc.property(anyPath, bytes, (p, b) => checkResult(sourceWith({ [p]: b }), 2000)), { numRuns: 400 });
});

test('random YAML-like text in any config file: only diagnostics', () => {
  fc.assert(fc.property(anyPath, yamlish, (p, t) => checkResult(sourceWith({ [p]: Buffer.from(t) }), 2000)), { numRuns: 800 });
});

test('random structured documents (any JSON value, written as YAML): only diagnostics', () => {
  const doc = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.record({ apiVersion: fc.constantFrom('coder-git/v1', 'v1'), kind: fc.constantFrom('User', 'Workspace', 'Template', 'Deployment'), extra: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: ['apiVersion', 'kind'] }),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(anyPath, doc), { minLength: 1, maxLength: 4 }), (docs) => {
      const overrides: Record<string, Buffer> = {};
      for (const [p, d] of docs) overrides[p] = Buffer.from(YAML.stringify(d));
      checkResult(sourceWith(overrides), 2000);
    }),
    { numRuns: 300 },
  );
});

test('mutations of the valid base files: only diagnostics', () => {
  const base = baseFiles();
  fc.assert(
    fc.property(anyPath, fc.nat(), fc.nat({ max: 20 }), fc.string({ unit: yamlChars, maxLength: 8 }), (p, at, cut, insert) => {
      const text = String(base[p] ?? '');
      const i = at % (text.length + 1);
      checkResult(sourceWith({ [p]: Buffer.from(text.slice(0, i) + insert + text.slice(i + cut)) }), 2000);
    }),
    { numRuns: 1000 },
  );
});

test('random files through the real loader (files on disk)', async () => {
  await fc.assert(
    fc.asyncProperty(anyPath, fc.oneof(bytes, yamlish.map((s) => Buffer.from(s))), async (p, content) => {
      const dir = tempDir();
      writeFiles(dir, { ...baseFiles(), [p]: content });
      const src = await readSource({ dir });
      checkResult(src, 2000);
    }),
    { numRuns: 40 },
  );
});

test('cleanup', () => cleanup());
test.run();
