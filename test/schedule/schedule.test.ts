// The schedule's decisions and cron's clock arithmetic: pure, with the time given.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cronMatches, nextRun, parseCron, previousRun, type CronSchedule } from '../../src/time/cron.ts';
import { autostopAt, dueBuild, nextAutostart, type ScheduleSubject } from '../../src/schedule/schedule.ts';

const cron = (s: string): CronSchedule => {
  const r = parseCron(s);
  if (!r.ok) throw new Error(r.message);
  return r.schedule;
};
const at = (iso: string) => new Date(iso);
const H = 3_600_000;

test('cron: the wall clock of the schedule\'s zone decides, DST included', () => {
  const s = cron('CRON_TZ=Europe/Berlin 30 9 * * 1-5');
  assert.ok(cronMatches(s, at('2026-11-23T08:30:00Z')), 'Monday 09:30 in Berlin (UTC+1 in winter)');
  assert.not.ok(cronMatches(s, at('2026-11-23T09:30:00Z')));
  assert.ok(cronMatches(s, at('2026-07-06T07:30:59Z')), 'Monday 09:30 in Berlin in summer (UTC+2), any second of the minute');
  assert.not.ok(cronMatches(s, at('2026-11-22T08:30:00Z')), 'not on a Sunday');
  assert.equal(nextRun(s, at('2026-11-20T09:00:00Z')), at('2026-11-23T08:30:00Z'), 'Friday after the start: next is Monday');
  assert.equal(nextRun(s, at('2026-03-27T08:30:00Z')), at('2026-03-30T07:30:00Z'), 'across the spring change');
  assert.equal(nextRun(cron('0 0 29 2 *'), at('2026-11-23T00:00:00Z')), at('2028-02-29T00:00:00Z'), 'a 29 February more than a year ahead');
  assert.equal(nextRun(cron('0 0 29 2 *'), at('2027-11-23T00:00:00Z')), at('2028-02-29T00:00:00Z'));
  assert.equal(nextRun(cron('CRON_TZ=Asia/Kolkata 0 9 * * *'), at('2026-11-23T00:00:00Z')), at('2026-11-23T03:30:00Z'), 'a half-hour zone');
});

test('cron: next runs on the days the clocks change are on the day they belong to (Berlin, New York)', () => {
  const berlin = cron('CRON_TZ=Europe/Berlin 15 0 * * 1');
  // Sunday 29 March 2026, 02:00 → 03:00 in Berlin: asked at any hour of that Sunday, next is Monday 00:15 CEST
  for (const asked of ['2026-03-28T23:30:00Z', '2026-03-29T00:30:00Z', '2026-03-29T05:00:00Z', '2026-03-29T21:59:00Z']) {
    assert.equal(nextRun(berlin, at(asked)), at('2026-03-29T22:15:00Z'), `Berlin, asked at ${asked}`);
  }
  // Sunday 25 October 2026, 03:00 → 02:00: the Sunday has 25 hours
  assert.equal(nextRun(berlin, at('2026-10-24T22:30:00Z')), at('2026-10-25T23:15:00Z'), 'Berlin, autumn');
  const ny = cron('CRON_TZ=America/New_York 15 0 * * 1');
  // Sunday 8 March 2026, 02:00 → 03:00 in New York
  for (const asked of ['2026-03-08T05:30:00Z', '2026-03-08T08:00:00Z', '2026-03-08T20:00:00Z']) {
    assert.equal(nextRun(ny, at(asked)), at('2026-03-09T04:15:00Z'), `New York, asked at ${asked}`);
  }
  // A time the spring change skips runs just after the gap, that day (as Vixie cron); a repeated one runs once.
  assert.equal(nextRun(cron('CRON_TZ=Europe/Berlin 30 2 * * *'), at('2026-03-28T12:00:00Z')), at('2026-03-29T01:00:00Z'), '02:30 does not exist on 29 March: 03:00 CEST');
  const autumn = cron('CRON_TZ=Europe/Berlin 30 2 * * *');
  const first = nextRun(autumn, at('2026-10-24T12:00:00Z'))!;
  assert.equal(first, at('2026-10-25T00:30:00Z'), '02:30 CEST, the first of the two');
  assert.equal(nextRun(autumn, first), at('2026-10-26T01:30:00Z'), 'not again at 02:30 CET the same night');
  assert.equal(previousRun(berlin, at('2026-03-29T22:20:00Z'), H), at('2026-03-29T22:15:00Z'), 'and the firing sees it');
});

test('cron: @daily-style macros, with CRON_TZ too; @reboot is refused with a reason', () => {
  const macros: [string, string][] = [
    ['@yearly', '2027-01-01T00:00:00Z'],
    ['@annually', '2027-01-01T00:00:00Z'],
    ['@monthly', '2026-12-01T00:00:00Z'],
    ['@weekly', '2026-11-29T00:00:00Z'],
    ['@daily', '2026-11-24T00:00:00Z'],
    ['@midnight', '2026-11-24T00:00:00Z'],
    ['@hourly', '2026-11-23T11:00:00Z'],
  ];
  for (const [m, next] of macros) assert.equal(nextRun(cron(m), at('2026-11-23T10:30:00Z')), at(next), m);
  assert.equal(nextRun(cron('CRON_TZ=Europe/Berlin @daily'), at('2026-11-23T10:30:00Z')), at('2026-11-23T23:00:00Z'));
  const r = parseCron('@reboot');
  assert.not.ok(r.ok);
  if (!r.ok) assert.match(r.message, /@reboot is not a schedule coder-git can keep.*@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly/);
  const u = parseCron('@fortnightly');
  assert.not.ok(u.ok);
  if (!u.ok) assert.match(u.message, /"@fortnightly" is not a known macro/);
});

test('cron: day-of-month and day-of-week both restricted match either, as cron does', () => {
  const s = cron('0 12 1 * MON');
  assert.ok(cronMatches(s, at('2026-12-01T12:00:00Z')), 'the 1st (a Tuesday)');
  assert.ok(cronMatches(s, at('2026-11-23T12:00:00Z')), 'a Monday');
  assert.not.ok(cronMatches(s, at('2026-11-24T12:00:00Z')));
  assert.ok(cronMatches(cron('0 12 * * 7'), at('2026-11-22T12:00:00Z')), '7 is Sunday too');
});

test('cron: previousRun looks back only as far as the window', () => {
  const s = cron('0 9 * * *');
  assert.equal(previousRun(s, at('2026-11-23T09:00:40Z'), H), at('2026-11-23T09:00:00Z'));
  assert.equal(previousRun(s, at('2026-11-23T09:59:00Z'), H), at('2026-11-23T09:00:00Z'));
  assert.equal(previousRun(s, at('2026-11-23T10:01:00Z'), H), undefined);
  assert.equal(previousRun(s, at('2026-11-23T08:59:59Z'), H), undefined);
});

const base: ScheduleSubject = {
  autostart: null,
  ttl: null,
  default_ttl: null,
  max_ttl: null,
  build_transition: 'start',
  build_status: 'succeeded',
  build_created_at: at('2026-11-23T08:00:00Z'),
  build_finished_at: at('2026-11-23T08:01:00Z'),
  last_activity_at: null,
};

test('autostop: ttl after the start finished; the template default when the workspace sets none; capped by max_ttl', () => {
  assert.equal(autostopAt({ ...base, ttl: '8h' }), { at: at('2026-11-23T16:01:00Z'), reason: 'autostop' });
  assert.equal(autostopAt({ ...base, default_ttl: '2h' }), { at: at('2026-11-23T10:01:00Z'), reason: 'autostop' });
  assert.equal(autostopAt({ ...base, ttl: '1h', default_ttl: '2h' })?.at, at('2026-11-23T09:01:00Z'), "the workspace's own ttl wins");
  assert.is(autostopAt(base), undefined, 'no ttl: never');
  assert.is(autostopAt({ ...base, ttl: '8h', build_transition: 'stop' }), undefined, 'a stopped workspace');
  assert.is(autostopAt({ ...base, ttl: '8h', build_status: 'failed' }), undefined, 'a failed start is retried by the plan, not stopped by the schedule');
});

test('inactivity: activity moves the deadline to ttl after it, up to max_ttl after the start', () => {
  const active = { ...base, ttl: '1h', last_activity_at: at('2026-11-23T12:00:00Z') };
  assert.equal(autostopAt(active), { at: at('2026-11-23T13:00:00Z'), reason: 'inactivity' });
  assert.equal(autostopAt({ ...active, max_ttl: '3h' }), { at: at('2026-11-23T11:01:00Z'), reason: 'autostop' });
  assert.equal(autostopAt({ ...base, ttl: '1h', last_activity_at: at('2026-11-23T08:10:00Z') }), { at: at('2026-11-23T09:10:00Z'), reason: 'inactivity' }, 'activity soon after the start: an hour after it');
  assert.equal(autostopAt({ ...base, ttl: '1h', last_activity_at: at('2026-11-23T07:00:00Z') }), { at: at('2026-11-23T09:01:00Z'), reason: 'autostop' }, 'older activity never moves it earlier');
  assert.equal(dueBuild(active, at('2026-11-23T12:59:00Z')), null);
  assert.equal(dueBuild(active, at('2026-11-23T13:00:00Z'))?.reason, 'inactivity');
});

test('dueBuild: autostart fires once per firing, only on a stopped workspace, and not over a later commit', () => {
  const stopped = { ...base, autostart: 'CRON_TZ=Europe/Berlin 0 9 * * 1-5', build_transition: 'stop' as const, build_created_at: at('2026-11-22T18:00:00Z') };
  assert.is(dueBuild(stopped, at('2026-11-23T07:59:00Z')), null, 'before 09:00 Berlin');
  const b = dueBuild(stopped, at('2026-11-23T08:00:10Z'));
  assert.equal(b && { transition: b.transition, reason: b.reason }, { transition: 'start', reason: 'autostart' });
  assert.is(dueBuild(stopped, at('2026-11-23T09:00:01Z')), null, 'more than an hour late: skipped');
  assert.is(dueBuild({ ...stopped, build_created_at: at('2026-11-23T08:00:05Z') }, at('2026-11-23T08:00:30Z')), null, 'built after it fired (this firing, or a commit that stopped it)');
  assert.is(dueBuild({ ...stopped, build_transition: 'start' }, at('2026-11-23T08:00:10Z')), null, 'already running');
  assert.is(dueBuild({ ...stopped, build_status: 'running' }, at('2026-11-23T08:00:10Z')), null, 'a build in progress');
  assert.is(dueBuild({ ...stopped, build_status: 'failed' }, at('2026-11-23T08:00:10Z')), null, 'a failed build');
  assert.equal(nextAutostart(stopped, at('2026-11-23T08:00:10Z')), at('2026-11-24T08:00:00Z'));
});

test('dueBuild: ttl stops a running workspace once, at its deadline', () => {
  const running = { ...base, ttl: '30m' };
  assert.is(dueBuild(running, at('2026-11-23T08:30:59Z')), null);
  const b = dueBuild(running, at('2026-11-23T08:31:00Z'));
  assert.equal(b && { transition: b.transition, reason: b.reason }, { transition: 'stop', reason: 'autostop' });
  assert.is(dueBuild({ ...running, build_transition: 'stop' }, at('2026-11-23T09:00:00Z')), null, 'stopped: nothing');
});

test.run();
