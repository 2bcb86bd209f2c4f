// The pages (server-rendered, usable without JavaScript): sign in, my workspaces (owners, auditors and
// template admins see every workspace, the latest syncs and failed builds), API tokens, the git SSH
// key, sign out.
// Every form carries the CSRF token; every POST checks it.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from './context.ts';
import { safeNext, signedIn } from './redirect.ts';
import { dataTable, html, page, STYLE, type Html } from './html.ts';
import { agentText, statusClass, when, workspaceHref } from './workspace-pages.ts';
import { can, CSRF_COOKIE, csrfOk, csrfToken, issueKey, reachesWorkspace, revokeKey, SESSION_COOKIE, SESSION_TTL_MS } from './auth.ts';
import { passwordLogin } from './login.ts';
import { workspaces } from '../db/repos/workspaces.ts';
import { syncs } from '../db/repos/syncs.ts';
import { builds } from '../db/repos/builds.ts';
import { apiKeys } from '../db/repos/api-keys.ts';
import { audit } from '../db/repos/audit.ts';
import { workspaceView, type WorkspaceView } from '../workspace-view.ts';
import { parseLifetime, TOKEN_LIFETIMES } from './tokens.ts';
import { gitSshKeys } from '../db/repos/git-ssh-keys.ts';
import { keyringFromEnv } from '../auth/secret-box.ts';
import { resetGitSshKey } from '../auth/git-ssh.ts';
import { fingerprint } from '../auth/ssh-key.ts';


export async function pageRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const { db } = ctx.o.database;
  const secure = () => ctx.secure();

  const render = async (req: FastifyRequest, reply: FastifyReply, title: string, body: Html, flash?: string, code = 200) => {
    const csrf = csrfToken(req, reply, await secure());
    return reply.code(code).type('text/html; charset=utf-8').send(page(title, body, { user: req.actor, csrf, flash }));
  };
  /** POSTs from pages: a session cookie and a matching CSRF token, or nothing happens. */
  const checkForm = (req: FastifyRequest, reply: FastifyReply) => {
    if (csrfOk(req)) return true;
    void reply.code(403).type('text/html; charset=utf-8').send(page('Refused', html`<h1>Refused</h1><p class="error">This form is out of date or did not come from this site (CSRF check failed). Go back, reload the page and try again.</p>`));
    return false;
  };

  app.get('/static/style.css', async (_req, reply) => reply.type('text/css').header('cache-control', 'public, max-age=3600').send(STYLE));
  app.get('/', async (req, reply) => reply.redirect(req.actor ? '/workspaces' : '/login'));

  const loginForm = async (req: FastifyRequest, reply: FastifyReply, o: { error?: string; username?: string; code?: number } = {}) => {
    const d = await ctx.deployment();
    const next = safeNext((req.query as { next?: string } | undefined)?.next ?? (req.body as { next?: string } | undefined)?.next);
    const oidc = d?.auth.oidc;
    const github = d?.auth.github;
    const csrf = csrfToken(req, reply, await secure());
    const body = html`<h1>Sign in</h1>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
${d?.auth.password.enabled === false ? '' : html`<form method="post" action="/login" class="card">
  <input type="hidden" name="_csrf" value="${csrf}">
  <input type="hidden" name="next" value="${next}">
  <label>Username or email <input name="username" autocomplete="username" required value="${o.username ?? ''}" autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit" class="primary">Sign in</button>
</form>`}
${oidc ? html`<p><a class="button" role="button" href="/login/oidc?next=${encodeURIComponent(next)}">${oidc.button_text}</a></p>` : ''}
${github ? html`<p><a class="button" role="button" href="/login/github?next=${encodeURIComponent(next)}">${github.button_text}</a></p>` : ''}`;
    return reply.code(o.code ?? 200).type('text/html; charset=utf-8').send(page('Sign in', body, { csrf }));
  };

  // (SSO is a link, not a form: CSP form-action 'self' would also block the redirect to the provider.)
  app.get('/login', async (req, reply) => (req.actor ? reply.redirect('/workspaces') : loginForm(req, reply)));

  app.post('/login', async (req, reply) => {
    if (!checkForm(req, reply)) return reply;
    const b = (req.body ?? {}) as { username?: unknown; password?: unknown; next?: unknown };
    const username = typeof b.username === 'string' ? b.username : '';
    const r = await passwordLogin(db, await ctx.deployment(), { username, password: typeof b.password === 'string' ? b.password : '', ip: req.clientIp });
    ctx.metrics.login(r.ok ? 'success' : r.reason);
    if (!r.ok) return loginForm(req, reply, { error: r.message, username, code: r.reason === 'rate_limited' ? 429 : 401 });
    const { secret } = await issueKey(db, r.user.id, 'session', null, SESSION_TTL_MS);
    reply.setCookie(SESSION_COOKIE, secret, { path: '/', httpOnly: true, sameSite: 'lax', secure: await secure(), maxAge: SESSION_TTL_MS / 1000 });
    return reply.redirect(safeNext(typeof b.next === 'string' ? b.next : undefined), 303);
  });

  app.post('/logout', async (req, reply) => {
    if (!checkForm(req, reply)) return reply;
    if (req.actor?.kind === 'session') {
      await revokeKey(db, ctx.authCache, req.actor.user_id, req.actor.id);
      await audit.append(db, { actor: req.actor.username, action: 'logout', target: req.actor.username, ip: req.clientIp });
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login', 303);
  });

  app.get('/workspaces', async (req, reply) => {
    const me = signedIn(req, reply);
    if (!me) return reply;
    const all = can(me, 'workspaces:read-all');
    const rows = (await workspaces.listing(db, all ? null : me.username)).map((r) => workspaceView(r));
    const mine = rows.filter((w) => w.owner === me.username);
    const others = rows.filter((w) => w.owner !== me.username);
    // Terminals: your own workspaces; owners may open anyone's (the socket checks the same rule).
    const reach = (w: WorkspaceView) => reachesWorkspace(me.roles, me.username, w.owner);
    let body = html`<h1>My workspaces</h1>${workspaceTable(mine, false, reach, 'None.')}`;
    if (all) body = html`${body}<h2>Everyone else's workspaces</h2>${workspaceTable(others, true, reach, 'No one else has a workspace.')}`;
    if (can(me, 'syncs:read')) {
      const [recent, failed] = [await syncs.recent(db, 10), await builds.failedLatest(db)];
      body = html`${body}
<h2>Latest syncs</h2>
${dataTable(
  ['#', 'Status', 'Commit', 'Message', 'Author', 'When'],
  recent.map((s) => [html`<a href="/syncs/${s.id}">#${s.id}</a>`, html`<span class="${statusClass(s.status)}">${s.status}</span>`, html`<code>${s.commit_sha.slice(0, 12)}</code>`, s.message ?? '', s.author ?? '', when(s.created_at)]),
)}
<h2>Failed builds</h2>
${dataTable(
  ['Workspace', 'Build', 'Error', 'When'],
  failed.map((f) => {
    const [owner, name] = f.workspace.split('/') as [string, string];
    return [html`<a href="${workspaceHref(owner, name)}">${f.workspace}</a>`, html`<a href="${workspaceHref(owner, name)}/builds/${f.build_number}">#${f.build_number} ${f.transition}</a> <span class="error">${f.status}</span>`, f.error ?? '', when(f.finished_at)];
  }),
)}`;
    }
    return render(req, reply, 'Workspaces', body);
  });

  const tokensPage = async (req: FastifyRequest, reply: FastifyReply, flash?: Html, code = 200) => {
    const me = req.actor!;
    const list = await apiKeys.list(db, me.user_id, 'token');
    const csrf = csrfToken(req, reply, await secure());
    const body = html`<h1>API tokens</h1>
<p class="muted">For the CLI (<code>coder-git login</code>) and scripts: send it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
${flash ?? ''}
<form method="post" action="/tokens" class="card">
  <input type="hidden" name="_csrf" value="${csrf}">
  <label>Name <input name="name" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9 ._-]*"></label>
  <label>Lifetime <select name="lifetime">${TOKEN_LIFETIMES.map((l) => html`<option value="${l}"${l === '30d' ? html` selected` : ''}>${l}</option>`)}</select></label>
  <button type="submit" class="primary">Create token</button>
</form>
<h2>Your tokens</h2>
${dataTable(
  ['Name', 'Created', 'Expires', 'Last used', 'Revoke'],
  list.map((k) => [k.name, when(k.created_at), when(k.expires_at), when(k.last_used_at) || 'never', html`<form method="post" action="/tokens/${k.id}/revoke" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit" aria-label="Revoke ${k.name}">Revoke</button></form>`]),
  'None yet.',
)}`;
    return reply.code(code).type('text/html; charset=utf-8').send(page('API tokens', body, { user: me, csrf }));
  };

  // The person's git SSH key (README: Git SSH keys): the public half to copy to their git host, and
  // a reset. The private half is never on a page.
  const sshKeyPage = async (req: FastifyRequest, reply: FastifyReply, flash?: Html, code = 200) => {
    const me = req.actor!;
    const key = await gitSshKeys.byUser(db, me.user_id);
    const ring = keyringFromEnv();
    const csrf = csrfToken(req, reply, await secure());
    const body = html`<h1>Git SSH key</h1>
<p class="muted">Git in your workspaces signs with this key: add the public key below to your git host (GitHub: Settings → SSH and GPG keys) and <code>git push</code> over SSH works there, with no key written into the workspace. <code>coder-git publickey</code> prints it too.</p>
${flash ?? ''}
${key
  ? html`<div class="card">
  <label for="public-key">Public key</label>
  <textarea id="public-key" class="key" readonly rows="3" spellcheck="false">${key.public_key}</textarea>
  <p class="muted">Fingerprint <code>${fingerprint(key.public_key)}</code>, made ${when(key.created_at)}.</p>
</div>
${ring ? html`<form method="post" action="/ssh-key/reset" class="card">
  <input type="hidden" name="_csrf" value="${csrf}">
  <p>A new key replaces this one: the old one stops working wherever you added it.</p>
  <button type="submit">Make a new key</button>
</form>` : ''}`
  : html`<p class="card">${ring ? 'You have no key yet: one is made when your user file is applied.' : 'This deployment keeps no git SSH keys (its administrators have not set CODER_GIT_ENCRYPTION_KEYS).'}</p>`}`;
    return reply.code(code).type('text/html; charset=utf-8').send(page('Git SSH key', body, { user: me, csrf }));
  };
  app.get('/ssh-key', async (req, reply) => (signedIn(req, reply) ? sshKeyPage(req, reply) : reply));
  app.post('/ssh-key/reset', async (req, reply) => {
    const me = signedIn(req, reply);
    if (!me || !checkForm(req, reply)) return reply;
    const ring = keyringFromEnv();
    if (!ring) return sshKeyPage(req, reply, html`<p class="error" role="alert">This deployment keeps no git SSH keys.</p>`, 409);
    await resetGitSshKey(db, ring, { id: me.user_id, username: me.username }, req.clientIp);
    return sshKeyPage(req, reply, html`<p class="flash" role="status">New key made. Add it to your git host; the old one no longer works from your workspaces.</p>`);
  });

  // `coder-git login --sso`: the CLI waits on a loopback port; a signed-in person approves, and the
  // new token goes back to that port. Approval is a link carrying the CSRF token (a form's redirect
  // to another origin would be blocked by CSP form-action), checked like a form's.
  app.get('/login/cli', async (req, reply) => {
    const me = signedIn(req, reply);
    if (!me) return reply;
    const q = req.query as { callback?: string; state?: string };
    const callback = cliCallback(q.callback);
    if (!callback || !/^[A-Za-z0-9_-]{16,128}$/.test(q.state ?? '')) return render(req, reply, 'CLI sign-in', html`<h1>CLI sign-in</h1><p class="error" role="alert">This link is not from coder-git login (the callback must be http://127.0.0.1:PORT).</p>`, undefined, 400);
    const csrf = csrfToken(req, reply, await secure());
    const approve = `/login/cli/approve?${new URLSearchParams({ callback, state: q.state!, _csrf: csrf })}`;
    return render(req, reply, 'CLI sign-in', html`<h1>Sign in the coder-git CLI?</h1>
<p>The <code>coder-git login</code> waiting at <code>${callback}</code> on this computer gets an API token (30 days) to act as <strong>${me.username}</strong>.</p>
<p><a class="button" role="button" id="approve" href="${approve}">Allow</a> <a href="/workspaces">Cancel</a></p>`);
  });

  app.get('/login/cli/approve', async (req, reply) => {
    const me = signedIn(req, reply);
    if (!me) return reply;
    const q = req.query as { callback?: string; state?: string; _csrf?: string };
    const callback = cliCallback(q.callback);
    const cookie = req.cookies?.[CSRF_COOKIE];
    if (!callback || !cookie || q._csrf !== cookie || !/^[A-Za-z0-9_-]{16,128}$/.test(q.state ?? '')) {
      return render(req, reply, 'Refused', html`<h1>Refused</h1><p class="error">This approval did not come from this site (CSRF check failed), or its callback is not a loopback address.</p>`, undefined, 403);
    }
    const { secret, row } = await issueKey(db, me.user_id, 'token', 'cli (sso)', 30 * 86_400_000);
    await audit.append(db, { actor: me.username, action: 'token_created', target: row.id, details: { name: row.name, via: 'cli-sso' }, ip: req.clientIp });
    return reply.redirect(`${callback}${callback.includes('?') ? '&' : '?'}${new URLSearchParams({ token: secret, state: q.state! })}`, 303);
  });

  app.get('/tokens', async (req, reply) => (signedIn(req, reply) ? tokensPage(req, reply) : reply));

  app.post('/tokens', async (req, reply) => {
    const me = signedIn(req, reply);
    if (!me || !checkForm(req, reply)) return reply;
    const b = (req.body ?? {}) as { name?: unknown; lifetime?: unknown };
    const name = typeof b.name === 'string' ? b.name.trim() : '';
    const lifetime = parseLifetime(b.lifetime);
    if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(name) || lifetime === undefined) {
      return tokensPage(req, reply, html`<p class="error" role="alert">A token needs a name (letters, digits, space . _ -; up to 64) and one of the lifetimes offered.</p>`, 400);
    }
    const { secret, row } = await issueKey(db, me.user_id, 'token', name, lifetime);
    await audit.append(db, { actor: me.username, action: 'token_created', target: row.id, details: { name, expires_at: row.expires_at }, ip: req.clientIp });
    return tokensPage(req, reply, html`<div class="flash" role="status"><p>Token <strong>${name}</strong> created. Copy it now: it is not shown again.</p><code class="secret" id="new-token">${secret}</code></div>`);
  });

  app.post('/tokens/:id/revoke', async (req, reply) => {
    const me = signedIn(req, reply);
    if (!me || !checkForm(req, reply)) return reply;
    const id = (req.params as { id: string }).id;
    const ok = /^[0-9a-f-]{36}$/.test(id) && (await revokeKey(db, ctx.authCache, me.user_id, id));
    if (ok) await audit.append(db, { actor: me.username, action: 'token_revoked', target: id, ip: req.clientIp });
    return tokensPage(req, reply, ok ? html`<p class="flash" role="status">Token revoked.</p>` : html`<p class="error" role="alert">No such token.</p>`, ok ? 200 : 404);
  });
}

/** Where `coder-git login --sso` waits: a loopback address only, so a token is never sent elsewhere. */
export function cliCallback(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost') && u.port && !u.username && !u.password ? u.href : undefined;
  } catch {
    return undefined;
  }
}


function workspaceTable(ws: WorkspaceView[], showOwner: boolean, reach: (w: WorkspaceView) => boolean, empty: string): Html {
  const columns = [...(showOwner ? ['Owner'] : []), 'Workspace', 'Template', 'State', 'Last build', 'Agent'];
  return dataTable(
    columns,
    ws.map((w) => {
      const b = w.last_build;
      const state = w.scheduled_state ? html`${w.scheduled_state} <span class="muted">(schedule)</span>` : w.desired_state;
      const href = workspaceHref(w.owner, w.name);
      return [
        ...(showOwner ? [w.owner] : []),
        html`<a href="${href}" aria-label="${w.owner}/${w.name}">${w.name}</a>`,
        w.template,
        html`${state}${w.drifted_since ? html` <span class="error">drifted</span>` : ''}`,
        b
          ? html`<a href="${href}/builds/${b.number}">#${b.number} ${b.transition}</a> <span class="${statusClass(b.status)}">${b.status}</span> <span class="muted">${when(b.finished_at ?? b.created_at)}</span>${b.error ? html`<br><span class="error">${b.error}</span>` : ''}`
          : html`<span class="muted">never built</span>`,
        html`${agentText(w)}${w.agent?.status === 'connected' && reach(w) ? html` <a href="${href}/terminal" aria-label="Open a terminal in ${w.owner}/${w.name}">Terminal</a>` : ''}`,
      ];
    }),
    empty,
  );
}
