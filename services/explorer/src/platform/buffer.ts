/**
 * The protocol's byte helpers use Node's Buffer (hex encoding, hash outputs). In the browser the `buffer`
 * package provides the same class; this module installs it before any protocol module runs: loadChecks
 * (verify/outcome.ts) imports it, a chunk of its own, before the chunk with the protocol's code.
 */
import { Buffer } from 'buffer';

const scope = globalThis as { Buffer?: unknown };
scope.Buffer ??= Buffer;
