// Quoting for POSIX sh: one word, whatever it holds (the agent command, install.sh's values, ssh's
// ProxyCommand). The agent keeps a copy of its own (agent/ imports nothing of src/).
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
