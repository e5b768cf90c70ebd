#!/usr/bin/env bash
# Builds a Node.js base image from this machine's own node binary, for machines that reach no
# container registry: FROM scratch, holding `node` and exactly the shared libraries `ldd` says it
# loads. The fleetdrill images take it as their BASE_IMAGE. Prints the image's name at the end.
#
#   docker/base/build-local-base.sh [TAG]     default TAG: fleetdrill/node-local:<node version>
set -euo pipefail

node_bin=$(command -v node)
version=$(node -p 'process.versions.node')
tag=${1:-fleetdrill/node-local:${version}}
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT

mkdir -p "$context/rootfs/usr/local/bin" "$context/rootfs/tmp" "$context/rootfs/etc"
cp -L "$node_bin" "$context/rootfs/usr/local/bin/node"
# Every library node links against, at the path the dynamic loader will look for it.
ldd "$node_bin" | awk '/=> \// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
  while read -r lib; do
    mkdir -p "$context/rootfs$(dirname "$lib")"
    cp -L "$lib" "$context/rootfs$lib"
  done
chmod 1777 "$context/rootfs/tmp"
# Numeric users (docker run --user UID:GID) need no entry; these name root for tools that ask.
echo 'root:x:0:0:root:/tmp:/usr/sbin/nologin' >"$context/rootfs/etc/passwd"
echo 'root:x:0:' >"$context/rootfs/etc/group"

cat >"$context/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin HOME=/tmp
ENTRYPOINT ["/usr/local/bin/node"]
DOCKERFILE

docker build --quiet --label fleetdrill.base=local --tag "$tag" "$context" >/dev/null
echo "$tag"
