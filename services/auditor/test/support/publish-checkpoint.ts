// A signed checkpoint at block `at` of a chain published one block per offset (offset = index), written to the
// checkpoint topic as a miner writes it: for the tests of an auditor restoring from the miners' checkpoints.
import type { Kafka } from 'kafkajs';
import { CheckpointWriter } from '@chainlog/core/kafka';
import { type Block, Chain, type ConsensusParams, createCheckpoint, encodeBlock, type Signer } from '@chainlog/core/protocol';

export interface CheckpointAt {
  readonly kafka: Kafka;
  /** The parameters exactly as the auditor reads them: the checkpoint is bound to their fingerprint. */
  readonly params: ConsensusParams;
  readonly blocks: readonly Block[];
  readonly at: number;
  readonly blockchainTopic: string;
  readonly checkpointTopic: string;
  readonly writer: string;
  readonly signer: Signer;
}

export async function publishCheckpoint(options: CheckpointAt): Promise<void> {
  const { params, blocks, at } = options;
  const chain = new Chain(params);
  for (const block of blocks.slice(0, at + 1)) {
    const result = chain.apply(encodeBlock(block));
    if (!result.accepted) throw new Error(result.detail);
  }
  const tip = blocks[at] as Block;
  const encoded = createCheckpoint(chain.state(), params, {
    blockchainTopic: options.blockchainTopic,
    tipOffset: at,
    tipIndex: tip.index,
    tipHash: tip.hash,
    writer: options.writer,
    writtenAt: Date.now(),
    signer: options.signer,
  });
  if (encoded === undefined) throw new Error('no checkpoint state');
  const checkpoints = new CheckpointWriter(options.kafka, options.checkpointTopic);
  try {
    await checkpoints.write(encoded);
  } finally {
    await checkpoints.stop();
  }
}
