# shellcheck shell=bash
# Common helpers for scripts/tools/*.sh. Source it; do not run it.
# Sets: TOOLS_DIR, CHAINLOG_CACHE, CACHE_BIN, and (via go_env) a Go environment
# whose module/build caches live under the cache, so a fresh CI clone reuses them.

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$TOOLS_DIR/versions.env"

CHAINLOG_CACHE="${CHAINLOG_CACHE:-$HOME/.cache/chainlog}"
CACHE_BIN="$CHAINLOG_CACHE/bin"
export CHAINLOG_CACHE
mkdir -p "$CACHE_BIN"
case ":$PATH:" in *":$CACHE_BIN:"*) ;; *) export PATH="$CACHE_BIN:$PATH" ;; esac

_tool_name="$(basename "${0:-tool}" .sh)"

log()  { printf '[%s] %s\n' "$_tool_name" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "$_tool_name" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$_tool_name" "$*" >&2; exit 1; }

# On an unexpected failure (set -e), say where, so CI logs are clear.
_on_err() { printf '[%s] ERROR: failed (exit %s) at line %s: %s\n' "$_tool_name" "$1" "$2" "$3" >&2; }
trap '_on_err "$?" "$LINENO" "$BASH_COMMAND"' ERR

# Locate go and export a Go environment rooted in the cache.
go_env() {
  if ! command -v go >/dev/null 2>&1; then
    [ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
  fi
  command -v go >/dev/null 2>&1 || die "go not found (need Go >= $GO_MIN_VERSION on PATH or at /usr/local/go/bin/go)"
  local have
  have="$(go env GOVERSION)"; have="${have#go}"
  if ! printf '%s\n%s\n' "$GO_MIN_VERSION" "$have" | sort -V -C; then
    die "go $have is too old (need >= $GO_MIN_VERSION)"
  fi
  export GOPATH="$CHAINLOG_CACHE/go/path"
  export GOMODCACHE="$CHAINLOG_CACHE/go/mod"
  export GOCACHE="$CHAINLOG_CACHE/go/build"
  export GOBIN="$CACHE_BIN"
  # Never download another toolchain (no internet besides the module proxy
  # anyway); -modcacherw keeps the module cache deletable with rm -rf.
  export GOTOOLCHAIN=local
  # -trimpath: build-cache hits do not depend on where the clone or the
  # cache lives (CI clones into another folder).
  export GOFLAGS="-modcacherw -buildvcs=false -trimpath"
  export CGO_ENABLED=0
  # Builds run under nice so parallel work (tests, other builds) is not starved.
  export GO_NICE="nice -n 10"
}

# Dies unless the wrapper module $1 (a folder of scripts/tools) requires module $2 at version $3: go.mod and
# versions.env must agree. $4: what to do about it, when there is more to say than "(versions.env)".
require_module() {
  grep -Eq "^(require)?[[:space:]]*$2 $3\$" "$1/go.mod" || die "$1/go.mod does not require $2 $3 (versions.env)${4:+; $4}"
}

# Builds package $4 (default: the module itself) of the wrapper module $1 into the file $2 with -ldflags $3,
# after go_env. A failed build prints the tail of its log and dies naming $5 (default: the file's name).
go_build_wrapper() {
  local mod="$1" out="$2" ldflags="$3" pkg="${4:-.}" what="${5:-$(basename "$2")}" build_log
  build_log="$(mktemp)"
  if ! (cd "$mod" && $GO_NICE go build -ldflags "$ldflags" -o "$out" "$pkg") >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    rm -f "$build_log"
    die "building $what failed"
  fi
  rm -f "$build_log"
}

# -ldflags stamping Kubernetes' own version variables with $KUBE_VERSION (kube-apiserver, kube), as a release build does.
kube_version_ldflags() {
  local minor="${KUBE_VERSION#v1.}"
  minor="${minor%%.*}"
  local flags="-s -w"
  flags+=" -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
  flags+=" -X k8s.io/component-base/version.gitMajor=1"
  flags+=" -X k8s.io/component-base/version.gitMinor=$minor"
  flags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  flags+=" -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  printf '%s' "$flags"
}

# One installer of a kind at a time per cache (e.g. CI and a developer, or two
# worktrees): waits for the other to finish, then re-checks the cache.
tool_lock() {
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$CHAINLOG_CACHE/.lock-$_tool_name"
  if ! flock -n 9; then
    log "waiting for another $_tool_name on $CHAINLOG_CACHE to finish"
    flock -w 3600 9 || die "timed out waiting for the lock $CHAINLOG_CACHE/.lock-$_tool_name"
  fi
}

# CPU seconds (user+sys) used so far by this shell's finished children, in
# CPU_CHILDREN (`times` must run in this shell, not in a $(...) subshell).
cpu_children() {
  local f
  f="$(mktemp)"
  times >"$f"
  # shellcheck disable=SC2034  # read by the caller
  CPU_CHILDREN="$(tail -n 1 "$f" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%.0f", s }')"
  rm -f "$f"
}

# Seconds since epoch with a fraction, for timings.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# A free TCP port on 127.0.0.1 (asks the kernel for an ephemeral one), claimed in the port registry of
# scripts/lib/ports.ts (the same directory and file format; noclobber makes the claim an O_EXCL create), so
# the tests' allocator never hands it to anything else while this script runs. A port claimed already is
# skipped, never taken over (ports.ts takes over lapsed claims).
free_port() {
  local registry="${CHAINLOG_PORT_REGISTRY:-${TMPDIR:-/tmp}/chainlog-ports-$(id -u)}" p py=""
  mkdir -p "$registry"
  for p in python3 /usr/bin/python3; do command -v "$p" >/dev/null 2>&1 && { py="$p"; break; }; done
  for _ in $(seq 200); do
    if [ -n "$py" ]; then
      p="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
    else
      # Without python: a random high port that nothing listens on.
      p=$(( 20000 + RANDOM % 30000 ))
      if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
    fi
    if (set -o noclobber; printf '%s %s %s\n' "$$" "$(date +%s%3N)" "$_tool_name" >"$registry/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  die "no free port found (registry $registry)"
}
