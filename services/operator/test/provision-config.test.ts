// provision-topics' configuration: the ACLs are applied only when asked (they need an administrator), with the
// miners' group and the checkpoints topic the services use.
import { ConfigError, EnvReader } from '@chainlog/core/config';
import { describe, expect, it } from 'vitest';
import { readProvisionConfig } from '../src/provision-topics.js';

describe('readProvisionConfig', () => {
  it('applies no ACLs by default (a Kafka without an authorizer, or one whose ACLs are someone else\'s)', () => {
    expect(readProvisionConfig(new EnvReader({})).acls).toBeUndefined();
  });

  it('KAFKA_APPLY_ACLS=true: the ACLs for the miners\' group (MINER_GROUP_ID, default chainlog-miners)', () => {
    expect(readProvisionConfig(new EnvReader({ KAFKA_APPLY_ACLS: 'true' })).acls).toEqual({ minerGroup: 'chainlog-miners' });
    const config = readProvisionConfig(new EnvReader({ KAFKA_APPLY_ACLS: 'true', MINER_GROUP_ID: 'miners-a', TOPIC_CHECKPOINTS: 'cp-a' }));
    expect(config.acls).toEqual({ minerGroup: 'miners-a' });
    expect(config.checkpointsTopic).toBe('cp-a');
  });

  it('refuses a group id Kafka would refuse, naming it', () => {
    expect(() => readProvisionConfig(new EnvReader({ KAFKA_APPLY_ACLS: 'true', MINER_GROUP_ID: 'no spaces' }))).toThrow(ConfigError);
    expect(() => readProvisionConfig(new EnvReader({ KAFKA_APPLY_ACLS: 'yes please' }))).toThrow(/KAFKA_APPLY_ACLS/);
  });
});
