/** How values read on the page: short hashes, times, amounts, durations. */

export function shortHash(hash: string | null | undefined): string {
  if (hash === null || hash === undefined) return '—';
  return hash.length > 20 ? `${hash.slice(0, 10)}…${hash.slice(-6)}` : hash;
}

export function isoTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

export function ago(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return `${duration(Math.max(0, now - ms) / 1000)} ago`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 1) return 'under 1 s';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

export function amount(value: number | string): string {
  try {
    return BigInt(value).toLocaleString('en');
  } catch {
    return String(value);
  }
}

export function count(value: number): string {
  return value.toLocaleString('en');
}
