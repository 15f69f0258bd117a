import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

const load = (name: string): object => JSON.parse(readFileSync(new URL(`../../../schema/${name}`, import.meta.url), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addSchema(load('trace.schema.json'));
const validate = ajv.compile(load('runset.schema.json'));

/** Schema errors of a run set as written to a file (JSON round trip); [] when valid. */
export function runSetSchemaErrors(set: unknown): string[] {
  if (validate(JSON.parse(JSON.stringify(set)))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
