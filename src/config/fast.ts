// Fast path for plain config files (placeholder: always defers to the full parser).
import type { ParsedFile } from './yaml.ts';
export function parseFast(_text: string): ParsedFile | undefined {
  return undefined;
}
