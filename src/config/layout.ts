// Where each kind of file lives in a config repo. The path is the identity: users/alice.yaml is
// user alice, workspaces/alice/dev.yaml is alice's workspace dev, templates/local/ is template local.

export const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
export const NAME_RULE = 'a lower-case DNS label: a-z, 0-9 and "-", starting and ending with a letter or digit, at most 32 characters';

export type Placement =
  | { kind: 'deployment' }
  | { kind: 'user'; name: string }
  | { kind: 'group'; name: string }
  | { kind: 'template'; name: string }
  | { kind: 'template-file'; template: string; rel: string }
  | { kind: 'workspace'; owner: string; name: string }
  | { kind: 'ignored' }
  | { kind: 'misplaced'; message: string };

const isYaml = (p: string) => /\.ya?ml$/i.test(p);

export function place(path: string): Placement {
  const parts = path.split('/');
  const top = parts[0]!;
  const misplaced = (message: string): Placement => ({ kind: 'misplaced', message });
  if (parts.length === 1) {
    if (path === 'coder-git.yaml') return { kind: 'deployment' };
    if (/^coder-git\.yml$/i.test(path) || path === 'Coder-git.yaml') return misplaced(`rename it to coder-git.yaml`);
    return isYaml(path) ? misplaced(outside) : { kind: 'ignored' };
  }
  switch (top) {
    case 'users':
      if (!isYaml(path)) return { kind: 'ignored' };
      if (parts.length !== 2) return misplaced('user files live directly in users/, as users/<username>.yaml');
      if (!path.endsWith('.yaml')) return misplaced(`use the .yaml extension: users/${stem(parts[1]!)}.yaml`);
      return { kind: 'user', name: stem(parts[1]!) };
    case 'groups':
      if (!isYaml(path)) return { kind: 'ignored' };
      if (parts.length !== 2) return misplaced('group files live directly in groups/, as groups/<name>.yaml');
      if (!path.endsWith('.yaml')) return misplaced(`use the .yaml extension: groups/${stem(parts[1]!)}.yaml`);
      return { kind: 'group', name: stem(parts[1]!) };
    case 'templates':
      if (parts.length === 2) return isYaml(path) ? misplaced('a template is a folder: templates/<name>/template.yaml beside its .tf files') : { kind: 'ignored' };
      if (parts.length === 3 && /^template\.ya?ml$/i.test(parts[2]!) && parts[2] !== 'template.yaml') {
        return misplaced(`name it template.yaml: templates/${parts[1]}/template.yaml`);
      }
      if (parts.length === 3 && parts[2] === 'template.yaml') return { kind: 'template', name: parts[1]! };
      return { kind: 'template-file', template: parts[1]!, rel: parts.slice(2).join('/') };
    case 'workspaces':
      if (!isYaml(path)) return { kind: 'ignored' };
      if (parts.length !== 3) return misplaced('workspace files live at workspaces/<owner>/<name>.yaml');
      if (!path.endsWith('.yaml')) return misplaced(`use the .yaml extension: workspaces/${parts[1]}/${stem(parts[2]!)}.yaml`);
      return { kind: 'workspace', owner: parts[1]!, name: stem(parts[2]!) };
    default:
      return isYaml(path) ? misplaced(outside) : { kind: 'ignored' };
  }
}

const outside =
  'not a coder-git file: config files are coder-git.yaml, users/<name>.yaml, groups/<name>.yaml, templates/<name>/template.yaml and workspaces/<owner>/<name>.yaml; move it, or into a folder whose name starts with "." to keep it out of coder-git\'s way';

function stem(f: string): string {
  return f.replace(/\.ya?ml$/i, '');
}
