#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, from the registries reachable here (docs/running.md):
#   cluster.sh up       etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy (one
#                       multi-call binary, scripts/tools/install-kube.sh), containerd (its own instance, with the
#                       oom-score fix), the Debian CNI plugins (bridge cni0, 10.244.0.0/24), CoreDNS as the
#                       cluster DNS (kube-system/kube-dns, 10.96.0.10), 16 hostPath PersistentVolumes, and the images of
#                       `npm run images` imported into containerd. Ends with a pod that resolves a Service name.
#   cluster.sh down     deletes every pod, stops every process it started, and removes its iptables chains,
#                       the cni0 bridge, the node address on lo, its mounts and cgroups; then checks that
#                       nothing is left (exit 1 naming what is). Keeps only the logs and containerd's image store.
#   cluster.sh status
#   cluster.sh import IMAGE...   imports images from Docker into the cluster's containerd (skaffold -p local)
#   cluster.sh env      prints `export KUBECONFIG=...` (and PATH for kubectl): eval "$(cluster.sh env)"
# Needs root. Host ports (20840-20879): apiserver 20843, kubelet 20850/20851, kube-proxy 20852/20856,
# CoreDNS 20853 (+ 20857 health, 20858 ready), scheduler 20854, controller-manager 20855, etcd 20870/20871.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../tools/lib.sh"

ROOT="$(cd "$TOOLS_DIR/../.." && pwd)"
DIR="${CHAINLOG_CLUSTER_DIR:-$CHAINLOG_CACHE/cluster}"
RUN=/run/chainlog-cluster
STATE="$DIR/state"            # removed by down: pki, etcd, kubelet, configs
LOGS="$DIR/logs"
IMAGES="$DIR/containerd"      # containerd's root (the image store): kept, so the next up imports nothing new
PIDS="$RUN/pids"
SOCK="$RUN/containerd.sock"
NODE_IP=10.254.254.1
NODE_NAME=chainlog-node
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/24
DNS_IP=10.96.0.10
API_PORT=20843
API="https://$NODE_IP:$API_PORT"
KUBE_BIN="$CHAINLOG_CACHE/kube/bin"
KUBECONFIG_FILE="$DIR/kubeconfig"
export PATH="$KUBE_BIN:$PATH"

[ "$(id -u)" -eq 0 ] || die "needs root (it runs containerd, the kubelet and kube-proxy)"

kubectl_() { "$KUBE_BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
alive() { [ -f "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

wait_for() { # seconds, description, command...
  local limit=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

# Starts a daemon in its own session, with a pid file and a log; fails if it dies within a second.
daemon() { # name, command...
  local name=$1; shift
  mkdir -p "$PIDS" "$LOGS"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$PIDS/$name.pid"
  sleep 1
  alive "$name" || { tail -n 30 "$LOGS/$name.log" >&2; die "$name exited at start; see $LOGS/$name.log"; }
}

stop_daemon() { # name, grace seconds
  local pid
  [ -f "$PIDS/$1.pid" ] || return 0
  pid="$(cat "$PIDS/$1.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_for "$2" "exit of $1" bash -c "! kill -0 $pid" || { warn "$1 (pid $pid) ignored SIGTERM for $2 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; }
  fi
  rm -f "$PIDS/$1.pid"
}

# ---------------------------------------------------------------------------------------------------
# up

pki() {
  local p="$STATE/pki"
  mkdir -p "$p"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=chainlog-local-ca" \
    -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
  cat >"$p/apiserver.ext" <<EXT
subjectAltName=IP:$NODE_IP,IP:127.0.0.1,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost
extendedKeyUsage=serverAuth
EXT
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$p/apiserver.key" -out "$p/apiserver.csr" 2>/dev/null
  openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
    -extfile "$p/apiserver.ext" -out "$p/apiserver.crt" 2>/dev/null
  # The apiserver's client certificate towards the kubelet (logs, exec, port-forward).
  printf 'extendedKeyUsage=clientAuth\n' >"$p/client.ext"
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
    -keyout "$p/kubelet-client.key" -out "$p/kubelet-client.csr" 2>/dev/null
  openssl x509 -req -in "$p/kubelet-client.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
    -extfile "$p/client.ext" -out "$p/kubelet-client.crt" 2>/dev/null
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  # Static tokens, one identity per component (their bootstrap RBAC bindings exist in every cluster).
  : >"$p/tokens.csv"
  local who
  for who in "admin,admin,\"system:masters\"" "kubelet,system:node:$NODE_NAME,\"system:nodes\"" \
             "controller-manager,system:kube-controller-manager," "scheduler,system:kube-scheduler," \
             "kube-proxy,system:kube-proxy," "coredns,system:coredns,"; do
    local name="${who%%,*}" rest="${who#*,}" token
    token="$(openssl rand -hex 24)"
    local user="${rest%%,*}" groups="${rest#*,}"
    printf '%s,%s,%s,%s\n' "$token" "$user" "$user" "$groups" >>"$p/tokens.csv"
    kubeconfig "$STATE/$name.kubeconfig" "$token"
  done
  cp "$STATE/admin.kubeconfig" "$KUBECONFIG_FILE"
}

kubeconfig() { # file, token
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
  - name: chainlog
    cluster: {server: "$API", certificate-authority: "$STATE/pki/ca.crt"}
users:
  - name: chainlog
    user: {token: "$2"}
contexts:
  - name: chainlog
    context: {cluster: chainlog, user: chainlog}
current-context: chainlog
KC
}

node_network() {
  ip addr show dev lo | grep " $NODE_IP/32" >/dev/null || ip addr add "$NODE_IP/32" dev lo
  # Pod traffic is routed through FORWARD (a ClusterIP DNATed to another pod; with br_netfilter even traffic
  # within cni0), whose policy Docker sets to DROP: accept the pod network in a chain of our own (down removes
  # every CNI-* chain).
  iptables -w -N CNI-CHAINLOG-FORWARD 2>/dev/null || iptables -w -F CNI-CHAINLOG-FORWARD
  iptables -w -A CNI-CHAINLOG-FORWARD -s "$POD_CIDR" -j ACCEPT
  iptables -w -A CNI-CHAINLOG-FORWARD -d "$POD_CIDR" -j ACCEPT
  iptables -w -C FORWARD -j CNI-CHAINLOG-FORWARD 2>/dev/null || iptables -w -I FORWARD 1 -j CNI-CHAINLOG-FORWARD
  mkdir -p "$STATE/cni/net.d" "$STATE/cni/ipam"
  cat >"$STATE/cni/net.d/10-chainlog.conflist" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "chainlog",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }], "dataDir": "$STATE/cni/ipam" }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
CNI
}

start_containerd() {
  mkdir -p "$RUN" "$IMAGES"
  # restrict_oom_score_adj: this VM withholds CAP_SYS_RESOURCE, and runc fails every pod sandbox
  # ("can't get final child's PID from pipe: EOF") when asked to lower a container's oom_score_adj.
  cat >"$STATE/containerd.toml" <<TOML
version = 2
root = "$IMAGES"
state = "$RUN/containerd"
[grpc]
  address = "$SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
TOML
  daemon containerd containerd --config "$STATE/containerd.toml"
  wait_for 30 containerd ctr --address "$SOCK" version || die "containerd did not answer; see $LOGS/containerd.log"
}

# The images of `npm run images`, from Docker into containerd's k8s.io namespace (kept across clusters).
import_images() {
  bash "$ROOT/scripts/images/docker-engine.sh" start >/dev/null
  local app images=() missing=() image
  app="$(awk -F'"' '/^appVersion:/{print $2}' "$ROOT/charts/chainlog/Chart.yaml")"
  if [ $# -gt 0 ]; then images=("$@")
  else
    images=(registry.k8s.io/pause:3.10 registry.k8s.io/pause:3.6 chainlog:dev "chainlog:$app")
    mapfile -t -O "${#images[@]}" images < <(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^(apache/kafka|prom/prometheus):' || true)
  fi
  for image in "${images[@]}"; do
    docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing: run npm run images"
    # Same image id already in containerd: nothing to import.
    local id
    id="$(docker image inspect -f '{{.Id}}' "$image")"
    # containerd's name: docker.io/library/<image> for an image without a registry or path, like Docker's.
    local ref="$image"
    if [[ "$image" != */* ]]; then ref="docker.io/library/$image"
    else case "${image%%/*}" in *.*|*:*|localhost) ;; *) ref="docker.io/$image" ;; esac; fi
    ctr --address "$SOCK" -n k8s.io images ls -q "name==$ref" 2>/dev/null | grep . >/dev/null \
      && [ "$(cat "$IMAGES/.imported-$(echo "$image" | tr '/:' '__')" 2>/dev/null)" = "$id" ] && continue
    missing+=("$image")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "importing ${missing[*]} into containerd"
    docker save "${missing[@]}" | ctr --address "$SOCK" -n k8s.io images import --no-unpack - >/dev/null
    for image in "${missing[@]}"; do
      docker image inspect -f '{{.Id}}' "$image" >"$IMAGES/.imported-$(echo "$image" | tr '/:' '__')"
    done
  fi
}

start_control_plane() {
  daemon etcd "$CACHE_BIN/etcd" --name chainlog --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:20870 --advertise-client-urls http://127.0.0.1:20870 \
    --listen-peer-urls http://127.0.0.1:20871 --initial-advertise-peer-urls http://127.0.0.1:20871 \
    --initial-cluster chainlog=http://127.0.0.1:20871 --listen-metrics-urls http://127.0.0.1:20872
  wait_for 60 etcd curl -fsS http://127.0.0.1:20870/health || die "etcd did not become healthy; see $LOGS/etcd.log"
  local p="$STATE/pki"
  daemon kube-apiserver "$KUBE_BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:20870 --bind-address="$NODE_IP" --advertise-address="$NODE_IP" \
    --secure-port="$API_PORT" --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/ca.crt" --token-auth-file="$p/tokens.csv" --authorization-mode=Node,RBAC \
    --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --kubelet-client-certificate="$p/kubelet-client.crt" --kubelet-client-key="$p/kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP --enable-admission-plugins=NodeRestriction --profiling=false
  wait_for 120 kube-apiserver kubectl_ get --raw /readyz || { tail -n 20 "$LOGS/kube-apiserver.log" >&2; die "kube-apiserver not ready; see $LOGS/kube-apiserver.log"; }
  daemon kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=20855 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
    --cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" --service-cluster-ip-range="$SERVICE_CIDR"
  daemon kube-scheduler "$KUBE_BIN/kube-scheduler" --kubeconfig="$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/scheduler.kubeconfig" --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=20854 --leader-elect=false
}

start_node() {
  mkdir -p "$STATE/kubelet" "$STATE/pod-logs"
  cat >"$STATE/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 20850
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 20851
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
# This machine kind runs cgroup v1 (hybrid); 1.35 flips the default to refuse it.
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$SOCK
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
podLogsDir: $STATE/pod-logs
serializeImagePulls: false
# Never garbage-collect the imported images (they cannot be pulled again) and do not evict on a busy disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
maxPods: 110
YAML
  daemon kubelet "$KUBE_BIN/kubelet" --config="$STATE/kubelet.yaml" --kubeconfig="$STATE/kubelet.kubeconfig" \
    --root-dir="$STATE/kubelet" --cert-dir="$STATE/kubelet/pki" --node-ip="$NODE_IP" --hostname-override="$NODE_NAME"
  daemon kube-proxy "$KUBE_BIN/kube-proxy" --kubeconfig="$STATE/kube-proxy.kubeconfig" --proxy-mode=iptables \
    --cluster-cidr="$POD_CIDR" --hostname-override="$NODE_NAME" --bind-address="$NODE_IP" \
    --metrics-bind-address=127.0.0.1:20852 --healthz-bind-address=127.0.0.1:20856 \
    --conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0
  wait_for 120 node kubectl_ wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s \
    || { tail -n 20 "$LOGS/kubelet.log" >&2; die "the node did not become Ready; see $LOGS/kubelet.log"; }
}

# CoreDNS on the host, serving cluster.local from the API; the kube-dns Service (10.96.0.10) points at it.
start_dns() {
  kubectl_ apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
  - apiGroups: [""]
    resources: [endpoints, services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:coredns"}]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: $DNS_IP
  ports:
    - {name: dns, port: 53, targetPort: 20853, protocol: UDP}
    - {name: dns-tcp, port: 53, targetPort: 20853, protocol: TCP}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-host
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: chainlog-cluster}
addressType: IPv4
endpoints:
  - addresses: [$NODE_IP]
    conditions: {ready: true}
    nodeName: $NODE_NAME
ports:
  - {name: dns, port: 20853, protocol: UDP}
  - {name: dns-tcp, port: 20853, protocol: TCP}
YAML
  cat >"$STATE/Corefile" <<COREFILE
.:20853 {
    bind $NODE_IP
    errors
    health 127.0.0.1:20857
    ready 127.0.0.1:20858
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $STATE/coredns.kubeconfig chainlog
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    forward . /etc/resolv.conf
    cache 30
    loop
    loadbalance
}
COREFILE
  daemon coredns "$CACHE_BIN/coredns" -conf "$STATE/Corefile"
  wait_for 60 coredns curl -fsS http://127.0.0.1:20858/ready || { tail -n 20 "$LOGS/coredns.log" >&2; die "CoreDNS not ready; see $LOGS/coredns.log"; }
}

# hostPath PersistentVolumes without a class: what a PVC of the chart (no storageClassName, no default class)
# binds to, without a provisioner or an image registry. World-writable, since hostPath volumes ignore fsGroup.
# Enough for the suite's claims with room to spare: each Kafka broker and each auditor replica (a StatefulSet with
# a claim per pod) binds one, and a claim deleted by hand leaves its volume Released (Retain), not reusable.
volumes() {
  local i
  for i in $(seq 0 15); do
    mkdir -p "$STATE/volumes/pv-$i" && chmod 0777 "$STATE/volumes/pv-$i"
    kubectl_ apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: chainlog-local-pv-$i, labels: {chainlog.dev/local-cluster: "true"}}
spec:
  capacity: {storage: 20Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $STATE/volumes/pv-$i, type: DirectoryOrCreate}
YAML
  done
}

# A pod from the chainlog image resolves a Service name through the cluster DNS and reaches the API through
# the kubernetes Service: pods, CNI, kube-proxy and DNS all work.
smoke() {
  local app out
  app="$(awk -F'"' '/^appVersion:/{print $2}' "$ROOT/charts/chainlog/Chart.yaml")"
  wait_for 60 "default service account" kubectl_ -n default get serviceaccount default
  kubectl_ -n default delete pod chainlog-smoke --ignore-not-found --wait >/dev/null
  kubectl_ -n default run chainlog-smoke --restart=Never --image="chainlog:$app" --image-pull-policy=Never \
    --env=NODE_EXTRA_CA_CERTS=/var/run/secrets/kubernetes.io/serviceaccount/ca.crt --command -- node -e \
    "require('dns').promises.lookup('kubernetes.default.svc.cluster.local').then(a=>fetch('https://'+a.address+'/readyz').then(r=>console.log('dns+service:',a.address,r.status)))" >/dev/null
  if ! kubectl_ -n default wait pod/chainlog-smoke --for=jsonpath='{.status.phase}'=Succeeded --timeout=180s >/dev/null 2>&1; then
    out="$(kubectl_ -n default logs chainlog-smoke 2>&1; kubectl_ -n default describe pod chainlog-smoke 2>&1 | tail -n 15)"
    die "the smoke pod did not succeed: $out"
  fi
  out="$(kubectl_ -n default logs chainlog-smoke 2>&1)"
  kubectl_ -n default delete pod chainlog-smoke --wait=false >/dev/null
  case "$out" in *"dns+service: 10.96.0.1 200"*) log "smoke pod: kubernetes.default resolved to 10.96.0.1, /readyz 200 through the Service" ;;
    *) die "the smoke pod did not resolve and reach the API Service: $out" ;; esac
}

up() {
  if alive kube-apiserver; then
    # Still bring in images rebuilt since (npm run images): pods started from now on run them, not the old ones.
    alive containerd && import_images
    log "already up (KUBECONFIG=$KUBECONFIG_FILE)"
    return 0
  fi
  local t; t=$(now)
  bash "$TOOLS_DIR/install-kube.sh"
  bash "$TOOLS_DIR/install-coredns.sh"
  [ -x "$CACHE_BIN/etcd" ] || bash "$TOOLS_DIR/install-etcd.sh"
  down quiet
  rm -rf "$STATE" && mkdir -p "$STATE" "$LOGS" "$PIDS"
  rm -f "$LOGS"/*.log
  pki
  node_network
  start_containerd
  import_images
  start_control_plane
  start_node
  start_dns
  volumes
  smoke
  log "up in $(elapsed "$t"): node $NODE_NAME Ready, DNS $DNS_IP; export KUBECONFIG=$KUBECONFIG_FILE (kubectl: $KUBE_BIN/kubectl)"
}

# ---------------------------------------------------------------------------------------------------
# down

remove_chains() { # tool, chain-name regex
  local tool=$1 re=$2 table chain
  command -v "$tool" >/dev/null || return 0
  for table in filter nat mangle raw; do
    "$tool" -t "$table" -S 2>/dev/null | awk -v re="$re" '$1=="-A" && $0 ~ re' | sed 's/^-A /-D /' \
      | while read -r rule; do eval "$tool -w -t $table $rule" 2>/dev/null || true; done
    for chain in $("$tool" -t "$table" -S 2>/dev/null | awk -v re="$re" '$1=="-N" && $2 ~ re {print $2}'); do
      "$tool" -w -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $("$tool" -t "$table" -S 2>/dev/null | awk -v re="$re" '$1=="-N" && $2 ~ re {print $2}'); do
      "$tool" -w -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

our_mounts() { awk -v a="$DIR/" -v b="$RUN/" '$2 ~ "^" a || $2 ~ "^" b || $2 ~ "^/run/netns/cni-" {print $2}' /proc/mounts | sort -r; }

down() {
  local quiet=${1:-}
  local t; t=$(now)
  if alive kube-apiserver && alive kubelet; then
    # Nothing may recreate pods while they are deleted; the kubelet stops them (CNI DEL included).
    stop_daemon kube-controller-manager 20
    stop_daemon kube-scheduler 20
    kubectl_ delete pods --all --all-namespaces --grace-period=5 --wait=false >/dev/null 2>&1 || true
    wait_for 90 "pods deleted" bash -c "[ -z \"\$('$KUBE_BIN/kubectl' --kubeconfig '$KUBECONFIG_FILE' get pods -A -o name 2>/dev/null)\" ]" \
      || kubectl_ delete pods --all --all-namespaces --grace-period=0 --force >/dev/null 2>&1 || true
    wait_for 30 "sandboxes stopped" bash -c "[ -z \"\$(ctr --address '$SOCK' -n k8s.io tasks ls -q 2>/dev/null)\" ]" || true
  fi
  stop_daemon kube-controller-manager 20
  stop_daemon kube-scheduler 20
  stop_daemon kubelet 30
  stop_daemon kube-proxy 20
  stop_daemon coredns 10
  stop_daemon kube-apiserver 30
  stop_daemon etcd 20
  # Whatever still runs in containerd (a pod the kubelet did not stop): killed and removed.
  if alive containerd; then
    local task
    for task in $(ctr --address "$SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$SOCK" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
    sleep 1
    for task in $(ctr --address "$SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$SOCK" -n k8s.io tasks delete -f "$task" >/dev/null 2>&1 || true
    done
    for task in $(ctr --address "$SOCK" -n k8s.io containers ls -q 2>/dev/null); do
      ctr --address "$SOCK" -n k8s.io containers delete "$task" >/dev/null 2>&1 || true
    done
  fi
  stop_daemon containerd 20
  # Shims of our containerd that outlived it (they are started with its socket's address).
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $SOCK" || true); do kill -KILL "$pid" 2>/dev/null || true; done
  # kube-proxy's own cleanup, then any KUBE-* (kubelet, kube-proxy) or CNI-* (bridge/portmap plugins) chain left.
  [ -x "$KUBE_BIN/kube-proxy" ] && "$KUBE_BIN/kube-proxy" --cleanup --proxy-mode=iptables >/dev/null 2>&1 || true
  remove_chains iptables '(KUBE-|CNI-)'
  remove_chains ip6tables '(KUBE-|CNI-)'
  local m
  for m in $(our_mounts); do umount -l "$m" 2>/dev/null || true; done
  rm -f /run/netns/cni-* 2>/dev/null || true
  ip link show cni0 >/dev/null 2>&1 && ip link delete cni0
  ip addr show dev lo | grep " $NODE_IP/32" >/dev/null && ip addr del "$NODE_IP/32" dev lo
  # The kubelet's cgroups (cgroupfs driver), deepest first.
  local c
  for c in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  find /var/log/containers -maxdepth 1 -type l -lname "$STATE/*" -delete 2>/dev/null || true
  rm -rf "$STATE" "$RUN"
  [ -n "$quiet" ] && return 0
  leftovers
  log "down in $(elapsed "$t"): no process, iptables chain, interface, address or mount left (logs kept in $LOGS)"
}

leftovers() {
  local found=()
  # Every daemon of ours names a file under $STATE on its command line (other etcd/kube-apiserver test
  # servers on the machine do not).
  local pid
  for pid in $(pgrep -f -- "$STATE/" || true); do found+=("process $pid ($(ps -o comm= -p "$pid" 2>/dev/null))"); done
  pgrep -f "containerd-shim-runc-v2 .*-address $SOCK" >/dev/null && found+=("containerd shims")
  iptables-save 2>/dev/null | grep -E '^(:|-A )(KUBE-|CNI-)' >/dev/null && found+=("iptables chains KUBE-/CNI-")
  ip link show cni0 >/dev/null 2>&1 && found+=("interface cni0")
  ip -o link 2>/dev/null | grep "master cni0" >/dev/null && found+=("veths on cni0")
  ip addr show dev lo | grep " $NODE_IP/32" >/dev/null && found+=("address $NODE_IP on lo")
  [ -n "$(our_mounts)" ] && found+=("mounts: $(our_mounts | tr '\n' ' ')")
  [ ${#found[@]} -eq 0 ] || die "left behind: ${found[*]}"
}

status() {
  local name
  for name in containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns; do
    if alive "$name"; then log "$name: running (pid $(cat "$PIDS/$name.pid"))"; else log "$name: not running"; fi
  done
  alive kube-apiserver && kubectl_ get nodes -o wide
  return 0
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  import) shift; alive containerd || die "the cluster is not up (npm run cluster:up)"; import_images "$@" ;;
  env) printf 'export KUBECONFIG=%q\nexport PATH=%q:"$PATH"\n' "$KUBECONFIG_FILE" "$KUBE_BIN" ;;
  *) die "usage: $0 up|down|status|import IMAGE...|env" ;;
esac
