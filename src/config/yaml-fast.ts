// A fast path for the plain YAML that config files are made of. The `yaml` library spends ~150 µs
// on a ten-line file; this reader takes a few, which is most of `validate`'s time on a large repo.
//
// It accepts a strict subset and answers `undefined` for anything else, so the full parser (the
// authority, in yaml.ts) handles every unusual or wrong file and produces every error message:
//   - a block mapping at the root, nested block mappings, block sequences of scalars
//     (`- a`, also at the key's own indentation), one-line flow collections (`[a, b]`, `{ a: 1 }`,
//     nested), one-line plain / 'single' / "double" (no escapes) scalars, `|` and `>` block scalars
//   - comments, blank lines, one leading `---`
// Bailing out: tabs, CR, control characters, anchors, aliases, tags, directives, empty values,
// multi-line plain or quoted scalars, explicit keys, duplicate keys, anything odd in indentation.
// Plain scalars are resolved with the `yaml` library's own core-schema tags. The fast path records no
// positions: only files with errors need them, and for those yaml.ts asks the full parser, so every
// position comes from one place. A property test checks both parsers agree wherever this one answers.

import { isScalar, Schema } from 'yaml';

interface Tag {
  default?: boolean | 'key';
  test?: RegExp;
  resolve: (s: string, onError: (msg: string) => void, opts: object) => unknown;
}

const SCALAR_TAGS = (new Schema({ schema: 'core' }).tags as unknown as Tag[]).filter((t) => t.default && t.test);
const RESOLVE_OPTS = { intAsBigInt: false };

class Bail extends Error {}
const bail = (): never => {
  throw new Bail();
};

// Only scalars starting with one of these can be anything but a string under the core schema (its
// null, bool, int and float patterns all start so); the rest skip the tag tests.
const MAYBE_NOT_STRING = new Set('~nNtTfF+-.0123456789');

function resolvePlain(s: string): unknown {
  if (!MAYBE_NOT_STRING.has(s[0]!)) return s;
  for (const t of SCALAR_TAGS) {
    if (!t.test!.test(s)) continue;
    const v = t.resolve(s, bail, RESOLVE_OPTS);
    return isScalar(v) ? v.value : v; // some tags (bool) answer with a Scalar node
  }
  return s;
}

// Characters that may not start a plain scalar here (YAML indicators), or that this reader leaves
// to the full parser (quotes and flow openers are handled separately).
const BAD_PLAIN_START = new Set(['&', '*', '!', '|', '>', '%', '@', '`', '?', '#', ',', ']', '}', '-', ':', '[', '{', '"', "'"]);
// Config files nest a few levels; deeper ones go to the full parser, which refuses absurd depths.
const MAX_DEPTH = 32;
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const NON_STRING_KEYS = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE']);
// eslint-disable-next-line no-control-regex
const REFUSED_CHARS = /[\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u0085\u2028\u2029\ufeff]/;

class Reader {
  readonly lines: string[];
  i = 0;

  constructor(text: string) {
    this.lines = text.split('\n');
  }

  indentOf(l: string): number {
    let n = 0;
    while (l.charCodeAt(n) === 32) n++;
    return n;
  }

  isContent(l: string): boolean {
    const c = l.charCodeAt(this.indentOf(l));
    return c === c && c !== 35; // not past the end (NaN), not '#'
  }

  /** Index of the next content line at or after i, or lines.length. */
  nextContent(from = this.i): number {
    let j = from;
    while (j < this.lines.length && !this.isContent(this.lines[j]!)) j++;
    return j;
  }

  parseDocument(): unknown {
    let j = this.nextContent(0);
    if (j < this.lines.length && this.lines[j] === '---') j = this.nextContent(j + 1);
    if (j >= this.lines.length) bail(); // an empty document: the full parser words that error
    if (this.indentOf(this.lines[j]!) !== 0) bail();
    this.i = j;
    const value = this.blockMapping(0, 0);
    if (this.nextContent() < this.lines.length) bail(); // a second document, or a stray line
    return value;
  }

  /** The next content line of the block at `indent`, or undefined where the block ends. */
  nextAt(indent: number): { j: number; line: string; ind: number } | undefined {
    const j = this.nextContent();
    if (j >= this.lines.length) return undefined;
    const line = this.lines[j]!;
    const ind = this.indentOf(line);
    if (ind < indent) return undefined;
    if (ind > indent) bail();
    return { j, line, ind };
  }

  /** After a one-line value on line j: a more indented line next would continue it (left to the full parser). */
  afterInline(j: number, indent: number): void {
    this.i = j + 1;
    const k = this.nextContent();
    if (k < this.lines.length && this.indentOf(this.lines[k]!) > indent) bail();
  }

  blockMapping(indent: number, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) bail();
    const out: Record<string, unknown> = {};
    let empty = true;
    for (let at = this.nextAt(indent); at; at = this.nextAt(indent)) {
      const { j, line, ind } = at;
      if (line.startsWith('- ', ind) || line === '-' || line.startsWith('---') || line.startsWith('...')) {
        if (ind === indent) break; // a sequence item ends this mapping (the caller decides)
        bail();
      }
      this.i = j;
      const colon = line.indexOf(':', ind);
      if (colon < 0) bail();
      const key = line.slice(ind, colon);
      if (!KEY_RE.test(key) || NON_STRING_KEYS.has(key) || Object.hasOwn(out, key) || key === '__proto__') bail();
      empty = false;
      const after = line.slice(colon + 1);
      if (after !== '' && after[0] !== ' ') bail();
      const rest = stripComment(after);
      if (rest === undefined) bail();
      if (rest!.trim() === '') {
        // Nothing after the colon: a nested block, or an empty value (left to the full parser).
        this.i = j + 1;
        const k = this.nextContent();
        const nl = k < this.lines.length ? this.lines[k]! : '';
        const nind = this.indentOf(nl);
        const isItem = nl.startsWith('- ', nind) || nl.slice(nind) === '-';
        if (k < this.lines.length && isItem && nind >= indent) {
          this.i = k;
          out[key] = this.blockSequence(nind, depth + 1);
        } else if (k < this.lines.length && nind > indent) {
          this.i = k;
          out[key] = this.blockMapping(nind, depth + 1);
        } else bail();
        continue;
      }
      const vStart = colon + 1 + (after.length - after.trimStart().length);
      const text = rest!.trim();
      if (text[0] === '|' || text[0] === '>') {
        out[key] = this.blockScalar(text, indent);
        continue;
      }
      out[key] = inlineValue(line, vStart, rest!.trimEnd().length + colon + 1, depth + 1);
      this.afterInline(j, indent);
    }
    if (empty) bail();
    return out;
  }

  blockSequence(indent: number, depth: number): unknown[] {
    const out: unknown[] = [];
    for (let at = this.nextAt(indent); at; at = this.nextAt(indent)) {
      const { j, line, ind } = at;
      if (!line.startsWith('- ', ind)) {
        if (line.slice(ind) === '-') bail();
        break; // a key at the same indentation ends a compact sequence
      }
      const after = line.slice(ind + 1);
      const rest = stripComment(after);
      if (rest === undefined || rest.trim() === '') bail();
      const vStart = ind + 1 + (after.length - after.trimStart().length);
      const t = rest!.trim();
      if (t[0] === '|' || t[0] === '>' || t[0] === '-') bail();
      if (/^[^'"[{]*:( |$)/.test(t)) bail(); // "- key: value": a mapping in a sequence
      out.push(inlineValue(line, vStart, rest!.trimEnd().length + ind + 1, depth + 1));
      this.afterInline(j, indent);
    }
    if (out.length === 0) bail();
    return out;
  }

  /** `|` or `>` with optional chomping (`-`, `+`); content on the following, more indented lines. */
  blockScalar(header: string, parentIndent: number): string {
    const m = /^([|>])(-?)$/.exec(header); // keep chomping (+) is left to the full parser
    if (!m) bail();
    const [, style, chomp] = m!;
    let j = this.i + 1;
    const body: string[] = [];
    let blockIndent = -1;
    for (; j < this.lines.length; j++) {
      const l = this.lines[j]!;
      if (l.trim() === '') {
        if (l.length > 0) bail(); // whitespace-only lines: their spaces may or may not be content
        body.push('');
        continue;
      }
      const ind = this.indentOf(l);
      if (blockIndent < 0) {
        if (ind <= parentIndent) break;
        blockIndent = ind;
      } else if (ind < blockIndent) {
        break;
      }
      body.push(l.slice(blockIndent));
    }
    // Trailing empty lines are consumed with the scalar; with clip or strip chomping they add nothing.
    this.i = j;
    let end = body.length;
    while (end > 0 && body[end - 1] === '') end--;
    const lines = body.slice(0, end);
    if (lines.length === 0) return '';
    let text: string;
    if (style === '|') text = lines.join('\n');
    else {
      if (lines.some((l) => l.startsWith(' '))) bail(); // more-indented lines fold differently
      text = '';
      let blank = 0;
      lines.forEach((l, k) => {
        if (l === '') {
          blank++;
          return;
        }
        if (k > 0) text += blank ? '\n'.repeat(blank) : ' ';
        blank = 0;
        text += l;
      });
    }
    return chomp === '-' ? text : `${text}\n`;
  }
}

/** The value part of a line without its comment; undefined when a quote or comment makes it unclear. */
function stripComment(s: string): string | undefined {
  let quote: string | undefined;
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if ((c === '"' || c === "'") && (k === 0 || /[\s[{,]/.test(s[k - 1]!))) quote = c;
    else if (c === '#' && (k === 0 || s[k - 1] === ' ')) return s.slice(0, k);
  }
  return quote ? undefined : s;
}

/** A scalar or flow collection that fills line[start, end). */
function inlineValue(line: string, start: number, end: number, depth: number): unknown {
  const flow = new Flow(line, start, end);
  const v = flow.value(depth, false);
  flow.skipSpaces();
  if (flow.at !== end) bail();
  return v;
}

class Flow {
  at: number;
  constructor(
    readonly s: string,
    start: number,
    readonly end: number,
  ) {
    this.at = start;
  }

  skipSpaces(): void {
    while (this.at < this.end && this.s[this.at] === ' ') this.at++;
  }

  value(depth: number, inFlow: boolean): unknown {
    if (depth > MAX_DEPTH) bail();
    const c = this.s[this.at];
    if (c === '[') return this.seq(depth);
    if (c === '{') return this.map(depth);
    if (c === '"' || c === "'") return this.quoted(c);
    return this.plain(inFlow);
  }

  quoted(q: string): string {
    let k = this.at + 1;
    let out = '';
    for (;;) {
      if (k >= this.end) bail();
      const c = this.s[k]!;
      if (q === '"' && c === '\\') bail(); // escapes: left to the full parser
      if (c === q) {
        if (q === "'" && this.s[k + 1] === "'") {
          out += "'";
          k += 2;
          continue;
        }
        break;
      }
      out += c;
      k++;
    }
    this.at = k + 1;
    return out;
  }

  plain(inFlow: boolean): unknown {
    const c = this.s[this.at];
    if (c === undefined || BAD_PLAIN_START.has(c)) bail();
    let k = this.at;
    while (k < this.end) {
      const ch = this.s[k]!;
      if (inFlow && (ch === ',' || ch === ']' || ch === '}' || ch === '[' || ch === '{')) break;
      if (ch === ':') {
        if (inFlow) bail(); // "a:b" in flow context: leave it to the full parser
        if (k + 1 >= this.end || this.s[k + 1] === ' ') bail(); // "key: value" inside a value
      }
      if (ch === '#' && this.s[k - 1] === ' ') bail();
      if (ch === '"' || ch === "'") {
        if (inFlow) bail();
      }
      k++;
    }
    const raw = this.s.slice(this.at, k).trimEnd();
    if (raw === '') bail();
    this.at = this.at + raw.length;
    return resolvePlain(raw);
  }

  seq(depth: number): unknown[] {
    this.at++; // [
    const out: unknown[] = [];
    this.skipSpaces();
    if (this.s[this.at] === ']') {
      this.at++;
      return out;
    }
    for (;;) {
      this.skipSpaces();
      out.push(this.value(depth + 1, true));
      this.skipSpaces();
      const c = this.s[this.at];
      this.at++;
      if (c === ']') return out;
      if (c !== ',') bail();
      this.skipSpaces();
      if (this.s[this.at] === ']') bail(); // a trailing comma
    }
  }

  map(depth: number): Record<string, unknown> {
    this.at++; // {
    const out: Record<string, unknown> = {};
    this.skipSpaces();
    if (this.s[this.at] === '}') {
      this.at++;
      return out;
    }
    for (;;) {
      this.skipSpaces();
      const m = /^[A-Za-z_][A-Za-z0-9_./-]*/.exec(this.s.slice(this.at, this.end));
      if (!m) bail();
      const key = m![0];
      if (NON_STRING_KEYS.has(key) || Object.hasOwn(out, key) || key === '__proto__') bail();
      this.at += key.length;
      if (this.s[this.at] !== ':' || this.s[this.at + 1] !== ' ') bail();
      this.at += 2;
      this.skipSpaces();
      const c = this.s[this.at];
      if (c === ',' || c === '}') bail(); // an empty value
      out[key] = this.value(depth + 1, true);
      this.skipSpaces();
      const d = this.s[this.at];
      this.at++;
      if (d === '}') return out;
      if (d !== ',') bail();
      this.skipSpaces();
      if (this.s[this.at] === '}') bail();
    }
  }
}

/** The value of a plain config file, or undefined: then the full parser must read it. */
export function parseFast(text: string): { value: unknown } | undefined {
  // No final newline: how the last scalar ends is the full parser's business.
  if (!text.endsWith('\n') || REFUSED_CHARS.test(text) || text.includes('\n%') || text.startsWith('%')) return undefined;
  try {
    return { value: new Reader(text).parseDocument() };
  } catch (err) {
    if (err instanceof Bail) return undefined;
    throw err;
  }
}
