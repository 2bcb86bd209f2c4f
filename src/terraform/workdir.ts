// A workspace's Terraform working directory on the runner: <data-dir>/work/<workspace-id>/. It keeps
// .terraform/ (so `init` runs once per template version) and terraform.tfstate, which Terraform
// rewrites after every resource; coder-git copies each new serial to PostgreSQL as it appears.
// Before a run the newer of the local file and PostgreSQL's latest wins: the local file is newer only
// after a crash, and then it holds what Terraform did that PostgreSQL has not heard of yet.

import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';

export const STATE_FILE = 'terraform.tfstate';
const FILES_LIST = '.coder-git-files.json';
const INIT_MARK = '.coder-git-init';
const PID_FILE = '.coder-git-terraform.pid';

export interface StateInfo {
  serial: number;
  lineage: string;
  bytes: Buffer;
}

export function parseState(bytes: Buffer): StateInfo | undefined {
  try {
    const j = JSON.parse(bytes.toString('utf8')) as { serial?: number; lineage?: string };
    if (typeof j.serial !== 'number' || typeof j.lineage !== 'string') return undefined;
    return { serial: j.serial, lineage: j.lineage, bytes };
  } catch {
    return undefined; // mid-write, or not a state
  }
}

export async function readLocalState(dir: string): Promise<StateInfo | undefined> {
  const bytes = await fsp.readFile(path.join(dir, STATE_FILE)).catch(() => undefined);
  return bytes ? parseState(bytes) : undefined;
}

/** Puts the module's files in place, removing files of the previous version; true if `init` is needed. */
export async function prepareModule(dir: string, files: Record<string, string>, version: string): Promise<boolean> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const previous: string[] = JSON.parse(await fsp.readFile(path.join(dir, FILES_LIST), 'utf8').catch(() => '[]'));
  for (const rel of previous) if (!(rel in files)) await fsp.rm(path.join(dir, rel), { force: true });
  for (const [rel, b64] of Object.entries(files)) {
    if (rel === 'template.yaml') continue;
    const abs = path.join(dir, rel);
    if (!abs.startsWith(dir + path.sep)) continue; // paths come from a validated repo; never outside anyway
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    await fsp.writeFile(abs, Buffer.from(b64, 'base64'));
  }
  await fsp.writeFile(path.join(dir, FILES_LIST), JSON.stringify(Object.keys(files).filter((f) => f !== 'template.yaml')));
  const mark = await fsp.readFile(path.join(dir, INIT_MARK), 'utf8').catch(() => '');
  return mark !== version || !existsSync(path.join(dir, '.terraform'));
}

export async function markInitialised(dir: string, version: string): Promise<void> {
  await fsp.writeFile(path.join(dir, INIT_MARK), version);
}

export async function writeLocalState(dir: string, bytes: Buffer): Promise<void> {
  // The folder may not exist yet: the first build of this workspace on this machine (another runner
  // built it before) starts from the state in PostgreSQL.
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `${STATE_FILE}.coder-git-tmp`);
  await fsp.writeFile(tmp, bytes, { mode: 0o600 });
  await fsp.rename(tmp, path.join(dir, STATE_FILE));
}

export async function recordPid(dir: string, pid: number): Promise<void> {
  await fsp.writeFile(path.join(dir, PID_FILE), String(pid));
}

/**
 * A terraform left running in this directory by a runner that died: wait for it to finish (it is
 * writing the state), up to timeoutMs. Returns false if it is still running then.
 */
export async function waitForOrphan(dir: string, timeoutMs: number, log: (m: string) => void): Promise<boolean> {
  const pid = Number(await fsp.readFile(path.join(dir, PID_FILE), 'utf8').catch(() => '0'));
  if (!pid || pid === process.pid) return true;
  const alive = async () => {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    const cmd = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return /terraform|tofu/.test(cmd);
  };
  if (!(await alive())) return true;
  log(`coder-git: a terraform (pid ${pid}) from an earlier run is still working here; waiting for it to finish`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    if (!(await alive())) return true;
  }
  return false;
}
