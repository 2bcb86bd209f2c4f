// Validation, stage two: how the files fit together. Users have unique emails; templates declare a
// Terraform variable for every parameter and nothing Terraform would have to ask for; workspaces
// name an active owner and an existing template, set only declared parameters with valid values,
// and keep their schedule within the template's limits.

import type { ErrorObject } from 'ajv';
import type { Diagnostic } from './diagnostics.ts';
import type { At, FileSet, Loaded } from './fileset.ts';
import type { SourceFile } from './source.ts';
import { parameterValidator } from './schemas.ts';
import { didYouMean, schemaDiagnostics, show } from './messages.ts';
import { readModule } from './terraform-module.ts';
import { parseCron } from '../time/cron.ts';
import { formatDuration, isDuration, parseDuration } from '../time/duration.ts';
import { BUILTIN_VARIABLES, PORT_SHARES, type ParameterSpec, type Template } from './types.ts';
import type { ParsedFile, PathSeg } from './yaml.ts';
import { checkGroups, checkQuotas, checkTemplateCost, checkUserDefaults } from './crossref-governance.ts';

const MIN_TTL_MS = 60_000;

export function crossCheck(set: FileSet): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (file: string, parsed: ParsedFile | undefined, path: PathSeg[], message: string, code: Diagnostic['code'], key = false, severity: Diagnostic['severity'] = 'error') => {
    const p = parsed ? parsed.locate(path, key) : { line: 1, col: 1 };
    out.push({ file, line: p.line, col: p.col, severity, code, message });
  };
  const deployment = set.deployment && !set.deployment.broken ? set.deployment : undefined;
  checkUsers(set, at);
  checkGroups(set, at);
  // Without readable deployment settings (already reported), nothing is known of terraform.variables.
  // A variable also has a value when terraform.env passes TF_VAR_<name> on from the runner (a secret).
  const fromEnv = (deployment?.value.terraform.env ?? []).filter((e) => e.startsWith('TF_VAR_')).map((e) => e.slice('TF_VAR_'.length));
  const deploymentVars = deployment ? new Set([...Object.keys(deployment.value.terraform.variables), ...fromEnv]) : undefined;
  if (deployment) {
    for (const v of Object.keys(deployment.value.terraform.variables)) {
      if (v.startsWith('coder_')) at('coder-git.yaml', deployment.parsed, ['terraform', 'variables', v], `terraform.variables: "${v}" is a built-in variable that coder-git sets itself; remove it`, 'reference', true);
    }
  }
  for (const [name, files] of set.templateFiles) {
    const t = set.templates.get(name);
    if (!files.has('template.yaml')) {
      const first = [...files.keys()].sort()[0]!;
      out.push({ file: `templates/${name}/${first}`, line: 1, col: 1, severity: 'error', code: 'location', message: `templates/${name}/ has no template.yaml; add one (apiVersion: coder-git/v1, kind: Template) or move these files out of templates/` });
    }
    if (t && !t.broken && !checkTemplate(t, files, deploymentVars, at, out)) t.broken = 'schema';
  }
  for (const ws of set.workspaces.values()) checkWorkspace(ws, set, at);
  checkQuotas(set, at);
  // Subdomain apps live under the deployment's wildcard domain: without one they cannot be reached.
  if (deployment && !deployment.value.wildcard_access_url) {
    for (const t of set.templates.values()) {
      if (t.broken) continue;
      for (const [name, a] of Object.entries(t.value.apps ?? {})) {
        if (a?.subdomain) at(t.value.file, t.parsed, ['apps', name, 'subdomain'], `apps.${name}.subdomain: true, but coder-git.yaml sets no wildcard_access_url (like https://*.apps.example.com), so the app could not be reached; set one, or serve the app under the path (subdomain: false)`, 'reference');
      }
    }
  }
  return out;
}


function checkUsers(set: FileSet, at: At): void {
  const byEmail = new Map<string, Loaded<import('./types.ts').User>>();
  const byGithub = new Map<string, Loaded<import('./types.ts').User>>();
  const settings = set.deployment && !set.deployment.broken ? set.deployment.value : undefined;
  for (const u of set.users.values()) {
    if (u.broken) continue;
    const { value: user, parsed } = u;
    const key = user.email.toLowerCase();
    const first = byEmail.get(key);
    if (first) {
      const p = first.parsed.locate(['email']);
      at(user.file, parsed, ['email'], `email: "${user.email}" is already the email of ${first.value.file}:${p.line}; each user needs their own`, 'reference');
    } else byEmail.set(key, u);
    // (GitHub logins are case-insensitive: sign-in matches them so)
    const gh = user.github?.toLowerCase();
    const firstGh = gh === undefined ? undefined : byGithub.get(gh);
    if (firstGh) {
      at(user.file, parsed, ['github'], `github: "${user.github}" is already the GitHub login of ${firstGh.value.file}:${firstGh.parsed.locate(['github']).line}; a GitHub account signs in as one user`, 'reference');
    } else if (gh !== undefined) byGithub.set(gh, u);
    if (user.password_hash !== undefined && user.login !== 'password') {
      at(user.file, parsed, ['password_hash'], `password_hash is only used with login: password (this user has login: ${user.login}); remove it or change login`, 'reference', true);
    }
    checkUserDefaults(u, at);
    if (!settings) continue;
    if (user.login === 'oidc' && !settings.auth.oidc) {
      at(user.file, parsed, ['login'], 'login: oidc, but coder-git.yaml configures no auth.oidc; this user cannot sign in until it does', 'reference', false, 'warning');
    }
    if (user.login === 'github' && !settings.auth.github) {
      at(user.file, parsed, ['login'], 'login: github, but coder-git.yaml configures no auth.github; this user cannot sign in until it does', 'reference', false, 'warning');
    }
    if (user.login === 'password' && !settings.auth.password.enabled) {
      at(user.file, parsed, ['login'], 'login: password, but coder-git.yaml sets auth.password.enabled: false; this user cannot sign in', 'reference', false, 'warning');
    }
  }
}

const TF_TYPES: Record<ParameterSpec['type'], string> = { string: 'string', number: 'number', integer: 'number', boolean: 'bool' };

/** Checks a template and its module; false when its parameter declarations are wrong (so workspaces cannot be checked against them). */
function checkTemplate(loaded: Loaded<Template>, files: Map<string, SourceFile>, deploymentVars: Set<string> | undefined, at: At, out: Diagnostic[]): boolean {
  const { value: t, parsed } = loaded;
  for (const [rel, f] of files) if (f.content) t.files.set(rel, f.content);
  const dir = `templates/${t.name}`;
  const module = readModule(dir, t.files);
  if (module.files.length === 0) {
    at(t.file, parsed, [], `${dir}/ has no .tf files; a template is a Terraform module beside template.yaml`, 'terraform');
  }
  for (const p of [...module.errors, ...module.refused]) out.push({ file: p.file, line: p.line, col: p.col, severity: 'error', code: 'terraform', message: p.message });
  const vars = module.variables;
  // A file that cannot be read leaves its variables unknown: checking them would only guess.
  const checkVariables = module.errors.length === 0;

  let specsOk = true;
  for (const [pname, spec] of Object.entries(t.parameters)) {
    if (!checkParameterSpec(t, parsed, pname, spec, at)) specsOk = false;
    if (!checkVariables || module.files.length === 0) continue;
    const v = vars.get(pname);
    if (!v) {
      at(t.file, parsed, ['parameters', pname], `parameters.${pname}: no variable "${pname}" in ${dir}/*.tf; declare it: variable "${pname}" { type = ${TF_TYPES[spec.type]} }`, 'terraform', true);
    } else if (v.type !== undefined && v.type !== 'any' && v.type !== TF_TYPES[spec.type]) {
      out.push({ file: v.file, line: v.line, col: v.col, severity: 'error', code: 'terraform', message: `variable "${pname}" has type ${v.type}, but parameter ${pname} in template.yaml is ${spec.type} (Terraform type ${TF_TYPES[spec.type]})` });
    }
  }
  if (checkVariables) {
    for (const v of vars.values()) {
      if (v.name.startsWith('coder_')) {
        if (!(BUILTIN_VARIABLES as readonly string[]).includes(v.name)) {
          out.push({ file: v.file, line: v.line, col: v.col, severity: 'error', code: 'terraform', message: `variable "${v.name}" is not a coder-git built-in${didYouMean(v.name, BUILTIN_VARIABLES)}; built-ins: ${BUILTIN_VARIABLES.join(', ')}` });
        }
      } else if (deploymentVars && !v.hasDefault && !module.values.has(v.name) && !(v.name in t.parameters) && !deploymentVars.has(v.name)) {
        out.push({ file: v.file, line: v.line, col: v.col, severity: 'error', code: 'terraform', message: `variable "${v.name}" has no default and no value: declare it as a parameter in template.yaml, give it a default, or set it in coder-git.yaml terraform.variables (or, for a secret, list TF_VAR_${v.name} in terraform.env); otherwise Terraform would stop to ask for it` });
      }
    }
  }
  if (specsOk) checkTemplateCost(loaded, at);
  const { default_ttl, max_ttl } = t.schedule;
  for (const [k, v] of [['default_ttl', default_ttl], ['max_ttl', max_ttl]] as const) {
    if (v !== undefined && parseDuration(v) < MIN_TTL_MS) at(t.file, parsed, ['schedule', k], `schedule.${k}: ${v} is too short; at least 1m`, 'schedule');
  }
  if (default_ttl && max_ttl && parseDuration(default_ttl) > parseDuration(max_ttl)) {
    at(t.file, parsed, ['schedule', 'default_ttl'], `schedule.default_ttl: ${default_ttl} is longer than max_ttl ${max_ttl}`, 'schedule');
  }
  return specsOk;
}

function checkParameterSpec(t: Template, parsed: ParsedFile, pname: string, spec: ParameterSpec, report: At): boolean {
  let ok = true;
  const at: At = (...args) => {
    ok = false;
    report(...args);
  };
  const base = ['parameters', pname];
  const isNum = spec.type === 'number' || spec.type === 'integer';
  for (const k of ['minimum', 'maximum'] as const) {
    if (spec[k] !== undefined && !isNum) at(t.file, parsed, [...base, k], `parameters.${pname}.${k} applies only to number and integer parameters`, 'schema', true);
  }
  for (const k of ['minLength', 'maxLength', 'pattern'] as const) {
    if (spec[k] !== undefined && spec.type !== 'string') at(t.file, parsed, [...base, k], `parameters.${pname}.${k} applies only to string parameters`, 'schema', true);
  }
  if (spec.minimum !== undefined && spec.maximum !== undefined && spec.minimum > spec.maximum) {
    at(t.file, parsed, [...base, 'minimum'], `parameters.${pname}: minimum ${spec.minimum} is more than maximum ${spec.maximum}`, 'schema');
  }
  const typeOnly = parameterValidator({ type: spec.type });
  spec.enum?.forEach((v, i) => {
    if (!typeOnly(v)) at(t.file, parsed, [...base, 'enum', i], `parameters.${pname}.enum[${i}]: ${show(v)} is not ${articled(spec.type)}`, 'schema');
  });
  if (spec.default !== undefined) {
    const errors = parameterErrors(spec, spec.default);
    for (const d of schemaDiagnostics(t.file, prefixed(errors, `/parameters/${pname}/default`), parsed)) at(t.file, parsed, [...base, 'default'], `${d.message} (the parameter's own default)`, 'schema');
  }
  return ok;
}

function articled(type: string): string {
  return type === 'integer' ? 'a whole number' : type === 'boolean' ? 'true or false' : `a ${type}`;
}

function parameterErrors(spec: ParameterSpec, value: unknown): ErrorObject[] {
  const v = parameterValidator(spec as unknown as Record<string, unknown>);
  return v(value) ? [] : [...(v.errors ?? [])];
}

function prefixed(errors: ErrorObject[], prefix: string): ErrorObject[] {
  return errors.map((e) => ({ ...e, instancePath: prefix + e.instancePath }));
}

/** Shared ports: each once, and no wider than the template allows (its max_port_share). */
function checkPorts(ws: import('./types.ts').Workspace, parsed: ParsedFile, t: Template, at: At): void {
  const seen = new Map<number, number>();
  const max = PORT_SHARES.indexOf(t.max_port_share);
  ws.ports.forEach((p, i) => {
    if (!p || typeof p.port !== 'number') return; // the schema has said what is wrong
    const first = seen.get(p.port);
    if (first !== undefined) at(ws.file, parsed, ['ports', i, 'port'], `ports[${i}].port: ${p.port} is already shared by ports[${first}]; share each port once`, 'reference');
    else seen.set(p.port, i);
    if (PORT_SHARES.indexOf(p.share) > max) {
      at(ws.file, parsed, ['ports', i, 'share'], `ports[${i}].share: "${p.share}" is wider than template "${t.name}" allows (max_port_share: ${t.max_port_share}); use ${PORT_SHARES.slice(0, max + 1).join(' or ')}, or raise max_port_share in ${t.file}`, 'reference');
    }
  });
}

function checkWorkspace(loaded: Loaded<import('./types.ts').Workspace>, set: FileSet, at: At): void {
  const { value: ws, parsed } = loaded;
  if (loaded.broken === 'unreadable') return;
  const schedule: Record<string, unknown> = isObject(ws.schedule) ? ws.schedule : {};
  const owner = set.users.get(ws.owner);
  const ownerPath = 'owner' in (parsed.value as object) ? ['owner'] : [];
  if (!owner) {
    const hint = didYouMean(ws.owner, [...set.users.keys()]);
    at(ws.file, parsed, ownerPath, `owner "${ws.owner}" (the folder name) has no users/${ws.owner}.yaml${hint}; add the user or move the workspace`, 'reference');
  } else if (!owner.broken && owner.value.status !== 'active') {
    const p = owner.parsed.locate(['status']);
    at(ws.file, parsed, ownerPath, `owner "${ws.owner}" is suspended (${owner.value.file}:${p.line}); a workspace needs an active owner: remove the workspace or reactivate the user`, 'reference');
  }
  const tl = typeof ws.template === 'string' ? set.templates.get(ws.template) : undefined;
  if (Array.isArray(ws.ports) && tl && !tl.broken) checkPorts(ws, parsed, tl.value, at);
  if (typeof ws.template !== 'string') {
    // the schema has said what is wrong with it
  } else if (!tl) {
    const known = [...set.templates.keys()];
    const list = known.length ? `; templates: ${known.join(', ')}` : '; there are no templates yet';
    at(ws.file, parsed, ['template'], `template: "${ws.template}" does not exist${didYouMean(ws.template, known)}${list}`, 'reference');
  } else if (!tl.broken && isObject(ws.parameters)) {
    const t = tl.value;
    const declared = Object.keys(t.parameters);
    for (const [pname, value] of Object.entries(ws.parameters)) {
      if (value === null || typeof value === 'object') continue; // the schema has reported it
      const spec = t.parameters[pname];
      if (!spec) {
        const which = declared.length ? `; it declares: ${declared.join(', ')}` : '; it declares none';
        at(ws.file, parsed, ['parameters', pname], `parameters.${pname}: template "${t.name}" has no parameter "${pname}"${didYouMean(pname, declared)}${which}`, 'reference', true);
        continue;
      }
      const errors = parameterErrors(spec, value);
      for (const d of schemaDiagnostics(ws.file, prefixed(errors, `/parameters/${pname}`), parsed)) at(ws.file, parsed, ['parameters', pname], `${d.message} (template "${t.name}")`, 'reference');
    }
    for (const [pname, spec] of Object.entries(t.parameters)) {
      if (spec.default === undefined && !(pname in ws.parameters)) {
        at(ws.file, parsed, 'parameters' in (parsed.value as object) ? ['parameters'] : ['template'], `parameters.${pname}: template "${t.name}" requires a value for "${pname}" (${spec.type}, no default)`, 'reference', true);
      }
    }
    const max = t.schedule.max_ttl;
    if (isDuration(schedule.ttl) && max !== undefined && parseDuration(schedule.ttl) > parseDuration(max)) {
      at(ws.file, parsed, ['schedule', 'ttl'], `schedule.ttl: ${schedule.ttl} is longer than template "${t.name}" allows (max_ttl ${formatDuration(parseDuration(max))})`, 'schedule');
    }
    // A ttl the owner's defaults give is checked against each template it lands on.
    const inherited = owner && !owner.broken && schedule.ttl === undefined ? owner.value.schedule?.ttl : undefined;
    if (isDuration(inherited) && max !== undefined && parseDuration(inherited) > parseDuration(max)) {
      const p = owner!.parsed.locate(['schedule', 'ttl']);
      at(ws.file, parsed, ['template'], `schedule.ttl: the owner's default ${inherited} (${owner!.value.file}:${p.line}) is longer than template "${t.name}" allows (max_ttl ${formatDuration(parseDuration(max))}); set a shorter schedule.ttl in this file`, 'schedule');
    }
  }
  if (isDuration(schedule.ttl) && parseDuration(schedule.ttl) < MIN_TTL_MS) {
    at(ws.file, parsed, ['schedule', 'ttl'], `schedule.ttl: ${schedule.ttl} is too short; at least 1m`, 'schedule');
  }
  if (typeof schedule.autostart === 'string' && schedule.autostart.trim() && schedule.autostart !== 'off') {
    const c = parseCron(schedule.autostart);
    if (!c.ok) at(ws.file, parsed, ['schedule', 'autostart'], `schedule.autostart: ${c.message}`, 'schedule');
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
