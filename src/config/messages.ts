// Turns Ajv's errors into messages that say what is wrong and what would be right, at the position
// of the offending key or value.

import type { ErrorObject } from 'ajv';
import type { Diagnostic } from './diagnostics.ts';
import type { ParsedFile, PathSeg } from './yaml.ts';
import { plural } from '../plural.ts';

export function pathFromPointer(pointer: string, root: unknown): PathSeg[] {
  if (!pointer) return [];
  const out: PathSeg[] = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

export function renderPath(path: readonly PathSeg[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) s += s ? `.${seg}` : seg;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}

/** A value as a person reads it in a message. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (an empty value)';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping (key: value lines)',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  null: 'nothing',
};

function typeOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'a whole number' : 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return 'a string';
}

/** Edit distance where a swap of two neighbouring letters counts as one edit (emial → email). */
export function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** ' (did you mean "email"?)' when one candidate is close, else ''. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dd = distance(word.toLowerCase(), c.toLowerCase());
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

export function oneOf(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

export function schemaDiagnostics(file: string, errors: ErrorObject[], parsed: ParsedFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const path = pathFromPointer(e.instancePath, parsed.value);
    const d = describe(e, path);
    if (!d) continue;
    const pos = parsed.locate(d.path, d.key);
    const prefix = renderPath(d.labelPath ?? d.path);
    const message = prefix ? `${prefix}: ${d.message}` : d.message;
    const id = `${pos.line}:${pos.col}:${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ file, line: pos.line, col: pos.col, severity: 'error', code: 'schema', message });
  }
  return out;
}

interface Described {
  path: PathSeg[];
  key: boolean;
  message: string;
  labelPath?: PathSeg[];
}

function describe(e: ErrorObject, path: PathSeg[]): Described | undefined {
  const p = e.params as Record<string, unknown>;
  const ps = e.parentSchema as Record<string, unknown> | undefined;
  switch (e.keyword) {
    case 'required':
      return { path, key: path.length > 0, message: `missing required key "${p.missingProperty}"` };
    case 'additionalProperties': {
      const extra = String(p.additionalProperty);
      const allowed = Object.keys((ps?.properties as object) ?? {});
      const hint = allowed.length ? `${didYouMean(extra, allowed)}; allowed keys here: ${allowed.join(', ')}` : '';
      return { path: [...path, extra], key: true, labelPath: path, message: `unknown key "${extra}"${hint}` };
    }
    case 'propertyNames':
      return undefined; // the inner error (with propertyName) says it better
    case 'const':
      return { path, key: false, message: `must be ${JSON.stringify(p.allowedValue)}, not ${show(e.data)}` };
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]) ?? [];
      const hint = typeof e.data === 'string' ? didYouMean(e.data, allowed.map(String)) : '';
      return { path, key: false, message: `${show(e.data)} is not one of ${oneOf(allowed)}${hint}` };
    }
    case 'type': {
      const want = String(p.type).split(',').map((t) => TYPE_WORDS[t] ?? t);
      return { path, key: false, message: `expected ${want.join(' or ')}, got ${typeOf(e.data)}${e.data !== null && typeof e.data !== 'object' ? ` ${show(e.data)}` : ''}` };
    }
    case 'format': {
      const what: Record<string, string> = { email: 'an email address like alice@example.com', uri: 'a URL', hostname: 'a domain name like example.com', regex: 'a valid regular expression' };
      return { path, key: false, message: `${show(e.data)} is not ${what[String(p.format)] ?? `a valid ${p.format}`}` };
    }
    case 'pattern': {
      const why = typeof ps?.patternErrorMessage === 'string' ? ps.patternErrorMessage : `must match the pattern ${p.pattern}`;
      if (e.propertyName !== undefined) return { path: [...path, e.propertyName], key: true, labelPath: path, message: `"${e.propertyName}" ${why}` };
      return { path, key: false, message: `${show(e.data)} ${why}` };
    }
    case 'minimum':
    case 'exclusiveMinimum':
      return { path, key: false, message: `${show(e.data)} is less than the minimum ${p.limit}` };
    case 'maximum':
    case 'exclusiveMaximum':
      return { path, key: false, message: `${show(e.data)} is more than the maximum ${p.limit}` };
    case 'minLength':
      return { path, key: false, message: Number(p.limit) === 1 ? 'must not be empty' : `is shorter than ${p.limit} characters` };
    case 'maxLength':
      return { path, key: false, message: `is longer than ${p.limit} characters` };
    case 'minItems':
      return { path, key: false, message: `needs at least ${plural(Number(p.limit), 'item')}` };
    case 'uniqueItems': {
      const list = e.data as unknown[];
      // (the later of the two: Ajv names them in either order, depending on the items' schema)
      const later = Math.max(Number(p.i), Number(p.j));
      return { path: [...path, later], key: false, labelPath: [...path, later], message: `${show(list[later])} is listed twice` };
    }
    default:
      return { path, key: false, message: e.message ?? 'is not valid' };
  }
}
