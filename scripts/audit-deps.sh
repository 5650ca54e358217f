#!/usr/bin/env bash
# Dependency audit for CI (.ci/run): fails when a package the services ship with (the production
# dependencies of every workspace; dev tooling left out) has a known vulnerability of high or critical
# severity. It asks the npm registry's advisory endpoint, so it needs the registry.
#
#   bash scripts/audit-deps.sh
#   exit 0: no high/critical advisory   1: vulnerable (listed)   2: the audit could not run (registry, npm)
#
# AUDIT_LEVEL (default high) sets the threshold: low, moderate, high or critical.
# AUDIT_ALLOW_UNAVAILABLE=1 turns "could not run" into a warning and exit 0 (for mirrors without the advisory
# endpoint); by default it fails, so an unreachable registry never passes as "no vulnerabilities".
set -euo pipefail
cd "$(dirname "$0")/.."
level="${AUDIT_LEVEL:-high}"
case "$level" in low|moderate|high|critical) ;; *) echo "audit-deps: AUDIT_LEVEL must be low, moderate, high or critical, got \"$level\"" >&2; exit 2 ;; esac

echo "audit-deps: npm audit --omit=dev --audit-level=${level} (production dependencies of every workspace)"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
set +e
npm audit --omit=dev --audit-level="$level" --workspaces --include-workspace-root --json >"$report" 2>/dev/null
npm_status=$?
set -e

# npm exits 1 both for "vulnerable" and for "could not ask the registry": the JSON report tells them apart.
node - "$report" "$level" "$npm_status" "${AUDIT_ALLOW_UNAVAILABLE:-0}" <<'NODE'
const [file, level, npmStatus, allowUnavailable] = process.argv.slice(2);
const fs = require('node:fs');
const levels = ['info', 'low', 'moderate', 'high', 'critical'];
let report;
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch {
  report = undefined;
}
const counts = report?.metadata?.vulnerabilities;
if (counts === undefined) {
  const why = report?.error?.summary || report?.message || `npm audit exited with ${npmStatus} without a report`;
  if (allowUnavailable === '1') {
    console.warn(`audit-deps: WARNING: the audit could not run (${why}); AUDIT_ALLOW_UNAVAILABLE=1, so not failing`);
    process.exit(0);
  }
  console.error(`audit-deps: the audit could not run: ${why}`);
  process.exit(2);
}
const threshold = levels.indexOf(level);
const failing = Object.entries(report.vulnerabilities ?? {}).filter(([, v]) => levels.indexOf(v.severity) >= threshold);
console.log(`audit-deps: advisories by severity: ${levels.map((l) => `${l} ${counts[l] ?? 0}`).join(', ')}`);
if (failing.length > 0) {
  for (const [name, v] of failing) {
    const via = (v.via ?? []).map((x) => (typeof x === 'string' ? x : `${x.title ?? ''} ${x.url ?? ''}`.trim())).join('; ');
    console.error(`audit-deps: ${v.severity}: ${name} ${v.range ?? ''} ${via}${v.fixAvailable ? ' (fix available: npm audit fix)' : ''}`);
  }
  console.error(`audit-deps: ${failing.length} production package(s) with a ${level} or critical advisory`);
  process.exit(1);
}
console.log(`audit-deps: no ${level} or critical advisory in the production dependencies`);
NODE
