// Regenerates services/ingest/openapi.json: `npm run openapi -w @chainlog/ingest`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS } from './config.js';
import { renderOpenApiDocument } from './http/openapi.js';

const target = fileURLToPath(new URL('../openapi.json', import.meta.url));
writeFileSync(target, renderOpenApiDocument(DEFAULT_LIMITS));
process.stdout.write(`wrote ${target}\n`);
