import { readFileSync } from 'node:fs';
import { pkgPath } from './paths.ts';

export const VERSION: string = JSON.parse(readFileSync(pkgPath('package.json'), 'utf8')).version;

/** The first line of scaffolded files: editors with yaml-language-server validate as you type. */
export function schemaModeline(kind: 'deployment' | 'user' | 'template' | 'workspace'): string {
  return `# yaml-language-server: $schema=https://unpkg.com/coder-git@${VERSION}/schemas/${kind}.json`;
}
