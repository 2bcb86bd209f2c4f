// The fast YAML path must agree with the full parser wherever it answers: the same value, and no
// acceptance of anything the full parser rejects. It must also answer for the files coder-git writes.
// (Positions always come from the full parser; see yaml.ts.)

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseFast } from '../../src/config/yaml-fast.ts';
import { parseConfigFile, parseFull, type PathSeg } from '../../src/config/yaml.ts';
import { baseFiles } from '../fixtures/base.ts';

function paths(v: unknown, prefix: PathSeg[] = [], out: PathSeg[][] = []): PathSeg[][] {
  out.push(prefix);
  if (Array.isArray(v)) {
    v.forEach((x, i) => paths(x, [...prefix, i], out));
    out.push([...prefix, v.length], [...prefix, 'nope']);
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
    out.push([...prefix, 'missing'], [...prefix, 0]);
  }
  return out;
}

/** Returns whether the fast path answered; asserts agreement when it did. */
function agree(text: string): boolean {
  const fast = parseFast(text);
  if (!fast) return false;
  const full = parseFull('users/x.yaml', text);
  assert.ok(full.ok, `the fast path accepted what the full parser rejects:\n${text}`);
  if (!full.ok) return true;
  assert.equal(fast.value, full.parsed.value, `value of:\n${text}`);
  return true;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

test('coder-git\'s own YAML takes the fast path and agrees: fixtures, built-in templates, init output', () => {
  const texts = [...Object.values(baseFiles()).filter((t): t is string => typeof t === 'string' && !t.startsWith('variable') && !t.startsWith('#'))];
  for (const t of readdirSync(path.join(root, 'templates'))) texts.push(readFileSync(path.join(root, 'templates', t, 'template.yaml'), 'utf8'));
  for (const t of texts) assert.ok(agree(t), `fast path declined:\n${t}`);
});

// Generated documents in (and around) the subset, in every style the fast path knows.
const word = fc.constantFrom('a', 'b', 'cpu', 'x-y', 'a.b/c', 'true', 'null', 'NULL', '~', '1', '-1', '0x1f', '0o17', '1.5', '.inf', '1e3', 'yes', 'no', 'on', 'hello world', 'it\'s', 'a#b', 'a #b', 'x:y', ': x', '- x', '"q"', '[', '{', '', ' ', 'é', 'a  b');
const keyName = fc.constantFrom('a', 'b', 'cpu', 'image', 'x_y', 'a.b', 'k-1', 'True', 'null', '1', 'a b', '__proto__');
type Doc = { t: 'scalar'; v: string; style: 'plain' | 'single' | 'double' } | { t: 'map'; entries: [string, Doc][]; flow: boolean } | { t: 'seq'; items: Doc[]; flow: boolean } | { t: 'block'; lines: string[]; style: '|' | '>' | '|-' | '>-' };
const docArb: fc.Arbitrary<Doc> = fc.letrec<{ doc: Doc }>((tie) => ({
  doc: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ t: fc.constant('scalar' as const), v: word, style: fc.constantFrom('plain' as const, 'single' as const, 'double' as const) }),
    fc.record({ t: fc.constant('block' as const), lines: fc.array(fc.constantFrom('line', '', 'two words', '  indented', '# hash', 'end:'), { minLength: 0, maxLength: 4 }), style: fc.constantFrom('|' as const, '>' as const, '|-' as const, '>-' as const) }),
    fc.record({ t: fc.constant('map' as const), entries: fc.array(fc.tuple(keyName, tie('doc')), { minLength: 1, maxLength: 4 }), flow: fc.boolean() }),
    fc.record({ t: fc.constant('seq' as const), items: fc.array(tie('doc'), { minLength: 0, maxLength: 3 }), flow: fc.boolean() }),
  ),
})).doc;

function inline(d: Doc): string | undefined {
  if (d.t === 'scalar') return d.style === 'plain' ? d.v : d.style === 'single' ? `'${d.v.replace(/'/g, "''")}'` : `"${d.v}"`;
  if (d.t === 'map' && d.flow) {
    const parts = d.entries.map(([k, v]) => [k, inline(v)] as const);
    return parts.some(([, v]) => v === undefined) ? undefined : `{ ${parts.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  }
  if (d.t === 'seq' && d.flow) {
    const parts = d.items.map(inline);
    return parts.some((v) => v === undefined) ? undefined : `[${parts.join(', ')}]`;
  }
  return undefined;
}

function render(d: Doc, indent: number, compactSeq: boolean): string[] {
  const pad = ' '.repeat(indent);
  if (d.t === 'map') {
    const out: string[] = [];
    for (const [k, v] of d.entries) {
      const i = inline(v);
      if (i !== undefined) out.push(`${pad}${k}: ${i}`);
      else if (v.t === 'block') out.push(`${pad}${k}: ${v.style}`, ...v.lines.map((l) => (l ? `${pad}  ${l}` : '')));
      else if (v.t === 'seq' && compactSeq) out.push(`${pad}${k}:`, ...render(v, indent, compactSeq));
      else out.push(`${pad}${k}:`, ...render(v, indent + 2, compactSeq));
    }
    return out;
  }
  if (d.t === 'seq') return d.items.map((it) => `${pad}- ${inline(it) ?? 'x'}`);
  return [`${pad}${inline(d) ?? 'x'}`];
}

test('generated documents: where the fast path answers, it agrees with the full parser', () => {
  let answered = 0;
  fc.assert(
    fc.property(docArb, fc.boolean(), fc.boolean(), fc.boolean(), (d, compact, comments, marker) => {
      const doc: Doc = d.t === 'map' ? { ...d, flow: false } : { t: 'map', entries: [['root', d]], flow: false };
      let lines = render(doc, 0, compact);
      if (comments) lines = lines.flatMap((l, i) => (i % 2 ? [l, '# comment', ''] : [`${l}  # trailing`]));
      if (marker) lines.unshift('---');
      if (agree(`${lines.join('\n')}\n`)) answered++;
    }),
    { numRuns: 3000 },
  );
  assert.ok(answered > 600, `the fast path answered only ${answered} of 3000`);
});

test('mutated config files: where the fast path answers, it agrees', () => {
  const sources = Object.values(baseFiles()).filter((t): t is string => typeof t === 'string' && !t.startsWith('variable'));
  const chars = fc.constantFrom(' ', '  ', '\n', ':', ': ', '- ', '#', ' #', '"', "'", '[', ']', '{', '}', ',', '|', '>', '-', 'a', '1', '&a ', '*a', '!t ', '\t', '~');
  fc.assert(
    fc.property(fc.nat(sources.length - 1), fc.nat(), fc.nat({ max: 6 }), fc.array(chars, { maxLength: 4 }), (which, at, cut, ins) => {
      const t = sources[which]!;
      const i = at % (t.length + 1);
      agree(t.slice(0, i) + ins.join('') + t.slice(i + cut));
    }),
    { numRuns: 4000 },
  );
});

test('for files that take the fast path, positions are the full parser\'s', () => {
  const text = 'apiVersion: coder-git/v1\nkind: User\nroles: [member, admn]\nmeta: { a: 1 }\n';
  assert.ok(parseFast(text));
  const viaFast = parseConfigFile('users/x.yaml', Buffer.from(text));
  const full = parseFull('users/x.yaml', text);
  assert.ok(viaFast.ok && full.ok);
  if (!viaFast.ok || !full.ok) return;
  for (const p of paths(full.parsed.value)) for (const key of [false, true]) assert.equal(viaFast.parsed.locate(p, key), full.parsed.locate(p, key));
});

test.run();
