#!/usr/bin/env bash
# Installs the multi-call Kubernetes binary of the local cluster (npm run cluster:up) into
# $CHAINLOG_CACHE/bin/kube: kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and
# kubectl $KUBE_VERSION in one executable (scripts/tools/kube-apiserver/kube/main.go), built from the
# same wrapper module and Go caches as install-kube-apiserver.sh, which it runs first so the two builds
# share their packages. Links each component's name to it in $CHAINLOG_CACHE/kube/bin (not in bin/, so the
# host's kubectl stays the default elsewhere). Idempotent: checks `kube kubelet --version`.
#
# Cold build after kube-apiserver: ~15-25 min on 2 cores (~130 MB binary).
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$TOOLS_DIR/install-kube-apiserver.sh"
tool_lock

KUBE="$CACHE_BIN/kube"
LINKS="$CHAINLOG_CACHE/kube/bin"
MOD="$TOOLS_DIR/kube-apiserver"
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

kube_version() { "$KUBE" kubelet --version 2>/dev/null | awk '{print $2; exit}' || true; }
link_components() {
  local c
  mkdir -p "$LINKS"
  for c in "${COMPONENTS[@]}"; do ln -sfn "$KUBE" "$LINKS/$c"; done
}

start=$(now)
if [ -x "$KUBE" ] && [ "$(kube_version)" = "$KUBE_VERSION" ]; then
  link_components
  log "ok (cached): kube $KUBE_VERSION at $KUBE [$(elapsed "$start")]"
  exit 0
fi

go_env
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
LDFLAGS="$(kube_version_ldflags)"
# kubectl reports its version through client-go's copy of the version variables.
LDFLAGS+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
LDFLAGS+=" -X k8s.io/client-go/pkg/version.gitMajor=1"
LDFLAGS+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
log "building kube (multi-call) $KUBE_VERSION with $(go env GOVERSION) (cold after kube-apiserver: 15-25 min on 2 cores)"
go_build_wrapper "$MOD" "$TMP/kube" "$LDFLAGS" ./kube "kube $KUBE_VERSION"
got="$("$TMP/kube" kubelet --version 2>/dev/null | awk '{print $2; exit}')"
[ "$got" = "$KUBE_VERSION" ] || die "built kube reports version '$got', want $KUBE_VERSION"
mv -f "$TMP/kube" "$KUBE"
link_components
log "installed: kube $KUBE_VERSION at $KUBE, linked as ${COMPONENTS[*]} in $LINKS [$(elapsed "$start")]"
