// First step of `npm start` on a fresh clone: installs the dependencies (npm ci) when they are missing,
// so that `npm start` alone goes from clone to running ledger. Plain JavaScript: it runs before tsx exists.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');

if (!existsSync(join(root, 'node_modules', 'tsx')) || !existsSync(installed)) {
  process.stdout.write('chainlog: installing dependencies (npm ci)…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write('chainlog: npm ci failed (see above)\n');
    process.exit(1);
  }
} else if (statSync(lock).mtimeMs > statSync(installed).mtimeMs + 1000) {
  process.stdout.write('chainlog: package-lock.json changed since the last install; run `npm ci` if the start fails\n');
}
