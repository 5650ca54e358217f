#!/usr/bin/env node
// The `chainlog` command. It runs the compiled dist when that is up to date with the sources (the
// container image has only dist), and otherwise, in a clone with tsx, the TypeScript sources: never stale,
// fast when built.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const services = dirname(root);
const source = join(root, 'src', 'main.ts');
const compiled = join(root, 'dist', 'main.js');
// The workspaces the CLI's dist is built from (tsc -b writes each one's tsbuildinfo when it builds it).
const WORKSPACES = ['core', 'cli'];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

function distIsFresh() {
  if (!existsSync(compiled)) return false;
  try {
    return WORKSPACES.every((workspace) => {
      const src = join(services, workspace, 'src');
      if (!existsSync(src)) return true;
      const buildInfo = join(services, workspace, 'tsconfig.tsbuildinfo');
      return existsSync(buildInfo) && statSync(buildInfo).mtimeMs >= newestMtime(src);
    });
  } catch {
    return false;
  }
}

function tsxLoader() {
  if (!existsSync(source)) return undefined;
  try {
    return createRequire(import.meta.url).resolve('tsx');
  } catch {
    return undefined;
  }
}

const loader = process.env.CHAINLOG_CLI_FROM_DIST === '1' || distIsFresh() ? undefined : tsxLoader();
if (loader === undefined) {
  if (!existsSync(compiled)) {
    process.stderr.write('chainlog: the CLI is not built; run `npm run build` (or `npm ci` for the tsx dev dependency)\n');
    process.exit(1);
  }
  await import(pathToFileURL(compiled).href);
} else {
  const child = spawn(
    process.execPath,
    ['--conditions=@chainlog/source', '--import', pathToFileURL(loader).href, source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  // A terminal's Ctrl-C reaches the child directly; signals sent to this process alone are passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  }
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
}
