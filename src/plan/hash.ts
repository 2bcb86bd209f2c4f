// Identities of content. A template version is its Terraform module (every file beside
// template.yaml) plus its agent settings, which belong to each build as Coder's coder_agent does:
// any change there is a new version and rebuilds the workspaces; the same content is always the same
// version. Display fields, parameter declarations and schedule limits are metadata: changing a
// template's description rebuilds nothing. (A default's change does rebuild, through the
// workspace's effective parameters.)
import { createHash } from 'node:crypto';
import type { ParameterSpec, Scalar, Template, Workspace } from '../config/types.ts';

export function templateHash(t: Pick<Template, 'files' | 'agent'>): string {
  const h = createHash('sha256');
  for (const p of [...t.files.keys()].sort()) {
    if (p === 'template.yaml') continue;
    h.update(p).update('\0').update(createHash('sha256').update(t.files.get(p)!).digest()).update('\n');
  }
  h.update('agent\0').update(JSON.stringify(t.agent ?? {}));
  return h.digest('hex');
}

/** A workspace's parameters with the template's defaults filled in: what Terraform gets. */
export function effectiveParameters(t: Pick<Template, 'parameters'>, ws: Pick<Workspace, 'parameters'>): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [name, spec] of Object.entries(t.parameters) as [string, ParameterSpec][]) {
    const v = ws.parameters[name] ?? spec.default;
    if (v !== undefined) out[name] = v;
  }
  return out;
}
