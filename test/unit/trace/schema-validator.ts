import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Trace } from '../../../src/trace/types.js';

const schema: unknown = JSON.parse(readFileSync(new URL('../../../schema/trace.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(schema as object);

/** Schema errors of a trace as it would be written to a file (JSON round trip); [] when valid. */
export function schemaErrors(trace: Trace): string[] {
  const asWritten: unknown = JSON.parse(JSON.stringify(trace));
  if (validate(asWritten)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
