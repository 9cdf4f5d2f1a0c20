#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_backup
short_description: Take a logical or physical backup of a Sensa database that a restore drill can verify
version_added: 1.1.0
description:
  - Writes a I(backup set), a directory with C(backup.json) and the data, on the machine running the module.
  - V(logical) runs C(pg_dump -Fc) on a snapshot exported from the transaction that read the schema version, the
    extensions and every table's row count and data checksum, so C(backup.json) describes exactly the data in the
    dump. The cluster-wide roles are saved with C(pg_dumpall --roles-only --no-role-passwords).
  - V(physical) runs C(pg_basebackup) of the whole cluster and then adds a I(mark), a named restore point whose
    row counts are exact. The source must archive its WAL (C(archive_mode=on), O(archive_dir)) so the backup can be
    restored to any later point in time.
  - O(state=mark) adds another mark to an existing physical backup set.
  - O(state=restored) replaces the database with the content of the logical backup set in O(dest) (for a developer's
    local database, C(make restore)) after checking the set's files; the database is dropped first
    (C(DROP DATABASE ... WITH (FORCE))). The connection options name the server; the database's name comes from the
    backup. Refused while a migration holds the lock.
  - Waits up to O(lock_wait) seconds while a migration holds C(pg_migrate)'s advisory lock, then fails naming the
    holder; a database with an unfinished migration attempt is refused. A half-migrated state is never backed up
    silently.
  - Reads the source and adds a WAL record for a mark; never writes its data.
author:
  - Sensa Learn platform team (@sensa-learn)
extends_documentation_fragment:
  - sensa.infra.postgres
options:
  dest:
    description:
      - Directory of the backup set. Created when missing; must not already hold a backup set (O(state=present)).
    type: path
    required: true
  method:
    description:
      - V(logical) (C(pg_dump -Fc) of O(login_db)) or V(physical) (C(pg_basebackup) of the cluster).
    type: str
    choices: [ logical, physical ]
    default: logical
  state:
    description:
      - V(present) takes the backup; V(mark) adds a mark to the physical backup set in O(dest); V(restored) replaces
        the database with the logical backup set in O(dest), or with the newest set when O(dest) is a directory of sets.
    type: str
    choices: [ present, mark, restored ]
    default: present
  archive_dir:
    description:
      - The directory the source's C(archive_command) copies WAL segments to. Required for V(physical).
    type: path
  mark_name:
    description:
      - Name of the restore point. Default C(sensa_drill_<UTC timestamp>).
    type: str
  lock_wait:
    description:
      - Seconds to wait while C(pg_migrate) holds its advisory lock on the database.
    type: int
    default: 60
  data_checksums:
    description:
      - Record a checksum of every table's data (the md5 of the sorted row hashes) besides its row count.
    type: bool
    default: true
  engine:
    description:
      - Whose client programs to use (C(pg_dump), C(pg_basebackup)); see M(sensa.infra.pg_local_cluster).
        Defaults to the environment variable C(SENSA_PG_ENGINE), else V(embedded). Ignored with O(bin_dir).
    type: str
    choices: [ embedded, system ]
  bin_dir:
    description:
      - Directory of the PostgreSQL client programs, for a server that is not a local engine (their major version
        must be at least the server's).
    type: path
attributes:
  check_mode:
    support: full
    description: Reports that a backup would be taken; nothing is read or written.
  diff_mode:
    support: none
    description: Nothing to diff.
notes:
  - Connection options go to C(pg_dump) and C(pg_basebackup) through the environment, never on their command line.
  - V(physical) needs a login with the REPLICATION attribute and an entry in C(pg_hba.conf) for replication
    connections; the local engines' superuser on the unix socket has both.
seealso:
  - module: sensa.infra.pg_restore_target
  - module: sensa.infra.pg_restore_verify
"""

EXAMPLES = r"""
- name: Logical backup of the local database
  sensa.infra.pg_backup:
    login_unix_socket: "{{ sensa_db_login.login_unix_socket }}"
    login_port: "{{ sensa_db_login.login_port }}"
    login_db: sensa
    dest: "{{ sensa_local_dir }}/backups/local/20261201T090000Z"

- name: Physical base backup with a first mark
  sensa.infra.pg_backup:
    login_unix_socket: /srv/pg/socket
    login_port: 5432
    login_db: sensa
    method: physical
    archive_dir: /srv/pg/wal-archive
    dest: /srv/backups/base-1
"""

RETURN = r"""
backup_dir:
  description: The backup set's directory (with O(state=restored), the set that was restored).
  returned: always
  type: str
backup:
  description: The content of C(backup.json) (method, taken_at, the source's facts, files and their sha256, marks).
  returned: when a backup or mark was taken
  type: dict
mark:
  description: The mark just added (name, lsn, time, facts).
  returned: when O(method=physical) or O(state=mark)
  type: dict
"""

import os

from ansible_collections.sensa.infra.plugins.module_utils import backup_restore
from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import ClusterError, engine_bindir
from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import (
    DatabaseError,
    PostgresModule,
    explain_connect_error,
    psycopg2,
)


def client_bindir(module):
    if module.params["bin_dir"]:
        return module.params["bin_dir"]
    try:
        return engine_bindir(module.params["engine"] or os.environ.get("SENSA_PG_ENGINE") or "embedded")
    except ClusterError as exc:
        module.fail_json(msg=str(exc))


def main():
    argument_spec = dict(
        dest=dict(type="path", required=True),
        method=dict(type="str", default="logical", choices=["logical", "physical"]),
        state=dict(type="str", default="present", choices=["present", "mark", "restored"]),
        archive_dir=dict(type="path"),
        mark_name=dict(type="str"),
        lock_wait=dict(type="int", default=60),
        data_checksums=dict(type="bool", default=True),
        engine=dict(type="str", choices=["embedded", "system"]),
        bin_dir=dict(type="path"),
    )
    module = PostgresModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("method", "physical", ["archive_dir"])],
    )
    params = module.params
    result = dict(changed=True, backup_dir=params["dest"])
    if module.check_mode:
        module.exit_json(**result)
    conninfo = module.conninfo()
    if conninfo.get("application_name", "sensa.infra") == "sensa.infra":
        conninfo["application_name"] = "sensa.pg_backup"  # a migration's operator sees who waits for the lock
    bindir = client_bindir(module)
    try:
        if params["state"] == "restored":
            backup_dir = params["dest"]
            if not os.path.isfile(os.path.join(backup_dir, backup_restore.METADATA_FILE)):
                backup_dir = backup_restore.pick_latest(backup_dir)
            result["backup_dir"] = backup_dir
            result["backup"] = backup_restore.replace_database(conninfo, bindir, backup_dir, lock_wait=params["lock_wait"])
        elif params["state"] == "mark":
            name = params["mark_name"] or "sensa_drill_%s" % backup_restore.now_utc().strftime("%Y%m%dT%H%M%S")
            result["mark"] = backup_restore.add_mark(conninfo, params["dest"], name, lock_wait=params["lock_wait"],
                                                     checksums=params["data_checksums"])
            result["backup"] = backup_restore.read_metadata(params["dest"])
        elif params["method"] == "logical":
            result["backup"] = backup_restore.take_logical(conninfo, bindir, params["dest"], lock_wait=params["lock_wait"],
                                                           checksums=params["data_checksums"])
        else:
            meta = backup_restore.take_physical(conninfo, bindir, params["dest"], params["archive_dir"],
                                                lock_wait=params["lock_wait"], checksums=params["data_checksums"],
                                                mark_name=params["mark_name"])
            result["backup"] = meta
            result["mark"] = meta["marks"][-1]
    except backup_restore.BackupError as exc:
        result["changed"] = False
        module.fail_json(msg=str(exc), **result)
    except psycopg2.OperationalError as exc:
        result["changed"] = False
        module.fail_json(msg=explain_connect_error(exc, params), **result)
    except DatabaseError as exc:
        result["changed"] = False
        module.fail_on_database_error(exc, "the backup", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
