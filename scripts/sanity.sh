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
# Our AWS modules build on amazon.aws (AnsibleAWSModule, its docs fragments): ansible-test
# sees only the collections under this tree's ansible_collections/, so the one the ansible
# package bundles (galaxy.yml's dependency) is copied beside ours.
amazon_aws=$("$repo/.venv/bin/python" -c 'import ansible_collections.amazon.aws as m; print(list(m.__path__)[0])')
mkdir -p "$tree/ansible_collections/amazon"
cp -r "$amazon_aws" "$tree/ansible_collections/amazon/aws"
cd "$dest"
exec "$repo/.venv/bin/ansible-test" sanity --requirements --python 3.11 "$@"
