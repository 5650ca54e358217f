#!/usr/bin/env bash
# Installs the Debian packages the test suite needs: prometheus (+ promtool),
# kcat, openssl, curl, and chromium (the explorer's browser tests drive it with
# playwright-core, which downloads no browser of its own). Idempotent: checks installed versions (dpkg and the
# binaries' own version output) and does nothing when they are right.
# Runs `apt-get update` only when a package has no install candidate, or once
# after an install failed (stale lists). A held apt/dpkg lock is waited for. Makes sure no system Prometheus
# service (started by the package's postinst) keeps port 9090.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
tool_lock

export DEBIAN_FRONTEND=noninteractive
PACKAGES=(prometheus kcat openssl curl ca-certificates chromium)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "must run as root (or have sudo) to apt-get install"
  SUDO=(sudo -n)
fi

pkg_version() { dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null | awk '$1=="installed"{print $2}'; }

# Version as the binaries print it (not just "the file exists").
prom_version()     { prometheus --version 2>&1 | awk '/^prometheus, version/{print $3; exit}'; }
promtool_version() { promtool --version 2>&1 | awk '/^promtool, version/{print $3; exit}'; }
kcat_version()     { kcat -V 2>&1 | awk '/Version/{for(i=1;i<=NF;i++) if($i=="Version"){print $(i+1); exit}}'; }
openssl_version()  { openssl version 2>/dev/null | awk '{print $2}'; }

all_ok() {
  local p
  for p in "${PACKAGES[@]}"; do [ -n "$(pkg_version "$p")" ] || return 1; done
  [[ "$(prom_version)" == "$PROMETHEUS_VERSION_PREFIX"* ]] || return 1
  [[ "$(promtool_version)" == "$PROMETHEUS_VERSION_PREFIX"* ]] || return 1
  [[ "$(kcat_version)" == "$KCAT_VERSION_PREFIX"* ]] || return 1
  [ -n "$(openssl_version)" ] || return 1
}

APT_LOG="$(mktemp)"
trap 'rm -f "$APT_LOG"' EXIT

# Another apt-get or dpkg (unattended-upgrades, a second installer, a developer) holding the apt or dpkg lock
# is something to wait for, not a failure: apt-get is retried until the lock is free, for at most
# APT_LOCK_WAIT seconds (default 30 min), saying once who holds it, then fails saying so. DPkg::Lock::Timeout makes apt-get itself
# wait for the dpkg lock as well, so an install never fails half-way because of it.
APT_LOCK_WAIT="${APT_LOCK_WAIT:-1800}"
APT_LOCK_PATTERN='Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock (the )?(administration )?directory|is another process using it'

# Runs apt-get with the given arguments, output in $APT_LOG; waits out a held lock; returns apt-get's status.
apt_get() {
  local waited_since="" status
  while :; do
    status=0
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=60 "$@" >"$APT_LOG" 2>&1 || status=$?
    [ "$status" -ne 0 ] && grep -Eq "$APT_LOCK_PATTERN" "$APT_LOG" || return "$status"
    if [ -z "$waited_since" ]; then
      waited_since=$(date +%s)
      log "waiting for the apt/dpkg lock: $(grep -Em1 "$APT_LOCK_PATTERN" "$APT_LOG" | sed 's/^E: //') (up to ${APT_LOCK_WAIT}s)"
    elif [ $(( $(date +%s) - waited_since )) -ge "$APT_LOCK_WAIT" ]; then
      die "the apt/dpkg lock is still held after ${APT_LOCK_WAIT}s (APT_LOCK_WAIT): $(grep -Em1 "$APT_LOCK_PATTERN" "$APT_LOG" | sed 's/^E: //'); retry when it is free: bash scripts/tools/install-apt.sh"
    fi
    sleep 5
  done
}

apt_update() {
  log "apt-get update"
  if ! apt_get update -qq; then
    tail -n 20 "$APT_LOG" >&2
    die "apt-get update failed (retry: bash scripts/tools/install-apt.sh)"
  fi
}

# Quiet on success; on failure show the tail of apt's output.
apt_install() {
  if ! apt_get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "${PACKAGES[@]}"; then
    tail -n 20 "$APT_LOG" >&2
    return 1
  fi
}

# Stop and disable a system Prometheus that the package may have started.
# This machine kind has no systemd (PID 1 is not systemd) and ships a
# policy-rc.d that forbids starting services, but a fresh VM might not.
stop_system_prometheus() {
  local svc
  for svc in prometheus prometheus-node-exporter; do
    [ -e "/lib/systemd/system/$svc.service" ] || [ -e "/etc/init.d/$svc" ] || continue
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      "${SUDO[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || true
    else
      if [ -x "/etc/init.d/$svc" ]; then
        "${SUDO[@]}" "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
      fi
      command -v update-rc.d >/dev/null 2>&1 && { "${SUDO[@]}" update-rc.d "$svc" disable >/dev/null 2>&1 || true; }
    fi
  done
  # Anything still on :9090 that is the packaged daemon (user prometheus)?
  if command -v ss >/dev/null 2>&1 && ss -Hltn 'sport = :9090' 2>/dev/null | grep -q .; then
    local who
    who="$(ss -Hltnp 'sport = :9090' 2>/dev/null || true)"
    warn "port 9090 is still in use ($who); tests must start Prometheus on another port"
  fi
}

start=$(now)
if all_ok; then
  stop_system_prometheus
  log "ok (cached): prometheus $(prom_version), promtool $(promtool_version), kcat $(kcat_version), openssl $(openssl_version) [$(elapsed "$start")]"
  exit 0
fi

need_update=0
for p in "${PACKAGES[@]}"; do
  cand="$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/{print $2}')"
  if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then need_update=1; fi
done
updated=0
if [ "$need_update" = 1 ]; then apt_update; updated=1; fi

if ! apt_install; then
  [ "$updated" = 1 ] && die "apt-get install ${PACKAGES[*]} failed"
  warn "apt-get install failed; retrying once after apt-get update"
  apt_update
  apt_install || die "apt-get install ${PACKAGES[*]} failed after apt-get update"
fi
stop_system_prometheus

all_ok || die "installed, but versions are not as pinned: prometheus '$(prom_version)' (want ${PROMETHEUS_VERSION_PREFIX}*), promtool '$(promtool_version)', kcat '$(kcat_version)' (want ${KCAT_VERSION_PREFIX}*), openssl '$(openssl_version)'"
log "installed: prometheus $(prom_version), promtool $(promtool_version), kcat $(kcat_version), openssl $(openssl_version) [$(elapsed "$start")]"
