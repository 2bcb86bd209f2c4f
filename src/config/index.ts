// The config-repo library: read a repo (working tree or ref) and validate it.
import { readSource, type ConfigSource } from './source.ts';
import { validateSource, type ValidationResult } from './validate.ts';

export { readSource, validateSource };
export type { ConfigSource, ValidationResult };
export type * from './types.ts';

export async function loadConfig(opts: { dir: string; ref?: string | undefined }): Promise<{ source: ConfigSource; result: ValidationResult }> {
  const source = await readSource(opts);
  return { source, result: validateSource(source) };
}
