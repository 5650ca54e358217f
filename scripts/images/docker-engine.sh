#!/usr/bin/env bash
# The Docker engine for `npm run images` / `npm run test:compose` on a machine without systemd.
#   docker-engine.sh start    use the engine that answers `docker info`; if none does, start containerd and
#                             dockerd (Debian's docker.io) in the background with pid files
#   docker-engine.sh stop     stop what `start` started (never an engine it did not start), and remove the
#                             docker0 bridge and the DOCKER iptables chains dockerd leaves behind
#   docker-engine.sh status
# State (pid files, logs) lives in $CHAINLOG_CACHE/docker-engine. Needs root (or sudo) to start daemons.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../tools/lib.sh"

STATE="$CHAINLOG_CACHE/docker-engine"
CONTAINERD_PID="$STATE/containerd.pid"
DOCKERD_PID="$STATE/dockerd.pid"
SOCK=/run/chainlog-docker/containerd.sock
SUDO=(); [ "$(id -u)" -eq 0 ] || SUDO=(sudo -n)

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
engine_answers() { docker info >/dev/null 2>&1; }

wait_for() { # seconds, description, command...
  local limit=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + limit ))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

# SIGTERM, then SIGKILL after a grace period; removes the pid file.
stop_pid() { # pidfile, grace seconds
  local pid
  [ -f "$1" ] || return 0
  pid="$(cat "$1")"
  if kill -0 "$pid" 2>/dev/null; then
    "${SUDO[@]}" kill -TERM "$pid" 2>/dev/null || true
    wait_for "$2" "exit of $pid" bash -c "! kill -0 $pid 2>/dev/null" || { "${SUDO[@]}" kill -KILL "$pid" 2>/dev/null || true; sleep 1; }
  fi
  rm -f "$1"
}

start() {
  if engine_answers; then
    if alive "$DOCKERD_PID"; then log "running (started by this script, pid $(cat "$DOCKERD_PID"))"
    else log "using the Docker engine that is already running (docker info answers)"; fi
    return 0
  fi
  command -v dockerd >/dev/null && command -v containerd >/dev/null \
    || die "dockerd/containerd not found: apt-get install -y --no-install-recommends docker.io (see docs/running.md)"
  mkdir -p "$STATE" && "${SUDO[@]}" mkdir -p "$(dirname "$SOCK")"
  local t; t=$(now)
  if ! alive "$CONTAINERD_PID"; then
    # Its own socket and state: a containerd of the local Kubernetes (cluster:up) or of the host is left alone.
    cat >"$STATE/containerd.toml" <<TOML
version = 2
root = "/var/lib/chainlog-docker/containerd"
state = "/run/chainlog-docker/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
TOML
    "${SUDO[@]}" bash -c "containerd --config '$STATE/containerd.toml' >>'$STATE/containerd.log' 2>&1 & echo \$! >'$CONTAINERD_PID'"
    wait_for 30 containerd test -S "$SOCK" || die "containerd did not start; see $STATE/containerd.log"
  fi
  # dockerd sets FORWARD's policy to DROP; stop puts back the policy found here.
  "${SUDO[@]}" iptables -S FORWARD 2>/dev/null | awk '$1=="-P"{print $3; exit}' >"$STATE/forward-policy" || true
  "${SUDO[@]}" bash -c "dockerd --containerd='$SOCK' --pidfile='$STATE/dockerd.own.pid' >>'$STATE/dockerd.log' 2>&1 & echo \$! >'$DOCKERD_PID'"
  wait_for 60 dockerd engine_answers || { tail -n 20 "$STATE/dockerd.log" >&2; die "dockerd did not answer within 60 s; see $STATE/dockerd.log"; }
  log "started containerd (pid $(cat "$CONTAINERD_PID")) and dockerd (pid $(cat "$DOCKERD_PID")); logs in $STATE [$(elapsed "$t")]"
}

stop() {
  if ! alive "$DOCKERD_PID" && ! alive "$CONTAINERD_PID"; then
    rm -f "$DOCKERD_PID" "$CONTAINERD_PID"
    log "not running (nothing this script started)"
    return 0
  fi
  local t; t=$(now)
  # dockerd stops its containers on a clean shutdown (no live-restore); give them their stop grace.
  stop_pid "$DOCKERD_PID" 60
  stop_pid "$CONTAINERD_PID" 20
  # What dockerd creates and never removes: the default bridge and its iptables chains.
  "${SUDO[@]}" ip link delete docker0 2>/dev/null || true
  local table chain
  for table in filter nat; do
    "${SUDO[@]}" iptables -t "$table" -S 2>/dev/null | awk '$1=="-A" && ($0 ~ /DOCKER|docker0/) {print}' | sed 's/^-A/-D/' \
      | while read -r rule; do eval "${SUDO[*]} iptables -t $table $rule" 2>/dev/null || true; done
    for chain in $("${SUDO[@]}" iptables -t "$table" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^DOCKER/ {print $2}'); do
      "${SUDO[@]}" iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $("${SUDO[@]}" iptables -t "$table" -S 2>/dev/null | awk '$1=="-N" && $2 ~ /^DOCKER/ {print $2}'); do
      "${SUDO[@]}" iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
  if [ -s "$STATE/forward-policy" ]; then
    "${SUDO[@]}" iptables -P FORWARD "$(cat "$STATE/forward-policy")" 2>/dev/null || true
    rm -f "$STATE/forward-policy"
  fi
  log "stopped dockerd and containerd [$(elapsed "$t")]"
}

status() {
  if engine_answers; then
    if alive "$DOCKERD_PID"; then log "running (started by this script, pid $(cat "$DOCKERD_PID"))"
    else log "running (not started by this script)"; fi
  else
    log "not running"; return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
