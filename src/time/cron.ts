// Cron schedules for workspace autostart: five fields (minute hour day-of-month month day-of-week)
// with an optional CRON_TZ=<IANA zone> prefix, as Coder writes them. Parsed into value sets so the
// runner can compute the next start; every mistake gets a message naming the field.

export interface CronSchedule {
  tz: string;
  minutes: number[];
  hours: number[];
  days: number[];
  months: number[];
  weekdays: number[];
  /** true when day-of-month and day-of-week are both restricted (cron then matches either) */
  domOrDow: boolean;
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
      tz,
      minutes: sets[0]!,
      hours: sets[1]!,
      days: sets[2]!,
      months: sets[3]!,
      weekdays,
      domOrDow: parts[2] !== '*' && parts[4] !== '*',
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
// Fields of an instant as seen on a wall clock in the schedule's zone. One formatter per zone.

interface WallClock {
  minute: number;
  hour: number;
  day: number;
  month: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function wallClock(tz: string, at: Date): WallClock {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', weekday: 'short', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formatters.set(tz, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(at)) p[part.type] = part.value;
  return { minute: Number(p.minute), hour: Number(p.hour), day: Number(p.day), month: Number(p.month), weekday: WEEKDAYS[p.weekday!] ?? 0 };
}

function dayMatches(s: CronSchedule, w: WallClock): boolean {
  if (!s.months.includes(w.month)) return false;
  const dom = s.days.includes(w.day);
  const dow = s.weekdays.includes(w.weekday);
  // cron: with both restricted, either one matching is enough; otherwise the restricted one decides
  // (an unrestricted field contains every value, so "and" does it).
  return s.domOrDow ? dom || dow : dom && dow;
}

/** Does the schedule fire in the minute that contains `at`? */
export function cronMatches(s: CronSchedule, at: Date): boolean {
  const w = wallClock(s.tz, at);
  return dayMatches(s, w) && s.hours.includes(w.hour) && s.minutes.includes(w.minute);
}

const MINUTE = 60_000;

/** The latest minute at or before `now`, and no earlier than `now - windowMs`, at which the schedule fired. */
export function previousRun(s: CronSchedule, now: Date, windowMs: number): Date | undefined {
  const start = Math.floor(now.getTime() / MINUTE) * MINUTE;
  for (let t = start; t >= now.getTime() - windowMs; t -= MINUTE) if (cronMatches(s, new Date(t))) return new Date(t);
  return undefined;
}

/**
 * The first minute after `from` at which the schedule fires (within a year and a day). Steps over
 * days and hours that cannot match, so a yearly schedule costs ~400 look-ups, not 500,000.
 */
export function nextRun(s: CronSchedule, from: Date): Date | undefined {
  let t = Math.floor(from.getTime() / MINUTE) * MINUTE + MINUTE;
  const end = t + 367 * 24 * 60 * MINUTE;
  while (t < end) {
    const w = wallClock(s.tz, new Date(t));
    if (!dayMatches(s, w)) {
      // to the next wall-clock midnight (re-checked there, so DST shifts do not matter)
      t += ((23 - w.hour) * 60 + (60 - w.minute)) * MINUTE;
    } else if (!s.hours.includes(w.hour)) {
      t += (60 - w.minute) * MINUTE;
    } else if (!s.minutes.includes(w.minute)) {
      t += MINUTE;
    } else return new Date(t);
  }
  return undefined;
}
