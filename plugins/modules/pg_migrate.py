#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_migrate
short_description: Apply, roll back, baseline and repair versioned SQL migrations in PostgreSQL
version_added: 1.0.0
description:
  - Applies C(YYYYMMDD_NNNN_description.sql) files from O(path) in version order, each in its own transaction
    together with its row in the C(migrations_log) table, under a session-level advisory lock.
  - A failed file is rolled back completely and logged as a C(failed) attempt; the next run retries it. There is
    never a "dirty" state to force.
  - Files with the header C(-- sensa:no-transaction) run statement by statement in autocommit (for
    C(CREATE INDEX CONCURRENTLY) and friends). Without it, statements that cannot run in a transaction and
    explicit C(BEGIN)/C(COMMIT) are refused, with file and line, before anything runs.
  - Checksums (C(sha256:v1:)) ignore a UTF-8 BOM and CRLF line endings. An applied file whose checksum changed fails
    the run unless C(fixes/<version>_apply_fix.sql) exists (it is run once and recorded as a C(fix)) or
    O(state=repaired) accepts the change (audited).
  - See docs/MIGRATION_GUIDELINES.md in the collection for how to write migrations.
author:
  - Sensa Learn platform team (@sensa-learn)
extends_documentation_fragment:
  - sensa.infra.postgres
attributes:
  check_mode:
    support: full
    description: Lists what would run, drift, lint findings and the lock holder; changes nothing, not even the log table.
  diff_mode:
    support: full
    description: Shows the schema version before and after, and the SQL that would run.
options:
  path:
    description:
      - Directory holding the forward migration files C(YYYYMMDD_NNNN_description.sql), and nothing else.
      - A rollback or fix file (or a subdirectory of C(.sql) files) in it is refused, naming the files, because any
        C(*.sql) loop over the directory (such as a seed's C(for file in *.sql; do psql -f $file; done)) would run it.
    type: path
    required: true
  rollbacks_path:
    description:
      - Directory of the C(YYYYMMDD_NNNN_rollback.sql) rollback files. Defaults to C(rollbacks) beside O(path)
        (C(files/sql/rollbacks) for C(files/sql/migrations)).
    type: path
    version_added: 1.1.0
  fixes_path:
    description:
      - Directory of C(YYYYMMDD_NNNN_apply_fix.sql) files. Defaults to C(fixes) beside O(path)
        (C(files/sql/fixes) for C(files/sql/migrations)).
    type: path
  state:
    description:
      - V(applied) applies pending migrations up to O(target).
      - V(rolled_back) runs rollback files, newest first, until O(target) is the newest applied version
        (O(target=0) rolls back everything).
      - V(baseline) records versions up to O(target) as applied without running them (for a database that already
        has that schema); every version gets an audited C(baseline) row.
      - V(repaired) accepts the current checksum of every drifted file, recording a C(repair) row for each.
      - V(status) only reads; it never takes the lock or creates the log table.
    type: str
    choices: [ applied, rolled_back, baseline, repaired, status ]
    default: applied
  target:
    description:
      - A version (C(YYYYMMDD_NNNN)). For V(applied) the newest version to apply (default all); for V(rolled_back)
        the version to keep, or V(0) for none; for V(baseline) the newest version to record.
    type: str
  schema:
    description:
      - Schema of the log table.
    type: str
    default: public
  log_table:
    description:
      - Name of the log table. The view C(<name without _log>_state) gives the current state per version.
    type: str
    default: migrations_log
  session_role:
    description:
      - Role to C(SET ROLE) to after connecting, so the objects migrations create are owned by it.
    type: str
  lock_wait:
    description:
      - Seconds to wait for the migration lock held by another run before failing with its pid, start time and
        application_name.
    type: float
    default: 60
  lock_timeout:
    description:
      - C(lock_timeout) for each file; a file overrides it with C(-- sensa:lock_timeout=10s).
    type: str
    default: 5s
  statement_timeout:
    description:
      - C(statement_timeout) for each file (V(0) means none); a file overrides it with C(-- sensa:statement_timeout=30min).
    type: str
    default: '0'
  lock_retries:
    description:
      - How many times a file (or, in no-transaction files, a statement) is retried after C(lock_not_available)
        (SQLSTATE 55P03), with exponential backoff and jitter.
    type: int
    default: 5
  retry_backoff:
    description:
      - First backoff delay in seconds; it doubles per retry (capped at 30 s) with +-50% jitter.
    type: float
    default: 0.5
  out_of_order:
    description:
      - Allow applying a pending file whose version is older than the newest applied one.
    type: bool
    default: false
  require_rollback:
    description:
      - Fail when a migration has no rollback file.
    type: bool
    default: true
  lint:
    description:
      - Run squawk over the files about to be applied. V(warn) returns findings as warnings, V(strict) fails on any
        finding, V(off) skips it. When squawk is not installed, V(warn) warns and V(strict) fails.
    type: str
    choices: [ 'off', warn, strict ]
    default: warn
  lint_exclude:
    description:
      - squawk rules to ignore. The default ignores the timeout rules, since this module sets both timeouts itself.
    type: list
    elements: str
    default: [ require-lock-timeout, require-statement-timeout, require-timeout-settings ]
  squawk_path:
    description:
      - Path of the squawk binary. Default is C(squawk) next to the Python interpreter, then on C(PATH).
    type: path
  controller_user:
    description:
      - Recorded in each log row as the person or automation that ran it. Defaults to the OS user running the module.
    type: str
  controller_host:
    description:
      - Recorded in each log row. Defaults to the host name where the module runs.
    type: str
notes:
  - The advisory lock key is derived from the database name and the log table, so different databases never block
    each other.
  - SQL parameter values and passwords are never logged; failed statements are stored (up to 4000 characters) in the
    log table for diagnosis.
seealso:
  - module: community.postgresql.postgresql_script
"""

EXAMPLES = r"""
- name: Apply every pending migration as the schema owner
  sensa.infra.pg_migrate:
    path: "{{ playbook_dir }}/../files/sql/migrations"
    session_role: sensa_migrator
    login_host: db.example.internal
    login_user: postgres
    login_password: "{{ master_password }}"
    login_db: sensa
    ssl_mode: verify-full
    ca_cert: /etc/ssl/certs/rds-global-bundle.pem

- name: What would run (check mode lists it without changing anything)
  sensa.infra.pg_migrate:
    path: files/sql/migrations
    login_db: sensa
  check_mode: true
  register: preview

- name: Roll back to 20250122_0003
  sensa.infra.pg_migrate:
    path: files/sql/migrations
    state: rolled_back
    target: "20250122_0003"
    login_db: sensa

- name: Adopt an existing database whose schema matches 20250122_0005
  sensa.infra.pg_migrate:
    path: files/sql/migrations
    state: baseline
    target: "20250122_0005"
    login_db: sensa

- name: Report the schema version only
  sensa.infra.pg_migrate:
    path: files/sql/migrations
    state: status
    login_db: sensa
  register: schema
"""

RETURN = r"""
changed:
  description: True only when something was applied, rolled back, fixed, baselined or repaired.
  returned: always
  type: bool
run_id:
  description: Identifier shared by every log row this call wrote.
  returned: always
  type: str
  sample: 0d5c2e1e-3f5a-4c55-9a0b-8d1b4f3a2c11
current_version:
  description: Newest applied version after the run (before it, in check mode).
  returned: always
  type: str
  sample: "20250122_0005"
previous_version:
  description: Newest applied version before the run.
  returned: always
  type: str
applied:
  description: Migrations applied by this call, in order.
  returned: always
  type: list
  elements: dict
  sample: [{"version": "20250122_0001", "file": "20250122_0001_initial_schema.sql", "execution_ms": 41}]
rolled_back:
  description: Migrations rolled back by this call, newest first.
  returned: always
  type: list
  elements: dict
fixed:
  description: Fix files run for edited, applied migrations, with the old and new checksums.
  returned: always
  type: list
  elements: dict
baselined:
  description: Versions recorded as applied by O(state=baseline).
  returned: always
  type: list
  elements: str
repaired:
  description: Versions whose new checksum was accepted by O(state=repaired).
  returned: always
  type: list
  elements: dict
pending:
  description: Versions that would run (check mode, status) or that remain unapplied after the run.
  returned: always
  type: list
  elements: str
drift:
  description: Applied files whose checksum differs from the log.
  returned: always
  type: list
  elements: dict
lint:
  description: squawk findings over the files about to run.
  returned: always
  type: list
  elements: dict
lock_holder:
  description: In check mode and status, the session holding the migration lock, if any.
  returned: always
  type: dict
warnings_list:
  description: Non-fatal observations (lock retries, abandoned attempts, lint findings).
  returned: always
  type: list
  elements: str
elapsed_ms:
  description: The module's own elapsed time in milliseconds, connection included.
  returned: always
  type: int
error:
  description: On failure of a file, the file, line, statement number, SQLSTATE, message and any invalid index.
  returned: failure
  type: dict
"""

import getpass
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sensa.infra.plugins.module_utils.migration_files import MigrationError, discover
from ansible_collections.sensa.infra.plugins.module_utils.migration_lint import lint as run_lint
from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import (
    MigrationFailed,
    Runner,
    RunOptions,
)
from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import (
    HAS_PSYCOPG2,
    PSYCOPG2_IMPORT_ERROR,
    connect,
    postgres_argument_spec,
)


def build_diff(result, plan, state):
    lines = []
    if plan is not None:
        for migration, _old in plan.fixes:
            lines.append("-- fix: %s\n%s" % (migration.fix.filename, migration.fix.text))
        for migration in plan.apply:
            lines.append("-- migrate: %s\n%s" % (migration.filename, migration.up.text))
        for migration in plan.rollback:
            lines.append("-- rollback: %s\n%s" % (migration.down.filename, migration.down.text))
    after = result.get("current_version")
    if plan is not None and result.get("would_change"):
        if plan.apply:
            after = plan.apply[-1].version
        elif plan.rollback:
            remaining = sorted(set([plan.current]) - set(m.version for m in plan.rollback))
            after = plan.target if plan.target not in (None, "0") else (remaining[-1] if remaining else None)
    return {
        "before": {"version": result.get("previous_version")},
        "after": {"version": after},
        "prepared": "\n".join(lines),
    }


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update(
        path=dict(type="path", required=True),
        rollbacks_path=dict(type="path"),
        fixes_path=dict(type="path"),
        state=dict(type="str", default="applied", choices=["applied", "rolled_back", "baseline", "repaired", "status"]),
        target=dict(type="str"),
        schema=dict(type="str", default="public"),
        log_table=dict(type="str", default="migrations_log"),
        session_role=dict(type="str"),
        lock_wait=dict(type="float", default=60),
        lock_timeout=dict(type="str", default="5s"),
        statement_timeout=dict(type="str", default="0"),
        lock_retries=dict(type="int", default=5),
        retry_backoff=dict(type="float", default=0.5),
        out_of_order=dict(type="bool", default=False),
        require_rollback=dict(type="bool", default=True),
        lint=dict(type="str", default="warn", choices=["off", "warn", "strict"]),
        lint_exclude=dict(
            type="list", elements="str",
            default=["require-lock-timeout", "require-statement-timeout", "require-timeout-settings"],
        ),
        squawk_path=dict(type="path"),
        controller_user=dict(type="str"),
        controller_host=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_PSYCOPG2:
        module.fail_json(msg="pg_migrate needs psycopg2 on the host running it (pip install psycopg2-binary)",
                         exception=PSYCOPG2_IMPORT_ERROR)
    params = module.params
    params["application_name"] = "sensa.pg_migrate"

    try:
        migrations = discover(params["path"], params["rollbacks_path"], params["fixes_path"],
                              require_rollback=params["require_rollback"])
    except MigrationError as exc:
        module.fail_json(msg=str(exc))

    options = RunOptions(
        schema=params["schema"], table=params["log_table"], session_role=params["session_role"],
        lock_wait=params["lock_wait"], lock_timeout=params["lock_timeout"],
        statement_timeout=params["statement_timeout"], lock_retries=params["lock_retries"],
        retry_backoff=params["retry_backoff"], out_of_order=params["out_of_order"],
        controller_user=params["controller_user"] or getpass.getuser(),
        controller_host=params["controller_host"] or socket.gethostname(),
        check_mode=module.check_mode, require_rollback=params["require_rollback"],
    )
    runner = Runner(lambda autocommit: connect(module, params, autocommit=autocommit), migrations, options)

    lint_findings = []
    if params["lint"] != "off" and params["state"] == "applied":
        # Lint what is not yet applied: a status pass (no lock, read only) tells which files those are.
        preview = Runner(lambda autocommit: connect(module, params, autocommit=autocommit), migrations,
                         RunOptions(schema=params["schema"], table=params["log_table"],
                                    session_role=params["session_role"], check_mode=True,
                                    out_of_order=True, require_rollback=params["require_rollback"]))
        try:
            pending = preview.run("status", params["target"])["pending"]
        except MigrationError:
            pending = []  # the real run below reports the problem
        paths = [m.up.path for m in migrations if m.version in pending]
        findings, error = run_lint(paths, squawk=params["squawk_path"], exclude=params["lint_exclude"])
        if error:
            if params["lint"] == "strict":
                module.fail_json(msg="lint: strict but %s" % error)
            module.warn(error)
        for finding in findings or []:
            lint_findings.append(finding)
        if lint_findings and params["lint"] == "strict":
            module.fail_json(
                msg="squawk found %d problem(s) in pending migrations (lint: strict); fix them or waive each inline "
                "with '-- squawk-ignore <rule>' and a reason: %s"
                % (len(lint_findings), "; ".join("%s:%s %s" % (f["file"], f["line"], f["rule"]) for f in lint_findings)),
                lint=lint_findings,
            )

    try:
        result = runner.run(params["state"], params["target"])
    except MigrationFailed as exc:
        module.fail_json(msg=str(exc), error=exc.details, run_id=runner.run_id, warnings_list=runner.warnings,
                         lint=lint_findings)
    except MigrationError as exc:
        partial = getattr(exc, "result", {})
        module.fail_json(msg=str(exc), run_id=runner.run_id, warnings_list=runner.warnings, lint=lint_findings,
                         drift=partial.get("drift", []), pending=partial.get("pending", []),
                         current_version=partial.get("previous_version"), lock_holder=partial.get("lock_holder"))

    plan = result.pop("plan", None)
    for finding in lint_findings:
        module.warn("squawk %s:%s %s: %s" % (finding["file"], finding["line"], finding["rule"], finding["message"]))
    for warning in result["warnings"]:
        module.warn(warning)
    result["warnings_list"] = result.pop("warnings")
    result["lint"] = lint_findings
    changed = result["changed"]
    if module.check_mode:
        changed = bool(result.pop("would_change", False))
    else:
        result.pop("would_change", None)
        if params["state"] == "applied":
            result["pending"] = []
            if params["target"]:
                result["pending"] = [m.version for m in migrations if m.version > params["target"]
                                     and m.version not in [a["version"] for a in result["applied"]]
                                     and (result["current_version"] or "") < m.version]
    result["changed"] = changed
    if module._diff:
        result["diff"] = build_diff(dict(result, would_change=changed), plan, params["state"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
