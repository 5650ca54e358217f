#!/usr/bin/env bash
# Skaffold's custom build for `skaffold run -p local` (skaffold.yaml): builds $IMAGE (the tag Skaffold chose)
# from the Dockerfile on the local Node image of `npm run images`, with BuildKit when the Docker CLI has it,
# then imports it into the containerd of `npm run cluster:up` (there is no registry to push to).
set -Eeuo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../tools/lib.sh"
ROOT="$(cd "$TOOLS_DIR/../.." && pwd)"
: "${IMAGE:?skaffold sets IMAGE}"
bash "$ROOT/scripts/images/build.sh" node >&2
DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}" docker build --build-arg NODE_IMAGE="chainlog-local/node:$NODE_VERSION" -t "$IMAGE" "${BUILD_CONTEXT:-$ROOT}" >&2
# Without a push, Skaffold deploys the image as <name>:<image id>: import that name too.
id="$(docker image inspect -f '{{.Id}}' "$IMAGE")"
docker tag "$IMAGE" "${IMAGE%:*}:${id#sha256:}"
bash "$ROOT/scripts/cluster/cluster.sh" import "$IMAGE" "${IMAGE%:*}:${id#sha256:}" >&2
