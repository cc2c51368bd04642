#!/usr/bin/env bash
# Builds the application image from docker/Dockerfile, unchanged, with podman (docker format, so
# HEALTHCHECK is kept) on top of the local base image from build-base.sh. Nothing is pulled
# (--pull=never): the base is the stand-in under the name NODE_IMAGE defaults to. podman's layer
# cache makes a rebuild with the same sources quick. Prints the image name on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE="${BYOK_TEST_IMAGE:-localhost/byok-proxy:test}"
podman=scripts/image/podman.sh

bash scripts/image/build-base.sh >/dev/null
echo "image: building $IMAGE from docker/Dockerfile" >&2
"$podman" build --format docker --pull=never --layers -f docker/Dockerfile -t "$IMAGE" . >&2
echo "$IMAGE"
