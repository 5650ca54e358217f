#!/usr/bin/env bash
# Installs etcd $ETCD_VERSION into $CHAINLOG_CACHE/bin/etcd, built from the Go
# module proxy through the wrapper module scripts/tools/etcd (main calls
# go.etcd.io/etcd/server/v3/etcdmain.Main, like etcd's own server binary;
# go.sum pins every dependency). Idempotent: checks `etcd --version`.
#
# Fallback (only if the Go build fails): Debian's etcd-server package
# (3.4.x), linked as $CHAINLOG_CACHE/bin/etcd, with a loud warning; the next
# run tries the build again. Set CHAINLOG_ETCD_NO_FALLBACK=1 to fail instead.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_lock

ETCD="$CACHE_BIN/etcd"
MOD="$TOOLS_DIR/etcd"
WANT="${ETCD_VERSION#v}"

etcd_version() { "$ETCD" --version 2>/dev/null | awk '/^etcd Version:/{print $3; exit}' || true; }

start=$(now)
if [ -x "$ETCD" ] && [ ! -L "$ETCD" ] && [ "$(etcd_version)" = "$WANT" ]; then
  log "ok (cached): etcd $WANT at $ETCD [$(elapsed "$start")]"
  exit 0
fi

grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION\$" "$MOD/go.mod" \
  || die "$MOD/go.mod does not require go.etcd.io/etcd/server/v3 $ETCD_VERSION (versions.env); run scripts/tools/regen-modules.sh etcd"

go_env
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
log "building etcd $ETCD_VERSION with $(go env GOVERSION) (first build takes a few minutes)"
if (cd "$MOD" && $GO_NICE go build -ldflags "-s -w" -o "$TMP/etcd" .) >"$TMP/build.log" 2>&1; then
  got="$("$TMP/etcd" --version 2>/dev/null | awk '/^etcd Version:/{print $3; exit}')"
  [ "$got" = "$WANT" ] || die "built etcd reports version '$got', want $WANT"
  rm -f "$ETCD"
  mv "$TMP/etcd" "$ETCD"
  log "installed: etcd $WANT (built from go.etcd.io/etcd/server/v3 $ETCD_VERSION) at $ETCD [$(elapsed "$start")]"
  exit 0
fi

tail -n 30 "$TMP/build.log" >&2
[ "${CHAINLOG_ETCD_NO_FALLBACK:-0}" = 1 ] && die "building etcd $ETCD_VERSION failed"
warn "building etcd $ETCD_VERSION failed; FALLING BACK to Debian's etcd-server (3.4.x)"
SUDO=(); [ "$(id -u)" -eq 0 ] || SUDO=(sudo -n)
if ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends etcd-server >"$TMP/apt.log" 2>&1; then
  "${SUDO[@]}" apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends etcd-server >"$TMP/apt.log" 2>&1 \
    || { tail -n 20 "$TMP/apt.log" >&2; die "etcd build failed and apt-get install etcd-server failed too"; }
fi
# The package's service must not hold 2379 (no systemd here; policy-rc.d may block it anyway).
if [ -d /run/systemd/system ]; then "${SUDO[@]}" systemctl disable --now etcd >/dev/null 2>&1 || true
elif [ -x /etc/init.d/etcd ]; then "${SUDO[@]}" /etc/init.d/etcd stop >/dev/null 2>&1 || true; fi
DEB_ETCD="$(dpkg -L etcd-server 2>/dev/null | grep -m1 '/bin/etcd$' || true)"
[ -x "$DEB_ETCD" ] || die "etcd-server installed, but its etcd binary was not found"
rm -f "$ETCD"
ln -s "$DEB_ETCD" "$ETCD"
log "installed (FALLBACK): Debian etcd-server $(etcd_version) linked at $ETCD [$(elapsed "$start")]"
