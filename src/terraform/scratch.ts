// A scratch `terraform plan`: the module and a state in a temporary folder, removed afterwards.
// The pull-request plan and the drift check both use it; neither touches a workspace's own folder.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TerraformDriver } from './driver.ts';

export interface PlanJson {
  resource_changes?: { address: string; change: { actions: string[] } }[];
  resource_drift?: { address: string; change: { actions: string[] } }[];
  output_changes?: Record<string, { actions: string[] }>;
}

/**
 * `terraform plan` of a module (files: path → base64, template.yaml left out) with a state, in a
 * scratch folder removed afterwards; returns `terraform show -json` of the plan.
 */
export async function scratchPlan(
  driver: TerraformDriver,
  o: { files: Record<string, string>; state: Buffer | undefined; env: Record<string, string>; args: string[]; timeoutMs: number },
): Promise<PlanJson> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'coder-git-plan-'));
  try {
    for (const [rel, b64] of Object.entries(o.files)) {
      if (rel === 'template.yaml') continue;
      const abs = path.join(dir, rel);
      await mkdir(path.dirname(abs), { recursive: true });
      await writeFile(abs, Buffer.from(b64, 'base64'));
    }
    if (o.state) await writeFile(path.join(dir, 'terraform.tfstate'), o.state);
    const lines: string[] = [];
    const onLine = (_: string, l: string) => lines.push(l);
    const { timeoutMs, env } = o;
    let r = await driver.run(['init', '-input=false', '-backend=false'], { cwd: dir, env: {}, onLine, timeoutMs });
    if (r.code !== 0) throw new Error(`terraform init failed: ${lastError(lines)}`);
    r = await driver.run(['plan', '-input=false', '-lock=false', '-out=coder-git.tfplan', ...o.args], { cwd: dir, env, onLine, timeoutMs });
    if (r.code !== 0) throw new Error(`terraform plan failed: ${lastError(lines)}`);
    let json = '';
    r = await driver.run(['show', '-json', 'coder-git.tfplan'], { cwd: dir, env, onLine: (s, l) => (s === 'stdout' ? (json += l) : lines.push(l)), timeoutMs });
    if (r.code !== 0) throw new Error(`terraform show failed: ${lastError(lines)}`);
    return JSON.parse(json) as PlanJson;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function lastError(lines: string[]): string {
  const err = lines.findIndex((l) => /Error:/.test(l));
  return (err >= 0 ? lines.slice(err, err + 4) : lines.slice(-3)).map((l) => l.replace(/^[│╷╵\s]+/, '')).filter(Boolean).join(' ');
}
