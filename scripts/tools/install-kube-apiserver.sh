#!/usr/bin/env bash
# Installs the real kube-apiserver $KUBE_VERSION into
# $CHAINLOG_CACHE/bin/kube-apiserver, built from the Go module proxy through the
# wrapper module scripts/tools/kube-apiserver: it requires k8s.io/kubernetes
# $KUBE_VERSION and replaces every staging module (k8s.io/api, apiserver, ...)
# with its published $KUBE_STAGING_VERSION; go.sum pins every dependency.
# The ldflags set the version that /version and `--version` report.
# Idempotent: checks `kube-apiserver --version`. After a build, runs
# `kube-test-server.sh selftest` (etcd + kube-apiserver, a StatefulSet, /scale)
# when etcd is installed.
#
# Cold build: ~10-20 min on 2 cores, ~1.5 GB of Go module + build cache.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_lock

KAS="$CACHE_BIN/kube-apiserver"
MOD="$TOOLS_DIR/kube-apiserver"

kas_version() { "$KAS" --version 2>/dev/null | awk '{print $2; exit}' || true; }

start=$(now)
if [ -x "$KAS" ] && [ "$(kas_version)" = "$KUBE_VERSION" ]; then
  log "ok (cached): kube-apiserver $KUBE_VERSION at $KAS [$(elapsed "$start")]"
  exit 0
fi

require_module "$MOD" k8s.io/kubernetes "$KUBE_VERSION" "run scripts/tools/regen-modules.sh kube-apiserver"
grep -q "k8s.io/api => k8s.io/api $KUBE_STAGING_VERSION\$" "$MOD/go.mod" \
  || die "$MOD/go.mod does not replace the staging modules with $KUBE_STAGING_VERSION (versions.env); run scripts/tools/regen-modules.sh kube-apiserver"

go_env
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
log "building kube-apiserver $KUBE_VERSION with $(go env GOVERSION) (cold: 10-20 min on 2 cores)"
go_build_wrapper "$MOD" "$TMP/kube-apiserver" "$(kube_version_ldflags)" . "kube-apiserver $KUBE_VERSION"
got="$("$TMP/kube-apiserver" --version 2>/dev/null | awk '{print $2; exit}')"
[ "$got" = "$KUBE_VERSION" ] || die "built kube-apiserver reports version '$got', want $KUBE_VERSION"
mv -f "$TMP/kube-apiserver" "$KAS"

check="selftest skipped (no etcd yet: run install-etcd.sh, then kube-test-server.sh selftest)"
if [ -x "$CACHE_BIN/etcd" ]; then
  "$TOOLS_DIR/kube-test-server.sh" selftest >"$TMP/selftest.log" 2>&1 \
    || { cat "$TMP/selftest.log" >&2; die "kube-apiserver $KUBE_VERSION built, but the selftest failed"; }
  check="$(tail -n 1 "$TMP/selftest.log")"
fi
log "installed: kube-apiserver $KUBE_VERSION at $KAS; $check [$(elapsed "$start")]"
