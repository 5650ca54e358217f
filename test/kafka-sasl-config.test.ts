// One owner of who may log in to Kafka: services/operator/src/kafka/acls.ts. docker-compose.yml, its credentials
// script and the chart's broker volume name the same SCRAM users, and each Compose service logs in as its own
// principal with the password of its own volume only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ADMIN_PRINCIPAL, DEFAULT_PRINCIPALS, scramUsers } from '../services/operator/src/kafka/acls.js';
import { REPO_ROOT } from './support/processes.js';

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

interface ComposeService {
  environment?: Record<string, string>;
  volumes?: string[];
}

describe('Kafka SASL principals (one table: services/operator/src/kafka/acls.ts)', () => {
  it("Compose's kafka-credentials script makes exactly the SCRAM users of the table", () => {
    const script = read('deploy/compose/kafka-credentials.sh');
    const users = /for user in ([^;]+);/.exec(script)?.[1]?.trim().split(/\s+/);
    expect(users).toEqual(scramUsers());
  });

  it("the chart's broker volume and the operator's render mount the same users", () => {
    const template = read('charts/chainlog/templates/_kafka-sasl.tpl');
    const users = /range list ((?:"[^"]+"\s*)+)/.exec(template)?.[1]?.match(/"([^"]+)"/g)?.map((quoted) => quoted.slice(1, -1));
    expect(users).toEqual(scramUsers());
    expect(template).toContain(`"User:broker;User:${ADMIN_PRINCIPAL}"`);
  });

  it('each Compose service logs in as its own principal and mounts only its own password volume', () => {
    const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
    const expected: Record<string, string> = {
      ingest: DEFAULT_PRINCIPALS.ingest,
      'miner-0': DEFAULT_PRINCIPALS.miner,
      'miner-1': DEFAULT_PRINCIPALS.miner,
      auditor: DEFAULT_PRINCIPALS.auditor,
      'topic-init': ADMIN_PRINCIPAL,
      cli: DEFAULT_PRINCIPALS.reader,
    };
    for (const [name, user] of Object.entries(expected)) {
      const service = compose.services[name] as ComposeService;
      expect(service.environment?.KAFKA_SASL_USERNAME, name).toBe(user);
      const passwordVolumes = (service.volumes ?? []).filter((volume) => volume.startsWith('kafka-'));
      expect(passwordVolumes, name).toEqual([`kafka-${user.replace('chainlog-', '')}-password:/etc/chainlog/kafka-sasl:ro`]);
    }
    // Nothing but the broker and the credentials job sees every password.
    const all = Object.entries(compose.services).filter(([, service]) => (service.volumes ?? []).some((volume) => volume.startsWith('kafka-sasl:')));
    expect(all.map(([name]) => name).sort()).toEqual(['kafka', 'kafka-credentials']);
  });
});
