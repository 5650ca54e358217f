// The operator's compiled-in Kafka SASL entrypoint is the chart's file (the one docker-compose.yml mounts), not a
// copy that drifts: fails until `npx tsx scripts/gen-kafka-assets.ts` is run.
import { describe, it } from 'vitest';
import { isStale, KAFKA_ASSETS_FILE } from '../scripts/gen-kafka-assets.js';

describe('kafka assets', () => {
  it(`${KAFKA_ASSETS_FILE} is generated from charts/chainlog/files/kafka (run npx tsx scripts/gen-kafka-assets.ts)`, ({ expect }) => {
    expect(isStale()).toBe(false);
  });
});
