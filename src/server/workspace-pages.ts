// The dashboard's detail pages (server-rendered; a small script keeps them live):
//   /workspaces/<owner>/<name>                 state, schedule, drift, agent and its startup log, builds
//   /workspaces/<owner>/<name>/builds/<number> one build and its log, streamed while it runs
//   /syncs/<id>                                a commit: its errors, the plan it applied, its builds
// A workspace's pages are for its owner and the roles that read every workspace (others get the same
// 404 as for a workspace that does not exist); a sync's page needs syncs:read.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from './context.ts';
import { can, csrfToken, visibleWorkspace } from './auth.ts';
import { signedIn } from './redirect.ts';
import { dataTable, html, page, type Html } from './html.ts';
import { workspaces } from '../db/repos/workspaces.ts';
import { syncs } from '../db/repos/syncs.ts';
import { builds } from '../db/repos/builds.ts';
import { logs } from '../db/repos/logs.ts';
import { agents } from '../db/repos/agents.ts';
import { workspaceView, type WorkspaceView } from '../workspace-view.ts';
import { autostopAt, nextAutostart } from '../schedule/schedule.ts';
import { renderText } from '../plan/render.ts';
import { appHealthy, portShare } from './apps.ts';
import type { Plan } from '../plan/types.ts';

export const when = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') + 'Z' : '');
export const statusClass = (s: string) => (s === 'succeeded' || s === 'applied' || s === 'connected' ? 'ok' : s === 'failed' || s === 'invalid' || s === 'untrusted' || s === 'timeout' || s === 'interrupted' ? 'error' : '');
const FINISHED = new Set(['succeeded', 'failed', 'canceled', 'interrupted']);

export const workspaceHref = (owner: string, name: string) => `/workspaces/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
const buildHref = (owner: string, name: string, n: number) => `${workspaceHref(owner, name)}/builds/${n}`;

/** The agent as the page says it: a workspace whose last start failed has no agent to wait for. */
export function agentText(w: WorkspaceView): Html {
  if (!w.agent) return html`<span class="muted">none</span>`;
  if (w.last_build?.status === 'failed' && w.agent.status === 'connecting') return html`<span class="muted">none (the build failed)</span>`;
  return html`<span class="${statusClass(w.agent.status)}">${w.agent.status}</span> <span class="muted">${w.agent.lifecycle}</span>`;
}

export async function workspacePageRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const { db } = ctx.o.database;

  const send = async (req: FastifyRequest, reply: FastifyReply, title: string, body: Html, code = 200) =>
    reply.code(code).type('text/html; charset=utf-8').send(page(title, body, { user: req.actor, csrf: csrfToken(req, reply, await ctx.secure()), head: html`<script type="module" src="/static/live.js"></script>` }));
  const notFound = (req: FastifyRequest, reply: FastifyReply, what: string) =>
    send(req, reply, 'Not found', html`<h1>Not found</h1><p class="error">There is no ${what} that you can see.</p><p><a href="/workspaces">Back to your workspaces</a></p>`, 404);
  /** The workspace's listing row, when the caller may see it. */
  const visible = (req: FastifyRequest) => {
    const { owner, name } = req.params as { owner: string; name: string };
    return visibleWorkspace(db, req.actor!, owner, name);
  };
  const commitLink = async (sha: string | null, syncId: string | null, canSyncs: boolean) => {
    if (!sha) return html`<span class="muted">—</span>`;
    const code = html`<code>${sha.slice(0, 12)}</code>`;
    return canSyncs && syncId ? html`<a href="/syncs/${syncId}">${code}</a>` : code;
  };

  /** The template's apps (with their health, checked now through the agent) and the workspace's ports: listening, shared. */
  const appsSection = async (owner: string, name: string, agentId: string | null, reach: boolean): Promise<Html> => {
    const t = await workspaces.appTarget(db, owner, name);
    if (!t) return html``;
    const prefix = `/@${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
    const apps = Object.entries(t.apps ?? {});
    const health = await Promise.all(apps.map(([, a]) => (agentId && a.healthcheck ? appHealthy(ctx, agentId, a.port, a.healthcheck.path) : Promise.resolve(undefined))));
    const appRows = apps.map(([id, a], i) => [
      // (an icon from this server or inline: the pages load nothing from elsewhere)
      html`${a.icon && (a.icon.startsWith('/') || a.icon.startsWith('data:image/')) ? html`<img src="${a.icon}" alt="" width="16" height="16"> ` : ''}${reach ? html`<a href="${prefix}/apps/${id}/">${a.display_name ?? id}</a>` : (a.display_name ?? id)}`,
      String(a.port),
      !agentId ? html`<span class="muted">not running</span>` : health[i] === undefined ? html`<span class="muted">no health check</span>` : health[i] ? html`<span class="ok">healthy</span>` : html`<span class="error">unhealthy</span>`,
    ]);
    const listed = new Map<number, string | null>((t.listening ?? []).map((p) => [p.port, p.address]));
    for (const p of t.ports) if (!listed.has(p.port)) listed.set(p.port, null);
    const portRows = [...listed.entries()]
      .sort(([a], [b]) => a - b)
      .map(([port, address]) => {
        const share = portShare(t, port);
        return [
          reach || share !== 'owner' ? html`<a href="${prefix}/ports/${port}/">${port}</a>` : String(port),
          address ?? html`<span class="muted">not listening</span>`,
          html`${share}${share === 'owner' ? '' : html` <span class="muted">(${share === 'public' ? 'anyone' : 'anyone signed in'})</span>`}`,
        ];
      });
    return html`<h2>Apps</h2>
${dataTable(['App', 'Port', 'Health'], appRows, 'The template declares no apps.')}
<h2>Ports</h2>
${dataTable(['Port', 'Address', 'Shared with'], portRows, agentId ? 'Nothing listens.' : 'Not running.')}
<p class="muted">Listening inside the workspace, as its agent last saw; shared as the workspace file says (at most ${t.max_share ?? 'owner'}, the template's max_port_share).</p>`;
  };

  app.get('/workspaces/:owner/:name', async (req, reply) => {
    const me = signedIn(req, reply);
    if (!me) return reply;
    const row = await visible(req);
    const { owner, name } = req.params as { owner: string; name: string };
    if (!row) return notFound(req, reply, `workspace ${owner}/${name}`);
    const w = workspaceView(row);
    const [sched] = await workspaces.scheduled(db, [row.id]);
    const drift = (await workspaces.drifted(db)).find((d) => d.owner === owner && d.name === name);
    const history = await builds.ofWorkspace(db, owner, name);
    const startup = row.agent_id && row.transition === 'start' ? await agents.readLogs(db, row.agent_id) : [];
    const canSyncs = can(me, 'syncs:read');
    const now = new Date();
    const stop = sched ? autostopAt(sched) : undefined;
    const next = sched?.build_transition === 'stop' ? nextAutostart(sched, now) : undefined;
    const reach = owner === me.username || me.roles.includes('owner');
    const rows = [];
    for (const b of history) {
      rows.push([
        html`<a href="${buildHref(owner, name, b.build_number)}">#${b.build_number}</a>`,
        b.transition,
        html`<span class="${statusClass(b.status)}">${b.status}</span>${b.error ? html`<br><span class="error">${b.error}</span>` : ''}`,
        b.reason,
        await commitLink(b.commit_sha, b.sync_id, canSyncs),
        when(b.created_at),
        when(b.finished_at),
      ]);
    }
    const appsAndPorts = await appsSection(owner, name, row.agent_id && row.transition === 'start' && w.agent?.status === 'connected' ? row.agent_id : null, reach);
    const body = html`<h1>${owner}/${name}</h1>
<p class="muted">Template ${w.template}${w.agent?.status === 'connected' && reach ? html` · <a href="${workspaceHref(owner, name)}/terminal">Open a terminal</a>` : ''}</p>
<dl class="facts" id="facts">
  <dt>State</dt><dd>${w.desired_state} <span class="muted">(git)</span>${w.scheduled_state ? html`, now ${w.scheduled_state} <span class="muted">(schedule)</span>` : ''}</dd>
  <dt>Last build</dt><dd>${w.last_build ? html`<a href="${buildHref(owner, name, w.last_build.number)}">#${w.last_build.number} ${w.last_build.transition}</a> <span class="${statusClass(w.last_build.status)}">${w.last_build.status}</span>${w.last_build.error ? html` — <span class="error">${w.last_build.error}</span>` : ''}` : html`<span class="muted">never built</span>`}</dd>
  <dt>Agent</dt><dd id="agent">${agentText(w)}${w.agent?.version ? html` <span class="muted">v${w.agent.version}</span>` : ''}${w.agent?.last_connected_at ? html` <span class="muted">connected ${when(w.agent.last_connected_at)}</span>` : ''}${w.agent_lost_since ? html` <span class="error">lost since ${when(w.agent_lost_since)}</span>` : ''}</dd>
  <dt>Autostart</dt><dd>${sched?.autostart ? html`<code>${sched.autostart}</code>${next ? html` — next ${when(next)}` : html` <span class="muted">(only while stopped)</span>`}` : html`<span class="muted">none</span>`}</dd>
  <dt>Autostop</dt><dd>${stop ? html`${when(stop.at)} <span class="muted">(${stop.reason === 'inactivity' ? 'after no activity' : 'ttl'})</span>` : html`<span class="muted">none</span>`}</dd>
  <dt>Drift</dt><dd>${drift ? html`<span class="error">changed outside coder-git</span> since ${when(drift.drift_detected_at)} <span class="muted">(checked ${when(drift.drift_checked_at)})</span>` : html`<span class="muted">none found</span>`}</dd>
</dl>
${appsAndPorts}
<h2>Startup log</h2>
${startup.length ? html`<pre class="log">${startup.map((l) => `${l.line}\n`)}</pre>` : html`<p class="muted">Nothing yet.</p>`}
<h2>Builds</h2>
${dataTable(['Build', 'Transition', 'Status', 'Reason', 'Commit', 'Created', 'Finished'], rows)}`;
    // Live: the workspace's event stream (its agent and its builds, from any replica) re-renders the page.
    return send(req, reply, `${owner}/${name}`, html`<div data-live-watch="/api/v1/workspaces/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/watch">${body}</div>`);
  });

  app.get('/workspaces/:owner/:name/builds/:number', async (req, reply) => {
    const me = signedIn(req, reply);
    if (!me) return reply;
    const { owner, name, number } = req.params as { owner: string; name: string; number: string };
    const row = /^\d{1,9}$/.test(number) ? await visible(req) : undefined;
    const b = row ? await builds.byNumber(db, owner, name, Number(number)) : null;
    if (!b) return notFound(req, reply, `build ${number} of ${owner}/${name}`);
    const info = (await builds.ofWorkspace(db, owner, name, 1000)).find((x) => x.build_number === b.build_number);
    const lines = await logs.read(db, b.id, '0', 5000);
    const running = !FINISHED.has(b.status);
    const api = `/api/v1/workspaces/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/builds/${b.build_number}/logs`;
    const body = html`<h1>${owner}/${name} · build #${b.build_number}</h1>
<p><a href="${workspaceHref(owner, name)}">Back to ${owner}/${name}</a></p>
<dl class="facts">
  <dt>Transition</dt><dd>${b.transition} <span class="muted">(${b.reason})</span></dd>
  <dt>Status</dt><dd id="build-status"><span class="${statusClass(b.status)}">${b.status}</span>${b.error ? html` — <span class="error">${b.error}</span>` : ''}</dd>
  <dt>Commit</dt><dd>${await commitLink(info?.commit_sha ?? null, info?.sync_id ?? null, can(me, 'syncs:read'))}${info?.commit_message ? html` ${info.commit_message}` : ''}</dd>
  <dt>Created</dt><dd>${when(b.created_at)}</dd>
  <dt>Started</dt><dd>${when(b.started_at) || html`<span class="muted">not yet</span>`}</dd>
  <dt>Finished</dt><dd>${when(b.finished_at) || html`<span class="muted">not yet</span>`}</dd>
</dl>
<h2>Log</h2>
<pre class="log" id="build-log" data-live-log="${api}" data-after="${lines.at(-1)?.id ?? '0'}" data-running="${running ? 'yes' : 'no'}">${lines.map((l) => `${l.line}\n`)}</pre>
${lines.length ? '' : html`<p class="muted" id="no-log">${running ? 'Waiting for terraform…' : 'No log lines.'}</p>`}`;
    return send(req, reply, `Build #${b.build_number} of ${owner}/${name}`, body);
  });

  app.get('/syncs/:id', async (req, reply) => {
    const me = signedIn(req, reply);
    if (!me) return reply;
    const { id } = req.params as { id: string };
    const s = can(me, 'syncs:read') && /^\d{1,18}$/.test(id) ? await syncs.get(db, id) : null;
    if (!s) return notFound(req, reply, `sync ${id}`);
    const d = await ctx.deployment();
    const forge = d?.repository_url ? `${d.repository_url.replace(/\/+$/, '')}/commit/${s.commit_sha}` : undefined;
    const theirs = await builds.ofSync(db, s.id);
    const errors = (s.errors ?? []) as { file?: string; line?: number; col?: number; message: string; severity?: string }[];
    const busy = s.status === 'applying' || theirs.some((b) => !FINISHED.has(b.status));
    const body = html`<h1>Sync #${s.id}</h1>
<dl class="facts">
  <dt>Status</dt><dd><span class="${statusClass(s.status)}">${s.status}</span></dd>
  <dt>Commit</dt><dd>${forge ? html`<a href="${forge}"><code>${s.commit_sha}</code></a>` : html`<code>${s.commit_sha}</code>`}${s.ref ? html` <span class="muted">(${s.ref})</span>` : ''}</dd>
  <dt>Message</dt><dd>${s.message ?? ''}</dd>
  <dt>Author</dt><dd>${s.author ?? ''}</dd>
  <dt>Seen</dt><dd>${when(s.created_at)}</dd>
  <dt>Finished</dt><dd>${when(s.finished_at) || html`<span class="muted">not yet</span>`}</dd>
</dl>
${errors.length ? html`<h2>Errors</h2><ul class="errors">${errors.map((e) => html`<li>${e.file ? html`<code>${e.file}${e.line ? `:${e.line}${e.col ? `:${e.col}` : ''}` : ''}</code>: ` : ''}${e.severity === 'warning' ? html`<span class="muted">warning:</span> ` : ''}${e.message}</li>`)}</ul>` : ''}
<h2>Plan</h2>
${s.plan ? html`<pre class="log">${renderText(s.plan as Plan)}</pre>` : html`<p class="muted">${s.status === 'invalid' ? 'None: the commit is invalid, so nothing of it was planned or applied.' : 'Not kept for this sync (applied before coder-git kept plans).'}</p>`}
<h2>Builds</h2>
${dataTable(
  ['Workspace', 'Build', 'Status', 'Reason', 'Finished'],
  theirs.map((b) => [
    b.deleted ? html`${b.owner}/${b.workspace} <span class="muted">(deleted)</span>` : html`<a href="${workspaceHref(b.owner, b.workspace)}">${b.owner}/${b.workspace}</a>`,
    b.deleted ? html`#${b.build_number} ${b.transition}` : html`<a href="${buildHref(b.owner, b.workspace, b.build_number)}">#${b.build_number} ${b.transition}</a>`,
    html`<span class="${statusClass(b.status)}">${b.status}</span>${b.error ? html`<br><span class="error">${b.error}</span>` : ''}`,
    b.reason,
    when(b.finished_at),
  ]),
  'None: this commit changed no workspace.',
)}`;
    // Live while something is still happening: the page re-renders every few seconds until it settles.
    return send(req, reply, `Sync #${s.id}`, html`<div ${busy ? html`data-live-poll="3000"` : ''}>${body}</div>`);
  });
}
