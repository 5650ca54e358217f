// The offset of each message of one produce request. Kafka acknowledges a request with the base offset
// of each partition's record batch; the messages of that partition follow it in the order they were sent.

export interface PartitionAck {
  readonly partition: number;
  /** The first offset of the partition's batch, as kafkajs reports it (a decimal string). */
  readonly baseOffset?: string | undefined;
}

/** Offsets for messages sent to `partitions` (one entry per message, in send order). */
export function messageOffsets(partitions: readonly number[], acks: readonly PartitionAck[]): number[] {
  const base = new Map<number, number>();
  for (const ack of acks) {
    const offset = Number(ack.baseOffset);
    if (ack.baseOffset === undefined || !Number.isSafeInteger(offset) || offset < 0) {
      throw new Error(`Kafka acknowledged partition ${ack.partition} without a usable base offset (${String(ack.baseOffset)})`);
    }
    base.set(ack.partition, offset);
  }
  const seen = new Map<number, number>();
  return partitions.map((partition) => {
    const first = base.get(partition);
    if (first === undefined) throw new Error(`Kafka did not acknowledge partition ${partition}`);
    const index = seen.get(partition) ?? 0;
    seen.set(partition, index + 1);
    return first + index;
  });
}
