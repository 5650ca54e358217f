// The operator's compiled-in alerts and dashboards (services/operator/src/ledger/monitoring-assets.generated.ts)
// are the chart's files, not a copy that drifts: fails until `npx tsx scripts/gen-monitoring-assets.ts` is run.
import { describe, it } from 'vitest';
import { ASSETS_FILE, isStale } from '../scripts/gen-monitoring-assets.js';

describe('monitoring assets', () => {
  it(`${ASSETS_FILE} is generated from charts/chainlog/files (run npx tsx scripts/gen-monitoring-assets.ts)`, ({ expect }) => {
    expect(isStale()).toBe(false);
  });
});
