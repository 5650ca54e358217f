// Regenerates services/auditor/openapi.json from http/openapi.ts: `npm run openapi -w @chainlog/auditor`.
import { writeFileSync } from 'node:fs';
import { buildOpenApiDocument } from './http/openapi.js';

const target = new URL('../openapi.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
