#!/usr/bin/env bash
# kubeconform against the offline schemas installed by install-kubeconform.sh:
# Kubernetes 1.34 built-in kinds (standalone, strict) and the monitoring.coreos.com
# CRDs. Never uses the network. Kinds without a schema are errors (add
# -ignore-missing-schemas yourself if you really want to skip them).
# Extra arguments go to kubeconform, e.g.:
#   helm template charts/chainlog | scripts/tools/kubeconform-offline.sh -summary -
set -euo pipefail
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$TOOLS_DIR/versions.env"
CHAINLOG_CACHE="${CHAINLOG_CACHE:-$HOME/.cache/chainlog}"
SCHEMAS="$CHAINLOG_CACHE/kube-schemas"
KUBECONFORM="$CHAINLOG_CACHE/bin/kubeconform"

if [ ! -x "$KUBECONFORM" ] || [ ! -d "$SCHEMAS/v${KUBE_SCHEMA_MINOR}.0-standalone-strict" ]; then
  echo "kubeconform-offline: kubeconform or its schemas are missing; run scripts/tools/install-kubeconform.sh" >&2
  exit 2
fi

exec "$KUBECONFORM" -strict \
  -kubernetes-version "${KUBE_SCHEMA_MINOR}.0" \
  -schema-location "$SCHEMAS/{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json" \
  -schema-location "$SCHEMAS/crds/{{.ResourceKind}}{{.KindSuffix}}.json" \
  "$@"
