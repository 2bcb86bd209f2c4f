// Splitting a long markdown comment into parts that each fit a code host's limit (GitHub: 65,536
// characters per comment) and each render correctly on their own. Cuts fall between lines; at a
// cut, a code fence still open is closed and reopened with the same info string, `<details>`
// blocks still open are closed and reopened "(continued)", and a table cut in two gets its header
// again. Pure: no I/O.

interface Fence {
  char: '`' | '~';
  len: number;
  line: string;
}

interface State {
  fence?: Fence;
  /** the opening lines of the <details> blocks open, outermost first */
  details: string[];
  /** the header and delimiter rows of the table being read */
  table?: string[];
}

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
const TABLE_ROW = /^ {0,3}\|/;
const TABLE_DELIMITER = /^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/** The state after reading `line` in state `s` (not mutated). */
function scan(s: State, line: string): State {
  if (s.fence) {
    const m = FENCE_CLOSE.exec(line);
    const closes = m && m[1]![0] === s.fence.char && m[1]!.length >= s.fence.len;
    return closes ? { details: s.details } : s;
  }
  const open = FENCE_OPEN.exec(line);
  if (open && !(open[1]![0] === '`' && open[2]!.includes('`'))) {
    return { details: s.details, fence: { char: open[1]![0] as Fence['char'], len: open[1]!.length, line } };
  }
  let details = s.details;
  const opens = line.match(/<details[\s>]/gi)?.length ?? 0;
  const closes = line.match(/<\/details\s*>/gi)?.length ?? 0;
  if (opens > closes) details = [...details, ...Array<string>(opens - closes).fill(line)];
  else if (closes > opens) details = details.slice(0, Math.max(0, details.length - (closes - opens)));
  let table: string[] | undefined;
  if (TABLE_ROW.test(line)) {
    if (!s.table) table = [line];
    else if (s.table.length === 1) table = TABLE_DELIMITER.test(line) ? [s.table[0]!, line] : undefined;
    else table = s.table;
  }
  return { details, table };
}

function closing(s: State): string[] {
  const out: string[] = [];
  if (s.fence) out.push(s.fence.char.repeat(s.fence.len));
  for (let i = 0; i < s.details.length; i++) out.push('', '</details>');
  return out;
}

function reopening(s: State, nextLine: string): string[] {
  const out: string[] = [];
  for (const d of s.details) out.push(d.replace(/<\/summary>/i, ' (continued)</summary>'), '');
  if (s.table?.length === 2 && TABLE_ROW.test(nextLine)) out.push(...s.table);
  if (s.fence) out.push(s.fence.line);
  return out;
}

const size = (lines: string[]) => lines.reduce((n, l) => n + l.length + 1, 0);

/** Lines longer than `max` are broken (only a pathological plan has them: one value of 30 kB). */
function shortLines(body: string, max: number): string[] {
  const out: string[] = [];
  for (const line of body.split('\n')) {
    for (let i = 0; i < line.length || i === 0; i += max) out.push(line.slice(i, i + max));
  }
  return out;
}

/**
 * `body` cut into parts of at most `budget` characters each (JavaScript string length, i.e. UTF-16
 * code units, which is never less than what hosts count). One part when it fits.
 */
export function splitMarkdown(body: string, budget: number): string[] {
  if (body.length <= budget) return [body];
  if (budget < 1000) throw new RangeError(`a part of ${budget} characters is too small to split into`);
  const lines = shortLines(body.replace(/\n+$/, ''), Math.floor(budget / 4));
  const parts: string[] = [];
  let state: State = { details: [] };
  let cur: string[] = [];
  let fresh = 0; // lines of content in cur, beyond what reopening repeated
  for (const line of lines) {
    const next = scan(state, line);
    if (fresh > 0 && size(cur) + line.length + 1 + size(closing(next)) > budget) {
      parts.push([...cur, ...closing(state)].join('\n'));
      cur = reopening(state, line);
      fresh = 0;
    }
    cur.push(line);
    fresh++;
    state = next;
  }
  parts.push([...cur, ...closing(state)].join('\n'));
  return parts;
}

/** The hidden first line that makes a comment ours, so the next run finds and updates it. */
export const markerLine = (marker: string, part: number, parts: number) => `<!-- coder-git:${marker} part ${part} of ${parts} -->`;

export function isOurs(body: string, marker: string): boolean {
  return body.startsWith(`<!-- coder-git:${marker} part `);
}

export function partNumber(body: string): number {
  return Number(/^<!-- coder-git:\S+ part (\d+) of/.exec(body)?.[1] ?? 0);
}

/** Room kept in each part for the marker and the continuation notes. */
const RESERVE = 400;

/** The comment bodies to post for `body`, each at most `limit` characters. */
export function commentParts(body: string, limit: number, marker = 'plan'): string[] {
  const parts = splitMarkdown(body.trim(), limit - RESERVE);
  const n = parts.length;
  return parts.map((p, i) => {
    const head = markerLine(marker, i + 1, n);
    if (n === 1) return `${head}\n${p}\n`;
    const before = i > 0 ? `_Continued: part ${i + 1} of ${n}._\n\n` : '';
    const after = i < n - 1 ? `\n\n_Continued in the next comment (part ${i + 1} of ${n})._` : '';
    return `${head}\n${before}${p}${after}\n`;
  });
}
