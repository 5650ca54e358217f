// The proof-of-work thread (see pow-pool.ts). It searches its share of the nonce space in chunks and,
// between chunks, checks the shared control word: when the pool moved on (a new canonical block arrived,
// the miner is stopping), it drops the current job at once.
//
// The thread runs plain JavaScript given as source (`new Worker(source, { eval: true })`), with no
// imports but node:crypto: Node 20 applies no module hooks inside worker threads, so a TypeScript worker
// importing @chainlog/core could not run under tsx or vitest, only from dist. The loop is the protocol's
// searchNonce (SHA-256 of headerDigest || uint64be(nonce), leading zero bits) restated, and nothing it
// finds is trusted: the pool checks every nonce with the protocol's own proofOfWorkHash/meetsDifficulty,
// and a test pins it to searchNonce nonce for nonce.

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
const { hash } = require('node:crypto');
const control = new Int32Array(workerData.control);
const TWO_TO_32 = 2 ** 32;

function meetsDifficulty(bytes, difficulty) {
  const fullBytes = Math.floor(difficulty / 8);
  for (let i = 0; i < fullBytes; i++) if (bytes[i] !== 0) return false;
  const remainingBits = difficulty % 8;
  return remainingBits === 0 || bytes[fullBytes] >> (8 - remainingBits) === 0;
}

function searchChunk(input, difficulty, start, attempts) {
  for (let nonce = start; nonce < start + attempts; nonce++) {
    input.writeUInt32BE(Math.floor(nonce / TWO_TO_32), 32);
    input.writeUInt32BE(nonce % TWO_TO_32, 36);
    if (meetsDifficulty(hash('sha256', input, 'buffer'), difficulty)) return nonce;
  }
  return undefined;
}

function run(job) {
  const input = Buffer.alloc(40);
  input.set(job.digest);
  for (let base = job.firstNonce; Atomics.load(control, 0) === job.job; base += job.stride) {
    if (base > job.maxNonce) {
      parentPort.postMessage({ type: 'exhausted', job: job.job, hashes: 0 });
      return;
    }
    const attempts = Math.min(job.chunk, job.maxNonce - base + 1);
    const nonce = searchChunk(input, job.difficulty, base, attempts);
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
