#!/usr/bin/env bash
# Tools of the private-path namespace tests (tests/integration/private_path): iproute2 for
# network namespaces, the OpenSSH server (run only inside a test's bastion namespace) and
# client, all from Debian's packages. No sshd is started on this machine: while the package
# installs, policy-rc.d refuses every service start (the one this machine has, or a
# temporary one removed again afterwards), and the packaged service is disabled.
#
# Exit status: 0 when the tools are ready and this machine can create network namespaces,
# 3 when the tests cannot run here (not root, no apt-get, no namespaces), 1 on a failure.
set -euo pipefail

say() { printf 'install-netns-tools: %s\n' "$*" >&2; }
unavailable() { say "not run because: $*"; exit 3; }

[[ $(id -u) -eq 0 ]] || unavailable "network namespaces need root"

missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || missing+=(openssh-client)
[[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)

if [[ ${#missing[@]} -gt 0 ]]; then
  command -v apt-get >/dev/null || unavailable "no apt-get to install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  policy=/usr/sbin/policy-rc.d
  temporary_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# install-netns-tools.sh: no service starts while it installs\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    temporary_policy=1
  fi
  cleanup() { if [[ $temporary_policy == 1 ]]; then rm -f "$policy"; fi; }
  trap cleanup EXIT
  say "installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ " ${missing[*]} " == *" openssh-server "* ]]; then
    # The tests run their own sshd in a namespace; the machine keeps no SSH service.
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
      systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
    elif command -v update-rc.d >/dev/null; then
      update-rc.d ssh disable >/dev/null 2>&1 || true
    fi
  fi
fi

# Can this machine (container) create a network namespace at all?
probe="sensa-probe-$$"
if ! ip netns add "$probe" 2>/dev/null; then
  unavailable "ip netns add fails here (no CAP_SYS_ADMIN or no /run/netns)"
fi
ip netns delete "$probe"
say "iproute2, OpenSSH server and client ready; network namespaces work"
