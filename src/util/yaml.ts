import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let yaml: typeof Yaml | undefined;

/**
 * The yaml package, loaded on first use: loading it is a noticeable part of a start-up, and only
 * policy files, catalogues and Alpine secdb feeds need it.
 */
export function loadYaml(): typeof Yaml {
  return (yaml ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
