#!/usr/bin/env bash
# Installs kubeconform ($KUBECONFORM_VERSION, go install) into
# $CHAINLOG_CACHE/bin, and offline JSON schemas into $CHAINLOG_CACHE/kube-schemas:
#   v<KUBE_SCHEMA_MINOR>.0-standalone-strict/  Kubernetes built-in kinds, from the
#       PyPI package kubernetes-validate ($KUBERNETES_VALIDATE_VERSION, fetched
#       with `pip download`, not installed), made self-contained by
#       scripts/tools/kube-schemas (Go).
#   crds/  monitoring.coreos.com/v1 kinds (ServiceMonitor, PrometheusRule,
#       PodMonitor, ...), generated with controller-gen from the
#       prometheus-operator API Go types ($PROMETHEUS_OPERATOR_VERSION), then
#       converted to strict JSON schemas by scripts/tools/kube-schemas.
# Use them through scripts/tools/kubeconform-offline.sh (never the network).
# Idempotent: checks `kubeconform -v`, a stamp of the schema inputs, and that
# a good Deployment passes and a broken one fails.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_lock

KUBECONFORM="$CACHE_BIN/kubeconform"
SCHEMAS="$CHAINLOG_CACHE/kube-schemas"
KUBE_DIR="v${KUBE_SCHEMA_MINOR}.0-standalone-strict"
MOD="$TOOLS_DIR/kube-schemas"
OFFLINE="$TOOLS_DIR/kubeconform-offline.sh"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# What the schemas were generated from; a change regenerates them.
schema_stamp() {
  printf 'kubernetes-validate=%s kube=%s prometheus-operator=%s controller-tools=%s generator=%s\n' \
    "$KUBERNETES_VALIDATE_VERSION" "$KUBE_SCHEMA_MINOR" "$PROMETHEUS_OPERATOR_VERSION" "$CONTROLLER_TOOLS_VERSION" \
    "$(cat "$MOD/go.mod" "$MOD/go.sum" "$MOD/main.go" | sha256sum | cut -c1-16)"
}

kubeconform_version() { "$KUBECONFORM" -v 2>/dev/null || true; }

# Validates known-good and known-bad manifests offline. Prints nothing on success.
smoke() {
  cat >"$TMP/good.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{containerPort: 8080, name: http}]
          resources: {limits: {cpu: 500m, memory: 128Mi}}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  endpoints: [{port: http, interval: 15s, path: /metrics}]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: web}
spec:
  groups:
    - name: web
      rules:
        - alert: WebDown
          expr: up{job="web"} == 0
          for: 1m
          labels: {severity: page}
YAML
  cat >"$TMP/bad-deploy.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: "two"
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          imagePullPolicy: Always
          imagePulPolicy: Always
YAML
  cat >"$TMP/bad-sm.yaml" <<'YAML'
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  endpoints: [{port: http, intervall: 15s}]
YAML
  local out
  out="$("$OFFLINE" -summary "$TMP/good.yaml" 2>&1)" || { echo "valid manifests rejected: $out"; return 1; }
  if out="$("$OFFLINE" "$TMP/bad-deploy.yaml" 2>&1)"; then echo "broken Deployment accepted"; return 1; fi
  grep -q 'imagePulPolicy' <<<"$out" || { echo "broken Deployment rejected for the wrong reason: $out"; return 1; }
  if out="$("$OFFLINE" "$TMP/bad-sm.yaml" 2>&1)"; then echo "broken ServiceMonitor accepted"; return 1; fi
  grep -q 'intervall' <<<"$out" || { echo "broken ServiceMonitor rejected for the wrong reason: $out"; return 1; }
}

start=$(now)
want_stamp="$(schema_stamp)"
if [ "$(kubeconform_version)" = "$KUBECONFORM_VERSION" ] \
   && [ "$(cat "$SCHEMAS/.stamp" 2>/dev/null)" = "$want_stamp" ] \
   && [ -z "$(smoke 2>&1)" ]; then
  log "ok (cached): kubeconform $KUBECONFORM_VERSION, schemas $KUBE_DIR + crds in $SCHEMAS [$(elapsed "$start")]"
  exit 0
fi

go_env
did=()

# --- kubeconform binary
if [ "$(kubeconform_version)" != "$KUBECONFORM_VERSION" ]; then
  if ! $GO_NICE go install -ldflags "-s -w -X main.version=$KUBECONFORM_VERSION" \
      "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" >"$TMP/build.log" 2>&1; then
    tail -n 30 "$TMP/build.log" >&2
    die "go install github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION failed"
  fi
  got="$(kubeconform_version)"
  [ "$got" = "$KUBECONFORM_VERSION" ] || die "built kubeconform reports '$got', want $KUBECONFORM_VERSION"
  did+=("built kubeconform $KUBECONFORM_VERSION")
fi

# --- schemas
if [ "$(cat "$SCHEMAS/.stamp" 2>/dev/null)" != "$want_stamp" ] || [ ! -d "$SCHEMAS/$KUBE_DIR" ] || [ ! -d "$SCHEMAS/crds" ]; then
  # Go module versions must agree with versions.env.
  grep -q "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring $PROMETHEUS_OPERATOR_VERSION\$" "$MOD/go.mod" \
    || die "$MOD/go.mod does not pin prometheus-operator monitoring API $PROMETHEUS_OPERATOR_VERSION (versions.env); see docs/tools.md"
  grep -q "sigs.k8s.io/controller-tools $CONTROLLER_TOOLS_VERSION" "$MOD/go.mod" \
    || die "$MOD/go.mod does not pin controller-tools $CONTROLLER_TOOLS_VERSION (versions.env); see docs/tools.md"

  # The wheel is kept in the cache, so re-generation needs no download.
  WHEEL_DIR="$CHAINLOG_CACHE/downloads"
  mkdir -p "$WHEEL_DIR"
  WHEEL="$(find "$WHEEL_DIR" -maxdepth 1 -name "kubernetes_validate-$KUBERNETES_VALIDATE_VERSION-*.whl" | head -n1)"
  if [ -z "$WHEEL" ]; then
    PY=""
    for p in python3 /usr/bin/python3; do
      if command -v "$p" >/dev/null 2>&1 && "$p" -m pip --version >/dev/null 2>&1; then PY="$p"; break; fi
    done
    [ -n "$PY" ] || die "need python3 with pip to download kubernetes-validate (apt-get install python3-pip)"
    if ! "$PY" -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check \
        -d "$WHEEL_DIR" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >"$TMP/pip.log" 2>&1; then
      tail -n 20 "$TMP/pip.log" >&2
      die "pip download kubernetes-validate==$KUBERNETES_VALIDATE_VERSION failed"
    fi
    WHEEL="$(find "$WHEEL_DIR" -maxdepth 1 -name "kubernetes_validate-$KUBERNETES_VALIDATE_VERSION-*.whl" | head -n1)"
    [ -n "$WHEEL" ] || die "pip download did not leave a kubernetes-validate $KUBERNETES_VALIDATE_VERSION wheel in $WHEEL_DIR"
  fi

  (cd "$MOD" && $GO_NICE go build -o "$TMP/kube-schemas" .) >"$TMP/build.log" 2>&1 \
    || { tail -n 30 "$TMP/build.log" >&2; die "building scripts/tools/kube-schemas failed"; }
  NEW="$SCHEMAS.new.$$"
  rm -rf "$NEW"; mkdir -p "$NEW"
  "$TMP/kube-schemas" standalone -wheel "$WHEEL" -version "v${KUBE_SCHEMA_MINOR}.0" -out "$NEW/$KUBE_DIR" >/dev/null \
    || die "generating Kubernetes schemas from $WHEEL failed"

  # Monitoring CRDs from the Go API types, the way prometheus-operator makes them.
  if ! (cd "$MOD" && $GO_NICE go tool controller-gen crd:crdVersions=v1,allowDangerousTypes=true,generateEmbeddedObjectMeta=true \
        paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 \
        output:crd:dir="$TMP/crds") >"$TMP/gen.log" 2>&1; then
    tail -n 30 "$TMP/gen.log" >&2
    die "controller-gen for prometheus-operator $PROMETHEUS_OPERATOR_VERSION CRDs failed"
  fi
  "$TMP/kube-schemas" crd -out "$NEW/crds" "$TMP"/crds/*.yaml >/dev/null || die "converting CRDs to JSON schemas failed"
  for k in servicemonitor prometheusrule podmonitor; do
    [ -s "$NEW/crds/$k-monitoring-v1.json" ] || die "no schema generated for $k (monitoring.coreos.com/v1)"
  done
  echo "$want_stamp" >"$NEW/.stamp"
  rm -rf "$SCHEMAS.old.$$"
  [ -d "$SCHEMAS" ] && mv "$SCHEMAS" "$SCHEMAS.old.$$"
  mv "$NEW" "$SCHEMAS"
  rm -rf "$SCHEMAS.old.$$"
  did+=("schemas $KUBE_DIR ($(find "$SCHEMAS/$KUBE_DIR" -name '*.json' | wc -l) files) + crds ($(find "$SCHEMAS/crds" -name '*.json' | wc -l) files)")
fi

if ! msg="$(smoke 2>&1)" || [ -n "$msg" ]; then
  die "kubeconform offline check failed: $msg"
fi
log "installed: $(IFS=';'; echo "${did[*]:-nothing to do}") into $CHAINLOG_CACHE; good manifests pass, broken ones fail [$(elapsed "$start")]"
