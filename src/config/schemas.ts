// The JSON Schemas in schemas/ and their compiled validators. Editors use the same files
// (through the yaml-language-server modeline that scaffolded files start with).

import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { pkgPath } from '../paths.ts';

export const SCHEMA_KINDS = ['deployment', 'user', 'group', 'template', 'workspace'] as const;
export type SchemaKind = (typeof SCHEMA_KINDS)[number];

export const KIND_NAMES: Record<SchemaKind, string> = {
  deployment: 'Deployment',
  user: 'User',
  group: 'Group',
  template: 'Template',
  workspace: 'Workspace',
};

// ajv-formats is CommonJS with its function on `default` as well as on module.exports.
type FormatsPlugin = (ajv: Ajv2020, formats: string[]) => Ajv2020;
const addFormats: FormatsPlugin = (formatsModule as unknown as { default?: FormatsPlugin }).default ?? (formatsModule as unknown as FormatsPlugin);

export function schemaText(kind: SchemaKind): string {
  return readFileSync(pkgPath('schemas', `${kind}.json`), 'utf8');
}

type Ajv = Ajv2020;

function makeAjv(): Ajv {
  // verbose: errors carry their schema, so a pattern's patternErrorMessage can be shown.
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: true, verbose: true, allowUnionTypes: true });
  ajv.addVocabulary(['patternErrorMessage']);
  addFormats(ajv, ['email', 'uri', 'hostname']);
  // ajv-formats checks "regex" without the u flag, but ajv compiles `pattern` with it: a pattern like
  // "a-z]" would pass the check and then fail to compile. Check it the way it will be used.
  ajv.addFormat('regex', { type: 'string', validate: isUnicodeRegExp });
  return ajv;
}

export function isUnicodeRegExp(s: string): boolean {
  try {
    new RegExp(s, 'u');
    return true;
  } catch {
    return false;
  }
}

let compiled: { ajv: Ajv; validators: Record<SchemaKind, ValidateFunction> } | undefined;

function load() {
  if (!compiled) {
    const ajv = makeAjv();
    const validators = {} as Record<SchemaKind, ValidateFunction>;
    for (const kind of SCHEMA_KINDS) validators[kind] = ajv.compile(JSON.parse(schemaText(kind)));
    compiled = { ajv, validators };
  }
  return compiled;
}

/** Validates and fills in defaults (mutates value). */
export function validateSchema(kind: SchemaKind, value: unknown): ErrorObject[] {
  const v = load().validators[kind]!;
  return v(value) ? [] : [...(v.errors ?? [])];
}

const paramValidators = new Map<string, ValidateFunction>();
// Workspaces ask for the same declarations over and over: by object first, then by content.
const bySpec = new WeakMap<object, ValidateFunction>();

const PARAMETER_KEYWORDS: Record<string, string[]> = {
  string: ['enum', 'minLength', 'maxLength', 'pattern'],
  number: ['enum', 'minimum', 'maximum'],
  integer: ['enum', 'minimum', 'maximum'],
  boolean: ['enum'],
};

/**
 * A validator for one template parameter's values, cached by the parameter's declaration. Keywords
 * that do not apply to the type are left out (the template's own check reports them), so a wrong
 * declaration can never make compiling fail.
 */
export function parameterValidator(spec: Record<string, unknown>): ValidateFunction {
  const known = bySpec.get(spec);
  if (known) return known;
  const type = String(spec.type);
  const schema: Record<string, unknown> = { type };
  for (const k of PARAMETER_KEYWORDS[type] ?? []) if (spec[k] !== undefined) schema[k] = spec[k];
  const key = JSON.stringify(schema);
  let v = paramValidators.get(key);
  if (!v) {
    v = load().ajv.compile(schema);
    paramValidators.set(key, v);
  }
  bySpec.set(spec, v);
  return v;
}
