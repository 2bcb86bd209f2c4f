// HCL's native syntax, exactly as far as coder-git reads it: a tokenizer (strings with their
// escapes and interpolations, heredocs, comments, newlines) and the structure of bodies — blocks
// with quoted or bare labels, one-line blocks, attributes whose expressions run to the end of the
// line or of their brackets. Expressions are kept as source text, not evaluated: `terraform
// validate` stays the authority on them. Every element keeps its line and column, for messages.

export interface Pos {
  line: number;
  col: number;
}

export interface HclAttribute extends Pos {
  kind: 'attribute';
  name: string;
  /** the expression as written, whitespace collapsed and comments left out */
  expr: string;
}

export interface HclBlock extends Pos {
  kind: 'block';
  type: string;
  labels: string[];
  body: HclItem[];
}

export type HclItem = HclAttribute | HclBlock;

export interface HclParse {
  body: HclItem[];
  /** what stopped the parse (unbalanced braces, an unterminated string, …); body holds what came before */
  error?: Pos & { message: string };
}

type TokenKind = 'ident' | 'string' | 'heredoc' | 'punct' | 'other' | 'newline' | 'eof';
interface Token extends Pos {
  kind: TokenKind;
  text: string;
  /** offsets in the file: where it starts and ends */
  from: number;
  to: number;
  /** a quoted string's value without its quotes (for labels) */
  value?: string;
}

class HclError extends Error {
  constructor(
    readonly pos: Pos,
    message: string,
  ) {
    super(message);
  }
}

const IDENT = /[\p{ID_Start}_][\p{ID_Continue}-]*/uy;
const HEREDOC = /<<(-?)([\p{ID_Start}_][\p{ID_Continue}-]*)[ \t]*\r?\n/uy;
const NUMBER = /[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** A sticky regex's match starting exactly at `at`, or null. */
function matchAt(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = text.length;
  const pos = (at: number): Pos => ({ line, col: at - lineStart + 1 });
  const newlineAt = (at: number) => {
    line++;
    lineStart = at + 1;
  };

  /** From just after an opening `"`: the index after the closing one. */
  const quoted = (from: number, start: Pos): number => {
    let j = from;
    while (j < n) {
      const c = text[j]!;
      if (c === '\\') j += 2;
      else if (c === '"') return j + 1;
      else if (c === '\n') break;
      else if ((c === '$' || c === '%') && text[j + 1] === c && text[j + 2] === '{') j += 3; // $${ and %%{ are literal
      else if ((c === '$' || c === '%') && text[j + 1] === '{') j = interpolation(j + 2, start);
      else j++;
    }
    throw new HclError(start, 'unterminated string');
  };
  /** From just after `${` or `%{`: the index after its closing `}` (nested strings and braces skipped). */
  const interpolation = (from: number, start: Pos): number => {
    let depth = 1;
    let j = from;
    while (j < n) {
      const c = text[j]!;
      if (c === '"') {
        j = quoted(j + 1, start);
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) return j + 1;
      else if (c === '\n') newlineAt(j);
      j++;
    }
    throw new HclError(start, 'unterminated string');
  };

  while (i < n) {
    const c = text[i]!;
    let m: RegExpExecArray | null;
    if (c === '\n') {
      tokens.push({ kind: 'newline', text: '\n', from: i, to: i + 1, ...pos(i) });
      newlineAt(i);
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\ufeff') i++;
    else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const start = pos(i);
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new HclError(start, 'unterminated /* comment');
      for (let j = i; j < end; j++) if (text[j] === '\n') newlineAt(j);
      i = end + 2;
    } else if (c === '"') {
      const start = pos(i);
      const end = quoted(i + 1, start);
      const raw = text.slice(i, end);
      tokens.push({ kind: 'string', text: raw, value: raw.slice(1, -1).replace(/\\(.)/g, '$1'), from: i, to: end, ...start });
      i = end;
    } else if (c === '<' && (m = matchAt(HEREDOC, text, i))) {
      const start = pos(i);
      const marker = m[2]!;
      let j = i + m[0].length;
      newlineAt(j - 1);
      for (;;) {
        const end = text.indexOf('\n', j);
        if (text.slice(j, end < 0 ? n : end).trim() === marker) {
          j = end < 0 ? n : end;
          break;
        }
        if (end < 0) throw new HclError(start, `unterminated heredoc <<${m[1]}${marker}`);
        newlineAt(end);
        j = end + 1;
      }
      tokens.push({ kind: 'heredoc', text: text.slice(i, j), from: i, to: j, ...start });
      i = j;
    } else if ((m = matchAt(IDENT, text, i) ?? matchAt(NUMBER, text, i))) {
      const end = i + m[0].length;
      tokens.push({ kind: /[0-9]/.test(c) ? 'other' : 'ident', text: m[0], from: i, to: end, ...pos(i) });
      i = end;
    } else {
      const two = text.slice(i, i + 2);
      const op = ['==', '!=', '<=', '>=', '&&', '||', '=>', '...'].find((o) => text.startsWith(o, i)) ?? (two === '::' ? two : c);
      tokens.push({ kind: '{}[]()='.includes(op) ? 'punct' : 'other', text: op, from: i, to: i + op.length, ...pos(i) });
      i += op.length;
    }
  }
  tokens.push({ kind: 'eof', text: '', from: n, to: n, ...pos(n) });
  return tokens;
}

const OPEN: Record<string, string> = { '{': '}', '[': ']', '(': ')' };

/** Parses a file of HCL native syntax (a .tf or .tfvars file). */
export function parseHcl(text: string): HclParse {
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (err) {
    if (err instanceof HclError) return { body: [], error: { ...err.pos, message: err.message } };
    throw err;
  }
  let k = 0;
  const peek = () => tokens[k]!;
  const next = () => tokens[k++]!;
  const fail = (t: Token, message: string): never => {
    throw new HclError({ line: t.line, col: t.col }, message);
  };

  /** An expression: tokens to the end of the line, or to an unmatched closing brace (a one-line block's end). */
  const expression = (at: Token): string => {
    let out = '';
    let last: Token | undefined;
    const stack: string[] = [];
    for (;;) {
      const t = peek();
      if (t.kind === 'eof') {
        if (stack.length) fail(at, `a "${stack[stack.length - 1]}" is missing in this expression`);
        break;
      }
      if (!stack.length && (t.kind === 'newline' || t.text === '}')) break;
      next();
      if (t.kind === 'newline') continue;
      if (OPEN[t.text]) stack.push(OPEN[t.text]!);
      else if (t.text === '}' || t.text === ']' || t.text === ')') {
        if (stack.pop() !== t.text) fail(t, `unbalanced "${t.text}"`);
      }
      // one space where the source had any gap (spaces, newlines, a comment), none where it had none
      out += (last && t.from > last.to ? ' ' : '') + t.text;
      last = t;
    }
    if (!last) fail(at, `${at.text} = needs a value on the same line`);
    return out;
  };

  const body = (closing: Token | undefined): HclItem[] => {
    const items: HclItem[] = [];
    for (;;) {
      const t = next();
      if (t.kind === 'newline') continue;
      if (t.kind === 'eof') {
        if (closing) fail(t, 'a block is not closed: missing "}"');
        return items;
      }
      if (t.text === '}') {
        if (!closing) fail(t, 'unbalanced "}"');
        return items;
      }
      if (t.kind !== 'ident') fail(t, `expected an argument name or a block type, found ${JSON.stringify(t.text)}`);
      if (peek().text === '=') {
        next();
        items.push({ kind: 'attribute', name: t.text, expr: expression(t), line: t.line, col: t.col });
        continue;
      }
      const labels: string[] = [];
      while (peek().kind === 'string' || peek().kind === 'ident') {
        const l = next();
        labels.push(l.kind === 'string' ? l.value! : l.text);
      }
      const open = next();
      if (open.text !== '{') fail(open, `expected "{" to open the ${t.text} block${labels.length ? ` "${labels.join('" "')}"` : ''}, or "=" for an argument`);
      items.push({ kind: 'block', type: t.text, labels, body: body(open), line: t.line, col: t.col });
    }
  };

  try {
    return { body: body(undefined) };
  } catch (err) {
    if (err instanceof HclError) return { body: [], error: { ...err.pos, message: err.message } };
    throw err;
  }
}
