#!/usr/bin/env bash
# ansible-test sanity on the collection as it ships: build the tarball (galaxy.yml's
# build_ignore applies), unpack it at ansible_collections/sensa/infra (the path
# ansible-test insists on) and test that tree with the local Python, no container.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
"$repo/.venv/bin/ansible-galaxy" collection build --force --output-path "$tree" . >/dev/null
dest="$tree/ansible_collections/sensa/infra"
mkdir -p "$dest"
tar -xzf "$tree"/sensa-infra-*.tar.gz -C "$dest"
cd "$dest"
exec "$repo/.venv/bin/ansible-test" sanity --requirements --python 3.11 "$@"
