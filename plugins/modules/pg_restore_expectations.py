#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_restore_expectations
short_description: Read what a restore of a Sensa database must reproduce, from the live source
version_added: 1.1.0
description:
  - Reads the source database's facts in one read-only C(REPEATABLE READ) transaction; the schema version and applied
    migrations (C(migrations_log)), extensions, and per-table row counts and data checksums, with the time they were
    read (C(read_at)).
  - For backups the collection does not take itself (an RDS snapshot or point-in-time restore), the restore drill
    reads them just before and just after the backup point and M(sensa.infra.pg_restore_verify) checks the temporary
    instance against both (O(sensa.infra.pg_restore_verify#module:expectations_after)).
  - Waits up to O(lock_wait) seconds while C(pg_migrate) holds its advisory lock, then refuses, and refuses a
    database with an unfinished migration attempt; a half-migrated state is never taken as what a restore must show.
  - Read-only; runs in check mode.
author:
  - Sensa Learn platform team (@sensa-learn)
extends_documentation_fragment:
  - sensa.infra.postgres
options:
  checksums:
    description:
      - Also compute a data checksum per table (reads every row; off for very large tables).
    type: bool
    default: true
  lock_wait:
    description:
      - Seconds to wait while a migration holds C(pg_migrate)'s advisory lock.
    type: int
    default: 60
attributes:
  check_mode:
    support: full
    description: Read-only.
  diff_mode:
    support: none
    description: Nothing to diff.
seealso:
  - module: sensa.infra.pg_restore_verify
  - module: sensa.infra.pg_backup
"""

EXAMPLES = r"""
- name: Read the source's facts before the snapshot
  sensa.infra.pg_restore_expectations:
    login_host: 127.0.0.1
    login_port: 15432
    login_user: sensa_master
    login_password: "{{ master_password }}"
    login_db: sensa
  register: before
"""

RETURN = r"""
expectations:
  description: The facts (database, server_version, read_at, extensions, schema_version, applied_versions,
    running_migrations, row_counts, checksums).
  returned: always
  type: dict
read_at_epoch:
  description: The C(read_at) of RV(expectations), in seconds since the epoch.
  returned: always
  type: float
lock_waited_seconds:
  description: Seconds spent waiting for a running migration.
  returned: always
  type: float
"""

from ansible_collections.sensa.infra.plugins.module_utils import backup_restore
from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import DatabaseError, PostgresModule


def main():
    module = PostgresModule(
        argument_spec=dict(checksums=dict(type="bool", default=True), lock_wait=dict(type="int", default=60)),
        supports_check_mode=True,
    )
    params = module.params
    conninfo = module.conninfo()
    try:
        with backup_restore.migration_lock_shared(conninfo, params["lock_wait"]) as (_lock, waited):
            conn = module.connect(autocommit=False)
            try:
                conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
                with conn.cursor() as cur:
                    facts = backup_restore.database_facts(cur, checksums=params["checksums"])
                conn.rollback()
            finally:
                conn.close()
        backup_restore.refuse_half_migrated(facts, facts["database"])
    except backup_restore.BackupError as exc:
        module.fail_json(msg="%s (%s)" % (exc, module.target))
    except DatabaseError as exc:
        module.fail_on_database_error(exc, "reading the source's facts")
    module.exit_json(changed=False, expectations=facts, lock_waited_seconds=waited,
                     read_at_epoch=backup_restore.parse_time(facts["read_at"]).timestamp())


if __name__ == "__main__":
    main()
