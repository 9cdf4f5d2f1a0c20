#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_restore_verify
short_description: Check that a restored Sensa database works, and write the restore drill's report
version_added: 1.1.0
description:
  - Connects to a restored database (the temporary target of M(sensa.infra.pg_restore_target)) and checks it against
    the source's facts at the backup's point in time (O(expectations)).
  - "Checks: C(schema_version) (the applied versions in C(migrations_log) equal the source's);
    C(no_migration_in_progress) (no unfinished migration attempt: a half-migrated state never passes);
    C(row_counts) per table; C(data_checksums) per table when the backup recorded them; C(rls_enabled_and_forced) on
    O(protected_tables); C(extensions) (every extension of the source, and O(required_extensions), present);
    C(app_login) (O(app_login) logs in, row-level security is active for it, it sees no row without a user context
    and only a user's own rows with one)."
  - Writes the report as JSON to O(report_path) (time to restore, the backup's age, pass/fail and detail per check)
    and returns it with a readable summary.
  - Read-only, every query runs as a reader; changes nothing (C(changed) is always false).
author:
  - Sensa Learn platform team (@sensa-learn)
extends_documentation_fragment:
  - sensa.infra.postgres
options:
  expectations:
    description:
      - The source's facts, as returned by M(sensa.infra.pg_restore_target) in RV(sensa.infra.pg_restore_target#module:expectations).
    type: dict
    required: true
  expectations_after:
    description:
      - A second read of a live source (M(sensa.infra.pg_restore_expectations)) after the backup point, when
        O(expectations) were read before it (an RDS snapshot or point-in-time restore).
      - Each table's restored row count must then lie between the two reads, checksums are compared only on tables
        that did not change in between, and a schema that changed in between fails the check.
    type: dict
  expectations_from:
    description:
      - Where O(expectations) come from, for the report.
    type: str
    default: ''
  expected_row_counts:
    description:
      - Row counts per table that override O(expectations) (for a restore to an arbitrary time, when the operator
        knows the counts at that time). When given, data checksums are not compared.
    type: dict
  protected_tables:
    description:
      - Tables that must have row-level security enabled and forced on top of the database's own list of user-data
        tables (C(public.sensa_user_data_tables()), always checked when the schema has it), for example the
        C(pg_access_protected_tables) list. An empty list checks the database's list alone.
    type: list
    elements: str
    required: true
  required_extensions:
    description:
      - Extensions that must be present besides the source's.
    type: list
    elements: str
    default: []
  app_login:
    description:
      - The application login role to test. Empty skips the login test, which then fails the C(app_login) check.
    type: str
    default: ''
  app_login_password:
    description:
      - Password of O(app_login), when the restored server needs one (not on a local temporary target's socket).
    type: str
    default: ''
  method:
    description:
      - The backup method, for the report.
    type: str
    default: logical
  backup:
    description:
      - The backup set (path) or identifier, for the report.
    type: str
    default: ''
  backup_taken_at:
    description:
      - The backup's point in time (ISO 8601 UTC), for its age.
    type: str
    required: true
  restore_seconds:
    description:
      - How long the restore took.
    type: float
    default: 0
  recovery_target:
    description:
      - What the restore recovered to, for the report.
    type: str
  report_path:
    description:
      - Where to write the JSON report. Empty writes none.
    type: path
  fail_on_failure:
    description:
      - Fail the task when a check fails (after writing the report).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Read-only; runs in check mode as well.
  diff_mode:
    support: none
    description: Nothing to diff.
seealso:
  - module: sensa.infra.pg_restore_target
  - module: sensa.infra.pg_access_info
"""

EXAMPLES = r"""
- name: Verify the temporary target and write the report
  sensa.infra.pg_restore_verify:
    login_unix_socket: "{{ target.socket_dir }}"
    login_port: "{{ target.port }}"
    login_db: "{{ target.database }}"
    expectations: "{{ target.expectations }}"
    backup_taken_at: "{{ target.backup_taken_at }}"
    restore_seconds: "{{ target.restore_seconds }}"
    protected_tables: []  # the database's own list of user-data tables is always checked
    app_login: sensa_app_a
    report_path: /var/tmp/restore-drill.json
  register: drill
"""

RETURN = r"""
passed:
  description: Whether every check passed.
  returned: always
  type: bool
checks:
  description: One entry per check (name, passed, detail, and check-specific data).
  returned: always
  type: list
  elements: dict
summary:
  description: The readable summary, one line per check.
  returned: always
  type: list
  elements: str
report:
  description: The whole report as written to O(report_path).
  returned: always
  type: dict
"""

from ansible_collections.sensa.infra.plugins.module_utils import backup_restore
from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import (
    DatabaseError,
    PostgresModule,
    psycopg2,
)


def main():
    argument_spec = dict(
        expectations=dict(type="dict", required=True),
        expectations_after=dict(type="dict"),
        expectations_from=dict(type="str", default=""),
        expected_row_counts=dict(type="dict"),
        protected_tables=dict(type="list", elements="str", required=True),
        required_extensions=dict(type="list", elements="str", default=[]),
        app_login=dict(type="str", default=""),
        app_login_password=dict(type="str", default="", no_log=True),
        method=dict(type="str", default="logical"),
        backup=dict(type="str", default=""),
        backup_taken_at=dict(type="str", required=True),
        restore_seconds=dict(type="float", default=0.0),
        recovery_target=dict(type="str"),
        report_path=dict(type="path"),
        fail_on_failure=dict(type="bool", default=False),
    )
    module = PostgresModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["expected_row_counts"]:
        params["expected_row_counts"] = dict((k, int(v)) for k, v in params["expected_row_counts"].items())

    def connect_as(user):
        if user is None:
            return module.connect(autocommit=True)
        # The application login is checked as it logs in: its own password, the same server and TLS.
        conn = psycopg2.connect(**module.conninfo(user=user, password=params["app_login_password"]))
        conn.autocommit = True
        return conn

    try:
        checks, _actual = backup_restore.verify(
            connect_as, params["expectations"], params["protected_tables"], app_login=params["app_login"] or None,
            required_extensions=params["required_extensions"], expected_row_counts=params["expected_row_counts"] or None,
            expectations_from=params["expectations_from"], expected_after=params["expectations_after"])
    except backup_restore.BackupError as exc:
        module.fail_json(msg="verifying the restored database %s: %s" % (module.target, exc))
    except DatabaseError as exc:
        module.fail_on_database_error(exc, "verifying the restored database")
    report = backup_restore.build_report(
        dict(taken_at=params["backup_taken_at"], database=params["login_db"]), params["backup"], checks,
        params["restore_seconds"], params["method"], params["expectations_from"], target=params["recovery_target"])
    if params["report_path"]:
        backup_restore.write_report(params["report_path"], report)
    result = dict(changed=False, passed=report["passed"], checks=checks, summary=report["summary"], report=report)
    if params["fail_on_failure"] and not report["passed"]:
        failed = [c["name"] for c in checks if not c["passed"]]
        module.fail_json(msg="restore drill failed: %s" % "; ".join(
            "%s: %s" % (c["name"], c["detail"]) for c in checks if c["name"] in failed), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
