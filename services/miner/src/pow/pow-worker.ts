// The proof-of-work thread (see pow-pool.ts). It searches its share of the nonce space in chunks and,
// between chunks, checks the shared control word: when the pool moved on (a new canonical block arrived,
// the miner is stopping), it drops the current job at once.
//
// The thread runs plain JavaScript given as source (`new Worker(source, { eval: true })`), with no
// imports: Node 20 applies no module hooks inside worker threads, so a TypeScript worker importing
// @chainlog/core could not run under tsx or vitest, only from dist. The hashing is the protocol's own
// SHA-256 kernel, embedded as the source text of the very function the protocol's searchNonce runs (POW_KERNEL_SOURCE);
// the loop around it restates searchNonce (nonces split where the high 32 bits change). Nothing it finds
// is trusted: the pool checks every nonce with the protocol's own proofOfWorkHash/meetsDifficulty, and a
// test pins it to searchNonce nonce for nonce.
import { POW_KERNEL_SOURCE } from '@chainlog/core/protocol';

export interface PowJob {
  readonly type: 'job';
  readonly job: number;
  readonly digest: Uint8Array;
  readonly difficulty: number;
  /** This worker's first nonce; then a chunk of `chunk` nonces every `stride` nonces. */
  readonly firstNonce: number;
  readonly stride: number;
  readonly chunk: number;
  /** The protocol's MAX_NONCE. */
  readonly maxNonce: number;
}

export type PowReport =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly job: number; readonly hashes: number }
  | { readonly type: 'found'; readonly job: number; readonly nonce: number; readonly hashes: number }
  | { readonly type: 'exhausted'; readonly job: number; readonly hashes: number };

/** workerData: { control: SharedArrayBuffer } whose first Int32 is the job the pool wants worked on. */
export const POW_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const control = new Int32Array(workerData.control);
const TWO_TO_32 = 2 ** 32;
const createPowKernel = ${POW_KERNEL_SOURCE};
const out = new Int32Array(8);

// The protocol's searchNonce over [start, start + attempts): one kernel per high word of the nonce.
function searchChunk(digestWords, difficulty, start, attempts) {
  const end = start + attempts;
  for (let segment = start; segment < end; ) {
    const high = Math.floor(segment / TWO_TO_32);
    const segmentEnd = Math.min(end, (high + 1) * TWO_TO_32);
    const low = createPowKernel(digestWords, high).search(segment - high * TWO_TO_32, segmentEnd - high * TWO_TO_32, difficulty, out);
    if (low >= 0) return high * TWO_TO_32 + low;
    segment = segmentEnd;
  }
  return undefined;
}

function run(job) {
  const view = new DataView(job.digest.buffer, job.digest.byteOffset, 32);
  const digestWords = new Int32Array(8);
  for (let i = 0; i < 8; i++) digestWords[i] = view.getInt32(i * 4);
  for (let base = job.firstNonce; Atomics.load(control, 0) === job.job; base += job.stride) {
    if (base > job.maxNonce) {
      parentPort.postMessage({ type: 'exhausted', job: job.job, hashes: 0 });
      return;
    }
    const attempts = Math.min(job.chunk, job.maxNonce - base + 1);
    const nonce = searchChunk(digestWords, job.difficulty, base, attempts);
    if (nonce !== undefined) {
      parentPort.postMessage({ type: 'found', job: job.job, nonce, hashes: nonce - base + 1 });
      return;
    }
    parentPort.postMessage({ type: 'progress', job: job.job, hashes: attempts });
  }
}

parentPort.on('message', run);
parentPort.postMessage({ type: 'ready' });
`;
