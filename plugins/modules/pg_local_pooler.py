#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_local_pooler
short_description: Start or stop PgBouncer (transaction mode) in front of a local cluster
version_added: 1.1.0
description:
  - Runs PgBouncer for a cluster that C(sensa.infra.pg_local_cluster) started under O(path), in transaction pooling
    mode, listening on 127.0.0.1 and on a unix socket in C(<path>/pgbouncer) (mode 0700).
  - PgBouncer reaches the cluster over the cluster's unix socket (trusted locally), so it holds no server password.
    Clients authenticate with SCRAM-SHA-256 against the verifier the server stores, looked up with C(auth_query);
    C(userlist.txt) lists no one, and no secret is written to any file. Superusers and roles without a password
    cannot log in through it.
  - Transaction mode hands a server connection to another client after every transaction. Set session state per
    transaction only (C(SELECT set_current_user_id(id)) is transaction-local); migrations (session advisory lock) and
    administration keep the direct connection.
  - When run as root PgBouncer runs as the cluster's system user C(sensa_pg), as the server does.
author:
  - Sensa Learn platform team (@sensa-learn)
attributes:
  check_mode:
    support: full
    description: Reports whether the pooler would be started or stopped.
  diff_mode:
    support: none
    description: Nothing to diff; the returned values say what changed.
options:
  path:
    description:
      - Directory of the cluster (as given to C(sensa.infra.pg_local_cluster)); the pooler lives in C(<path>/pgbouncer).
      - Must be absolute. A relative path would resolve against the module's working directory, which Ansible
        sets per play (the directory of each imported playbook), so two plays of one run would disagree.
    type: path
    required: true
  state:
    description:
      - V(started) starts PgBouncer when it is not running (the cluster must run); V(stopped) stops it.
    type: str
    choices: [ started, stopped ]
    default: started
  port:
    description:
      - TCP port on 127.0.0.1. Default is the port remembered from an earlier start, else a free port.
    type: int
  pool_size:
    description:
      - Server connections per database and user (C(default_pool_size)).
    type: int
    default: 10
  max_client_conn:
    description:
      - Client connections PgBouncer accepts.
    type: int
    default: 200
requirements:
  - PgBouncer (Debian package C(pgbouncer); C(scripts/install-pgbouncer.sh) installs it).
notes:
  - A running pooler keeps its configuration; stop it and start it again to change O(port) or O(pool_size).
"""

EXAMPLES = r"""
- name: Start PgBouncer in front of the local cluster
  sensa.infra.pg_local_pooler:
    path: "{{ sensa_local_dir }}/pg/local"
  register: pooler

- name: Stop it
  sensa.infra.pg_local_pooler:
    path: "{{ sensa_local_dir }}/pg/local"
    state: stopped
"""

RETURN = r"""
host:
  description: Address the pooler listens on.
  returned: success
  type: str
  sample: 127.0.0.1
port:
  description: TCP port of the pooler (also the number of its unix socket file).
  returned: when started
  type: int
  sample: 45232
socket_dir:
  description: Directory of the pooler's unix socket.
  returned: success
  type: str
pool_mode:
  description: Always C(transaction).
  returned: success
  type: str
  sample: transaction
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import ClusterError, relative_path_error
from ansible_collections.sensa.infra.plugins.module_utils.pg_pooler import Pooler, pgbouncer_binary


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", default="started", choices=["started", "stopped"]),
            port=dict(type="int"),
            pool_size=dict(type="int", default=10),
            max_client_conn=dict(type="int", default=200),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]
    error = relative_path_error(path)
    if error:
        module.fail_json(msg=error)
    result = dict(changed=False, host="127.0.0.1", socket_dir=os.path.join(path, "pgbouncer"), pool_mode="transaction")
    try:
        if params["state"] == "stopped":
            if os.path.isdir(result["socket_dir"]):
                pooler = Pooler(path)
                result["changed"] = pooler.running()
                if not module.check_mode:
                    pooler.stop()
            module.exit_json(**result)
        pgbouncer_binary()
        pooler = Pooler(path, port=params["port"], pool_size=params["pool_size"],
                        max_client_conn=params["max_client_conn"])
        if module.check_mode:
            result["changed"] = not pooler.running()
        else:
            result["changed"] = pooler.start()
        result["port"] = pooler.port
    except ClusterError as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
