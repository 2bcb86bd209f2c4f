// A template's Terraform module as Terraform loads it, for what validation cross-checks: the
// variables it declares (with their type, whether they have a default, and where), merged from
// .tf and .tf.json files in name order, then override files (override.tf, *_override.tf and their
// .tf.json forms) changing what those declared; and which variables get a value from the files
// Terraform reads by itself (terraform.tfvars, *.auto.tfvars and their .json forms). And that
// every local module source, in any of the template's files, stays inside the template's folder:
// a build gets that folder and nothing else, so a path out of it reaches the runner's own disk.

import path from 'node:path';
import { parseHcl, type HclItem, type Pos } from './hcl.ts';

export interface TfVariable {
  name: string;
  file: string;
  line: number;
  col: number;
  hasDefault: boolean;
  /** the type expression as written (string, number, bool, list(string), …), if any */
  type: string | undefined;
}

export interface ModuleProblem extends Pos {
  file: string;
  message: string;
}

export interface TfModule {
  /** the module's own files (.tf, .tf.json), by name */
  files: string[];
  variables: Map<string, TfVariable>;
  /** variables given a value by terraform.tfvars or *.auto.tfvars(.json) */
  values: Set<string>;
  /** a file that cannot be read: the variable checks of this module would be guesses */
  errors: ModuleProblem[];
  /** declarations Terraform or coder-git refuses: twice declared, an override of nothing, a module source out of the folder */
  refused: ModuleProblem[];
}

const isOverride = (f: string) => /(^|_)override\.tf(\.json)?$/.test(f);
const isModuleFile = (f: string) => f.endsWith('.tf') || f.endsWith('.tf.json');
const isVarsFile = (f: string) => /^(terraform\.tfvars|.+\.auto\.tfvars)(\.json)?$/.test(f);

/** Reads the module in `dir` (for messages: templates/<name>) from its files (path → bytes; only top-level files count, as for Terraform). */
export function readModule(dir: string, files: Map<string, Buffer>): TfModule {
  const names = [...files.keys()].filter((f) => !f.includes('/')).sort();
  const m: TfModule = { files: names.filter(isModuleFile), variables: new Map(), values: new Set(), errors: [], refused: [] };
  // Every .tf and .tf.json file, nested modules' too: each is read once, for its module calls.
  const facts = new Map<string, FileFacts>();
  for (const f of [...files.keys()].filter(isModuleFile).sort()) {
    const ff = factsOf(`${dir}/${f}`, files.get(f)!.toString('utf8'), f.endsWith('.json'), m.errors);
    facts.set(f, ff);
    for (const call of ff.modules) {
      const problem = sourceProblem(dir, path.posix.dirname(f), call);
      if (problem) m.refused.push({ file: `${dir}/${f}`, line: call.line, col: call.col, message: problem });
    }
  }
  const declared = (f: string) => facts.get(f)!.variables;
  for (const f of m.files.filter((f) => !isOverride(f))) {
    for (const v of declared(f)) {
      const first = m.variables.get(v.name);
      if (first) m.refused.push({ file: v.file, line: v.line, col: v.col, message: `variable "${v.name}" is declared twice (first at ${first.file}:${first.line})` });
      else m.variables.set(v.name, { ...v, hasDefault: v.hasDefault === true });
    }
  }
  for (const f of m.files.filter(isOverride)) {
    for (const v of declared(f)) {
      const base = m.variables.get(v.name);
      if (!base) {
        m.refused.push({ file: v.file, line: v.line, col: v.col, message: `variable "${v.name}" overrides nothing: no ${dir}/*.tf declares it (override files only change declarations made elsewhere)` });
        continue;
      }
      if (v.hasDefault) base.hasDefault = true;
      if (v.type !== undefined) base.type = v.type;
    }
  }
  for (const f of names.filter(isVarsFile)) for (const name of valuesOf(`${dir}/${f}`, files.get(f)!.toString('utf8'), f.endsWith('.json'), m.errors)) m.values.add(name);
  return m;
}

function factsOf(file: string, text: string, json: boolean, errors: ModuleProblem[]): FileFacts {
  const facts: FileFacts = { variables: [], modules: [] };
  if (json) {
    const doc = readJson(file, text, errors);
    if (!doc) return facts;
    const top = (doc.value ?? {}) as Record<string, unknown>;
    // "variable": { "name": {…} }, or a list of such objects; "module" alike
    const each = (kind: string, fn: (name: string, body: Record<string, unknown>, at: Pos) => void) => {
      const raw = top[kind];
      const groups = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
      for (const [g, group] of groups.entries()) {
        if (!group || typeof group !== 'object') continue;
        for (const [name, body] of Object.entries(group as Record<string, unknown>)) {
          fn(name, (body ?? {}) as Record<string, unknown>, doc.keyAt(Array.isArray(raw) ? `${kind}/${g}/${name}` : `${kind}/${name}`) ?? { line: 1, col: 1 });
        }
      }
    };
    each('variable', (name, b, at) => facts.variables.push({ name, file, ...at, hasDefault: 'default' in b, type: typeof b.type === 'string' ? b.type : undefined }));
    each('module', (name, b, at) => facts.modules.push({ name, ...at, source: typeof b.source === 'string' ? b.source : undefined }));
    return facts;
  }
  const parsed = parseHcl(text);
  if (parsed.error) errors.push({ file, ...parsed.error });
  for (const item of parsed.body) {
    if (item.kind !== 'block' || item.labels.length !== 1) continue;
    const attr = (name: string) => item.body.find((x): x is Extract<HclItem, { kind: 'attribute' }> => x.kind === 'attribute' && x.name === name);
    if (item.type === 'variable') facts.variables.push({ name: item.labels[0]!, file, line: item.line, col: item.col, hasDefault: attr('default') !== undefined, type: attr('type')?.expr });
    else if (item.type === 'module') {
      const src = attr('source');
      facts.modules.push({ name: item.labels[0]!, line: src?.line ?? item.line, col: src?.col ?? item.col, source: src ? literal(src.expr) : undefined });
    }
  }
  return facts;
}

/** A quoted string without interpolation, unquoted; else undefined. */
function literal(expr: string): string | undefined {
  const m = /^"((?:[^"\\$%]|\\.|\$(?!\{)|%(?!\{))*)"$/.exec(expr);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
}

/** Where a module source leads: a message when it leaves the template's folder (or names the runner's disk). */
function sourceProblem(dir: string, fileDir: string, m: ModuleCall): string | undefined {
  const src = m.source;
  if (src === undefined) return undefined; // terraform's own error
  if (src.startsWith('/') || /^file::/.test(src) || /(^|::)file:\/\//.test(src)) {
    return `module "${m.name}": source "${src}" is a path on the runner's disk; put the module inside ${dir}/ and use "./<folder>"`;
  }
  if (src.startsWith('./') || src.startsWith('../')) {
    const resolved = path.posix.normalize(path.posix.join(fileDir, src));
    if (resolved === '..' || resolved.startsWith('../')) {
      return `module "${m.name}": source "${src}" leads out of ${dir}/; a local module must be inside the template's folder (a build gets only that folder), for example ./modules/${path.posix.basename(src) || 'name'}`;
    }
  }
  return undefined;
}

function valuesOf(file: string, text: string, json: boolean, errors: ModuleProblem[]): string[] {
  if (json) {
    const doc = readJson(file, text, errors);
    return doc && doc.value && typeof doc.value === 'object' && !Array.isArray(doc.value) ? Object.keys(doc.value) : [];
  }
  const parsed = parseHcl(text);
  if (parsed.error) errors.push({ file, ...parsed.error });
  return parsed.body.filter((x) => x.kind === 'attribute').map((x) => x.name);
}

interface ModuleCall extends Pos {
  name: string;
  /** a literal source string, else undefined (terraform refuses anything else) */
  source: string | undefined;
}

interface FileFacts {
  variables: TfVariable[];
  modules: ModuleCall[];
}

interface JsonDoc {
  value: unknown;
  /** where an object key is, by its path ("variable/cpu") */
  keyAt(path: string): Pos | undefined;
}

/** JSON with the positions of its keys (JSON.parse knows none), and a line:col for a syntax error. */
function readJson(file: string, text: string, errors: ModuleProblem[]): JsonDoc | undefined {
  const lineCol = (at: number): Pos => {
    const before = text.slice(0, at).split('\n');
    return { line: before.length, col: before[before.length - 1]!.length + 1 };
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const at = /at position (\d+)/.exec(msg);
    const missing = /Expected ',' or '([}\]])'/.exec(msg);
    const why = missing ? `a "${missing[1]}" is missing` : msg.replace(/ in JSON at position \d+.*$/, '').replace(/^Unexpected end of JSON input$/, 'it ends too early');
    errors.push({ file, ...lineCol(at ? Number(at[1]) : text.length), message: `not valid JSON: ${why} (Terraform reads .tf.json files as JSON)` });
    return undefined;
  }
  // The text is valid JSON: walk it once, noting where each key of the first three levels starts.
  const keys = new Map<string, Pos>();
  const stack: { path: string; index: number; isArray: boolean; key?: string }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      const after = /^\s*:/.exec(text.slice(j + 1, j + 40));
      if (top && !top.isArray && after) {
        top.key = JSON.parse(text.slice(i, j + 1)) as string;
        if (stack.length <= 3) keys.set(`${top.path}${top.key}`, lineCol(i));
      }
      i = j;
    } else if (c === '{' || c === '[') {
      const top = stack[stack.length - 1];
      const seg = top ? `${top.isArray ? top.index : top.key}/` : '';
      stack.push({ path: `${top?.path ?? ''}${seg}`, index: 0, isArray: c === '[' });
    } else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.isArray) top.index++;
    }
  }
  return { value, keyAt: (p) => keys.get(p) };
}
