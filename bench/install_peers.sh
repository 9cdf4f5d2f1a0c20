#!/usr/bin/env bash
# Installs the migration tools bench/migrate_bench.py compares pg_migrate with, each from its
# own registry through its ordinary client, outside the project's virtualenv:
#   dbmate           npm package `dbmate` (its linux-x64 binary is the optional dependency @dbmate/linux-x64)
#   sqitch           Debian packages `sqitch` and `libdbd-pg-perl`
#   yoyo-migrations  PyPI, in a virtualenv of its own (not the project's constraints)
# Everything lands under .local/bench-peers (git-ignored) unless SENSA_BENCH_PEERS says otherwise.
# Usage: bash bench/install_peers.sh      (root, for apt-get)
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${SENSA_BENCH_PEERS:-$PWD/.local/bench-peers}
mkdir -p "$peers"

if ! command -v sqitch >/dev/null || ! perl -MDBD::Pg -e 1 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqitch libdbd-pg-perl >/dev/null
fi

if [ ! -x "$peers/node_modules/.bin/dbmate" ]; then
  npm install --silent --no-audit --no-fund --prefix "$peers" dbmate@2.36.0 >/dev/null
fi

if [ ! -x "$peers/yoyo/bin/yoyo" ]; then
  python3 -m venv "$peers/yoyo"
  "$peers/yoyo/bin/pip" install -q yoyo-migrations==9.0.0 psycopg2-binary==2.9.13
fi

echo "dbmate: $("$peers/node_modules/.bin/dbmate" --version)"
echo "sqitch: $(sqitch --version)"
echo "yoyo:   $("$peers/yoyo/bin/pip" show yoyo-migrations | sed -n 's/^Version: //p')"
