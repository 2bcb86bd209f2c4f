// Durations as written in config files: 8h, 30m, 90s, 1h30m (the schema checks the form).

/** The form the schemas accept (their "pattern" is the same expression). */
export const DURATION_RE = /^(?=[0-9])([0-9]+h)?([0-9]+m)?([0-9]+s)?$/;

export function isDuration(v: unknown): v is string {
  return typeof v === 'string' && DURATION_RE.test(v);
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000 };

export function parseDuration(s: string): number {
  let ms = 0;
  for (const m of s.matchAll(/(\d+)([hms])/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}

export function formatDuration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}
