// The web terminal (README: Web terminal): a page with xterm.js, served from this server's own
// node_modules (no CDN), whose script opens /api/v1/workspaces/{owner}/{name}/pty (relay.ts) with the
// session cookie. Only the workspace's owner (or an owner) gets the page; the socket checks again.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Ctx } from './context.ts';
import { csrfToken, reachesWorkspace } from './auth.ts';
import { html, page, PAGE_CSP } from './html.ts';
import { signInUrl } from './redirect.ts';
import { pkgPath } from '../paths.ts';
import { workspaces } from '../db/repos/workspaces.ts';
import { workspaceView } from '../workspace-view.ts';

const require = createRequire(import.meta.url);
const xtermDir = () => path.dirname(require.resolve('@xterm/xterm/package.json'));
const fitDir = () => path.dirname(require.resolve('@xterm/addon-fit/package.json'));

/** Static files, read once on first use: [content type, path]. */
const FILES: Record<string, () => [string, string]> = {
  '/static/xterm/xterm.mjs': () => ['text/javascript', path.join(xtermDir(), 'lib', 'xterm.mjs')],
  '/static/xterm/xterm.css': () => ['text/css', path.join(xtermDir(), 'css', 'xterm.css')],
  '/static/xterm/addon-fit.mjs': () => ['text/javascript', path.join(fitDir(), 'lib', 'addon-fit.mjs')],
  '/static/terminal.js': () => ['text/javascript', pkgPath('src', 'server', 'static', 'terminal.js')],
  // (the dashboard pages' live updates: workspace-pages.ts)
  '/static/live.js': () => ['text/javascript', pkgPath('src', 'server', 'static', 'live.js')],
};

// xterm.js renders with <style> elements it writes itself: this page allows inline styles (never
// inline scripts).
const TERMINAL_CSP = PAGE_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");

export async function terminalRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const { db } = ctx.o.database;
  const cache = new Map<string, Buffer>();
  for (const [url, where] of Object.entries(FILES)) {
    app.get(url, async (_req, reply) => {
      const [type, file] = where();
      if (!cache.has(url)) cache.set(url, readFileSync(file));
      return reply.type(`${type}; charset=utf-8`).header('cache-control', 'public, max-age=3600').send(cache.get(url));
    });
  }

  app.get('/workspaces/:owner/:name/terminal', async (req, reply) => {
    const me = req.actor;
    if (!me) return reply.redirect(signInUrl(req));
    const { owner, name } = req.params as { owner: string; name: string };
    const row = reachesWorkspace(me.roles, me.username, owner) ? (await workspaces.listing(db, owner)).find((w) => w.name === name) : undefined;
    const csrf = csrfToken(req, reply, await ctx.secure());
    if (!row) {
      return reply.code(404).type('text/html; charset=utf-8').send(page('Not found', html`<h1>Not found</h1><p class="error">There is no workspace ${owner}/${name} that you can open a terminal in.</p><p><a href="/workspaces">Back to your workspaces</a></p>`, { user: me, csrf }));
    }
    const w = workspaceView(row);
    const socket = `/api/v1/workspaces/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/pty`;
    const body = html`<h1>Terminal: ${owner}/${name}</h1>
<p id="terminal-status" role="status">${w.agent?.status === 'connected' ? 'Connecting…' : `The agent is ${w.agent?.status ?? 'not there'} (start the workspace first); trying anyway…`}</p>
<div id="terminal" class="terminal" data-socket="${socket}" aria-label="Terminal of ${owner}/${name}"></div>
<script type="module" src="/static/terminal.js"></script>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', TERMINAL_CSP)
      .send(page(`Terminal ${owner}/${name}`, body, { user: me, csrf, head: html`<link rel="stylesheet" href="/static/xterm/xterm.css">` }));
  });
}
