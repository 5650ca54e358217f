/**
 * The protocol's byte helpers use Node's Buffer (hex encoding, hash outputs). In the browser the `buffer`
 * package provides the same class; this module installs it before any protocol module runs (it is the
 * first import of main.tsx, and ES modules evaluate in import order).
 */
import { Buffer } from 'buffer';

const scope = globalThis as { Buffer?: unknown };
scope.Buffer ??= Buffer;
