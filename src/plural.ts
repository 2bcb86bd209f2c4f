// Counts in messages: "1 workspace", "2 workspaces" (every noun we count takes a plain -s).

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
