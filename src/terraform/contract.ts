// The Terraform contract in one place (README: Templates and the Terraform contract): the
// variables and Coder-compatible environment a template gets for a build or a plan, the agent
// command it may start, and where a workspace's working directory is.
import path from 'node:path';
import { pkgPath } from '../paths.ts';
import type { BuildContext } from '../db/repos/builds.ts';
import type { Deployment, Scalar } from '../config/types.ts';
import { shellQuote } from '../shell.ts';

/** Where the server serves the agent's installer (src/server/agent-install.ts). */
export const INSTALL_SCRIPT_PATH = '/api/v1/agent/install.sh';

/** This coder-git's agent, as a shell command line: what templates get as coder_agent_command. */
export function defaultAgentCommand(): string {
  return [process.execPath, pkgPath('bin', 'coder-git.js'), 'agent'].map(shellQuote).join(' ');
}

export function workDir(dataDir: string, workspaceId: string): string {
  return path.join(dataDir, 'work', workspaceId);
}

/** What the variables of a build are made from (a build, or the plan of one). */
export type BuildSubject = Pick<BuildContext, 'workspace_id' | 'workspace' | 'owner' | 'owner_email' | 'template' | 'transition' | 'parameters'>;

/** Terraform variables and Coder-compatible environment for a build (README: Terraform contract). */
export function buildVariables(b: BuildSubject, deployment: Deployment, agentToken: string, agentCommand = ''): Record<string, string> {
  const vars: Record<string, Scalar> = {
    ...deployment.terraform.variables,
    ...b.parameters,
    coder_workspace_id: b.workspace_id,
    coder_workspace_name: b.workspace,
    coder_workspace_owner: b.owner,
    coder_workspace_owner_email: b.owner_email,
    coder_workspace_transition: b.transition === 'delete' ? 'stop' : b.transition,
    coder_access_url: deployment.access_url,
    coder_agent_token: agentToken,
    coder_agent_command: agentCommand,
    coder_agent_init_script: agentInitScript(deployment.access_url),
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) out[`TF_VAR_${k}`] = String(v);
  Object.assign(out, {
    CODER_WORKSPACE_ID: b.workspace_id,
    CODER_WORKSPACE_NAME: b.workspace,
    CODER_WORKSPACE_OWNER: b.owner,
    CODER_WORKSPACE_OWNER_NAME: b.owner,
    CODER_WORKSPACE_OWNER_EMAIL: b.owner_email,
    CODER_WORKSPACE_TRANSITION: b.transition === 'delete' ? 'stop' : b.transition,
    CODER_WORKSPACE_TEMPLATE_NAME: b.template,
    CODER_URL: deployment.access_url,
  });
  return out;
}


/**
 * coder_agent_init_script: what a template puts in a container's entrypoint, a pod's command or a
 * VM's user data (Coder's coder_agent.init_script). A POSIX sh script that fetches install.sh from the
 * server (CODER_AGENT_URL if the workspace has it, else the access URL), retrying while the server is
 * not reachable yet, and runs it; the token comes from CODER_AGENT_TOKEN in the environment.
 */
export function agentInitScript(accessUrl: string): string {
  return `#!/bin/sh
# coder-git: fetch the agent from the server and run it
access_url=${shellQuote(accessUrl.replace(/\/+$/, ''))}
CODER_AGENT_URL="\${CODER_AGENT_URL:-$access_url}"
export CODER_AGENT_URL
u="\${CODER_AGENT_URL%/}${INSTALL_SCRIPT_PATH}"
if command -v curl >/dev/null 2>&1; then get="curl -fsSL"
elif command -v wget >/dev/null 2>&1; then get="wget -qO-"
else echo "coder-git agent: neither curl nor wget is installed in this image: it needs one of them (busybox's wget counts)" >&2; exit 1
fi
until script=$($get "$u"); do
  echo "coder-git agent: cannot fetch $u yet; trying again in 5 s" >&2
  sleep 5
done
exec sh -c "$script"
`;
}
