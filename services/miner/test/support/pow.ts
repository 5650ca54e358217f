import { createHash } from 'node:crypto';

export function sha256Digest(label: string): Buffer {
  return createHash('sha256').update(label).digest();
}
