# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database side of pg_migrate: lock, plan, apply, roll back, fix, baseline, repair.

Usable without Ansible (tests and bench call it directly); the module is a thin wrapper::

    runner = Runner(connect, discover(path), RunOptions(...))
    plan = runner.plan("applied")        # read only: no lock, no log table created
    result = runner.execute(plan)        # RunResult; raises MigrationRefused / MigrationFailed

Guarantees:

* One connection does everything. A session-level advisory lock is taken on it before
  the state is re-read and held until the run ends, so the lock dies with the session
  that runs the files: an orphaned backend (its controller killed) keeps the lock until
  its statement ends, and a second run waits for it instead of colliding. On PostgreSQL
  14+ ``client_connection_check_interval`` makes such an orphan notice within a second
  that its client is gone and end its statement.
* One execution path for every file. A transactional file is one unit (``BEGIN``, its
  statements, its ``success`` row, ``COMMIT``); a ``-- sensa:no-transaction`` file is one
  unit per statement in autocommit, with a ``running`` row opened first and closed at the
  end. Both record the same ``Attempt``, so their log rows cannot diverge.
* No attempt is logged ``success`` while an index a ``CONCURRENTLY`` statement built is
  INVALID: an invalid index of the same name left by an earlier failed build is dropped
  (``DROP INDEX CONCURRENTLY``) and rebuilt, and a build that ends invalid fails the file.
* A lost connection (backend terminated) is a failure like any other: the runner
  reconnects to log it, with file, statement and any invalid index.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import io
import random
import re
import time
import uuid

from ansible_collections.sensa.infra.plugins.module_utils.migration_files import (
    AppliedVersion,
    MigrationError,
    make_plan,
)
from ansible_collections.sensa.infra.plugins.module_utils.migration_log import Attempt, MigrationLog
from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import psycopg2
from ansible_collections.sensa.infra.plugins.module_utils.sql_lexer import (
    LexError,
    leading_sql,
    split_statements,
    transaction_violations,
)

LOCK_NOT_AVAILABLE = "55P03"
ALLOWED_META = ("\\restrict", "\\unrestrict")
MAX_STATEMENT_IN_LOG = 4000
CONNECTION_CHECK_INTERVAL_MS = 1000

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_CONCURRENT_INDEX = re.compile(
    r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:(?P<name>%s)\s+)?ON\s+(?:ONLY\s+)?"
    r"(?P<table>%s(?:\s*\.\s*%s)?)" % (_IDENT, _IDENT, _IDENT),
    re.I,
)


class MigrationRefused(MigrationError):
    """Nothing was run (drift, missing file, a lock held elsewhere...); ``result`` says what was found."""

    def __init__(self, message, result=None):
        super(MigrationRefused, self).__init__(message)
        self.result = result


class LockTimeout(MigrationRefused):
    pass


class MigrationFailed(MigrationError):
    """A file failed on the server; ``details`` is the structured error, ``result`` what the run did before."""

    def __init__(self, message, details, result=None):
        super(MigrationFailed, self).__init__(message)
        self.details = details
        self.result = result


class RunOptions:
    def __init__(self, schema="public", table="migrations_log", session_role=None, lock_wait=60.0,
                 lock_timeout="5s", statement_timeout="0", lock_retries=5, retry_backoff=0.5,
                 out_of_order=False, controller_user=None, controller_host=None, check_mode=False):
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


class RunResult:
    """What one call found and did. ``as_dict()`` is the module's return value."""

    FIELDS = ("run_id", "action", "changed", "would_change", "applied", "rolled_back", "fixed", "baselined",
              "repaired", "pending", "drift", "problems", "attempts", "lock_holder", "previous_version",
              "current_version", "warnings", "elapsed_ms")

    def __init__(self, run_id, action, warnings):
        self.run_id = run_id
        self.action = action
        self.changed = False
        self.would_change = False
        self.applied = []
        self.rolled_back = []
        self.fixed = []
        self.baselined = []
        self.repaired = []
        self.pending = []
        self.drift = []
        self.problems = []  # refusals a run would meet (status reports them instead of failing)
        self.attempts = []  # failed or abandoned attempts newer than their version's last success
        self.lock_holder = None
        self.previous_version = None
        self.current_version = None
        self.warnings = warnings
        self.elapsed_ms = 0

    def as_dict(self):
        return dict((name, getattr(self, name)) for name in self.FIELDS)


class _FileFailure(Exception):
    def __init__(self, details, lost=False):
        super(_FileFailure, self).__init__(details.get("message"))
        self.details = details
        self.lost = lost


def lock_key(dbname, schema, table):
    """A stable signed 64-bit advisory-lock key for one database and log table."""
    digest = hashlib.sha256(("sensa.pg_migrate:%s:%s.%s" % (dbname, schema, table)).encode("utf-8")).digest()
    value = int.from_bytes(digest[:8], "big")
    return value - (1 << 64) if value >= (1 << 63) else value


def _ms_since(start):
    return int(round((time.monotonic() - start) * 1000))


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _unquote(identifier):
    if identifier.startswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier.lower()


class Runner:
    """One pg_migrate call. ``connect(autocommit)`` returns a new psycopg2 connection."""

    def __init__(self, connect, migrations, options):
        self.connect = connect
        self.migrations = migrations
        self.options = options
        self.run_id = str(uuid.uuid4())
        self.warnings = []
        self.log = MigrationLog(options.schema, options.table)
        self.conn = None
        self.key = None
        self.final_state = None  # the log's state when the run ended (read before it in check mode and status)

    # connection --------------------------------------------------------------------
    def _cursor(self):
        return self.conn.cursor()

    def _scalar(self, sql, params=None):
        cur = self._cursor()
        cur.execute(sql, params)
        row = cur.fetchone()
        return row[0] if row else None

    def _role_sql(self):
        if self.options.session_role:
            return "SET ROLE %s" % psycopg2.extensions.quote_ident(self.options.session_role, self.conn)
        return "RESET ROLE"

    def _open(self):
        if self.conn is None or self.conn.closed:
            self.conn = self.connect(True)
            self.key = lock_key(self.conn.get_dsn_parameters().get("dbname"), self.options.schema, self.options.table)
            self._cursor().execute(self._role_sql())

    def release(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
        self.conn = None

    # lock --------------------------------------------------------------------------
    def lock_holder(self):
        cur = self._cursor()
        cur.execute(
            """
            SELECT a.pid, a.backend_start, coalesce(a.application_name, ''), coalesce(a.usename, ''),
                   a.state, a.query_start
              FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid AND l.objsubid = 1
            """,
            ((self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF),
        )
        row = cur.fetchone()
        if not row:
            return None
        return {"pid": row[0], "since": row[1].isoformat() if row[1] else None, "application_name": row[2],
                "user": row[3], "state": row[4], "query_start": row[5].isoformat() if row[5] else None}

    def acquire_lock(self, result):
        deadline = time.monotonic() + self.options.lock_wait
        delay = 0.05
        while True:
            if self._scalar("SELECT pg_try_advisory_lock(%s)", (self.key,)):
                return
            if time.monotonic() >= deadline:
                holder = self.lock_holder()
                result.lock_holder = holder
                if holder:
                    raise LockTimeout(
                        "another migration run holds the lock on %s.%s: held by pid %s since %s, application_name %r, "
                        "user %s, %s since %s; waited %.0f s (lock_wait). The lock lives on the session running the "
                        "files, so it ends with that session (a killed controller's backend ends within a second "
                        "on PostgreSQL 14+, after its current statement before that). Wait for it, or if it is stuck "
                        "end it with SELECT pg_terminate_backend(%s)"
                        % (self.options.schema, self.options.table, holder["pid"], holder["since"],
                           holder["application_name"], holder["user"], holder["state"], holder["query_start"],
                           self.options.lock_wait, holder["pid"]),
                        result,
                    )
                raise LockTimeout("could not take the migration lock within %.0f s" % self.options.lock_wait, result)
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    # state and plan -------------------------------------------------------------------
    def read_state(self):
        cur = self._cursor()
        return dict((v, AppliedVersion(v, row[0], row[1], row[2])) for v, row in self.log.state(cur).items())

    def plan(self, action="applied", target=None, steps=None):
        """What ``action`` would do now. Read only: takes no lock and creates nothing."""
        self._open()
        return make_plan(self.migrations, self.read_state(), action=action, target=target,
                         out_of_order=self.options.out_of_order, steps=steps)

    def _describe(self, plan, result):
        result.previous_version = plan.current
        result.current_version = plan.current
        result.drift = [{"version": m.version, "file": m.filename, "recorded": old, "current": m.checksum}
                        for m, old in plan.drift + plan.fixes + plan.repairs]
        result.pending = [m.version for m in plan.apply]
        result.problems = plan.errors
        result.would_change = bool(plan.apply or plan.rollback or plan.fixes or plan.baseline or plan.repairs)
        result.attempts = self.log.unfinished(self._cursor())

    def files_of(self, plan):
        return [m.fix for m, _old in plan.fixes] + [m.up for m in plan.apply] + [m.down for m in plan.rollback]

    # statements ----------------------------------------------------------------------
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
        """Parse every file that will run and refuse what cannot run, before anything runs."""
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

    def _session_sql(self, sql_file, local):
        scope = "LOCAL " if local else ""
        lock_timeout = sql_file.headers.get("lock_timeout", self.options.lock_timeout)
        statement_timeout = sql_file.headers.get("statement_timeout", self.options.statement_timeout)
        quote = psycopg2.extensions.adapt
        return "SET %slock_timeout = %s; SET %sstatement_timeout = %s" % (
            scope, quote(str(lock_timeout)).getquoted().decode(),
            scope, quote(str(statement_timeout)).getquoted().decode(),
        )

    def _reset_sql(self):
        sql = "RESET ALL; %s" % self._role_sql()
        if self.conn.server_version >= 140000:
            # An orphaned backend (controller killed) then notices within a second and ends.
            sql += "; SET client_connection_check_interval = %d" % CONNECTION_CHECK_INTERVAL_MS
        return sql

    def _run_statement(self, cur, stmt):
        if stmt.kind == "copy":
            cur.copy_expert(stmt.sql, io.StringIO(stmt.copy_data))
        else:
            cur.execute(stmt.sql)

    def _error_details(self, exc, sql_file, stmt, index):
        diag = getattr(exc, "diag", None)
        primary = diag.message_primary if diag is not None else None
        lines = str(exc).strip().splitlines()
        message = primary or (lines[0] if lines else exc.__class__.__name__)
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

    # invalid indexes ---------------------------------------------------------------
    def invalid_indexes(self):
        cur = self._cursor()
        cur.execute(
            """
            SELECT format('%I.%I', n.nspname, c.relname)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT i.indisvalid ORDER BY 1
            """
        )
        return [{"index": q, "cleanup": "DROP INDEX CONCURRENTLY IF EXISTS %s;" % q} for (q,) in cur.fetchall()]

    def _named_invalid_index(self, cur, stmt):
        """The INVALID index a ``CREATE INDEX CONCURRENTLY`` names, if one is left from an earlier build."""
        match = _CONCURRENT_INDEX.match(leading_sql(stmt.sql))
        if not match or not match.group("name"):
            return None
        cur.execute(
            "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid AND c.relname = %s "
            "AND i.indrelid = to_regclass(%s)",
            (_unquote(match.group("name")), match.group("table")),
        )
        row = cur.fetchone()
        return row[0] if row else None

    def _before_concurrent(self, cur, sql_file, stmt):
        """Drop an INVALID index of the name this build creates (IF NOT EXISTS would keep it); return
        the invalid indexes present before the statement."""
        if "CONCURRENTLY" not in stmt.keywords:
            return None
        leftover = self._named_invalid_index(cur, stmt)
        if leftover:
            cur.execute("DROP INDEX CONCURRENTLY IF EXISTS %s" % leftover)
            self.warnings.append(
                "%s line %d: dropped the invalid index %s left by an earlier failed CONCURRENTLY build, and built it "
                "again" % (sql_file.filename, stmt.line, leftover))
        return set(i["index"] for i in self.invalid_indexes())

    def _after_concurrent(self, sql_file, stmt, index, before):
        if before is None:
            return
        new = [i for i in self.invalid_indexes() if i["index"] not in before]
        if new:
            details = {"file": sql_file.filename, "line": stmt.line, "statement_index": index, "sqlstate": None,
                       "message": "the statement ended but left INVALID index(es) %s" % ", ".join(i["index"] for i in new),
                       "statement": stmt.sql[:MAX_STATEMENT_IN_LOG]}
            raise _FileFailure(details)

    # the one execution path --------------------------------------------------------
    def _run_unit(self, sql_file, unit, first_index, transactional, on_success):
        """Run ``unit`` (all statements of a transactional file, or one statement of a no-transaction file),
        retrying on lock_timeout; raises _FileFailure.

        A transactional unit without COPY goes to the server in one round trip (session reset,
        BEGIN, settings, its statements); on an error other than a lock timeout it is rolled
        back and run again statement by statement, to name the failing statement and line."""
        attempt = 0
        batched = transactional and len(unit) > 1 and all(s.kind == "sql" for s in unit)
        while True:
            cur = self._cursor()
            stmt, index = None, first_index
            try:
                if transactional:
                    # The commit need not wait for its WAL flush: _make_durable() flushes once at
                    # the end of the run, before anything is reported applied.
                    prefix = "%s; BEGIN; SET LOCAL synchronous_commit = off; %s" % (
                        self._reset_sql(), self._session_sql(sql_file, local=True))
                    if batched:
                        # "\n;\n": a statement may end in a -- comment
                        cur.execute(prefix + "\n;\n" + "\n;\n".join(s.sql for s in unit))
                    else:
                        cur.execute(prefix)
                        for offset, stmt in enumerate(unit):
                            index = first_index + offset
                            self._run_statement(cur, stmt)
                    on_success(cur)  # ends with COMMIT
                    return
                for offset, stmt in enumerate(unit):
                    index = first_index + offset
                    before = self._before_concurrent(cur, sql_file, stmt)
                    self._run_statement(cur, stmt)
                    self._after_concurrent(sql_file, stmt, index, before)
                return
            except psycopg2.Error as exc:
                details = self._error_details(exc, sql_file, stmt, index)
                if self.conn.closed:
                    details["message"] = "connection lost (the server ended the session): %s" % details["message"]
                    raise _FileFailure(details, lost=True)
                if transactional:
                    cur.execute("ROLLBACK")
                if details["sqlstate"] == LOCK_NOT_AVAILABLE and attempt < self.options.lock_retries:
                    self.warnings.append("%s line %s: lock_timeout hit on attempt %d (%s); retrying with backoff"
                                         % (sql_file.filename, details["line"], attempt + 1, details["message"]))
                    self._backoff(attempt)
                    attempt += 1
                    continue
                if batched:
                    batched = False  # again, one statement at a time, to locate the error
                    continue
                raise _FileFailure(details)

    def run_file(self, sql_file, statements, attempt):
        """Run one file and record ``attempt`` for it; returns its execution time in ms."""
        started_at = _now()
        start = time.monotonic()
        transactional = sql_file.transactional
        row_id = None

        def record_success(cur):
            # in the file's transaction: back to the session role, the success row, COMMIT
            cur.execute("%s; %s; COMMIT" % (self._role_sql(), self.log.insert_sql(
                cur, self.run_id, attempt, "success", started_at, _ms_since(start), len(statements), None,
                self.options.controller_user, self.options.controller_host)))

        # A transactional file is one unit that ends with its success row; a no-transaction
        # file is one unit per statement, its 'running' row closed after the last.
        units = [(0, statements)] if transactional else [(i, [s]) for i, s in enumerate(statements)]
        done = 0
        try:
            if not transactional:
                cur = self._cursor()
                cur.execute("%s; %s" % (self._reset_sql(), self._session_sql(sql_file, local=False)))
                row_id = self._write(cur, attempt, "running", started_at, None, 0)
            for first_index, unit in units:
                self._run_unit(sql_file, unit, first_index, transactional, record_success)
                done += len(unit)
            if row_id is not None:
                cur = self._cursor()
                cur.execute(self._role_sql())
                self.log.close(cur, row_id, "success", _ms_since(start), done)
            return _ms_since(start)
        except psycopg2.Error as exc:  # outside a statement: opening or closing the attempt
            failure = _FileFailure(self._error_details(exc, sql_file, None, done), lost=bool(self.conn.closed))
            if failure.lost:
                failure.details["message"] = "connection lost (the server ended the session): %s" % (
                    failure.details["message"])
            self._record_failure(failure, sql_file, attempt, row_id, started_at, start, done, len(statements))
        except _FileFailure as failure:
            self._record_failure(failure, sql_file, attempt, row_id, started_at, start, done, len(statements))

    def _write(self, cur, attempt, status, started_at, ms, done, error=None):
        return self.log.insert(cur, self.run_id, attempt, status, started_at, ms, done, error,
                               self.options.controller_user, self.options.controller_host)

    def _record_failure(self, failure, sql_file, attempt, row_id, started_at, start, done, total):
        details = failure.details
        details["invalid_indexes"] = []
        unrecorded = ""
        try:
            if failure.lost:
                self.release()
                self._open()  # a new session, only to record the failure: no further file runs in this call
            if not sql_file.transactional:
                details["invalid_indexes"] = self.invalid_indexes()
            cur = self._cursor()
            cur.execute(self._role_sql())
            if row_id is None:
                self._write(cur, attempt, "failed", started_at, _ms_since(start), 0, details)
            else:
                self.log.close(cur, row_id, "failed", _ms_since(start), done, details)
        except psycopg2.Error as exc:
            unrecorded = (" The failure could not be logged (%s); a 'running' attempt, if any, is closed as "
                          "abandoned by the next run." % str(exc).strip().splitlines()[0])
        where = "line %s, statement %s of %d" % (details["line"], (details["statement_index"] or 0) + 1, total)
        if sql_file.transactional:
            outcome = ("The transaction was rolled back: nothing of this file is applied and a 'failed' attempt is "
                       "logged; fix the file and run again")
        else:
            outcome = ("%d statement(s) before it were committed; the file runs again from the start on the next run, "
                       "so keep its statements idempotent." % done)
            if details["invalid_indexes"]:
                outcome += " Invalid index(es) left by a failed CONCURRENTLY build: %s; a re-run of a CREATE INDEX " \
                           "CONCURRENTLY naming one drops and rebuilds it, or clean up with: %s" % (
                               ", ".join(i["index"] for i in details["invalid_indexes"]),
                               " ".join(i["cleanup"] for i in details["invalid_indexes"]))
        raise MigrationFailed(
            "%s%s failed at %s (SQLSTATE %s): %s. %s%s" % (
                sql_file.filename, "" if sql_file.transactional else " (no-transaction)", where, details["sqlstate"],
                details["message"], outcome, unrecorded),
            details,
        )

    # the run -----------------------------------------------------------------------
    def execute(self, plan):
        """Carry out ``plan`` (from :meth:`plan`). Check mode and status only describe it.

        A changing run takes the lock, then plans again under it (another run may have moved
        the state since), so the plan passed in decides the action and target only."""
        started = time.monotonic()
        result = RunResult(self.run_id, plan.action, self.warnings)
        try:
            self._open()
            read_only = self.options.check_mode or plan.action == "status"
            if read_only:
                result.lock_holder = self.lock_holder()
            else:
                self.acquire_lock(result)
                self._cursor().execute(self._role_sql())
                self.log.ensure(self._cursor())
                for row in self.log.close_abandoned(self._cursor(), self.run_id):
                    self.warnings.append(
                        "attempt %s of %s (%s), started %s, was abandoned (its run died before closing it): marked "
                        "failed" % (row[0], row[1], row[2], row[3].isoformat()))
                plan = self._replan(plan)
            self._describe(plan, result)
            self.final_state = plan.state
            if plan.errors and plan.action != "status":
                raise MigrationRefused("nothing was run:\n  - " + "\n  - ".join(plan.errors), result)
            try:
                parsed = self.preflight(self.files_of(plan))
            except MigrationError as exc:
                if plan.action == "status":
                    result.problems.append(str(exc))
                    return result
                raise MigrationRefused(str(exc), result)
            if read_only:
                return result
            self._carry_out(plan, parsed, result)
            return result
        except MigrationFailed as exc:
            exc.result = result
            self._finish(result)
            raise
        except MigrationRefused as exc:
            exc.result = result
            raise
        finally:
            result.elapsed_ms = _ms_since(started)
            self.release()

    def _replan(self, plan):
        return make_plan(self.migrations, self.read_state(), action=plan.action, target=plan.target,
                         out_of_order=self.options.out_of_order, steps=plan.steps)

    def _finish(self, result):
        result.changed = bool(result.applied or result.rolled_back or result.fixed or result.baselined
                              or result.repaired)
        if not result.changed:
            state = self.final_state  # nothing was written: the state read under the lock holds
        else:
            try:
                self._open()
                state = self.read_state()
            except psycopg2.Error:
                return
            self.final_state = state
        applied_now = sorted(v for v, s in state.items() if s.applied)
        result.current_version = applied_now[-1] if applied_now else None
        applied_set = set(applied_now)
        result.pending = [m.version for m in self.migrations if m.version not in applied_set]
        # after a lost connection or server crash, report what the server really kept
        result.applied = [a for a in result.applied if a["version"] in applied_set]

    def _carry_out(self, plan, parsed, result):
        for migration, old in plan.fixes:
            fix = migration.fix
            attempt = Attempt(migration.version, fix.filename,
                              "fix %s (%s) accepts %s replacing %s" % (fix.filename, fix.checksum, migration.checksum, old),
                              "fix", migration.checksum)
            ms = self.run_file(fix, parsed[fix.path], attempt)
            result.fixed.append({"version": migration.version, "execution_ms": ms, "old_checksum": old,
                                 "new_checksum": migration.checksum})
        for migration, old in plan.repairs:
            self._record_only(migration, "repair", "repair: accepted %s replacing %s" % (migration.checksum, old))
            result.repaired.append({"version": migration.version, "old_checksum": old, "new_checksum": migration.checksum})
        for migration in plan.baseline:
            self._record_only(migration, "baseline", "baseline: recorded as applied without running")
            result.baselined.append(migration.version)
        for migration in plan.apply:
            attempt = Attempt(migration.version, migration.filename, migration.description, "migrate", migration.checksum)
            ms = self.run_file(migration.up, parsed[migration.up.path], attempt)
            result.applied.append({"version": migration.version, "file": migration.filename, "execution_ms": ms})
        for migration in plan.rollback:
            down = migration.down
            attempt = Attempt(migration.version, down.filename, migration.description, "rollback", down.checksum)
            ms = self.run_file(down, parsed[down.path], attempt)
            result.rolled_back.append({"version": migration.version, "file": down.filename, "execution_ms": ms})
        if result.applied or result.rolled_back or result.fixed:
            self._make_durable()
        self._finish(result)

    def _make_durable(self):
        """One synchronous commit that has a transaction id flushes the WAL of every earlier
        (asynchronous) commit of this run: after it, every file reported applied is durable.
        A crash before it loses whole files together with their log rows, never one without
        the other, and the next run applies them again."""
        self._cursor().execute("BEGIN; SET LOCAL synchronous_commit = on; SELECT %s; COMMIT" % (
            "pg_current_xact_id()" if self.conn.server_version >= 130000 else "txid_current()"))

    def _record_only(self, migration, kind, description):
        cur = self._cursor()
        cur.execute("BEGIN")
        self._write(cur, Attempt(migration.version, migration.filename, description, kind, migration.checksum),
                    "success", _now(), 0, 0)
        cur.execute("COMMIT")

    def run(self, action="applied", target=None, steps=None):
        """plan() then execute(), as a dict (for callers of the 1.0 API)."""
        try:
            plan = self.plan(action, target, steps)
        except MigrationError:
            self.release()
            raise
        return self.execute(plan).as_dict()
