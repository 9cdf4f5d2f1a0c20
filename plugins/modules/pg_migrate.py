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
      - V(status) only reads; it never takes the lock or creates the log table. It reports drift, missing files and
        failed or abandoned attempts instead of failing on them, and returns a readable RV(status_table).
    type: str
    choices: [ applied, rolled_back, baseline, repaired, status ]
    default: applied
  target:
    description:
      - A version (C(YYYYMMDD_NNNN)). For V(applied) the newest version to apply (default all); for V(rolled_back)
        the version to keep, or V(0) for none; for V(baseline) the newest version to record.
    type: str
  steps:
    description:
      - For O(state=rolled_back) instead of O(target), how many of the newest applied versions to roll back.
    type: int
    version_added: 1.1.0
  fail_on_pending:
    description:
      - With O(state=status) (or check mode), fail when any migration is pending, naming them. For CI gates.
    type: bool
    default: false
    version_added: 1.1.0
  schema_dump:
    description:
      - After a successful run of any state but V(status) (not in check mode), write C(pg_dump --schema-only)
        of the database to this path on the host running the module.
      - The file is only rewritten (and the task reported changed) when its content changes.
      - The password reaches pg_dump through its environment, never its command line.
    type: path
    version_added: 1.1.0
  pg_dump_path:
    description:
      - The pg_dump binary for O(schema_dump); its major version must be at least the server's. Default is C(pg_dump)
        on C(PATH).
    type: path
    version_added: 1.1.0
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
      - Fail when a migration has no rollback file in O(rollbacks_path).
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
  - The advisory lock is session-level on the connection that runs the files, so it ends with that session. When the
    controller dies mid-file, its backend keeps the lock until it notices (within a second on PostgreSQL 14+, through
    C(client_connection_check_interval); after its current statement before that), and a second run waits for it
    (O(lock_wait)) instead of colliding.
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

- name: CI gate - fail when anything is pending, print the table otherwise
  sensa.infra.pg_migrate:
    path: files/sql/migrations
    state: status
    fail_on_pending: true
    login_db: sensa
  register: schema_status

- name: Roll back the two newest versions
  sensa.infra.pg_migrate:
    path: files/sql/migrations
    state: rolled_back
    steps: 2
    login_db: sensa

- name: Apply and keep a schema dump beside the deploy logs
  sensa.infra.pg_migrate:
    path: files/sql/migrations
    schema_dump: /var/log/sensa/schema.sql
    login_db: sensa
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
  description: In check mode and status (and when the lock wait timed out), the session holding the migration lock.
  returned: always
  type: dict
problems:
  description: What a changing run would refuse (drift without a fix, a missing file, out of order); status reports them.
  returned: always
  type: list
  elements: str
attempts:
  description: Failed or abandoned attempts newer than their version's last success (version, file, status, message).
  returned: always
  type: list
  elements: dict
status_table:
  description: A readable table, one line per version (applied, pending, drift, missing, failed attempts).
  returned: always
  type: list
  elements: str
  sample: ["VERSION        STATE    FILE", "20250122_0001  applied  20250122_0001_initial_schema.sql"]
schema_dump:
  description: With O(schema_dump), the path written and whether its content changed.
  returned: when O(schema_dump) is set
  type: dict
queries:
  description:
    - The SQL of the migration, rollback and fix files this call ran (in check mode, would run), in order, each
      file introduced by a C(-- <file name>) line, then its statements one per item.
    - The list is bounded. Once the statement texts reach 65536 characters, each further file is one line with its name and
      statement count. Bookkeeping (the advisory lock, C(migrations_log) rows) is not listed, and a
      C(PASSWORD '...') literal is shown as C(PASSWORD '********').
    - On failure, the files that completed before it; RV(error) names the failing statement.
  returned: always
  type: list
  elements: str
  sample: ["-- 20250122_0001_initial_schema.sql", "CREATE TABLE IF NOT EXISTS users (...)"]
warnings_list:
  description: Non-fatal observations (lock retries, abandoned attempts, lint findings).
  returned: always
  type: list
  elements: str
elapsed_ms:
  description: The module's own elapsed time in milliseconds, from reading the files to the result, connection included.
  returned: always
  type: int
error:
  description: On failure of a file, the file, line, statement number, SQLSTATE, message and any invalid index.
    Files applied before the failure stay applied; RV(applied) lists them and RV(changed) is then true.
  returned: failure
  type: dict
"""

import getpass
import os
import re
import socket
import subprocess
import tempfile
import time

from ansible_collections.sensa.infra.plugins.module_utils.migration_files import MigrationError, discover
from ansible_collections.sensa.infra.plugins.module_utils.migration_lint import DEFAULT_EXCLUDED_RULES
from ansible_collections.sensa.infra.plugins.module_utils.migration_lint import lint as run_lint
from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import (
    MigrationFailed,
    MigrationRefused,
    Runner,
    RunOptions,
)
from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import (
    DatabaseError,
    PostgresModule,
    libpq_environment,
    postgres_argument_spec,
)

DEFAULT_APPLICATION_NAME = "sensa.pg_migrate"
# RV(queries) stays readable and bounded: statement texts up to this many characters in all,
# then the file name and its statement count only.
QUERIES_MAX_CHARS = 65536
PASSWORD_LITERAL = re.compile(r"(\bPASSWORD\s+)'(?:[^']|'')*'", re.IGNORECASE)


def run_queries(runner, files):
    """The statements of ``files`` (migration, rollback and fix files, in the order they ran or
    would run) for RV(queries): texts while they fit in QUERIES_MAX_CHARS, then one line per
    file with its statement count. A PASSWORD literal is shown as '********'."""
    queries, size = [], 0
    for sql_file in files:
        try:
            statements = [PASSWORD_LITERAL.sub(r"\1'********'", stmt.sql.strip()) for stmt in runner.statements_of(sql_file)]
        except MigrationError:
            continue  # a file that does not parse never ran; the failure names it
        text = sum(len(stmt) for stmt in statements)
        if size + text <= QUERIES_MAX_CHARS:
            queries.append("-- %s" % sql_file.filename)
            queries.extend(statements)
            size += text
        else:
            queries.append("-- %s: %d statement(s), text not shown (queries is capped at %d characters)"
                           % (sql_file.filename, len(statements), QUERIES_MAX_CHARS))
    return queries


def files_run(migrations, result):
    """The files a result says ran, in the order the runner runs them: fixes, applies, rollbacks."""
    by_version = dict((m.version, m) for m in migrations)
    files = [by_version[f["version"]].fix for f in result.get("fixed", []) if f["version"] in by_version]
    files += [by_version[a["version"]].up for a in result.get("applied", []) if a["version"] in by_version]
    files += [by_version[r["version"]].down for r in result.get("rolled_back", []) if r["version"] in by_version]
    return files


def build_diff(result, plan):
    lines = []
    for migration, _old in plan.fixes:
        lines.append("-- fix: %s\n%s" % (migration.fix.filename, migration.fix.text))
    for migration in plan.apply:
        lines.append("-- migrate: %s\n%s" % (migration.filename, migration.up.text))
    for migration in plan.rollback:
        lines.append("-- rollback: %s\n%s" % (migration.down.filename, migration.down.text))
    after = result["current_version"]
    if result["would_change"] and plan.apply:
        after = plan.apply[-1].version
    elif result["would_change"] and plan.rollback:
        rolled = set(m.version for m in plan.rollback)
        remaining = sorted(v for v, s in plan.state.items() if s.applied and v not in rolled)
        after = remaining[-1] if remaining else None
    return {"before": {"version": result["previous_version"]}, "after": {"version": after}, "prepared": "\n".join(lines)}


def status_table(migrations, result, state):
    """One line per version: applied, pending, drift, missing; then failed or abandoned attempts."""
    drift = dict((d["version"], d) for d in result["drift"])
    pending = set(result["pending"])
    rows = []
    versions = sorted(set(m.version for m in migrations) | set(state))
    files = dict((m.version, m.filename) for m in migrations)
    for version in versions:
        recorded = state.get(version)
        if version not in files:
            label = "missing" if recorded is not None and recorded.applied else "gone"
        elif version in drift:
            label = "drift"
        elif recorded is not None and recorded.applied:
            label = "applied" if recorded.kind != "baseline" else "baseline"
        elif version in pending:
            label = "pending"
        else:
            label = "rolled back" if recorded is not None else "pending"
        if label == "gone":
            continue
        rows.append((version, label, files.get(version) or (recorded.filename if recorded else "")))
    lines = ["%-14s %-11s %s" % ("VERSION", "STATE", "FILE")]
    lines += ["%-14s %-11s %s" % row for row in rows]
    for attempt in result["attempts"]:
        lines.append("attempt %s of %s (%s) %s at %s: %s" % (
            attempt["id"], attempt["version"], attempt["file"], attempt["status"], attempt["started_at"],
            attempt["message"] or "-"))
    lines.append("%d applied, %d pending, %d drifted, %d failed or abandoned attempt(s); current version %s" % (
        sum(1 for r in rows if r[1] in ("applied", "baseline")), len(result["pending"]), len(result["drift"]),
        len(result["attempts"]), result["current_version"] or "none"))
    return lines


def dump_schema(module, params, dest):
    """pg_dump --schema-only to ``dest``; the password goes through the environment. Returns changed."""
    env = libpq_environment(module.conninfo(), os.environ)
    binary = params["pg_dump_path"] or module.get_bin_path("pg_dump")
    if not binary:
        module.fail_json(msg="schema_dump needs pg_dump: install the PostgreSQL client or set pg_dump_path")
    handle, tmp = tempfile.mkstemp(prefix=".schema-dump-", dir=os.path.dirname(os.path.abspath(dest)) or ".")
    os.close(handle)
    try:
        proc = subprocess.run([binary, "--schema-only", "--no-owner", "--no-privileges", "--file", tmp],
                              env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            module.fail_json(msg="pg_dump --schema-only failed (exit %d): %s" % (proc.returncode, proc.stderr.strip()))
        with open(tmp, "rb") as new:
            content = new.read()
        if os.path.exists(dest):
            with open(dest, "rb") as old:
                if _comparable(old.read()) == _comparable(content):
                    return False
        os.replace(tmp, dest)
        return True
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _comparable(dump):
    """A dump without pg_dump 17.6+'s \\restrict/\\unrestrict lines, whose key is random per dump."""
    return b"\n".join(line for line in dump.split(b"\n") if not line.startswith((b"\\restrict ", b"\\unrestrict ")))


def fail_with(module, runner, exc, migrations, lint_findings, state):
    """Fail the task with everything the run found and did: files applied before a failure stay
    applied, so ``changed`` and ``applied`` say so."""
    result = exc.result.as_dict() if exc.result is not None else {"warnings": []}
    result["warnings_list"] = result.pop("warnings")
    result["queries"] = run_queries(runner, files_run(migrations, result))
    if "current_version" in result:
        result["status_table"] = status_table(migrations, result, state)
    if isinstance(exc, MigrationFailed):
        result["error"] = exc.details
    module.fail_json(msg=str(exc), lint=lint_findings, **result)


def main():
    started = time.monotonic()
    argument_spec = dict(
        path=dict(type="path", required=True),
        rollbacks_path=dict(type="path"),
        fixes_path=dict(type="path"),
        state=dict(type="str", default="applied", choices=["applied", "rolled_back", "baseline", "repaired", "status"]),
        target=dict(type="str"),
        steps=dict(type="int"),
        fail_on_pending=dict(type="bool", default=False),
        schema_dump=dict(type="path"),
        pg_dump_path=dict(type="path"),
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
        lint_exclude=dict(type="list", elements="str", default=list(DEFAULT_EXCLUDED_RULES)),
        squawk_path=dict(type="path"),
        controller_user=dict(type="str"),
        controller_host=dict(type="str"),
    )
    module = PostgresModule(argument_spec=argument_spec, supports_check_mode=True,
                            mutually_exclusive=[("target", "steps")])
    params = module.params
    if params["application_name"] == postgres_argument_spec()["application_name"]["default"]:
        params["application_name"] = DEFAULT_APPLICATION_NAME  # the shared default; an explicit value wins
    if params["steps"] is not None and params["state"] != "rolled_back":
        module.fail_json(msg="steps is only for state=rolled_back")

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
        check_mode=module.check_mode,
    )
    runner = Runner(lambda autocommit: module.connect(autocommit=autocommit), migrations, options)
    lint_findings = []
    try:
        plan = runner.plan(params["state"], params["target"], params["steps"])
    except (MigrationError, DatabaseError) as exc:
        runner.release()
        module.fail_json(msg="%s%s" % ("" if isinstance(exc, MigrationError) else "reading the migration state failed: ",
                                       str(exc).strip()))

    if params["lint"] != "off" and params["state"] == "applied" and not plan.errors:
        findings, error = run_lint([m.up.path for m in plan.apply], squawk=params["squawk_path"],
                                   exclude=params["lint_exclude"])
        if error:
            if params["lint"] == "strict":
                runner.release()
                module.fail_json(msg="lint: strict but %s" % error)
            module.warn(error)
        lint_findings = list(findings or [])
        if lint_findings and params["lint"] == "strict":
            runner.release()
            module.fail_json(
                msg="squawk found %d problem(s) in pending migrations (lint: strict); fix them or waive each inline "
                "with '-- squawk-ignore <rule>' and a reason: %s"
                % (len(lint_findings), "; ".join("%s:%s %s" % (f["file"], f["line"], f["rule"]) for f in lint_findings)),
                lint=lint_findings,
            )

    try:
        outcome = runner.execute(plan)
    except (MigrationFailed, MigrationRefused) as exc:
        fail_with(module, runner, exc, migrations, lint_findings, runner.final_state or plan.state)
    except DatabaseError as exc:  # outside any file (the lock, the log table): nothing of a file ran half
        module.fail_json(msg="pg_migrate: database error outside any migration file: %s" % str(exc).strip(),
                         lint=lint_findings)

    result = outcome.as_dict()
    for finding in lint_findings:
        module.warn("squawk %s:%s %s: %s" % (finding["file"], finding["line"], finding["rule"], finding["message"]))
    for warning in result["warnings"]:
        module.warn(warning)
    result["warnings_list"] = result.pop("warnings")
    result["lint"] = lint_findings
    result["status_table"] = status_table(migrations, result, runner.final_state or plan.state)
    if module.check_mode and params["state"] != "status":
        result["queries"] = run_queries(runner, runner.files_of(plan))
    else:
        result["queries"] = run_queries(runner, files_run(migrations, result))
    if module.check_mode:
        result["changed"] = result["would_change"]
    if module._diff:
        result["diff"] = build_diff(result, plan)
    if params["fail_on_pending"] and result["pending"] and (module.check_mode or params["state"] == "status"):
        module.fail_json(msg="%d migration(s) pending: %s (fail_on_pending)" % (
            len(result["pending"]), ", ".join(result["pending"])), **result)
    if params["schema_dump"] and not module.check_mode and params["state"] != "status":
        dumped = dump_schema(module, params, params["schema_dump"])
        result["schema_dump"] = {"path": params["schema_dump"], "changed": dumped}
        result["changed"] = result["changed"] or dumped
    result["elapsed_ms"] = int(round((time.monotonic() - started) * 1000))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
