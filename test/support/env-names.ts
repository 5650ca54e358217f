// Which environment variables a Chainlog program reads, scanned from its sources: the one scan behind every
// check that compares what a deployment sets (docker-compose, the Helm chart and k8s/, npm start's plan) with
// what the program reads. A program reads what its entry file, its service's config.ts and core's shared config
// readers name: quoted UPPER_CASE names, env.NAME accesses, and NAME_FILE for a secret('NAME').
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.js';

const CORE_CONFIG = 'services/core/src/config';

/**
 * The sources a program's environment is read in, relative to the repository: `entry` is
 * services/<service>/src/<file>.ts, or the services/<service>/dist/<file>.js a container runs.
 */
export function envSources(entry: string): string[] {
  const match = /^(?:\.\/|\/app\/)?services\/([a-z-]+)\/(?:src|dist)\/(.+)\.(?:ts|js)$/.exec(entry);
  if (match === null) throw new Error(`${entry} is not a services/<service>/src/*.ts or dist/*.js entry`);
  const [, service, file] = match as unknown as [string, string, string];
  const source = `services/${service}/src/${file}.ts`;
  if (!existsSync(join(REPO_ROOT, source))) throw new Error(`${source} does not exist (entry ${entry})`);
  const config = `services/${service}/src/config.ts`;
  const core = readdirSync(join(REPO_ROOT, CORE_CONFIG))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `${CORE_CONFIG}/${name}`);
  return [...new Set([source, ...(existsSync(join(REPO_ROOT, config)) ? [config] : []), ...core])];
}

/** The environment variable names the program `entry` reads (see envSources). */
export function envNamesRead(entry: string): Set<string> {
  const names = new Set<string>();
  for (const file of envSources(entry)) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    for (const match of text.matchAll(/(['"`])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{3,})\1/g)) names.add(match[2] as string);
    for (const match of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(match[1] as string);
    for (const match of text.matchAll(/\bsecret\(\s*(['"`])([A-Z0-9_]+)\1/g)) names.add(`${match[2] as string}_FILE`);
  }
  return names;
}
