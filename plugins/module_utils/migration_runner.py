# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database side of pg_migrate: lock, log, apply, roll back, fix, baseline, repair.

Usable without Ansible (tests and bench call it directly); the module is a thin wrapper.

Guarantees:

* A session-level advisory lock, on its own connection, is held before the state is read
  and until the run ends; a second runner waits up to ``lock_wait`` seconds and then fails
  naming the holder.
* Each transactional file runs in one transaction together with its ``success`` log row;
  a failure rolls everything back and then writes a ``failed`` row, so there is never a
  "dirty" version and the next run simply retries.
* ``-- sensa:no-transaction`` files run statement by statement in autocommit, opening a
  ``running`` row first and closing it with the number of statements done.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import random
import time
import uuid

from ansible_collections.sensa.infra.plugins.module_utils import migration_log
from ansible_collections.sensa.infra.plugins.module_utils.migration_files import (
    AppliedVersion,
    MigrationError,
    make_plan,
)
from ansible_collections.sensa.infra.plugins.module_utils.sql_lexer import (
    LexError,
    split_statements,
    transaction_violations,
)

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:  # the module reports the missing library before using this file
    psycopg2 = None

LOCK_NOT_AVAILABLE = "55P03"
ALLOWED_META = ("\\restrict", "\\unrestrict")
MAX_STATEMENT_IN_LOG = 4000


class MigrationFailed(MigrationError):
    """A file failed on the server; ``details`` carries the structured error."""

    def __init__(self, message, details):
        super(MigrationFailed, self).__init__(message)
        self.details = details


class LockTimeout(MigrationError):
    pass


class RunOptions:
    def __init__(self, schema="public", table="migrations_log", session_role=None, lock_wait=60.0,
                 lock_timeout="5s", statement_timeout="0", lock_retries=5, retry_backoff=0.5,
                 out_of_order=False, controller_user=None, controller_host=None, check_mode=False,
                 require_rollback=True):
        self.schema = schema
        self.table = table
        self.session_role = session_role
        self.lock_wait = float(lock_wait)
        self.lock_timeout = lock_timeout
        self.statement_timeout = statement_timeout
        self.lock_retries = int(lock_retries)
        self.retry_backoff = float(retry_backoff)
        self.out_of_order = out_of_order
        self.controller_user = controller_user
        self.controller_host = controller_host
        self.check_mode = check_mode
        self.require_rollback = require_rollback


def lock_key(dbname, schema, table):
    """A stable signed 64-bit advisory-lock key for one database and log table."""
    digest = hashlib.sha256(("sensa.pg_migrate:%s:%s.%s" % (dbname, schema, table)).encode("utf-8")).digest()
    value = int.from_bytes(digest[:8], "big")
    return value - (1 << 64) if value >= (1 << 63) else value


def _ms_since(start):
    return int(round((time.monotonic() - start) * 1000))


class Runner:
    """One pg_migrate call. ``connect(autocommit)`` returns a new psycopg2 connection."""

    def __init__(self, connect, migrations, options):
        self.connect = connect
        self.migrations = migrations
        self.options = options
        self.run_id = str(uuid.uuid4())
        self.warnings = []
        self.conn = None
        self.lock_conn = None
        self._qualified = None

    # connection helpers ------------------------------------------------------------
    def _q(self, name):
        return psycopg2.extensions.quote_ident(name, self.conn)

    @property
    def table_sql(self):
        if self._qualified is None:
            self._qualified = "%s.%s" % (self._q(self.options.schema), self._q(self.options.table))
        return self._qualified

    def _fmt(self, template):
        table = self.options.table
        return template.format(
            schema=self._q(self.options.schema),
            table=self._q(table),
            index=self._q(table + "_version_idx"),
            view=self._q(table.replace("_log", "") + "_state" if table.endswith("_log") else table + "_state"),
        )

    def _exec(self, sql, params=None, conn=None):
        cur = (conn or self.conn).cursor()
        cur.execute(sql, params)
        return cur

    def _role_sql(self):
        if self.options.session_role:
            return "SET ROLE %s" % self._q(self.options.session_role)
        return "RESET ROLE"

    # lock --------------------------------------------------------------------------
    def lock_holder(self, key):
        cur = self._exec(
            """
            SELECT a.pid, a.backend_start, coalesce(a.application_name, ''), coalesce(a.usename, '')
              FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid AND l.objsubid = 1
            """,
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
        )
        row = cur.fetchone()
        if not row:
            return None
        return {
            "pid": row[0],
            "since": row[1].isoformat() if row[1] else None,
            "application_name": row[2],
            "user": row[3],
        }

    def acquire_lock(self, key):
        self.lock_conn = self.connect(True)
        deadline = time.monotonic() + self.options.lock_wait
        delay = 0.05
        while True:
            cur = self._exec("SELECT pg_try_advisory_lock(%s)", (key,), conn=self.lock_conn)
            if cur.fetchone()[0]:
                return
            if time.monotonic() >= deadline:
                holder = self.lock_holder(key)
                self.lock_conn.close()
                self.lock_conn = None
                if holder:
                    raise LockTimeout(
                        "another migration run holds the lock on %s: held by pid %s since %s, application_name %r, "
                        "user %s; waited %.0f s (lock_wait). Wait for it to finish, or if it is stuck end it with "
                        "SELECT pg_terminate_backend(%s)"
                        % (self.table_sql, holder["pid"], holder["since"], holder["application_name"], holder["user"],
                           self.options.lock_wait, holder["pid"])
                    )
                raise LockTimeout("could not take the migration lock within %.0f s" % self.options.lock_wait)
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def release(self):
        for conn in (self.conn, self.lock_conn):
            if conn is not None:
                try:
                    conn.close()
                except psycopg2.Error:
                    pass
        self.conn = self.lock_conn = None

    # log table ---------------------------------------------------------------------
    def log_exists(self):
        cur = self._exec("SELECT to_regclass(%s)", ("%s.%s" % (self.options.schema, self.options.table),))
        return cur.fetchone()[0] is not None

    def ensure_log(self):
        if self.log_exists():
            return False
        self._exec("BEGIN")
        try:
            self._exec(self._fmt(migration_log.CREATE_TABLE))
            self._exec(self._fmt(migration_log.CREATE_INDEX))
            self._exec(self._fmt(migration_log.CREATE_STATE_VIEW))
            self._exec("COMMIT")
        except psycopg2.Error:
            self._exec("ROLLBACK")
            raise
        return True

    def read_state(self):
        if not self.log_exists():
            return {}
        cur = self._exec(self._fmt(migration_log.STATE_QUERY))
        return dict((row[0], AppliedVersion(row[0], row[1], row[2], row[3])) for row in cur.fetchall())

    def stale_attempts(self):
        if not self.log_exists():
            return []
        cur = self._exec(
            "SELECT id, version, filename, started_at FROM %s WHERE status = 'running' ORDER BY id" % self.table_sql
        )
        return cur.fetchall()

    def _log(self, migration, sql_file, kind, status, started_at, ms, statements_done=None, error=None,
             checksum=None, description=None, returning=False):
        error = error or {}
        cur = self._exec(
            "INSERT INTO %s (run_id, version, filename, description, kind, checksum, status, started_at, "
            "finished_at, execution_ms, controller_user, controller_host, statements_done, error_sqlstate, "
            "error_message, error_statement) VALUES (%%s, %%s, %%s, %%s, %%s, %%s, %%s, %%s, %%s, %%s, %%s, %%s, "
            "%%s, %%s, %%s, %%s)%s" % (self.table_sql, " RETURNING id" if returning else ""),
            (
                self.run_id, migration.version, sql_file.filename if sql_file else migration.filename,
                description if description is not None else migration.description, kind,
                checksum if checksum is not None else (sql_file.checksum if sql_file else migration.checksum),
                status, started_at, None if status == "running" else datetime.datetime.now(datetime.timezone.utc),
                ms, self.options.controller_user, self.options.controller_host, statements_done,
                error.get("sqlstate"), error.get("message"), error.get("statement"),
            ),
        )
        return cur.fetchone()[0] if returning else None

    # file execution ----------------------------------------------------------------
    def statements_of(self, sql_file):
        try:
            statements = split_statements(sql_file.text)
        except LexError as exc:
            raise MigrationError("%s: %s" % (sql_file.filename, exc))
        for stmt in statements:
            if stmt.kind == "meta" and stmt.sql.split()[0] not in ALLOWED_META:
                raise MigrationError(
                    "%s line %d: psql meta-command %s is not supported; only plain SQL (and pg_dump's "
                    "\\restrict/\\unrestrict, which are ignored) can run" % (sql_file.filename, stmt.line, stmt.sql.split()[0])
                )
        return [s for s in statements if s.kind != "meta"]

    def preflight(self, files):
        """Parse every file that will run and refuse transaction-breaking statements, before anything runs."""
        problems = []
        parsed = {}
        for sql_file in files:
            try:
                statements = self.statements_of(sql_file)
            except MigrationError as exc:
                problems.append(str(exc))
                continue
            parsed[sql_file.path] = statements
            if sql_file.transactional:
                for line, what, words in transaction_violations(statements):
                    problems.append(
                        "%s line %d: %s (%s) cannot run inside the transaction pg_migrate wraps each file in; "
                        "move it to its own file with the header '-- sensa:no-transaction', or remove the explicit "
                        "transaction control" % (sql_file.filename, line, what, words)
                    )
        if problems:
            raise MigrationError("nothing was run:\n  - " + "\n  - ".join(problems))
        return parsed

    def _settings_sql(self, sql_file, local):
        scope = "LOCAL " if local else ""
        lock_timeout = sql_file.headers.get("lock_timeout", self.options.lock_timeout)
        statement_timeout = sql_file.headers.get("statement_timeout", self.options.statement_timeout)
        return "SET %slock_timeout = %s; SET %sstatement_timeout = %s" % (
            scope, psycopg2.extensions.adapt(str(lock_timeout)).getquoted().decode(),
            scope, psycopg2.extensions.adapt(str(statement_timeout)).getquoted().decode(),
        )

    def _run_statement(self, cur, stmt):
        if stmt.kind == "copy":
            import io

            cur.copy_expert(stmt.sql, io.StringIO(stmt.copy_data))
        else:
            cur.execute(stmt.sql)

    def _error_details(self, exc, sql_file, stmt, index):
        diag = getattr(exc, "diag", None)
        message = (diag.message_primary if diag is not None and diag.message_primary else str(exc).strip().splitlines()[0])
        line = stmt.line if stmt is not None else None
        if stmt is not None and diag is not None and diag.statement_position:
            try:
                line = stmt.line + stmt.sql[: int(diag.statement_position) - 1].count("\n")
            except (TypeError, ValueError):
                pass
        return {
            "file": sql_file.filename,
            "line": line,
            "statement_index": index,
            "sqlstate": getattr(exc, "pgcode", None),
            "message": message,
            "statement": (stmt.sql[:MAX_STATEMENT_IN_LOG] if stmt is not None else None),
        }

    def _backoff(self, attempt):
        base = self.options.retry_backoff * (2 ** attempt)
        time.sleep(min(base, 30.0) * (0.5 + random.random()))  # noqa: S311 (jitter, not crypto)

    def run_transactional(self, migration, sql_file, statements, kind, description=None, checksum=None):
        attempt = 0
        while True:
            started_at = datetime.datetime.now(datetime.timezone.utc)
            start = time.monotonic()
            cur = self.conn.cursor()
            cur.execute("RESET ALL; %s; BEGIN; %s" % (self._role_sql(), self._settings_sql(sql_file, local=True)))
            stmt, index = None, 0
            try:
                for index, stmt in enumerate(statements):  # noqa: B007 - index is read in the except block
                    self._run_statement(cur, stmt)
                cur.execute(self._role_sql())
                ms = _ms_since(start)
                self._log(migration, sql_file, kind, "success", started_at, ms, statements_done=len(statements),
                          checksum=checksum, description=description)
                cur.execute("COMMIT")
                return ms
            except psycopg2.Error as exc:
                self.conn.rollback() if not self.conn.autocommit else cur.execute("ROLLBACK")
                if getattr(exc, "pgcode", None) == LOCK_NOT_AVAILABLE and attempt < self.options.lock_retries:
                    self.warnings.append(
                        "%s: lock_timeout hit on attempt %d (%s); retrying with backoff"
                        % (sql_file.filename, attempt + 1, self._error_details(exc, sql_file, stmt, index)["message"])
                    )
                    self._backoff(attempt)
                    attempt += 1
                    continue
                details = self._error_details(exc, sql_file, stmt, index)
                self._exec(self._role_sql())
                self._log(migration, sql_file, kind, "failed", started_at, _ms_since(start), statements_done=0,
                          error=details, checksum=checksum, description=description)
                raise MigrationFailed(
                    "%s failed at line %s (statement %d, SQLSTATE %s): %s. The transaction was rolled back: nothing "
                    "of this file is applied and a 'failed' attempt is logged; fix the file and run again"
                    % (sql_file.filename, details["line"], index + 1, details["sqlstate"], details["message"]),
                    details,
                )

    def run_autocommit(self, migration, sql_file, statements, kind):
        started_at = datetime.datetime.now(datetime.timezone.utc)
        start = time.monotonic()
        cur = self.conn.cursor()
        cur.execute("RESET ALL; %s; %s" % (self._role_sql(), self._settings_sql(sql_file, local=False)))
        row_id = self._log(migration, sql_file, kind, "running", started_at, None, statements_done=0, returning=True)
        done = 0
        for index, stmt in enumerate(statements):
            attempt = 0
            while True:
                try:
                    self._run_statement(cur, stmt)
                    break
                except psycopg2.Error as exc:
                    if getattr(exc, "pgcode", None) == LOCK_NOT_AVAILABLE and attempt < self.options.lock_retries:
                        self.warnings.append("%s line %d: lock_timeout hit; retrying" % (sql_file.filename, stmt.line))
                        self._backoff(attempt)
                        attempt += 1
                        continue
                    details = self._error_details(exc, sql_file, stmt, index)
                    invalid = self.invalid_indexes()
                    details["invalid_indexes"] = invalid
                    self._close_attempt(row_id, "failed", start, done, details)
                    hint = ""
                    if invalid:
                        hint = " Invalid index(es) left by a failed CONCURRENTLY build: %s; clean up with: %s" % (
                            ", ".join(i["index"] for i in invalid), " ".join(i["cleanup"] for i in invalid))
                    raise MigrationFailed(
                        "%s (no-transaction) failed at line %s, statement %d of %d (SQLSTATE %s): %s. %d statement(s) "
                        "before it were committed; the file runs again from the start on the next run, so keep its "
                        "statements idempotent.%s"
                        % (sql_file.filename, details["line"], index + 1, len(statements), details["sqlstate"],
                           details["message"], done, hint),
                        details,
                    )
            done += 1
        ms = _ms_since(start)
        self._close_attempt(row_id, "success", start, done, None)
        return ms

    def _close_attempt(self, row_id, status, start, done, details):
        details = details or {}
        self._exec(self._role_sql())
        self._exec(
            "UPDATE %s SET status = %%s, finished_at = clock_timestamp(), execution_ms = %%s, statements_done = %%s, "
            "error_sqlstate = %%s, error_message = %%s, error_statement = %%s WHERE id = %%s AND status = 'running'"
            % self.table_sql,
            (status, _ms_since(start), done, details.get("sqlstate"), details.get("message"), details.get("statement"),
             row_id),
        )

    def invalid_indexes(self):
        cur = self._exec(
            """
            SELECT format('%I.%I', n.nspname, c.relname)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT i.indisvalid ORDER BY 1
            """
        )
        result = []
        for (qualified,) in cur.fetchall():
            result.append({"index": qualified, "cleanup": "DROP INDEX CONCURRENTLY IF EXISTS %s;" % qualified})
        return result

    def execute_file(self, migration, sql_file, statements, kind, description=None, checksum=None):
        if sql_file.transactional:
            return self.run_transactional(migration, sql_file, statements, kind, description, checksum)
        return self.run_autocommit(migration, sql_file, statements, kind)

    # the run -----------------------------------------------------------------------
    def run(self, action="applied", target=None, dbname=None):
        """Returns a result dict; raises MigrationError (nothing run) or MigrationFailed."""
        started = time.monotonic()
        result = {
            "run_id": self.run_id,
            "changed": False,
            "applied": [],
            "rolled_back": [],
            "fixed": [],
            "baselined": [],
            "repaired": [],
            "pending": [],
            "drift": [],
            "warnings": self.warnings,
            "lock_holder": None,
        }
        read_only = self.options.check_mode or action == "status"
        self.conn = self.connect(True)
        try:
            dbname = dbname or self.conn.get_dsn_parameters().get("dbname")
            key = lock_key(dbname, self.options.schema, self.options.table)
            if read_only:
                result["lock_holder"] = self.lock_holder(key)
            else:
                self.acquire_lock(key)
            self._exec(self._role_sql())
            if not read_only:
                self.ensure_log()
            state = self.read_state()
            for row in self.stale_attempts():
                self.warnings.append(
                    "attempt %s of %s (%s) started %s never finished (the runner died mid-file); its version is "
                    "not applied and will run again" % (row[0], row[1], row[2], row[3].isoformat())
                )
            plan = make_plan(self.migrations, state, action=action, target=target,
                             out_of_order=self.options.out_of_order)
            result["previous_version"] = plan.current
            result["drift"] = [
                {"version": m.version, "file": m.filename, "recorded": old, "current": m.checksum}
                for m, old in plan.drift + plan.fixes + plan.repairs
            ]
            result["pending"] = [m.version for m in plan.apply]
            result["plan"] = plan
            if plan.errors:
                error = MigrationError("nothing was run:\n  - " + "\n  - ".join(plan.errors))
                error.result = result  # drift, pending and lock holder for the caller to report
                raise error

            files = [m.fix for m, _old in plan.fixes] + [m.up for m in plan.apply] + [m.down for m in plan.rollback]
            parsed = self.preflight(files)
            if read_only:
                result["current_version"] = plan.current
                result["would_change"] = bool(plan.apply or plan.rollback or plan.fixes or plan.baseline or plan.repairs)
                return result

            for migration, old in plan.fixes:
                ms = self.execute_file(
                    migration, migration.fix, parsed[migration.fix.path], "fix",
                    description="fix %s (%s) accepts %s replacing %s" % (
                        migration.fix.filename, migration.fix.checksum, migration.checksum, old),
                    checksum=migration.checksum,
                )
                result["fixed"].append({"version": migration.version, "execution_ms": ms, "old_checksum": old,
                                        "new_checksum": migration.checksum})
            for migration, old in plan.repairs:
                self._exec("BEGIN")
                self._log(migration, migration.up, "repair", "success", datetime.datetime.now(datetime.timezone.utc), 0,
                          description="repair: accepted %s replacing %s" % (migration.checksum, old))
                self._exec("COMMIT")
                result["repaired"].append({"version": migration.version, "old_checksum": old,
                                           "new_checksum": migration.checksum})
            if plan.baseline:
                self._exec("BEGIN")
                for migration in plan.baseline:
                    self._log(migration, migration.up, "baseline", "success",
                              datetime.datetime.now(datetime.timezone.utc), 0,
                              description="baseline: recorded as applied without running")
                    result["baselined"].append(migration.version)
                self._exec("COMMIT")
            for migration in plan.apply:
                ms = self.execute_file(migration, migration.up, parsed[migration.up.path], "migrate")
                result["applied"].append({"version": migration.version, "file": migration.filename, "execution_ms": ms})
            for migration in plan.rollback:
                ms = self.execute_file(migration, migration.down, parsed[migration.down.path], "rollback")
                result["rolled_back"].append({"version": migration.version, "file": migration.down.filename,
                                              "execution_ms": ms})
            result["changed"] = bool(result["applied"] or result["rolled_back"] or result["fixed"]
                                     or result["baselined"] or result["repaired"])
            state = self.read_state()
            applied_now = sorted(v for v, s in state.items() if s.applied)
            result["current_version"] = applied_now[-1] if applied_now else None
            return result
        finally:
            result["elapsed_ms"] = _ms_since(started)
            self.release()
