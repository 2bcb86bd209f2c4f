// The floor for validate: read every file validate reads and YAML-parse the YAML ones, in one
// process, with nothing else. Prints milliseconds (from process start) as JSON.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const parser = process.argv[3] ?? 'yaml';
const parse =
  parser === 'js-yaml'
    ? (await import("js-yaml")).load
    : (await import("yaml")).default.parse;
let files = 0;
for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (!e.isFile()) continue;
  const p = path.join(e.parentPath, e.name);
  const rel = path.relative(dir, p);
  if (rel.startsWith('.')) continue;
  const text = readFileSync(p, 'utf8');
  if (p.endsWith('.yaml')) parse(text);
  files++;
}
process.stdout.write(JSON.stringify({ files, ms: performance.now() }) + '\n');
