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
    if (r.code !== 0) throw new Error(`terraform init failed:\n${diagnostics(lines)}`);
    r = await driver.run(['plan', '-input=false', '-lock=false', '-out=coder-git.tfplan', ...o.args], { cwd: dir, env, onLine, timeoutMs });
    if (r.code !== 0) throw new Error(`terraform plan failed:\n${diagnostics(lines)}`);
    let json = '';
    r = await driver.run(['show', '-json', 'coder-git.tfplan'], { cwd: dir, env, onLine: (s, l) => (s === 'stdout' ? (json += l) : lines.push(l)), timeoutMs });
    if (r.code !== 0) throw new Error(`terraform show failed:\n${diagnostics(lines)}`);
    return JSON.parse(json) as PlanJson;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** At most this many lines of terraform's diagnostics in a message (a template with 200 errors must not make a comment GitHub refuses). */
const MAX_DIAGNOSTIC_LINES = 60;

/**
 * Terraform's errors as it wrote them, without the box drawing: every `Error:` block whole (its
 * summary, where it is, the cause), not its first lines, so a second error or the cause after a
 * blank line is not lost. Without colour (as the driver runs it) terraform draws no boxes: an error
 * runs until the next `Warning:` or the end, where terraform prints them. Warnings are left out.
 * Without an `Error:` (a crash), the last lines.
 */
export function diagnostics(lines: string[]): string {
  const out: string[] = [];
  let inError = false;
  for (const raw of lines) {
    const l = raw.replace(/^\s*[│╷╵] ?/, '').trimEnd();
    if (/^Error: /.test(l)) {
      if (out.length) out.push('');
      inError = true;
    } else if (/^Warning: /.test(l)) inError = false;
    if (/^\s*╵/.test(raw)) inError = false;
    else if (inError) out.push(l);
  }
  const kept = out.length ? out : lines.slice(-5).map((l) => l.trimEnd());
  while (kept.length && !kept[kept.length - 1]) kept.pop();
  const cut = kept.length > MAX_DIAGNOSTIC_LINES ? [...kept.slice(0, MAX_DIAGNOSTIC_LINES), `… ${kept.length - MAX_DIAGNOSTIC_LINES} more lines`] : kept;
  return cut.join('\n');
}

/** Where the first error is, as terraform says it: `on main.tf line 2, in …` → { file: 'main.tf', line: 2 }. */
export function diagnosticPlace(message: string): { file: string; line: number } | undefined {
  const m = /^\s*on (\S+) line (\d+)/m.exec(message);
  return m ? { file: m[1]!, line: Number(m[2]) } : undefined;
}
