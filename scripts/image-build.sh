#!/usr/bin/env bash
# Builds Hermod's container image (the Dockerfile) with buildah, on local base images made
# from Debian packages, since no base image can be pulled here (docs/adr/0006):
#
#   1. buildah, podman, runc and mmdebstrap, installed with apt-get when missing;
#   2. a Debian 12 rootfs from the apt mirror (mmdebstrap --variant=minbase), and from it
#      - the build base: the rootfs plus this machine's node and npm;
#      - the runtime base, distroless-like: node at /nodejs/bin/node, the libraries it links,
#        the CA bundle, passwd/group with nonroot 65532, nothing else (no shell);
#      both cached by content under ~/.cache/hermod/images/<key> and in buildah's storage;
#   3. the image itself: buildah bud --layers (warm builds reuse the npm ci layers), with
#      this machine's CA bundle as the npm_ca build secret.
#
# Prints the image reference on stdout; progress and timings go to stderr.
# Exit status 3: it cannot run on this machine (the reason is the last line on stderr).
#
# Environment: HERMOD_IMAGE (default localhost/hermod:test), HERMOD_CACHE_DIR (default
# ~/.cache/hermod), DEBIAN_SUITE (default bookworm), NPM_CA (default NODE_EXTRA_CA_CERTS,
# else the system bundle).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${HERMOD_IMAGE:-localhost/hermod:test}
CACHE=${HERMOD_CACHE_DIR:-$HOME/.cache/hermod}/images
SUITE=${DEBIAN_SUITE:-bookworm}
# crun fails here ("cgroups in hybrid mode not supported"); the sandbox cannot raise the
# default ulimits (no CAP_SYS_RESOURCE, hard nofile 20000).
ULIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
BASES_VERSION=1 # bump when the way the bases are made changes

started=$(date +%s)
log() { echo "[image $(($(date +%s) - started))s] $*" >&2; }
cannot() {
  echo "image: cannot build here: $*" >&2
  exit 3
}

# --- 1. tools ----------------------------------------------------------------------------
missing=()
for tool in buildah podman runc mmdebstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    cannot "${missing[*]} missing, and apt-get cannot install them (not root, or no apt-get)"
  fi
  log "installing ${missing[*]} (apt-get)"
  if [ ! -f /tmp/.hermod-apt-updated ]; then apt-get update -qq >&2 && touch /tmp/.hermod-apt-updated; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah podman runc mmdebstrap >&2 ||
    cannot "apt-get install buildah podman runc mmdebstrap failed"
fi
[ "$(id -u)" = 0 ] || cannot "buildah and podman run as root here (rootless needs subuid/subgid ranges for this user)"

node_bin=$(command -v node) || cannot "no node on PATH to put into the bases"
node_bin=$(readlink -f "$node_bin")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "$npm_dir/package.json" ] || cannot "npm's package directory not found (looked at $npm_dir)"
node_version=$("$node_bin" -p 'process.versions.node')
node_major=${node_version%%.*}

# --- 2. the bases, by content --------------------------------------------------------------
# Two keys: the rootfs's (the suite, the mmdebstrap call, the apt sources, i.e. the mirror
# snapshot) and the bases' (the rootfs's key, this recipe, node and npm).
MMDEBSTRAP=(mmdebstrap --variant=minbase --include=ca-certificates --format=tar --quiet "$SUITE")
rootfs_key=$({
  echo "${MMDEBSTRAP[*]}"
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null || true
} | sha256sum | cut -c1-16)
key=$({
  echo "$rootfs_key $BASES_VERSION"
  sed -n '/^# --- 2\./,/^# --- 3\./p' "$0"
  sha256sum "$node_bin" | cut -d' ' -f1
  sha256sum "$npm_dir/package.json" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
BUILD_BASE=localhost/hermod-base/node${node_major}-build:$key
RUNTIME_BASE=localhost/hermod-base/node${node_major}-runtime:$key
dir=$CACHE/rootfs-$rootfs_key
mkdir -p "$dir"

have_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

if ! have_image "$BUILD_BASE" || ! have_image "$RUNTIME_BASE"; then
  if [ ! -s "$dir/rootfs.tar" ]; then
    log "making a Debian $SUITE rootfs with mmdebstrap (once per key $rootfs_key)"
    "${MMDEBSTRAP[@]}" "$dir/rootfs.part.tar" >&2 ||
      cannot "mmdebstrap could not make a $SUITE rootfs (is the apt mirror reachable?)"
    mv "$dir/rootfs.part.tar" "$dir/rootfs.tar"
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT

  # The build base: Debian minbase, node and npm. npm is a small script so nothing has to run inside.
  mkdir -p "$work/build/usr/local/bin" "$work/build/usr/local/lib/node_modules"
  cp "$node_bin" "$work/build/usr/local/bin/node"
  cp -a "$npm_dir" "$work/build/usr/local/lib/node_modules/npm"
  printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n' >"$work/build/usr/local/bin/npm"
  chmod 0755 "$work/build/usr/local/bin/npm"
  tar --numeric-owner --owner=0 --group=0 -C "$work/build" -cf "$work/build.tar" .
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$dir/rootfs.tar" / >/dev/null
  buildah add --quiet "$ctr" "$work/build.tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/sh \
    --label "org.opencontainers.image.description=Debian $SUITE minbase with node $node_version (Hermod build base)" "$ctr"
  buildah commit --quiet --rm "$ctr" "$BUILD_BASE" >/dev/null
  log "build base $BUILD_BASE"

  # The runtime base: node, the libraries ldd lists (taken from the Debian rootfs), the CA
  # bundle, users. No shell, no package manager.
  mkdir -p "$work/rootfs" "$work/run/nodejs/bin" "$work/run/etc/ssl/certs" "$work/run/tmp" "$work/run/home/nonroot"
  tar -C "$work/rootfs" -xf "$dir/rootfs.tar"
  # Inside the rootfs, as its own symlinks resolve (some are absolute, e.g. /lib64/ld-linux...).
  in_rootfs() { echo "$work/rootfs$(chroot "$work/rootfs" readlink -f "$1")"; }
  cp "$node_bin" "$work/run/nodejs/bin/node"
  for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
    mkdir -p "$work/run$(dirname "$lib")"
    cp "$(in_rootfs "$lib")" "$work/run$lib" || cannot "$lib (linked by node) is not in the Debian rootfs"
  done
  cp "$(in_rootfs /etc/ssl/certs/ca-certificates.crt)" "$work/run/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$work/run/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$work/run/etc/group"
  printf 'hosts: files dns\n' >"$work/run/etc/nsswitch.conf"
  chmod 1777 "$work/run/tmp"
  chown 65532:65532 "$work/run/home/nonroot"
  tar --numeric-owner -C "$work/run" -cf "$work/runtime.tar" .
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$work/runtime.tar" / >/dev/null
  buildah config --env PATH=/usr/local/bin:/usr/bin:/bin:/nodejs/bin --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --user 65532:65532 --workingdir /home/nonroot --entrypoint '["/nodejs/bin/node"]' \
    --label "org.opencontainers.image.description=distroless-like node $node_version on Debian $SUITE libraries (Hermod runtime base)" "$ctr"
  buildah commit --quiet --rm "$ctr" "$RUNTIME_BASE" >/dev/null
  log "runtime base $RUNTIME_BASE"
  # Older keys' rootfs and bases are dead weight (about 180 MB and 300 MB each).
  for old in "$CACHE"/*/; do [ "$old" = "$dir/" ] || rm -rf "$old"; done
  buildah images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/hermod-base/' | grep -v ":$key\$" |
    xargs -r buildah rmi >/dev/null 2>&1 || true
fi

# --- 3. Hermod's image -----------------------------------------------------------------------
ca=${NPM_CA:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}
secret=()
[ -s "$ca" ] && secret=(--secret "id=npm_ca,src=$ca")
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(git log -1 --format=%cI 2>/dev/null || echo 1970-01-01T00:00:00Z)
log "building $IMAGE (buildah bud, node $node_version bases)"
buildah bud --quiet --layers --pull=false --runtime runc --network host "${ULIMITS[@]}" "${secret[@]}" \
  --build-arg "BUILD_IMAGE=$BUILD_BASE" --build-arg "RUNTIME_IMAGE=$RUNTIME_BASE" \
  --build-arg "VERSION=$(node -p "require('./package.json').version")" \
  --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
  -f Dockerfile -t "$IMAGE" . >&2
log "built $IMAGE"
echo "$IMAGE"
