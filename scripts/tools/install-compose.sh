#!/usr/bin/env bash
# Installs Docker Compose $COMPOSE_VERSION as the `docker compose` CLI plugin:
# $CHAINLOG_CACHE/bin/docker-compose, linked into ${DOCKER_CONFIG:-~/.docker}/cli-plugins/.
# Built from the Go module proxy through the wrapper module scripts/tools/compose (compose's go.mod
# has exclude directives, so `go install` is refused; the wrapper repeats them; go.sum pins every
# dependency). Debian only packages compose v1 (python), which rejects the top-level `name:` of
# docker-compose.yml. Idempotent: checks `docker-compose version`.
#
# Cold build: ~10 min on 2 cores (~30 MB binary).
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_lock

BIN="$CACHE_BIN/docker-compose"
MOD="$TOOLS_DIR/compose"
PLUGINS="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

compose_version() { "$BIN" version --short 2>/dev/null | head -n 1 | sed 's/^v//' || true; }
link_plugin() { mkdir -p "$PLUGINS" && ln -sfn "$BIN" "$PLUGINS/docker-compose"; }

start=$(now)
if [ -x "$BIN" ] && [ "v$(compose_version)" = "$COMPOSE_VERSION" ]; then
  link_plugin
  log "ok (cached): docker compose $COMPOSE_VERSION at $BIN [$(elapsed "$start")]"
  exit 0
fi

require_module "$MOD" github.com/docker/compose/v5 "$COMPOSE_VERSION"
grep -q "composeVersion = \"$COMPOSE_VERSION\"" "$MOD/main.go" \
  || die "$MOD/main.go's composeVersion is not $COMPOSE_VERSION (versions.env)"

go_env
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
log "building docker compose $COMPOSE_VERSION with $(go env GOVERSION) (cold: ~10 min on 2 cores)"
# `docker compose version` reads compose's internal.Version (the wrapper cannot import it): set it here.
go_build_wrapper "$MOD" "$TMP/docker-compose" "-s -w -X github.com/docker/compose/v5/internal.Version=$COMPOSE_VERSION" . "docker compose $COMPOSE_VERSION"
mv -f "$TMP/docker-compose" "$BIN"
got="v$(compose_version)"
[ "$got" = "$COMPOSE_VERSION" ] || die "built docker compose reports '$got', want $COMPOSE_VERSION"
link_plugin
log "installed: docker compose $COMPOSE_VERSION at $BIN (plugin link in $PLUGINS) [$(elapsed "$start")]"
