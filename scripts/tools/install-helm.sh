#!/usr/bin/env bash
# Installs Helm v3 ($HELM_VERSION) into $CHAINLOG_CACHE/bin with `go install`
# from the Go module proxy. The ldflags set what `helm version` prints and the
# Kubernetes version Helm assumes offline (.Capabilities.KubeVersion, lint
# deprecations): $HELM_KUBE_VERSION_MAJOR.$HELM_KUBE_VERSION_MINOR instead of
# the built-in default 1.20. Idempotent: checks `helm version` and a
# `helm template` of a trivial chart; rebuilds only when they are wrong.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_lock

HELM="$CACHE_BIN/helm"
WANT_KUBE="v${HELM_KUBE_VERSION_MAJOR}.${HELM_KUBE_VERSION_MINOR}.0"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# Keep helm's own config/cache/data out of $HOME during checks.
export HELM_CACHE_HOME="$TMP/helm-cache" HELM_CONFIG_HOME="$TMP/helm-config" HELM_DATA_HOME="$TMP/helm-data"

helm_version() { "$HELM" version --template '{{.Version}}' 2>/dev/null || true; }

# Renders a trivial chart; prints the KubeVersion Helm reports. Fails if
# the rendering is not what it should be.
helm_smoke() {
  local chart="$TMP/smoke"
  rm -rf "$chart"; mkdir -p "$chart/templates"
  cat >"$chart/Chart.yaml" <<'YAML'
apiVersion: v2
name: smoke
version: 0.1.0
kubeVersion: ">=1.25.0-0"
YAML
  cat >"$chart/values.yaml" <<'YAML'
greeting: hello
YAML
  cat >"$chart/templates/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-smoke
data:
  greeting: {{ .Values.greeting | quote }}
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
YAML
  local out
  out="$("$HELM" template rel "$chart" 2>&1)" || { echo "$out" >&2; return 1; }
  if ! grep -q 'name: rel-smoke' <<<"$out" || ! grep -q 'greeting: "hello"' <<<"$out"; then echo "$out" >&2; return 1; fi
  sed -n 's/^ *kubeVersion: "\(.*\)"$/\1/p' <<<"$out"
}

start=$(now)
if [ -x "$HELM" ] && [ "$(helm_version)" = "$HELM_VERSION" ] && [ "$(helm_smoke 2>/dev/null)" = "$WANT_KUBE" ]; then
  log "ok (cached): helm $HELM_VERSION (kubeVersion $WANT_KUBE) at $HELM [$(elapsed "$start")]"
  exit 0
fi

go_env
log "building helm $HELM_VERSION with $(go env GOVERSION) (go install; first build takes a few minutes)"
LDFLAGS="-s -w"
LDFLAGS+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
LDFLAGS+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  LDFLAGS+=" -X $pkg.k8sVersionMajor=$HELM_KUBE_VERSION_MAJOR -X $pkg.k8sVersionMinor=$HELM_KUBE_VERSION_MINOR"
done
if ! $GO_NICE go install -ldflags "$LDFLAGS" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >"$TMP/build.log" 2>&1; then
  tail -n 30 "$TMP/build.log" >&2
  die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed"
fi

got="$(helm_version)"
[ "$got" = "$HELM_VERSION" ] || die "built helm reports version '$got', want $HELM_VERSION"
kv="$(helm_smoke)" || die "helm template on a trivial chart failed"
[ "$kv" = "$WANT_KUBE" ] || die "helm reports KubeVersion '$kv', want $WANT_KUBE (ldflags not applied?)"
log "installed: helm $HELM_VERSION (kubeVersion $kv) at $HELM [$(elapsed "$start")]"
