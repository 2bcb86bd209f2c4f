// Environment layering for flags: an option that opts in takes its default from CODER_GIT_<NAME>
// (e.g. --postgres-url from CODER_GIT_POSTGRES_URL); a flag given on the command line wins. Only
// named options read the environment, so unrelated CODER_GIT_* variables (a secret named in
// coder-git.yaml, say) never turn into unknown arguments.

export function envName(option: string): string {
  return `CODER_GIT_${option.toUpperCase().replace(/-/g, '_')}`;
}

export function envString(option: string): string | undefined {
  const v = process.env[envName(option)];
  return v === undefined || v === '' ? undefined : v;
}

export function envBoolean(option: string): boolean | undefined {
  const v = envString(option);
  if (v === undefined) return undefined;
  return !/^(0|false|no|off)$/i.test(v);
}

/** " [env: CODER_GIT_DIR]" for an option's help text. */
export function envNote(option: string): string {
  return ` [env: ${envName(option)}]`;
}
