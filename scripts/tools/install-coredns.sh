#!/usr/bin/env bash
# Installs CoreDNS $COREDNS_VERSION into $CHAINLOG_CACHE/bin/coredns: the local cluster's DNS (cluster:up),
# built from the Go module proxy through the wrapper module scripts/tools/coredns, which keeps only the
# plugins a single-node cluster needs (kubernetes, forward, cache, health, ready, ...). go.sum pins every
# dependency. Idempotent: checks `coredns -version`.
#
# Cold build: ~5-10 min on 2 cores.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_lock

BIN="$CACHE_BIN/coredns"
MOD="$TOOLS_DIR/coredns"

coredns_version() { "$BIN" -version 2>/dev/null | awk -F- '/^CoreDNS-/{print "v" $2; exit}' || true; }

start=$(now)
if [ -x "$BIN" ] && [ "$(coredns_version)" = "$COREDNS_VERSION" ]; then
  log "ok (cached): coredns $COREDNS_VERSION at $BIN [$(elapsed "$start")]"
  exit 0
fi
require_module "$MOD" github.com/coredns/coredns "$COREDNS_VERSION"

go_env
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
log "building coredns $COREDNS_VERSION with $(go env GOVERSION) (cold: ~5-10 min on 2 cores)"
go_build_wrapper "$MOD" "$TMP/coredns" "-s -w" . "coredns $COREDNS_VERSION"
mv -f "$TMP/coredns" "$BIN"
got="$(coredns_version)"
[ "$got" = "$COREDNS_VERSION" ] || die "built coredns reports '$got', want $COREDNS_VERSION"
log "installed: coredns $COREDNS_VERSION at $BIN [$(elapsed "$start")]"
