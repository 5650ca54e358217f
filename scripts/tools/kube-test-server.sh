#!/usr/bin/env bash
# A real Kubernetes API server for tests, no cluster: etcd + kube-apiserver on
# 127.0.0.1 (free ports), token auth, RBAC, self-signed serving cert.
# No controller-manager or scheduler runs: no garbage collection, no default
# ServiceAccounts, StatefulSets get no Pods (but their spec, status and /scale work).
#
#   kube-test-server.sh start <dir>   start; writes into <dir>:
#        url  token  tokens.csv  kubeconfig  env  sa.key sa.pub  certs/  etcd-data/
#        etcd.pid  kube-apiserver.pid  etcd.log  kube-apiserver.log
#      and prints one line: url=... token-file=... kubeconfig=...
#   kube-test-server.sh stop <dir>    stop the processes whose pids are in <dir>
#   kube-test-server.sh selftest      start in a temp dir, create a StatefulSet,
#                                     read and patch its /scale, get and use a
#                                     ServiceAccount token, stop
#
# <dir>/env can be sourced: KUBE_URL KUBE_TOKEN KUBE_TOKEN_FILE KUBECONFIG
# KUBE_CA_FILE ETCD_URL. The serving cert is self-signed: verify it with
# KUBE_CA_FILE (curl --cacert) or skip verification (curl -k).
# Binaries: $CHAINLOG_CACHE/bin/{etcd,kube-apiserver} (install-etcd.sh,
# install-kube-apiserver.sh); needs openssl and curl (install-apt.sh).
# The servers get no inherited fd 9 (the install scripts' lock) and no stdin.
# Env: KUBE_TEST_TOKEN (default: random), KUBE_TEST_READY_TIMEOUT (s, default 120).
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ETCD="$CACHE_BIN/etcd"
KAS="$CACHE_BIN/kube-apiserver"
READY_TIMEOUT="${KUBE_TEST_READY_TIMEOUT:-120}"

usage() { echo "usage: $0 start <dir> | stop <dir> | selftest" >&2; exit 2; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# pid from <dir>/<name>.pid, only if that process is still the one we started.
pid_of() {
  local dir="$1" name="$2" pid
  pid="$(cat "$dir/$name.pid" 2>/dev/null || true)"
  [ -n "$pid" ] || return 0
  if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$name"; then echo "$pid"; fi
}

stop_one() {
  local dir="$1" name="$2" pid
  pid="$(pid_of "$dir" "$name")"
  rm -f "$dir/$name.pid"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do alive "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
  local dir="$1"
  [ -d "$dir" ] || die "no such directory: $dir"
  stop_one "$dir" kube-apiserver
  stop_one "$dir" etcd
  log "stopped kube-apiserver and etcd of $dir"
}

# On a failed start, stop whatever was started and show the logs' tails.
fail_start() {
  local dir="$1"; shift
  local f
  for f in etcd kube-apiserver; do
    [ -s "$dir/$f.log" ] && { echo "--- last lines of $dir/$f.log" >&2; tail -n 15 "$dir/$f.log" >&2; }
  done
  stop_one "$dir" kube-apiserver
  stop_one "$dir" etcd
  die "$*"
}

cmd_start() {
  local dir="$1"
  [ -x "$ETCD" ] || die "etcd not installed at $ETCD (run scripts/tools/install-etcd.sh)"
  [ -x "$KAS" ] || die "kube-apiserver not installed at $KAS (run scripts/tools/install-kube-apiserver.sh)"
  command -v openssl >/dev/null || die "openssl not found (run scripts/tools/install-apt.sh)"
  command -v curl >/dev/null || die "curl not found (run scripts/tools/install-apt.sh)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [ -n "$(pid_of "$dir" kube-apiserver)$(pid_of "$dir" etcd)" ]; then
    die "a test server is already running for $dir (stop it first: $0 stop $dir)"
  fi

  local etcd_port peer_port kas_port token
  etcd_port="$(free_port)"; peer_port="$(free_port)"; kas_port="$(free_port)"
  while [ "$peer_port" = "$etcd_port" ]; do peer_port="$(free_port)"; done
  while [ "$kas_port" = "$etcd_port" ] || [ "$kas_port" = "$peer_port" ]; do kas_port="$(free_port)"; done

  rm -rf "$dir/etcd-data" "$dir/certs"
  mkdir -p "$dir/certs"
  "$ETCD" --name kube-test --data-dir "$dir/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "kube-test=http://127.0.0.1:$peer_port" --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn \
    >"$dir/etcd.log" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/etcd.pid"

  token="${KUBE_TEST_TOKEN:-$(openssl rand -hex 24)}"
  printf '%s' "$token" >"$dir/token"
  printf '%s,admin,1,"system:masters"\n' "$token" >"$dir/tokens.csv"
  chmod 600 "$dir/token" "$dir/tokens.csv"
  openssl genrsa -out "$dir/sa.key" 2048 >/dev/null 2>&1 || fail_start "$dir" "openssl genrsa failed"
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" >/dev/null 2>&1 || fail_start "$dir" "openssl rsa -pubout failed"

  local ok=0
  for _ in $(seq 100); do
    alive "$(cat "$dir/etcd.pid")" || fail_start "$dir" "etcd exited during start"
    if curl -fsS "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q '"health":"true"'; then ok=1; break; fi
    sleep 0.2
  done
  [ "$ok" = 1 ] || fail_start "$dir" "etcd not healthy after 20s"

  "$KAS" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$kas_port" \
    --cert-dir="$dir/certs" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --authorization-mode=RBAC \
    --disable-admission-plugins=ServiceAccount \
    --token-auth-file="$dir/tokens.csv" \
    --service-account-issuer="https://127.0.0.1:$kas_port/" \
    --service-account-key-file="$dir/sa.pub" \
    --service-account-signing-key-file="$dir/sa.key" \
    --allow-privileged=true \
    >"$dir/kube-apiserver.log" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/kube-apiserver.pid"

  local url="https://127.0.0.1:$kas_port" deadline=$(( $(date +%s) + READY_TIMEOUT ))
  ok=0
  while [ "$(date +%s)" -lt "$deadline" ]; do
    alive "$(cat "$dir/kube-apiserver.pid")" || fail_start "$dir" "kube-apiserver exited during start"
    if [ "$(curl -ks -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/readyz")" = 200 ]; then ok=1; break; fi
    sleep 0.5
  done
  [ "$ok" = 1 ] || fail_start "$dir" "kube-apiserver not ready (/readyz) after ${READY_TIMEOUT}s"

  echo "$url" >"$dir/url"
  # The serving cert is self-signed; certs/apiserver.crt holds it plus its CA
  # (valid for 127.0.0.1), so clients can verify (curl --cacert) instead of -k.
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: kube-test
    cluster: {server: "$url", certificate-authority: "$dir/certs/apiserver.crt"}
users:
  - name: admin
    user: {tokenFile: "$dir/token"}
contexts:
  - name: kube-test
    context: {cluster: kube-test, user: admin, namespace: default}
current-context: kube-test
EOF
  chmod 600 "$dir/kubeconfig"
  cat >"$dir/env" <<EOF
KUBE_URL=$url
KUBE_TOKEN_FILE=$dir/token
KUBE_TOKEN=$token
KUBECONFIG=$dir/kubeconfig
KUBE_CA_FILE=$dir/certs/apiserver.crt
ETCD_URL=http://127.0.0.1:$etcd_port
EOF
  echo "url=$url token-file=$dir/token kubeconfig=$dir/kubeconfig (kube-apiserver pid $(cat "$dir/kube-apiserver.pid"), etcd pid $(cat "$dir/etcd.pid"))"
}

cmd_selftest() {
  local dir t0
  dir="$(mktemp -d)"
  t0=$(now)
  SELFTEST_DIR="$dir"
  trap 'cmd_stop "$SELFTEST_DIR" >/dev/null 2>&1 || true; rm -rf "$SELFTEST_DIR"' EXIT
  cmd_start "$dir"
  # shellcheck source=/dev/null
  source "$dir/env"
  local auth=(-H "Authorization: Bearer $KUBE_TOKEN") out
  out="$(curl -sS --cacert "$KUBE_CA_FILE" "${auth[@]}" "$KUBE_URL/version")"
  grep -q "\"gitVersion\": \"$KUBE_VERSION\"" <<<"$out" || die "/version is not $KUBE_VERSION: $out"
  out="$(curl -ksS -o /dev/null -w '%{http_code}' "$KUBE_URL/api/v1/namespaces")"
  [ "$out" = 401 ] || [ "$out" = 403 ] || die "anonymous request was not refused (HTTP $out)"
  out="$(curl -ksS -w '\n%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
    -X POST "$KUBE_URL/apis/apps/v1/namespaces/default/statefulsets" -d '{
      "apiVersion": "apps/v1", "kind": "StatefulSet",
      "metadata": {"name": "selftest"},
      "spec": {"replicas": 3, "serviceName": "selftest",
        "selector": {"matchLabels": {"app": "selftest"}},
        "template": {"metadata": {"labels": {"app": "selftest"}},
          "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}')"
  [ "$(tail -n1 <<<"$out")" = 201 ] || die "creating a StatefulSet failed: $out"
  out="$(curl -ksS "${auth[@]}" "$KUBE_URL/apis/apps/v1/namespaces/default/statefulsets/selftest/scale")"
  if ! grep -q '"kind": "Scale"' <<<"$out" || ! grep -q '"replicas": 3' <<<"$out"; then die "/scale did not report 3 replicas: $out"; fi
  out="$(curl -ksS "${auth[@]}" -H 'Content-Type: application/merge-patch+json' -X PATCH \
    "$KUBE_URL/apis/apps/v1/namespaces/default/statefulsets/selftest/scale" -d '{"spec":{"replicas":5}}')"
  grep -q '"replicas": 5' <<<"$out" || die "patching /scale failed: $out"
  out="$(curl -ksS "${auth[@]}" "$KUBE_URL/apis/apps/v1/namespaces/default/statefulsets/selftest")"
  grep -q '"replicas": 5' <<<"$out" || die "StatefulSet spec.replicas is not 5 after /scale: $out"
  # ServiceAccount tokens (TokenRequest) are signed with sa.key and accepted:
  # the SA has no RBAC permissions, so a request with its token gets 403, not 401.
  out="$(curl -ksS -w '\n%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' -X POST \
    "$KUBE_URL/api/v1/namespaces/default/serviceaccounts" -d '{"metadata":{"name":"selftest"}}')"
  [ "$(tail -n1 <<<"$out")" = 201 ] || die "creating a ServiceAccount failed: $out"
  out="$(curl -ksS "${auth[@]}" -H 'Content-Type: application/json' -X POST \
    "$KUBE_URL/api/v1/namespaces/default/serviceaccounts/selftest/token" -d '{"spec":{"expirationSeconds":600}}')"
  local sa_token
  sa_token="$(sed -n 's/.*"token": "\([^"]*\)".*/\1/p' <<<"$out")"
  [ -n "$sa_token" ] || die "TokenRequest returned no token: $out"
  out="$(curl -ksS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $sa_token" "$KUBE_URL/api/v1/namespaces/default/pods")"
  [ "$out" = 403 ] || die "a ServiceAccount token was not authenticated as such (HTTP $out, want 403)"
  echo "selftest ok: kube-apiserver $KUBE_VERSION + etcd $("$ETCD" --version | awk '/^etcd Version:/{print $3}') started, StatefulSet created, /scale read 3 and patched to 5, ServiceAccount token authenticated ($(elapsed "$t0"))"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || usage; cmd_start "$2" ;;
  stop) [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
  selftest) [ $# -eq 1 ] || usage; cmd_selftest ;;
  *) usage ;;
esac
