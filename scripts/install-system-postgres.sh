#!/usr/bin/env bash
# Provision the `system` PostgreSQL engine: Debian's PostgreSQL 15 (parity with RDS
# PostgreSQL 15) with contrib, plus pgvector built from Debian 13's `pgvector` source
# package, because Debian 12 ships no pgvector binary package.
#
# The mirror is read from this machine's own apt sources; no registry host is written
# here. Exit status: 0 when the engine is ready, 3 when it cannot be provisioned on this
# machine (not Debian 12, no apt, no root), 1 on an unexpected failure.
set -euo pipefail

PG_MAJOR=${SENSA_SYSTEM_PG_MAJOR:-15}
PG_CONFIG=/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config
SOURCES=/etc/apt/sources.list.d/debian.sources
SRC_LIST=/etc/apt/sources.list.d/sensa-trixie-src.sources

say() { printf 'install-system-postgres: %s\n' "$*" >&2; }
unavailable() { say "cannot provision: $*"; exit 3; }

[[ $(id -u) -eq 0 ]] || unavailable "needs root for apt-get"
command -v apt-get >/dev/null || unavailable "no apt-get (not a Debian machine)"
. /etc/os-release
[[ ${ID:-} == debian && ${VERSION_ID:-} == 12 ]] || unavailable "needs Debian 12, found ${PRETTY_NAME:-unknown}"

pgvector_installed() {
  [[ -f /usr/share/postgresql/${PG_MAJOR}/extension/vector.control ]] &&
    [[ -f /usr/lib/postgresql/${PG_MAJOR}/lib/vector.so ]]
}

export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s "postgresql-${PG_MAJOR}" postgresql-contrib "postgresql-server-dev-${PG_MAJOR}" >/dev/null 2>&1; then
  say "installing postgresql-${PG_MAJOR}, contrib and server headers"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "postgresql-${PG_MAJOR}" postgresql-contrib \
    "postgresql-server-dev-${PG_MAJOR}" make gcc dpkg-dev >/dev/null
fi

# Debian's package starts a default cluster on 5432; our tests start their own clusters,
# so the packaged one is stopped to keep the machine quiet (ignored when absent).
if command -v pg_lsclusters >/dev/null; then
  pg_ctlcluster "${PG_MAJOR}" main stop >/dev/null 2>&1 || true
fi

if pgvector_installed; then
  say "pgvector already installed for PostgreSQL ${PG_MAJOR}"
  exit 0
fi

[[ -r $SOURCES ]] || unavailable "no $SOURCES to read the mirror from"
MIRROR=$(awk '/^URIs:/ {print $2; exit}' "$SOURCES")
[[ -n $MIRROR ]] || unavailable "no URIs line in $SOURCES"
say "adding deb-src for trixie from the machine's own mirror"
cat >"$SRC_LIST" <<SRC
Types: deb-src
URIs: ${MIRROR}
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt-get update -qq

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get source --download-only -qq pgvector >/dev/null
tar -xzf pgvector_*.orig.tar.gz
cd pgvector-*/
say "building pgvector $(basename "$PWD") against PostgreSQL ${PG_MAJOR}"
# OPTFLAGS='' keeps the build portable (no -march=native) for any x86_64 machine.
make -s PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
pgvector_installed || { say "pgvector build finished but files are missing"; exit 1; }
say "pgvector installed"
