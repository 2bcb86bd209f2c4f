// What this copy of coder-git is: its version, the commit it was built from, and the Terraform it
// would run (`coder-git version`). The bundle has its build facts compiled in (scripts/build.mjs);
// the sources ask git.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PKG_ROOT, pkgPath } from './paths.ts';
import { terraformVersion, type TerraformVersion } from './terraform/driver.ts';

export const VERSION: string = JSON.parse(readFileSync(pkgPath('package.json'), 'utf8')).version;

declare const __CODER_GIT_BUILD__: { version: string; commit: string | null } | undefined;

/** The commit of this build: compiled into the bundle, or the checkout's HEAD when run from source. */
export function buildCommit(): string | null {
  if (typeof __CODER_GIT_BUILD__ !== 'undefined') return __CODER_GIT_BUILD__.commit;
  if (!existsSync(path.join(PKG_ROOT, '.git'))) return null;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PKG_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export interface VersionReport {
  version: string;
  commit: string | null;
  /** "bundle" (dist/coder-git.mjs) or "source" (TypeScript through tsx) */
  build: 'bundle' | 'source';
  node: string;
  platform: string;
  terraform: ({ binary: string } & (TerraformVersion | { error: string })) ;
}

/**
 * The report of `coder-git version`. The terraform binary is the one the config repo in `dir` names
 * (coder-git.yaml terraform.path, else terraform.binary), else `terraform` from PATH.
 */
export async function versionReport(dir: string): Promise<VersionReport> {
  const binary = terraformBinaryOf(dir);
  let terraform: VersionReport['terraform'];
  try {
    terraform = { binary, ...(await terraformVersion(binary)) };
  } catch (err) {
    terraform = { binary, error: err instanceof Error ? err.message : String(err) };
  }
  return {
    version: VERSION,
    commit: buildCommit(),
    build: typeof __CODER_GIT_BUILD__ !== 'undefined' ? 'bundle' : 'source',
    node: process.version,
    platform: `${process.platform}_${process.arch}`,
    terraform,
  };
}

function terraformBinaryOf(dir: string): string {
  try {
    const d = parse(readFileSync(path.join(dir, 'coder-git.yaml'), 'utf8')) as { terraform?: { path?: unknown; binary?: unknown } } | null;
    const t = d?.terraform;
    if (typeof t?.path === 'string' && t.path) return t.path;
    if (typeof t?.binary === 'string' && t.binary) return t.binary;
  } catch {
    // no config repo here, or one that `validate` will complain about: the default binary
  }
  return 'terraform';
}

export function renderVersion(r: VersionReport): string {
  const tf = 'error' in r.terraform ? `${r.terraform.binary}: ${r.terraform.error}` : `${r.terraform.terraform_version} (${r.terraform.path}, ${r.terraform.platform})`;
  return [
    `coder-git ${r.version}`,
    `commit:    ${r.commit ?? 'unknown'}`,
    `build:     ${r.build}`,
    `node:      ${r.node} (${r.platform})`,
    `terraform: ${tf}`,
    '',
  ].join('\n');
}
