import type { CommandModule } from 'yargs';
import { loadAppliedState } from '../../db/state.ts';
import { syncs } from '../../db/repos/syncs.ts';
import { builds } from '../../db/repos/builds.ts';
import { jobs } from '../../db/repos/jobs.ts';
import { workspaces as workspaceRepo } from '../../db/repos/workspaces.ts';
import { autostopAt, nextAutostart } from '../../schedule/schedule.ts';
import { workspaceView } from '../../workspace-view.ts';
import { ANSI, PLAIN } from '../../config/format.ts';
import { databaseOptions, openForCommand, type DatabaseArgs } from '../database.ts';
import { formatOptions, useColor, type FormatArgs } from '../output.ts';

interface Args extends DatabaseArgs, FormatArgs<'text' | 'json'> {
  syncs: number;
  color?: boolean;
}

function ago(d: Date | null): string {
  if (!d) return '';
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 86400 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
}

export const statusCommand: CommandModule<object, Args> = {
  command: 'status',
  describe: 'Show the latest syncs, every workspace with its last build, failed builds and the build queue',
  builder: (y) =>
    formatOptions(databaseOptions(y), ['text', 'json'] as const, 'text, or json')
      .option('syncs', { type: 'number', default: 5, describe: 'How many recent syncs to show' }) as never,
  handler: async (argv) => {
    const { db } = await openForCommand(argv);
    const [applied, recent, failed, queue] = [await loadAppliedState(db), await syncs.recent(db, argv.syncs), await builds.failedLatest(db), await jobs.depth(db)];
    const scheduled = new Map((await workspaceRepo.scheduled(db)).map((r) => [r.id, r]));
    const drifted = new Map((await workspaceRepo.drifted(db)).map((r) => [`${r.owner}/${r.name}`, r]));
    const views = new Map((await workspaceRepo.listing(db)).map((r) => [`${r.owner}/${r.name}`, workspaceView(r)]));
    const now = new Date();
    const workspaces = [...applied.workspaces.values()].map((w) => {
      const key = `${w.owner}/${w.name}`;
      const s = scheduled.get(w.id);
      const stop = s && autostopAt(s);
      const start = s?.build_transition === 'stop' ? nextAutostart(s, now) : undefined;
      const d = drifted.get(key);
      return {
        workspace: key,
        template: w.template,
        desired_state: w.desired_state,
        scheduled_state: w.scheduled_state ?? null,
        last_build: w.build_id ? { number: w.build_number, transition: w.build_transition, status: w.build_status } : null,
        next_autostart: start ?? null,
        autostop_at: stop ? stop.at : null,
        drift: d ? { detected_at: d.drift_detected_at, checked_at: d.drift_checked_at, changes: d.drift } : null,
        agent: views.get(key)?.agent ?? null,
        agent_lost_since: views.get(key)?.agent_lost_since ?? null,
      };
    });
    // What runs now is the newest applied sync; a failed or invalid sync older than it was overtaken.
    const deployed = applied.lastApplied;
    const overtaken = (s: { id: string; status: string }) => (deployed && (s.status === 'failed' || s.status === 'invalid') && BigInt(s.id) < BigInt(deployed.id) ? deployed.id : null);
    const syncRows = recent.map((s) => ({ id: s.id, commit: s.commit_sha, ref: s.ref, author: s.author, message: s.message, status: s.status, errors: s.errors, summary: s.plan_summary, created_at: s.created_at, finished_at: s.finished_at, deployed: s.id === deployed?.id, superseded_by: overtaken(s) }));
    if (argv.format === 'json') {
      process.stdout.write(`${JSON.stringify({ deployed: deployed ? { sync: deployed.id, commit: deployed.commit_sha, message: deployed.message } : null, syncs: syncRows, workspaces, failed_builds: failed, drifted: [...drifted.keys()], queue }, null, 2)}\n`);
      return;
    }
    const c = useColor(argv.color) ? ANSI : PLAIN;
    const paint = (s: string) => (s === 'applied' || s === 'succeeded' ? c.green(s) : s === 'failed' || s === 'invalid' || s === 'interrupted' ? c.red(s) : c.yellow(s));
    const out: string[] = [`${c.bold('Deployed:')} ${deployed ? `${deployed.commit_sha.slice(0, 12)}  ${JSON.stringify(deployed.message ?? '')} (sync #${deployed.id})` : 'nothing yet'}`, '', c.bold('Syncs (newest first):')];
    if (!recent.length) out.push('  none yet');
    for (const s of syncRows) {
      const note = s.deployed ? c.green('  ← deployed') : s.superseded_by ? c.dim(`  (superseded by #${s.superseded_by})`) : '';
      out.push(`  #${s.id} ${paint(s.status.padEnd(10))} ${s.commit.slice(0, 12)}  ${JSON.stringify(s.message ?? '')}${s.author ? ` by ${s.author}` : ''}  ${c.dim(ago(s.created_at))}${note}`);
    }
    out.push('', c.bold(`Workspaces (${workspaces.length}):`));
    for (const w of workspaces) {
      const state = w.scheduled_state ? `${w.scheduled_state}*` : w.desired_state;
      const notes = [
        w.next_autostart ? `autostart ${w.next_autostart.toISOString().slice(0, 16).replace('T', ' ')}Z` : '',
        w.autostop_at ? `autostop ${w.autostop_at.toISOString().slice(0, 16).replace('T', ' ')}Z` : '',
        w.agent ? `agent ${w.agent.status} (${w.agent.lifecycle})` : '',
        w.drift ? c.red(`drifted ${ago(w.drift.detected_at)}`) : '',
        w.agent_lost_since ? c.red(`agent lost ${ago(w.agent_lost_since)}`) : '',
      ].filter(Boolean);
      out.push(`  ${w.workspace.padEnd(28)} ${state.padEnd(9)} ${w.last_build ? `build #${w.last_build.number} ${w.last_build.transition} ${paint(w.last_build.status ?? '')}` : 'never built'}${notes.length ? `  ${c.dim(notes.join(', '))}` : ''}`);
    }
    if (workspaces.some((w) => w.scheduled_state)) out.push(c.dim('  * the schedule set this state; a commit that changes state: takes over again'));
    if (failed.length) {
      out.push('', c.bold('Failed builds:'));
      for (const f of failed) out.push(`  ${f.workspace} #${f.build_number} ${f.transition}: ${f.error ?? f.status}`);
    }
    out.push('', `Queue: ${queue.waiting} waiting, ${queue.leased} running`);
    process.stdout.write(`${out.join('\n')}\n`);
  },
};
