#!/usr/bin/env bash
# First README command: set up .venv and run site.yml on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/ansible-playbook site.yml -i inventories/local "$@"
