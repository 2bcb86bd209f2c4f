// Rendered plans (text, markdown, json) kept as golden files, so the interface cannot drift silently.
// UPDATE_GOLDEN=1 npm test -- plan/render  rewrites them after an intended change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateSource } from '../../src/config/validate.ts';
import { diff } from '../../src/plan/diff.ts';
import { renderPlan, PLAN_FORMATS } from '../../src/plan/render.ts';
import type { AppliedState } from '../../src/db/state.ts';
import type { WorkspaceRow } from '../../src/db/repos/workspaces.ts';
import { aliceDev, baseFiles } from '../fixtures/base.ts';
import { golden } from '../helpers/golden.ts';


test('a plan with every kind of change, in every format', () => {
  const files = Object.entries({ ...baseFiles(), 'workspaces/alice/dev.yaml': aliceDev.replace('cpu: 4', 'cpu: 6'), 'groups/devs.yaml': 'apiVersion: coder-git/v1\nkind: Group\nmembers: [bob]\nroles: [auditor]\n' }).map(([path, c]) => ({ path, size: 1, content: Buffer.from(String(c)), kind: 'file' as const }));
  const desired = validateSource({ dir: '/x', ref: undefined, commit: undefined, files }).state!;
  const applied: AppliedState = {
    users: new Map([
      ['alice', { id: 'u1', username: 'alice', email: 'alice@old.example.com', full_name: 'Alice Liddell', roles: ['owner'], login_type: 'password', status: 'active', password_hash: null, groups: [], quota: {}, defaults: {} }],
      ['zed', { id: 'u3', username: 'zed', email: 'zed@example.com', full_name: null, roles: ['member'], login_type: 'none', status: 'active', password_hash: null, groups: [], quota: {}, defaults: {} }],
    ]),
    groups: new Map([['old-team', { name: 'old-team', display_name: null, members: ['zed'], roles: [], oidc_group: null, quota: {} }]]),
    templates: new Map([['small', { id: 't1', name: 'small', display_name: 'Small', description: null, icon: null, active_version_id: 'v1', active_hash: '0123456789abcdef' }]]),
    workspaces: new Map<string, WorkspaceRow>([
      ['alice/dev', { id: 'w1', owner: 'alice', name: 'dev', template: 'small', template_version_id: 'v1', content_hash: '0123456789abcdef', parameters: { cpu: 4, image: 'debian-12', label: 'dev' }, desired_state: 'running', schedule: { autostart: 'CRON_TZ=Europe/Berlin 0 9 * * 1-5', ttl: '8h' }, build_id: 'b1', build_number: 3, build_transition: 'start', build_status: 'succeeded' }],
      ['zed/old', { id: 'w2', owner: 'zed', name: 'old', template: 'small', template_version_id: 'v1', content_hash: '0123456789abcdef', parameters: {}, desired_state: 'stopped', schedule: {}, build_id: 'b2', build_number: 1, build_transition: 'stop', build_status: 'succeeded' }],
    ]),
    lastApplied: null,
    deployment: { ...desired.deployment, access_url: 'https://old.example.com' },
  };
  const plan = diff(desired, applied);
  const dev = plan.workspaces.find((w) => w.key === 'alice/dev')!;
  dev.terraform = { resources: [{ address: 'terraform_data.w', action: 'replace' }], add: 1, change: 0, destroy: 1 };
  // as addTerraformPlans records it: the first line on the workspace, the whole diagnostic among the errors
  const tfError = 'terraform plan failed:\nError: something went wrong\n\n  on main.tf line 3, in resource "terraform_data" "w":\n   3:   input = var.cpu | 1\n\nA second line of its cause.';
  plan.workspaces.find((w) => w.key === 'zed/old')!.terraformError = tfError;
  plan.errors.push({ key: 'zed/old', file: 'templates/small/main.tf:3', message: `terraform could not plan zed/old: ${tfError}` });
  for (const f of PLAN_FORMATS) golden(`plan/plan.${f === 'markdown' ? 'md' : f === 'json' ? 'json' : 'txt'}`, renderPlan(f, plan));
});

test.run();
