// Server-rendered HTML: a tagged template that escapes every interpolated value unless it is already
// HTML (made by this same tag, or raw()). No front-end build step, no client-side framework.

const SAFE = Symbol('html');

export interface Html {
  [SAFE]: true;
  s: string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]!);

function part(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(part).join('');
  if (typeof v === 'object' && SAFE in v) return (v as Html).s;
  return escape(String(v));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let s = strings[0]!;
  for (let i = 0; i < values.length; i++) s += part(values[i]) + strings[i + 1]!;
  return { [SAFE]: true, s };
}

/** Trusted markup (constants only). */
export const raw = (s: string): Html => ({ [SAFE]: true, s });

/** Pages' Content-Security-Policy: nothing inline, nothing from elsewhere. */
export const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/**
 * A table that stacks on a narrow screen: each cell carries its column's name (data-label), which the
 * stylesheet shows beside the value when the columns no longer fit (a phone).
 */
export function dataTable(columns: string[], rows: unknown[][], empty = 'None.'): Html {
  if (!rows.length) return html`<p class="muted">${empty}</p>`;
  return html`<table class="stack"><thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead><tbody>
${rows.map((r) => html`<tr>${r.map((cell, i) => html`<td data-label="${columns[i]}">${cell}</td>`)}</tr>
`)}</tbody></table>`;
}

export interface PageUser {
  username: string;
  roles: string[];
}

export function page(title: string, body: Html, o: { user?: PageUser; csrf?: string; flash?: string; head?: Html } = {}): string {
  return `<!doctype html>${
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · coder-git</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
${o.head}
</head>
<body>
<header>
  <a class="brand" href="/">coder-git</a>
  ${o.user ? html`<nav aria-label="Main">
    <a href="/workspaces">Workspaces</a>
    <a href="/tokens">API tokens</a>
    <a href="/ssh-key">Git SSH key</a>
    <form method="post" action="/logout" class="inline">
      <input type="hidden" name="_csrf" value="${o.csrf}">
      <button type="submit">Sign out ${o.user.username}</button>
    </form>
  </nav>` : ''}
</header>
<main>
${o.flash ? html`<p class="flash" role="status">${o.flash}</p>` : ''}
${body}
</main>
</body>
</html>`.s
  }`;
}

export const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #59636e; --line: #d1d9e0; --bg: #fff; --accent: #0969da; --bad: #cf222e; --good: #1a7f37; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --bg: #0d1117; --accent: #4493f8; --bad: #f85149; --good: #3fb950; } }
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1.5rem; align-items: center; padding: .75rem 1.5rem; border-bottom: 1px solid var(--line); }
header nav { display: flex; gap: 1rem; align-items: center; margin-left: auto; }
a { color: var(--accent); }
.brand { font-weight: 600; text-decoration: none; color: var(--fg); }
main { max-width: 64rem; margin: 1.5rem auto; padding: 0 1.5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; }
form.card { max-width: 22rem; display: grid; gap: .75rem; }
label { display: grid; gap: .25rem; }
input, select, button { font: inherit; padding: .4rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button, a.button { cursor: pointer; }
.terminal { height: 70vh; min-height: 12rem; padding: .25rem; background: #000; border-radius: 6px; }
a.button { display: inline-block; padding: .4rem .6rem; border: 1px solid var(--line); border-radius: 6px; text-decoration: none; color: var(--fg); }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
form.inline { display: inline; }
.flash { padding: .6rem .8rem; border: 1px solid var(--line); border-radius: 6px; }
.error { color: var(--bad); }
.ok { color: var(--good); }
.muted { color: var(--muted); }
textarea.key { display: block; width: 100%; box-sizing: border-box; font: 13px/1.4 ui-monospace, monospace; padding: .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); word-break: break-all; resize: vertical; }
div.card, p.card { max-width: 44rem; }
div.card code { overflow-wrap: anywhere; }
code.secret { display: block; padding: .6rem; border: 1px dashed var(--line); word-break: break-all; }
pre.log { overflow-x: auto; padding: .6rem; border: 1px solid var(--line); border-radius: 6px; max-height: 60vh; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 13px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.25rem; margin: .5rem 0 1.5rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul.errors { padding-left: 1.2rem; } ul.errors code { overflow-wrap: anywhere; }
h1 { overflow-wrap: anywhere; }
@media (max-width: 40rem) {
  header { flex-wrap: wrap; gap: .5rem 1rem; padding: .6rem 1rem; }
  header nav { margin-left: 0; flex-wrap: wrap; }
  main { padding: 0 1rem; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; }
  table.stack tr { border-bottom: 1px solid var(--line); padding: .4rem 0; }
  table.stack td { border: 0; padding: .1rem 0 .1rem 7rem; position: relative; overflow-wrap: anywhere; }
  table.stack td::before { content: attr(data-label); color: var(--muted); position: absolute; left: 0; width: 6.5rem; }
  dl.facts { grid-template-columns: 1fr; gap: 0; } dl.facts dd { margin-bottom: .4rem; }
}
`;
