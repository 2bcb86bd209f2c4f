// API token lifetimes people can choose (pages and API alike).
export const TOKEN_LIFETIMES = ['1d', '7d', '30d', '90d', '365d'] as const;

export function parseLifetime(v: unknown): number | undefined {
  if (typeof v !== 'string' || !(TOKEN_LIFETIMES as readonly string[]).includes(v)) return undefined;
  return Number(v.slice(0, -1)) * 86_400_000;
}
