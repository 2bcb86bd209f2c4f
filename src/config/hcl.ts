// Just enough of HCL to cross-check a template without running Terraform: the top-level
// `variable "name" { … }` blocks with their line, whether they have a default and their type.
// Strings, comments and heredocs are skipped so braces inside them do not count.
// `terraform validate` stays the authority on everything else.

export interface TfVariable {
  name: string;
  file: string;
  line: number;
  col: number;
  hasDefault: boolean;
  /** the type expression as written (string, number, bool, list(string), …), if any */
  type: string | undefined;
}

export interface TfScan {
  variables: TfVariable[];
  /** a problem that stopped the scan (unbalanced braces, unterminated string) */
  error?: { line: number; col: number; message: string };
}

export function scanVariables(file: string, text: string): TfScan {
  const variables: TfVariable[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  const n = text.length;
  let current: { v: TfVariable; depth: number } | undefined;
  let atLineStart = true;
  const col = (at: number) => at - lineStart + 1;
  const newline = (at: number) => {
    line++;
    lineStart = at + 1;
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      newline(i);
      i++;
      atLineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const start = { line, col: col(i) };
      i += 2;
      while (i < n && !(text[i] === '*' && text[i + 1] === '/')) {
        if (text[i] === '\n') newline(i);
        i++;
      }
      if (i >= n) return { variables, error: { ...start, message: 'unterminated /* comment' } };
      i += 2;
      continue;
    }
    if (c === '"') {
      const start = { line, col: col(i) };
      i = skipString(text, i + 1, (at) => newline(at));
      if (i < 0) return { variables, error: { ...start, message: 'unterminated string' } };
      atLineStart = false;
      continue;
    }
    if (c === '<' && text[i + 1] === '<') {
      const m = /^<<-?([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n/.exec(text.slice(i, i + 200));
      if (m) {
        const start = { line, col: col(i) };
        i += m[0].length;
        newline(i - 1);
        const marker = m[1]!;
        for (;;) {
          const end = text.indexOf('\n', i);
          const l = text.slice(i, end < 0 ? n : end).trim();
          if (l === marker) {
            i = end < 0 ? n : end;
            break;
          }
          if (end < 0) return { variables, error: { ...start, message: `unterminated heredoc <<${marker}` } };
          newline(end);
          i = end + 1;
        }
        continue;
      }
    }
    if (c === '{') {
      depth++;
      i++;
      atLineStart = true;
      continue;
    }
    if (c === '}') {
      if (depth === 0) return { variables, error: { line, col: col(i), message: 'unbalanced "}"' } };
      depth--;
      if (current && depth < current.depth) current = undefined;
      i++;
      atLineStart = false;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i, i + 200))!;
      const word = m[0];
      if (depth === 0 && word === 'variable') {
        const decl = /^variable\s+"([^"\n]*)"\s*\{/.exec(text.slice(i, i + 300));
        if (decl) {
          current = { v: { name: decl[1]!, file, line, col: col(i), hasDefault: false, type: undefined }, depth: 1 };
          variables.push(current.v);
          i += decl[0].length;
          depth++;
          atLineStart = true; // a one-line block's argument follows the "{"

          continue;
        }
      }
      if (current && depth === 1 && atLineStart && (word === 'default' || word === 'type')) {
        const attr = /^(default|type)\s*=\s*([^\n#]*)/.exec(text.slice(i, i + 300));
        if (attr) {
          if (word === 'default') current.v.hasDefault = true;
          else current.v.type = attr[2]!.trim().replace(/\s*\/\/.*$/, '');
        }
      }
      i += word.length;
      atLineStart = false;
      continue;
    }
    i++;
    atLineStart = false;
  }
  if (depth > 0) return { variables, error: { line, col: col(n), message: 'a block is not closed: missing "}"' } };
  return { variables };
}

/** Index after the closing quote, or -1. Template interpolations may hold strings of their own. */
function skipString(text: string, i: number, onNewline: (at: number) => void): number {
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '"') return i + 1;
    if (c === '\n') return -1;
    if ((c === '$' || c === '%') && text[i + 1] === '{') {
      let d = 1;
      i += 2;
      while (i < n && d > 0) {
        const ch = text[i];
        if (ch === '"') {
          i = skipString(text, i + 1, onNewline);
          if (i < 0) return -1;
          continue;
        }
        if (ch === '{') d++;
        else if (ch === '}') d--;
        else if (ch === '\n') onNewline(i);
        i++;
      }
      continue;
    }
    i++;
  }
  return -1;
}
