// The chain as a Ledger's auditor sees it (GET /v1/audit?limit=1 on its Service): height, tip and the age
// of the oldest transaction acknowledged but not yet in a block. Best effort: an auditor that does not answer
// leaves the last reported values in status.
import type { ChainState } from './status.js';
import type { Ledger } from './types.js';

interface AuditReport {
  chain?: { height?: number; hash?: string | null };
  commitLag?: { oldestAgeSeconds?: number }[];
}

const TIMEOUT_MS = 2000;

export function auditorUrl(template: string, ledger: Ledger): string {
  return template
    .replaceAll('{name}', ledger.metadata.name)
    .replaceAll('{namespace}', ledger.metadata.namespace)
    .replaceAll('{port}', String(ledger.spec.auditor.service.port));
}

export function chainState(report: AuditReport, now: Date): ChainState {
  const ages = (report.commitLag ?? []).map((lag) => lag.oldestAgeSeconds ?? 0);
  return {
    ...(report.chain?.height !== undefined ? { height: report.chain.height } : {}),
    ...(report.chain?.hash ? { tip: report.chain.hash } : {}),
    oldestPendingSeconds: Math.round(Math.max(0, ...ages) * 1000) / 1000,
    observedAt: now.toISOString(),
  };
}

export function auditorChainStatus(template: string): (ledger: Ledger) => Promise<ChainState | undefined> {
  return async (ledger) => {
    if (ledger.spec.auditor.replicas === 0) return undefined;
    try {
      const response = await fetch(`${auditorUrl(template, ledger)}/v1/audit?limit=1`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (!response.ok) return undefined;
      return chainState((await response.json()) as AuditReport, new Date());
    } catch {
      return undefined;
    }
  };
}
