import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { REPO_ROOT } from './helpers.js';

/** The published report schema, compiled once; every JSON report the tests produce passes it. */
const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'report.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

export function assertValidReport(report: unknown): void {
  if (!validate(JSON.parse(JSON.stringify(report))))
    throw new Error(
      `report does not match schemas/report.schema.json: ${JSON.stringify(validate.errors?.slice(0, 5))}`,
    );
}
