#!/usr/bin/env bash
# Regenerates the committed wrapper Go modules (go.mod + go.sum) from the
# versions in versions.env. Run after bumping KUBE_VERSION/KUBE_STAGING_VERSION,
# ETCD_VERSION, PROMETHEUS_OPERATOR_VERSION or CONTROLLER_TOOLS_VERSION, then
# review and commit the go.mod/go.sum diffs. Not used by CI.
#   regen-modules.sh [kube-apiserver|etcd|kube-schemas]...   (default: all three)
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
go_env

regen_kube_apiserver() {
  local mod="$TOOLS_DIR/kube-apiserver" kmod
  kmod="$(cd "$mod" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$kmod" ] || die "could not download k8s.io/kubernetes@$KUBE_VERSION"
  {
    printf 'module chainlog.local/tools/kube-apiserver\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\n' "$KUBE_VERSION"
    printf '// Every staging module that k8s.io/kubernetes replaces with a local path\n'
    printf '// (./staging/src/k8s.io/...) is replaced here by its published version.\n'
    printf 'replace (\n'
    awk -v sv="$KUBE_STAGING_VERSION" '$2 == "=>" && $3 ~ /^\.\/staging\// {print "\t" $1 " => " $1 " " sv}' "$kmod"
    printf ')\n'
  } >"$mod/go.mod"
  rm -f "$mod/go.sum"
  (cd "$mod" && go mod tidy)
  log "regenerated $mod/go.mod for k8s.io/kubernetes $KUBE_VERSION (staging $KUBE_STAGING_VERSION)"
}

regen_etcd() {
  local mod="$TOOLS_DIR/etcd"
  printf 'module chainlog.local/tools/etcd\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$mod/go.mod"
  rm -f "$mod/go.sum"
  (cd "$mod" && go mod tidy && go mod edit -toolchain=none)
  log "regenerated $mod/go.mod for etcd $ETCD_VERSION"
}

regen_kube_schemas() {
  local mod="$TOOLS_DIR/kube-schemas"
  (cd "$mod" \
    && go get -tool "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION" \
    && go get "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring@$PROMETHEUS_OPERATOR_VERSION" \
    && go mod tidy && go mod edit -toolchain=none)
  log "regenerated $mod/go.mod for controller-tools $CONTROLLER_TOOLS_VERSION, prometheus-operator $PROMETHEUS_OPERATOR_VERSION"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(kube-apiserver etcd kube-schemas)
for t in "${targets[@]}"; do
  case "$t" in
    kube-apiserver) regen_kube_apiserver ;;
    etcd) regen_etcd ;;
    kube-schemas) regen_kube_schemas ;;
    *) die "unknown module '$t' (kube-apiserver, etcd, kube-schemas)" ;;
  esac
done
