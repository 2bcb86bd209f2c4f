// Cron schedules for workspace autostart: five fields (minute hour day-of-month month day-of-week)
// or a macro (@daily, …) with an optional CRON_TZ=<IANA zone> prefix, as Coder writes them. Parsed
// here into value sets, so every mistake gets a message naming the field; the calendar arithmetic
// (next and previous runs) is croner's.

import { Cron } from 'croner';

export interface CronSchedule {
  /** the schedule as written */
  source: string;
  tz: string;
  minutes: number[];
  hours: number[];
  days: number[];
  months: number[];
  weekdays: number[];
  /** true when day-of-month and day-of-week are both restricted (cron then matches either) */
  domOrDow: boolean;
  /** whether each day field was given (not "*") */
  domRestricted: boolean;
  dowRestricted: boolean;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** The macros cron accepts for a time (not @reboot), as five fields. */
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export type CronResult = { ok: true; schedule: CronSchedule } | { ok: false; message: string };

// Constructing an Intl.DateTimeFormat costs ~150 µs, and 20,000 workspaces share a handful of
// schedules: both answers are cached (and schedules are immutable once parsed).
const zones = new Map<string, boolean>();
const parsed = new Map<string, CronResult>();

export function isTimeZone(tz: string): boolean {
  let ok = zones.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    zones.set(tz, ok);
  }
  return ok;
}

export function parseCron(input: string): CronResult {
  let r = parsed.get(input);
  if (!r) {
    r = parseCronUncached(input);
    if (parsed.size < 10_000) parsed.set(input, r);
  }
  return r;
}

function parseCronUncached(input: string): CronResult {
  let rest = input.trim();
  let tz = 'UTC';
  const tzm = /^CRON_TZ=(\S*)\s*/.exec(rest);
  if (tzm) {
    tz = tzm[1] ?? '';
    if (!tz || !isTimeZone(tz)) return { ok: false, message: `CRON_TZ=${tz}: unknown time zone; use an IANA name like Europe/Berlin or UTC` };
    rest = rest.slice(tzm[0].length);
  } else if (/^\w+=/.test(rest)) {
    return { ok: false, message: `"${rest.split(/\s/)[0]}" is not understood; the only prefix is CRON_TZ=<zone>` };
  }
  if (rest.startsWith('@')) {
    const word = rest.split(/\s+/)[0]!;
    const expanded = MACROS[word.toLowerCase()];
    if (word.toLowerCase() === '@reboot') return { ok: false, message: `@reboot is not a schedule coder-git can keep (a workspace has no boot to run at); write a time, or one of ${Object.keys(MACROS).join(', ')}` };
    if (!expanded) return { ok: false, message: `"${word}" is not a known macro; use ${Object.keys(MACROS).join(', ')}, or five fields` };
    if (rest !== word) return { ok: false, message: `${word} stands alone (after an optional CRON_TZ=<zone>); remove "${rest.slice(word.length).trim()}"` };
    rest = expanded;
  }
  const parts = rest.split(/\s+/).filter(Boolean);
  if (parts.length !== 5) {
    return { ok: false, message: `expected 5 fields (minute hour day-of-month month day-of-week) after an optional CRON_TZ=<zone>, got ${parts.length}: "${input}"` };
  }
  const sets: number[][] = [];
  for (let i = 0; i < 5; i++) {
    const r = parseField(parts[i]!, FIELDS[i]!);
    if (typeof r === 'string') return { ok: false, message: r };
    sets.push(r);
  }
  const weekdays = [...new Set(sets[4]!.map((d) => d % 7))].sort((a, b) => a - b);
  return {
    ok: true,
    schedule: {
      source: input,
      tz,
      minutes: sets[0]!,
      hours: sets[1]!,
      days: sets[2]!,
      months: sets[3]!,
      weekdays,
      domOrDow: parts[2] !== '*' && parts[4] !== '*',
      domRestricted: parts[2] !== '*',
      dowRestricted: parts[4] !== '*',
    },
  };
}

function parseField(text: string, f: FieldSpec): number[] | string {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(item);
    if (!m) return `${f.name} field "${text}": "${item}" is not a number, a range like 1-5, a list like 1,3 or a step like */15`;
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (step < 1) return `${f.name} field "${text}": a step must be at least 1`;
    let lo: number;
    let hi: number;
    if (m[1] === '*') {
      if (m[2] !== undefined) return `${f.name} field "${text}": "*" cannot start a range`;
      [lo, hi] = [f.min, f.max];
    } else {
      const a = value(m[1]!, f);
      if (typeof a === 'string') return a;
      lo = a;
      hi = a;
      if (m[2] !== undefined) {
        const b = value(m[2], f);
        if (typeof b === 'string') return b;
        hi = b;
      } else if (m[3] !== undefined) hi = f.max; // "5/15": from 5 on, every 15
      if (lo > hi) return `${f.name} field "${text}": range ${m[1]}-${m[2]} runs backwards`;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

function value(tok: string, f: FieldSpec): number | string {
  const named = f.names?.indexOf(tok.toUpperCase()) ?? -1;
  if (named >= 0) return f.name === 'month' ? named + 1 : named;
  if (!/^\d+$/.test(tok)) {
    return `${f.name} field: "${tok}" is not a number${f.names ? ` or one of ${f.names.join(', ')}` : ''}`;
  }
  const n = Number(tok);
  if (n < f.min || n > f.max) return `${f.name} field: ${n} is out of range ${f.min}-${f.max}`;
  return n;
}

// ---- When a schedule fires ----------------------------------------------------------------------
// croner does the calendar: time zones, the days clocks change (a time the spring change skips runs
// just after the gap that day, a repeated one runs once, as Vixie cron), months and leap years. It is
// given the value sets parsed above, so it sees exactly what validate accepted.

const jobs = new WeakMap<CronSchedule, Cron>();

function job(s: CronSchedule): Cron {
  let j = jobs.get(s);
  if (!j) {
    const list = (xs: number[], all: boolean) => (all ? '*' : xs.join(','));
    // "*" where the field was "*": cron's day rule (either day field, when both are restricted) keys on it
    const pattern = [list(s.minutes, false), list(s.hours, false), list(s.days, !s.domRestricted), list(s.months, false), list(s.weekdays, !s.dowRestricted)].join(' ');
    j = new Cron(pattern, { timezone: s.tz, paused: true });
    jobs.set(s, j);
  }
  return j;
}

const MINUTE = 60_000;
const floorMinute = (t: number) => Math.floor(t / MINUTE) * MINUTE;

/** Does the schedule fire in the minute that contains `at`? */
export function cronMatches(s: CronSchedule, at: Date): boolean {
  return job(s).match(new Date(floorMinute(at.getTime())));
}

// Thousands of stopped workspaces share a handful of schedules and ask about the same minute on
// each tick of the runner: one answer per schedule and minute.
let memoMinute = 0;
const memo = new Map<string, Date | null>();
function remembered(key: string, minute: number, compute: () => Date | undefined): Date | undefined {
  if (minute !== memoMinute) {
    memo.clear();
    memoMinute = minute;
  }
  let r = memo.get(key);
  if (r === undefined) memo.set(key, (r = compute() ?? null));
  return r ?? undefined;
}

/** The latest minute at or before `now`, and no earlier than `now - windowMs`, at which the schedule fired. */
export function previousRun(s: CronSchedule, now: Date, windowMs: number): Date | undefined {
  const minute = floorMinute(now.getTime());
  // (croner answers runs strictly before its reference; runs fall on whole minutes)
  const last = remembered(`p ${s.source}`, minute, () => job(s).previousRuns(1, new Date(minute + 1000))[0]);
  return last && last.getTime() >= now.getTime() - windowMs ? last : undefined;
}

/** The first minute after the one holding `from` at which the schedule fires. */
export function nextRun(s: CronSchedule, from: Date): Date | undefined {
  const minute = floorMinute(from.getTime());
  return remembered(`n ${s.source}`, minute, () => job(s).nextRun(new Date(minute + MINUTE - 1000)) ?? undefined);
}
