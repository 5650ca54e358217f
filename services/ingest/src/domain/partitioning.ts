// Which partition a transaction goes to: the Java client's default partitioner (murmur2 of the key,
// here the sender account) over the topic's partition count, as kafkajs' DefaultPartitioner computes
// it. Computing it here, instead of letting the producer pick, lets the response name the partition.
import { Partitioners, type PartitionMetadata } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();
const metadataCache = new Map<number, PartitionMetadata[]>();

/** Partitions as the partitioner expects them; only their number matters for keyed messages. */
function partitionMetadata(count: number): PartitionMetadata[] {
  let metadata = metadataCache.get(count);
  if (metadata === undefined) {
    metadata = Array.from({ length: count }, (_, partitionId) => ({
      partitionId,
      partitionErrorCode: 0,
      leader: 0,
      replicas: [0],
      isr: [0],
    }));
    metadataCache.set(count, metadata);
  }
  return metadata;
}

/** The partition of a message with this key in a topic with `partitionCount` partitions. */
export function partitionForKey(key: string, partitionCount: number): number {
  if (!Number.isSafeInteger(partitionCount) || partitionCount < 1) throw new RangeError(`invalid partition count ${partitionCount}`);
  return partitioner({ topic: '', partitionMetadata: partitionMetadata(partitionCount), message: { key, value: null } });
}
