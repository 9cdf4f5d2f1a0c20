#!/usr/bin/env bash
# PgBouncer for local_postgres_pooler (roles/local_postgres) and its test: Debian's
# `pgbouncer` package. The package's own service is not wanted (our poolers are started
# per cluster by sensa.infra.pg_local_pooler), so it is kept from starting on install and
# stopped if it runs. Exit status: 0 when pgbouncer is installed, 3 when it cannot be
# installed on this machine (no root, no apt), 1 on an unexpected failure.
set -euo pipefail

say() { printf 'install-pgbouncer: %s\n' "$*" >&2; }
unavailable() { say "not run because: $*"; exit 3; }

if command -v pgbouncer >/dev/null || [[ -x /usr/sbin/pgbouncer ]]; then
  say "pgbouncer already installed"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || unavailable "needs root for apt-get"
command -v apt-get >/dev/null || unavailable "no apt-get (not a Debian machine)"

export DEBIAN_FRONTEND=noninteractive
POLICY=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $POLICY ]]; then
  # invoke-rc.d asks this file whether a package may start its service: 101 = no.
  printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod 0755 "$POLICY" && own_policy=1
fi
cleanup() { if [[ $own_policy -eq 1 ]]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT
APT=(apt-get -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends)
say "installing pgbouncer"
if ! "${APT[@]}" install pgbouncer >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  "${APT[@]}" install pgbouncer >/dev/null
fi
if [[ -x /etc/init.d/pgbouncer ]]; then
  /etc/init.d/pgbouncer stop >/dev/null 2>&1 || true
fi
say "pgbouncer $(/usr/sbin/pgbouncer --version 2>/dev/null | head -n1) installed"
