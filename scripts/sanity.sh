#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection at ansible_collections/sensa/infra
# (ansible-test insists on that path), with the local Python and no container.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
dest="$tree/ansible_collections/sensa/infra"
mkdir -p "$dest"
# Only files git knows about (committed or staged), as a built collection would have.
git ls-files -z --cached --others --exclude-standard | grep -zv '^\.local/' | xargs -0 cp --parents -t "$dest" 2>/dev/null || true
cd "$dest"
exec "$OLDPWD/.venv/bin/ansible-test" sanity --requirements --python 3.11 "$@"
