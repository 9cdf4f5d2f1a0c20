#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db_path
short_description: Open, check or close the path from the controller to a private database
version_added: 1.1.0
description:
  - Forwards a port on the controller's 127.0.0.1 to a database that only a bastion can reach, so the database
    stages (which run on the controller) can connect to it.
  - O(backend=ssm) runs C(aws ssm start-session --document-name AWS-StartPortForwardingSessionToRemoteHost) through
    an SSM-managed bastion instance (no inbound rule anywhere). The AWS CLI and the Session Manager plugin must be
    installed on the controller; the module checks both before anything else and says how to install a missing one.
  - O(backend=ssh) runs C(ssh -N -L 127.0.0.1:<local>:<db host>:<db port>) through an SSH bastion, never prompting
    (C(BatchMode)), exiting if the forward cannot be set up (C(ExitOnForwardFailure)) and within a few seconds of the
    bastion going silent (C(ServerAliveInterval)).
  - O(state=open) stops a tunnel left over by an earlier run under the same O(name), starts the tunnel detached from
    Ansible, waits until a PostgreSQL server answers through it (a TLS negotiation request, no credential), and checks
    that the forwarded port listens on loopback only (Linux). O(state=check) verifies that the tunnel process runs and
    the database answers through it, within O(probe_timeout) seconds. O(state=closed) stops it.
  - Every failure names the path (backend, bastion, local port, database) and the fix.
author:
  - Sensa Learn platform team (@sensa-learn)
options:
  state:
    description:
      - V(open) starts the path, V(check) verifies it, V(closed) stops it (a no-op when nothing runs).
    type: str
    choices: [ open, check, closed ]
    default: open
  backend:
    description:
      - How the path is made. Required for O(state=open); O(state=check) and O(state=closed) read it from the state file.
    type: str
    choices: [ ssh, ssm ]
  name:
    description:
      - Identifies the path (one per database host); its state file is O(state_dir)/<name>.json.
    type: str
    required: true
  state_dir:
    description:
      - Directory of the state and log files (created with mode 0700).
    type: path
    required: true
  remote_host:
    description:
      - The database host as the bastion reaches it (the RDS endpoint).
    type: str
  remote_port:
    description:
      - The database port.
    type: int
    default: 5432
  local_port:
    description:
      - Port on 127.0.0.1; V(0) picks a free one.
    type: int
    default: 0
  open_timeout:
    description:
      - Seconds to wait for the database to answer through a new path.
    type: int
    default: 60
  probe_timeout:
    description:
      - Seconds one check waits for the database to answer through the path.
    type: int
    default: 5
  ssl_mode:
    description:
      - The C(ssl_mode) of the database stages' connection; decides RV(login_overrides) and RV(environment).
    type: str
    default: prefer
  ssh:
    description:
      - The SSH bastion (O(backend=ssh)).
    type: dict
    suboptions:
      host:
        description: Bastion host name or address.
        type: str
      user:
        description: Login user on the bastion.
        type: str
      port:
        description: SSH port of the bastion.
        type: int
        default: 22
      identity_file:
        description: Private key file (the key itself never passes through Ansible).
        type: path
      known_hosts_file:
        description: Known-hosts file that holds the bastion's host key.
        type: path
      strict_host_key_checking:
        description: C(StrictHostKeyChecking); keep V(yes) and ship the host key in O(ssh.known_hosts_file).
        type: str
        choices: [ 'yes', accept-new ]
        default: 'yes'
      options:
        description: Further C(-o) options, e.g. C(ProxyJump=...).
        type: list
        elements: str
        default: []
      binary:
        description: The ssh client.
        type: str
        default: ssh
  ssm:
    description:
      - The SSM-managed bastion (O(backend=ssm)).
    type: dict
    suboptions:
      target:
        description: Instance id of the bastion (Terraform output C(bastion_instance_id)).
        type: str
      region:
        description: AWS region of the bastion.
        type: str
      profile:
        description: AWS CLI profile; empty uses the CLI's own credential chain.
        type: str
      aws_binary:
        description: The AWS CLI.
        type: str
        default: aws
      plugin_binary:
        description: The Session Manager plugin (looked up on PATH by the AWS CLI).
        type: str
        default: session-manager-plugin
attributes:
  check_mode:
    support: full
    description: >-
      The path only touches the controller; it is opened and closed in check mode too, so check mode can read the
      database.
  diff_mode:
    support: none
    description: Nothing to show.
notes:
  - C(changed) is always false, because the path is a controller-side process that every run opens and closes, not a change
    to a managed system.
  - The AWS SSM session itself cannot be exercised without AWS; the ssh backend is tested end to end with network
    namespaces, the ssm command line by unit tests.
seealso:
  - name: Session Manager port forwarding to remote hosts
    description: The SSM document the ssm backend uses.
    link: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-sessions-start.html
"""

EXAMPLES = r"""
- name: Open an SSH tunnel to the database through the bastion
  sensa.infra.db_path:
    name: "{{ inventory_hostname }}"
    state_dir: ~/.ansible/sensa-db-path
    backend: ssh
    remote_host: sensa-dev-alice-db.abc.eu-west-1.rds.amazonaws.com
    remote_port: 5432
    ssh:
      host: bastion.example.org
      user: ops
      identity_file: ~/.ssh/bastion_ed25519
      known_hosts_file: ~/.ssh/known_hosts
  register: path

- name: Fail fast, naming the path and the fix, when it died
  sensa.infra.db_path:
    name: "{{ inventory_hostname }}"
    state_dir: ~/.ansible/sensa-db-path
    state: check

- name: Close it
  sensa.infra.db_path:
    name: "{{ inventory_hostname }}"
    state_dir: ~/.ansible/sensa-db-path
    state: closed
"""

RETURN = r"""
local_host:
  description: Where the database stages connect.
  returned: when O(state=open) or O(state=check)
  type: str
  sample: 127.0.0.1
local_port:
  description: The forwarded port on RV(local_host).
  returned: when O(state=open) or O(state=check)
  type: int
  sample: 40123
pid:
  description: Process id of the tunnel (ssh or aws).
  returned: when O(state=open) or O(state=check)
  type: int
description:
  description: The path in words, as used in messages.
  returned: always
  type: str
  sample: ssh tunnel via bastion ops@bastion.example.org (127.0.0.1:40123 -> db.internal:5432)
login_overrides:
  description:
    - What to combine into the database stages' connection options (C(sensa_db_login)) to go through the path.
    - C(login_host) becomes 127.0.0.1, except with O(ssl_mode=verify-full), where the host name stays for the
      certificate check and RV(environment) carries C(PGHOSTADDR=127.0.0.1).
  returned: when O(state=open)
  type: dict
  sample: {login_host: 127.0.0.1, login_port: 40123, login_unix_socket: ""}
environment:
  description: Environment the database stages need through the path (empty or C(PGHOSTADDR)).
  returned: when O(state=open)
  type: dict
  sample: {}
command:
  description: The tunnel's command line (it carries no secret).
  returned: when O(state=open)
  type: list
  elements: str
closed:
  description: True when O(state=closed) stopped a running tunnel.
  returned: when O(state=closed)
  type: bool
"""

import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sensa.infra.plugins.module_utils import db_path as path_utils
from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import free_port


def _bastion(backend, params):
    if backend == "ssh":
        ssh = params["ssh"] or {}
        return "%s@%s" % (ssh["user"], ssh["host"]) if ssh.get("user") else ssh.get("host")
    return (params["ssm"] or {}).get("target")


def _fix(backend, state):
    if backend == "ssh":
        return path_utils.fix_hint("ssh", state.get("ssh_host"), state.get("ssh_user"), state.get("ssh_port", 22))
    return path_utils.fix_hint(backend, state.get("bastion"))


def _command(module, backend, local_port):
    params = module.params
    try:
        if backend == "ssh":
            ssh = params["ssh"] or {}
            if not ssh.get("host"):
                module.fail_json(msg="db_path backend ssh needs ssh.host (inventory: db_path_ssh_host)")
            return path_utils.ssh_command(
                ssh["host"], params["remote_host"], params["remote_port"], local_port,
                ssh_binary=ssh["binary"], user=ssh.get("user"), port=ssh["port"], identity_file=ssh.get("identity_file"),
                known_hosts_file=ssh.get("known_hosts_file"), strict_host_key_checking=ssh["strict_host_key_checking"],
                extra_options=ssh.get("options"))
        ssm = params["ssm"] or {}
        if not ssm.get("target"):
            module.fail_json(msg="db_path backend ssm needs ssm.target, the bastion's instance id (Terraform output "
                                 "bastion_instance_id; inventory: db_path_ssm_target)")
        return path_utils.ssm_command(ssm["target"], params["remote_host"], params["remote_port"], local_port,
                                      aws_binary=ssm["aws_binary"], region=ssm.get("region"), profile=ssm.get("profile"))
    except ValueError as exc:
        module.fail_json(msg="db_path: %s" % exc)


def _check_tools(module, backend):
    params = module.params
    binaries = {}
    if backend == "ssh":
        binaries["ssh"] = (params["ssh"] or {}).get("binary")
    else:
        binaries["aws"] = (params["ssm"] or {}).get("aws_binary")
        binaries["session-manager-plugin"] = (params["ssm"] or {}).get("plugin_binary")
    missing = path_utils.missing_tools(backend, shutil.which, binaries)
    if missing:
        module.fail_json(msg="the %s path to the database needs %s on the controller: %s" % (
            backend, ", ".join(tool for tool, _hint in missing), "; ".join(hint for _tool, hint in missing)),
            missing=[tool for tool, _hint in missing])


def open_path(module, state_file):
    params = module.params
    backend = params["backend"]
    if not backend:
        module.fail_json(msg="db_path state=open needs backend (ssh or ssm)")
    if not params["remote_host"]:
        module.fail_json(msg="db_path state=open needs remote_host, the database host")
    _check_tools(module, backend)

    # A tunnel left by a run that was killed before it could close the path.
    previous = path_utils.read_state(state_file)
    if previous:
        path_utils.stop_process(previous.get("pid"), previous.get("command"))

    log_path = state_file[:-len(".json")] + ".log"
    attempts = 1 if params["local_port"] else 3
    reason = None
    for _attempt in range(attempts):
        local_port = params["local_port"] or free_port()
        argv = _command(module, backend, local_port)
        description = path_utils.describe(backend, params["remote_host"], params["remote_port"], local_port,
                                          _bastion(backend, params))
        state = dict(backend=backend, pid=None, command=argv, local_port=local_port, description=description,
                     bastion=_bastion(backend, params), remote_host=params["remote_host"],
                     remote_port=params["remote_port"], started=time.time())
        if backend == "ssh":
            state.update(ssh_host=params["ssh"]["host"], ssh_user=params["ssh"].get("user"),
                         ssh_port=params["ssh"]["port"])
        try:
            proc = path_utils.start_process(argv, log_path)
        except OSError as exc:
            module.fail_json(msg="could not start the %s: %s" % (description, exc))
        state["pid"] = proc.pid
        # Recorded before waiting: a module killed mid-wait still leaves the pid for the next close/open.
        path_utils.write_state(state_file, state)
        reason = path_utils.wait_until_ready(proc, local_port, params["open_timeout"], params["probe_timeout"])
        if reason is None:
            break
        exited = proc.poll() is not None
        path_utils.stop_process(proc.pid, argv)
        tail = path_utils.log_tail(log_path)
        if exited and not params["local_port"] and ("already in use" in tail or "forwarding" in tail.lower()):
            continue  # the free port was taken between choosing and binding it: pick another
        break
    if reason is not None:
        os.unlink(state_file)
        tail = path_utils.log_tail(log_path)
        module.fail_json(msg="could not open the %s: %s%s. Fix: %s" % (
            description, reason, " (tunnel said: %s)" % tail if tail else "", _fix(backend, state)))

    bound = path_utils.listeners(local_port)
    wide = path_utils.non_loopback(bound)
    if wide:
        path_utils.stop_process(state["pid"], argv)
        os.unlink(state_file)
        module.fail_json(msg="the %s listened on %s, not only on 127.0.0.1; it was stopped. Fix: make the tunnel bind "
                             "loopback only" % (description, ", ".join(wide)))
    overrides, environment = path_utils.login_overrides(params["ssl_mode"], local_port)
    module.exit_json(changed=False, local_host=path_utils.LOOPBACK, local_port=local_port, pid=state["pid"],
                     description=description, command=argv, login_overrides=overrides, environment=environment)


def check_path(module, state_file):
    state = path_utils.read_state(state_file)
    if not state:
        module.fail_json(msg="no database path is open for %s (state file %s is missing): the play must open it "
                             "first (sensa.infra.db_path tasks_from open.yml)" % (module.params["name"], state_file),
                         description="none")
    description = state.get("description")
    backend = state.get("backend")
    log_path = state_file[:-len(".json")] + ".log"
    if not path_utils.process_alive(state.get("pid"), state.get("command")):
        tail = path_utils.log_tail(log_path)
        module.fail_json(msg="the %s is down: its process %s ended%s. Fix: %s" % (
            description, state.get("pid"), " (tunnel said: %s)" % tail if tail else "", _fix(backend, state)),
            description=description)
    reason = path_utils.probe_postgres(state["local_port"], timeout=module.params["probe_timeout"])
    if reason:
        module.fail_json(msg="the %s is down: %s. Fix: %s" % (description, reason, _fix(backend, state)),
                         description=description)
    module.exit_json(changed=False, local_host=path_utils.LOOPBACK, local_port=state["local_port"],
                     pid=state["pid"], description=description)


def close_path(module, state_file):
    state = path_utils.read_state(state_file)
    if not state:
        module.exit_json(changed=False, closed=False, description="none")
    stopped = path_utils.stop_process(state.get("pid"), state.get("command"))
    try:
        os.unlink(state_file)
    except OSError:
        pass
    module.exit_json(changed=False, closed=stopped, description=state.get("description"))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="open", choices=["open", "check", "closed"]),
            backend=dict(type="str", choices=["ssh", "ssm"]),
            name=dict(type="str", required=True),
            state_dir=dict(type="path", required=True),
            remote_host=dict(type="str"),
            remote_port=dict(type="int", default=5432),
            local_port=dict(type="int", default=0),
            open_timeout=dict(type="int", default=60),
            probe_timeout=dict(type="int", default=5),
            ssl_mode=dict(type="str", default="prefer"),
            ssh=dict(type="dict", options=dict(
                host=dict(type="str"),
                user=dict(type="str"),
                port=dict(type="int", default=22),
                identity_file=dict(type="path"),
                known_hosts_file=dict(type="path"),
                strict_host_key_checking=dict(type="str", default="yes", choices=["yes", "accept-new"]),
                options=dict(type="list", elements="str", default=[]),
                binary=dict(type="str", default="ssh"),
            )),
            ssm=dict(type="dict", options=dict(
                target=dict(type="str"),
                region=dict(type="str"),
                profile=dict(type="str"),
                aws_binary=dict(type="str", default="aws"),
                plugin_binary=dict(type="str", default="session-manager-plugin"),
            )),
        ),
        supports_check_mode=True,
    )
    state_dir = module.params["state_dir"]
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    state_file = path_utils.state_path(state_dir, module.params["name"])
    {"open": open_path, "check": check_path, "closed": close_path}[module.params["state"]](module, state_file)


if __name__ == "__main__":
    main()
