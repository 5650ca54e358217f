// Writes the protocol's generated SHA-256 kernels (services/core/src/protocol/hashing/generated/) from their
// generators: `npm run kernels -w @chainlog/core`. Generated ahead of time so that nothing compiles code at
// run time (the explorer's Content-Security-Policy has no 'unsafe-eval').
import { writeFileSync } from 'node:fs';
import { kernelModules } from '../services/core/src/protocol/hashing/kernel-modules.js';

const dir = new URL('../services/core/src/protocol/hashing/generated/', import.meta.url);
for (const [name, text] of Object.entries(kernelModules())) {
  writeFileSync(new URL(name, dir), text);
  console.log(`wrote ${new URL(name, dir).pathname}`);
}
