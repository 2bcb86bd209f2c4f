// Splitting long plan comments: a 300 kB plan rendered as markdown is cut into GitHub-sized comments
// that a markdown parser (markdown-it, CommonMark) reads as balanced on their own — every code fence
// closed, every <details> closed, tables with their header — and that together hold everything the
// plan said, in order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import MarkdownIt from 'markdown-it';
import { validateSource } from '../../src/config/validate.ts';
import { diff } from '../../src/plan/diff.ts';
import { renderMarkdown } from '../../src/plan/render.ts';
import { commentParts, isOurs, partNumber, splitMarkdown } from '../../src/pr-comment/split.ts';
import { GITHUB_LIMIT } from '../../src/pr-comment/forges.ts';
import { baseFiles } from '../fixtures/base.ts';

const md = new MarkdownIt({ html: true });

/** A plan creating `n` users with a workspace each, every workspace with a dozen terraform resources. */
function bigPlan(n: number): string {
  const files: Record<string, string> = { ...(baseFiles() as Record<string, string>) };
  for (let i = 0; i < n; i++) {
    files[`users/user${i}.yaml`] = `apiVersion: coder-git/v1\nkind: User\nemail: user${i}@example.com\nroles: [member]\nlogin: none\n`;
    files[`workspaces/user${i}/dev.yaml`] = `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: small\nparameters: { label: dev${'x'.repeat(i % 7)}, cpu: ${1 + (i % 8)} }\n`;
  }
  const source = { dir: '/x', ref: undefined, commit: undefined, files: Object.entries(files).map(([path, c]) => ({ path, size: c.length, content: Buffer.from(c), kind: 'file' as const })) };
  const desired = validateSource(source).state!;
  const plan = diff(desired, { users: new Map(), groups: new Map(), templates: new Map(), workspaces: new Map(), lastApplied: null, deployment: null });
  for (const w of plan.workspaces) {
    const resources = Array.from({ length: 12 }, (_, k) => ({ address: `module.home[${k}].terraform_data.volume_with_a_long_name`, action: 'create' as const }));
    w.terraform = { resources, add: resources.length, change: 0, destroy: 0 };
  }
  return renderMarkdown(plan);
}

/** What a reader sees of a document: code blocks' text, table rows, and the text outside them. */
function content(doc: string) {
  const tokens = md.parse(doc, {});
  const lines = doc.split('\n');
  const code: string[] = [];
  const rows: string[] = [];
  let depth = 0;
  for (const t of tokens) {
    if (t.type === 'fence') {
      // markdown-it runs an unclosed fence to the end of the document: its last line is then not a fence.
      const last = lines[t.map![1] - 1] ?? '';
      assert.ok(/^ {0,3}(`{3,}|~{3,})\s*$/.test(last) && t.map![1] - t.map![0] >= 2, `a code fence opened at line ${t.map![0] + 1} is closed`);
      code.push(t.content);
    }
    if (t.type === 'html_block') {
      depth += (t.content.match(/<details[\s>]/g) ?? []).length - (t.content.match(/<\/details>/g) ?? []).length;
      assert.ok(depth >= 0, 'no </details> without its <details>');
    }
    if (t.type === 'tr_open') rows.push(t.map ? lines[t.map[0]]! : '');
  }
  assert.is(depth, 0, 'every <details> is closed in the same comment');
  return { code: code.join(''), rows };
}

test('a 300 kB plan becomes GitHub-sized comments, each balanced markdown, together the whole plan', () => {
  const plan = bigPlan(700);
  assert.ok(plan.length > 300_000, `the plan is ${plan.length} characters`);
  const parts = commentParts(plan, GITHUB_LIMIT);
  assert.ok(parts.length >= 5, `${parts.length} parts`);
  const whole = content(plan);
  let code = '';
  const rows: string[] = [];
  parts.forEach((p, i) => {
    assert.ok(p.length <= GITHUB_LIMIT, `part ${i + 1} is ${p.length} characters`);
    assert.ok(isOurs(p, 'plan'), 'each part carries the marker');
    assert.is(partNumber(p), i + 1);
    const c = content(p); // asserts fences and <details> balanced
    code += c.code;
    rows.push(...c.rows);
    // A table continued from the previous part starts again with its header row.
    if (c.rows.length) assert.ok(c.rows[0]!.startsWith('| ') && /^\| (workspace|) \|/.test(c.rows[0]!) || /^\| \| add/.test(c.rows[0]!), `part ${i + 1}'s first table row is a header: ${c.rows[0]}`);
  });
  assert.is(code, whole.code, 'the code blocks, joined, are the plan\'s, in order');
  // Every row of the plan's tables is there once; headers repeat once per part they continue into.
  const body = rows.filter((r) => !/^\| (workspace|) \|/.test(r) && !/^\| \| add/.test(r));
  assert.equal(body, whole.rows.filter((r) => !/^\| (workspace|) \|/.test(r) && !/^\| \| add/.test(r)));
  // The summary comes first: the totals and the per-kind table open part 1.
  assert.match(parts[0]!, /^<!-- coder-git:plan part 1 of \d+ -->\n### coder-git plan\n\nPlan: \d+ to add, 0 to change, 0 to destroy; builds: 702 start/);
  assert.match(parts[0]!, /_Continued in the next comment \(part 1 of \d+\)\._\n$/);
  assert.match(parts[1]!, /^<!-- coder-git:plan part 2 of \d+ -->\n_Continued: part 2 of/);
});

test('a short plan is one comment, unchanged but for the marker', () => {
  const body = '### coder-git plan\n\nNo changes.\n';
  assert.equal(commentParts(body, GITHUB_LIMIT, 'plan-prod'), ['<!-- coder-git:plan-prod part 1 of 1 -->\n### coder-git plan\n\nNo changes.\n']);
});

test('cut inside nested <details> and a ~~~ fence: both reopen, the summary says continued', () => {
  const inner = Array.from({ length: 400 }, (_, i) => `line ${i} ${'y'.repeat(20)}`).join('\n');
  const body = `intro\n\n<details><summary>Outer</summary>\n\n<details><summary>Inner</summary>\n\n~~~~hcl\n${inner}\n~~~~\n\n</details>\n\n</details>\n\ntail\n`;
  const parts = splitMarkdown(body, 4000);
  assert.ok(parts.length > 2);
  let code = '';
  for (const p of parts) {
    assert.ok(p.length <= 4000, `${p.length}`);
    code += content(p).code;
  }
  assert.is(code, `${inner}\n`);
  assert.match(parts[1]!, /^<details><summary>Outer \(continued\)<\/summary>\n\n<details><summary>Inner \(continued\)<\/summary>\n\n~~~~hcl\n/);
  assert.match(parts.at(-1)!, /tail$/);
});

test('a fence inside a code block of a longer fence does not end it; one enormous line is broken, not lost', () => {
  const body = `\`\`\`\`md\n${'```\nnot a fence\n'.repeat(300)}\`\`\`\`\n\n${'z'.repeat(20_000)}\n`;
  const parts = splitMarkdown(body, 3000);
  for (const p of parts) {
    assert.ok(p.length <= 3000);
    content(p);
  }
  assert.is(parts.join('').replace(/\n|````md|````/g, '').replace(/```/g, '').length, body.replace(/\n|````md|````/g, '').replace(/```/g, '').length);
});

test('a budget too small to hold the reopened blocks is refused', () => {
  assert.throws(() => splitMarkdown('x\n'.repeat(1000), 500), /too small/);
});

test.run();
