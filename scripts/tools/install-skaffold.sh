#!/usr/bin/env bash
# Installs Skaffold $SKAFFOLD_VERSION into $CHAINLOG_CACHE/bin/skaffold, built from the Go module proxy
# through the wrapper module scripts/tools/skaffold (skaffold's go.mod has replace and exclude directives,
# so `go install` is refused; the wrapper repeats them; go.sum pins every dependency). For
# `skaffold run -p local` against the cluster of `npm run cluster:up` (docs/running.md). Optional: no test
# needs it. Idempotent: checks `skaffold version`.
#
# Cold build: ~15-30 min on 2 cores (it links the Google Cloud, buildpacks and ko clients).
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_lock

BIN="$CACHE_BIN/skaffold"
MOD="$TOOLS_DIR/skaffold"

start=$(now)
if [ -x "$BIN" ] && [ "$("$BIN" version 2>/dev/null)" = "$SKAFFOLD_VERSION" ]; then
  log "ok (cached): skaffold $SKAFFOLD_VERSION at $BIN [$(elapsed "$start")]"
  exit 0
fi
require_module "$MOD" github.com/GoogleContainerTools/skaffold/v2 "$SKAFFOLD_VERSION"

go_env
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
VERSION_PACKAGE=github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version
LDFLAGS="-s -w -X $VERSION_PACKAGE.version=$SKAFFOLD_VERSION -X $VERSION_PACKAGE.buildDate=1970-01-01T00:00:00Z"
log "building skaffold $SKAFFOLD_VERSION with $(go env GOVERSION) (cold: 15-30 min on 2 cores)"
go_build_wrapper "$MOD" "$TMP/skaffold" "$LDFLAGS" . "skaffold $SKAFFOLD_VERSION"
got="$("$TMP/skaffold" version 2>/dev/null)"
[ "$got" = "$SKAFFOLD_VERSION" ] || die "built skaffold reports '$got', want $SKAFFOLD_VERSION"
mv -f "$TMP/skaffold" "$BIN"
log "installed: skaffold $SKAFFOLD_VERSION at $BIN [$(elapsed "$start")]"
