// One config file's bytes → a plain value and a locator from value paths to line:col.
// Refuses what a config file must not be: over 1 MiB, not UTF-8, empty, several documents,
// unknown tags, collection keys, alias bombs and nesting deep enough to exhaust the stack.
// The `yaml` library (YAML 1.2, core schema) is the authority; yaml-fast.ts may answer first for plain files.

import { isUtf8 } from 'node:buffer';
import YAML, { isAlias, isMap, isScalar, isSeq, LineCounter, type Node as YamlNode } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';
import { parseFast } from './yaml-fast.ts';

export type PathSeg = string | number;

export interface Pos {
  line: number;
  col: number;
}

export interface ParsedFile {
  value: unknown;
  /** Where a value (or, with key=true, its key) sits; the nearest existing ancestor when it is absent. */
  locate(path: readonly PathSeg[], key?: boolean): Pos;
}

export type ParseResult = { ok: true; parsed: ParsedFile } | { ok: false; diagnostics: Diagnostic[] };

const MAX_ALIAS_COUNT = 100;

export function parseConfigFile(file: string, bytes: Buffer): ParseResult {
  const fail = (line: number, col: number, message: string, code: Diagnostic['code'] = 'yaml'): ParseResult => ({
    ok: false,
    diagnostics: [{ file, line, col, severity: 'error', code, message }],
  });
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    const pos = bytePos(bytes, at);
    return fail(pos.line, pos.col, `not valid UTF-8 (byte 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')}); save the file as UTF-8`, 'file');
  }
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const fast = parseFast(text);
  if (fast) {
    // Positions are wanted only for files with errors: the full parser finds them then, once.
    let full: ParsedFile | undefined;
    const locate = (path: readonly PathSeg[], key?: boolean): Pos => {
      if (!full) {
        const r = parseFull(file, text);
        full = r.ok ? r.parsed : { value: null, locate: () => ({ line: 1, col: 1 }) };
      }
      return full.locate(path, key);
    };
    return { ok: true, parsed: { value: fast.value, locate } };
  }
  return parseFull(file, text);
}

function emptyMessage(file: string): string {
  return `the file is empty; it needs at least apiVersion: coder-git/v1 and kind: ${expectedKind(file)}`;
}

export function expectedKind(file: string): string {
  if (file === 'coder-git.yaml') return 'Deployment';
  if (file.startsWith('users/')) return 'User';
  if (file.startsWith('groups/')) return 'Group';
  if (file.startsWith('templates/')) return 'Template';
  return 'Workspace';
}

/** The full YAML 1.2 parse: every error with its position. */
export function parseFull(file: string, text: string): ParseResult {
  const lc = new LineCounter();
  const diags: Diagnostic[] = [];
  const at = (offset: number) => lc.linePos(offset);
  const push = (offset: number, message: string) => {
    const p = at(offset);
    diags.push({ file, line: p.line, col: p.col, severity: 'error', code: 'yaml', message });
  };
  let docs: YAML.Document.Parsed[];
  try {
    docs = YAML.parseAllDocuments(text, {
      lineCounter: lc,
      schema: 'core',
      // The library's own duplicate check is quadratic (50,000 keys: a minute); checkKeys does it in linear time.
      uniqueKeys: false,
      prettyErrors: false,
      logLevel: 'silent',
      strict: true,
    }) as YAML.Document.Parsed[];
  } catch (err) {
    return stackFailure(file, err);
  }
  if (!Array.isArray(docs)) docs = [docs];
  const doc = docs[0];
  if (!doc) return { ok: false, diagnostics: [{ file, line: 1, col: 1, severity: 'error', code: 'file', message: emptyMessage(file) }] };
  if (docs.length > 1) push(docs[1]!.range[0], 'a config file holds one YAML document; remove the "---" and everything after it, or split it into files');
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.some((e) => e.message.includes('call stack'))) return stackFailure(file, new RangeError());
  if (problems.length) {
    // The library's messages for tab indentation are about what it then misreads; name the cause.
    const firstError = Math.min(...problems.map((e) => at(e.pos[0]).line));
    const tabLine = text.split('\n').findIndex((l, i) => i < firstError && /^ *\t/.test(l) && /\S/.test(l));
    if (tabLine >= 0) return { ok: false, diagnostics: [{ file, line: tabLine + 1, col: 1, severity: 'error', code: 'yaml', message: 'a tab is used for indentation; YAML indents with spaces only' }] };
  }
  for (const e of problems) push(e.pos[0], yamlMessage(e));
  if (diags.length) return { ok: false, diagnostics: diags };
  for (const [offset, message] of checkKeys(doc.contents, (o) => at(o).line)) push(offset, message);
  if (diags.length) return { ok: false, diagnostics: diags };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof ReferenceError) {
      return { ok: false, diagnostics: [{ file, line: 1, col: 1, severity: 'error', code: 'yaml', message: `aliases expand to too much data (more than ${MAX_ALIAS_COUNT} copies); write the values out or use fewer aliases` }] };
    }
    return stackFailure(file, err);
  }
  if (value === null || value === undefined) return { ok: false, diagnostics: [{ file, line: 1, col: 1, severity: 'error', code: 'file', message: emptyMessage(file) }] };
  return {
    ok: true,
    parsed: {
      value,
      locate(path, key = false) {
        return at(locateOffset(doc, path, key));
      },
    },
  };
}

function stackFailure(file: string, err: unknown): ParseResult {
  if (err instanceof RangeError) {
    return { ok: false, diagnostics: [{ file, line: 1, col: 1, severity: 'error', code: 'yaml', message: 'nested too deeply to read; a config file needs only a few levels' }] };
  }
  throw err;
}

function yamlMessage(e: YAML.YAMLError): string {
  const first = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  switch (e.code) {
    case 'TAB_AS_INDENT':
      return 'a tab is used for indentation; YAML indents with spaces only';
    case 'TAG_RESOLVE_FAILED':
      return `${first}; config files use plain values without tags`;
    case 'MULTIPLE_DOCS':
      return 'a config file holds one YAML document';
    default:
      return `YAML: ${first}`;
  }
}

/**
 * Keys must be scalars (a list or mapping cannot become a JSON property) and unique within
 * their mapping, compared as the strings they become.
 */
function checkKeys(node: unknown, lineOf: (offset: number) => number, out: [number, string][] = [], depth = 0): [number, string][] {
  if (depth > 500) return out;
  if (isMap(node)) {
    const seen = new Map<string, number>();
    for (const pair of node.items) {
      const k = pair.key as YamlNode | null;
      const offset = k?.range?.[0] ?? 0;
      if (k && !isScalar(k)) out.push([offset, 'a key must be a plain string, not a list, mapping or alias']);
      else {
        const name = String(k && isScalar(k) ? k.value : null);
        const first = seen.get(name);
        if (first !== undefined) out.push([offset, `duplicate key "${name}" (first at line ${lineOf(first)}); each key may appear once in a mapping`]);
        else seen.set(name, offset);
      }
      checkKeys(pair.value, lineOf, out, depth + 1);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) checkKeys(item, lineOf, out, depth + 1);
  }
  return out;
}

function locateOffset(doc: YAML.Document, path: readonly PathSeg[], key: boolean): number {
  let node = doc.contents as YamlNode | null;
  let offset = node?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc) ?? null;
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const k = pair.key as YamlNode;
      const v = pair.value as YamlNode | null;
      offset = last && key ? (k.range?.[0] ?? offset) : (v?.range?.[0] ?? k.range?.[0] ?? offset);
      node = v;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg] as YamlNode;
      offset = node.range?.[0] ?? offset;
    } else break;
  }
  return offset;
}

function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (n < 0) return i;
    for (let j = 1; j <= n; j++) if (((b[i + j] ?? 0) & 0xc0) !== 0x80) return i;
    // overlongs and surrogates: isUtf8 said no, so if the structure is fine the lead byte is the culprit
    if (n === 2 && ((c === 0xe0 && b[i + 1]! < 0xa0) || (c === 0xed && b[i + 1]! > 0x9f))) return i;
    if (n === 3 && ((c === 0xf0 && b[i + 1]! < 0x90) || (c === 0xf4 && b[i + 1]! > 0x8f))) return i;
    i += n + 1;
  }
  return Math.max(0, b.length - 1);
}

/** 1-based line and character column of a byte offset in a buffer whose prefix up to the offset is valid UTF-8. */
function bytePos(b: Buffer, offset: number): Pos {
  const before = b.subarray(0, offset);
  const nl = before.lastIndexOf(0x0a);
  let line = 1;
  for (let i = 0; i < before.length; i++) if (before[i] === 0x0a) line++;
  return { line, col: before.subarray(nl + 1).toString('utf8').length + 1 };
}
