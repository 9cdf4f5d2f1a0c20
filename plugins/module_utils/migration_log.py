# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migrations_log table pg_migrate keeps: its DDL, the state query and every row write.

``MigrationLog`` is the single owner of the table: nothing else in pg_migrate writes SQL
against it. The table is append-only: one row per attempt. A row is only ever updated to
close the attempt it opened (a no-transaction file opens a 'running' row before its
first statement and closes it at the end), or, under the migration lock, to close an
attempt whose run died before closing it.

files/sql/migrations/*_0001_initial_schema.sql creates the same table column for column.
That copy stays: 0001 is a released migration and must stay byte-identical, and it lets a
plain ``psql -f`` of the schema produce the table pg_migrate expects. The DDL here is the
one pg_migrate runs; tests/integration/schema compares the two.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import quote_ident

# {schema} and {table} are quoted identifiers supplied by the module.
CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS {schema}.{table} (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id           uuid        NOT NULL,
    version          text        NOT NULL CHECK (version ~ '^[0-9]{{8}}_[0-9]{{4}}$'),
    filename         text        NOT NULL CHECK (filename <> ''),
    description      text        NOT NULL DEFAULT '',
    kind             text        NOT NULL CHECK (kind IN ('migrate', 'rollback', 'fix', 'baseline', 'repair')),
    checksum         text        CHECK (checksum ~ '^sha256:v1:[0-9a-f]{{64}}$'),
    status           text        NOT NULL CHECK (status IN ('running', 'success', 'failed')),
    started_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    execution_ms     integer     CHECK (execution_ms >= 0),
    db_user          text        NOT NULL DEFAULT current_user,
    controller_user  text,
    controller_host  text,
    statements_done  integer     CHECK (statements_done >= 0),
    error_sqlstate   text,
    error_message    text,
    error_statement  text
)
"""

CREATE_INDEX = """
CREATE INDEX IF NOT EXISTS {index} ON {schema}.{table} (version, id)
"""

# Current state per version: the newest successful attempt decides. A version is applied
# when that attempt is not a rollback; fix and repair rows carry the accepted checksum.
STATE_QUERY = """
SELECT DISTINCT ON (version)
       version, filename, kind, checksum, finished_at
  FROM {schema}.{table}
 WHERE status = 'success'
 ORDER BY version, id DESC
"""

CREATE_STATE_VIEW = """
CREATE OR REPLACE VIEW {schema}.{view} AS
SELECT DISTINCT ON (version)
       version, filename, kind AS last_kind, checksum, finished_at AS last_success_at,
       (kind <> 'rollback') AS applied
  FROM {schema}.{table}
 WHERE status = 'success'
 ORDER BY version, id DESC
"""

COLUMNS = (
    "id", "run_id", "version", "filename", "description", "kind", "checksum", "status",
    "started_at", "finished_at", "execution_ms", "db_user", "controller_user",
    "controller_host", "statements_done", "error_sqlstate", "error_message", "error_statement",
)


ABANDONED_MESSAGE = "abandoned: the run that opened this attempt ended without closing it (runner or connection died)"


class Attempt:
    """What one log row says about the file it ran: the same for every execution path."""

    __slots__ = ("version", "filename", "description", "kind", "checksum")

    def __init__(self, version, filename, description, kind, checksum):
        self.version = version
        self.filename = filename
        self.description = description
        self.kind = kind
        self.checksum = checksum


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


class MigrationLog:
    """The log table ``schema.table`` of one database, used through a psycopg2 cursor."""

    def __init__(self, schema="public", table="migrations_log"):
        self.schema = schema
        self.table = table
        self._names = None

    def names(self, cur):
        if self._names is None:
            view = table_view_name(self.table)
            self._names = dict(
                schema=quote_ident(self.schema, cur),
                table=quote_ident(self.table, cur),
                index=quote_ident(self.table + "_version_idx", cur),
                view=quote_ident(view, cur),
            )
        return self._names

    def sql(self, cur, template):
        return template.format(**self.names(cur))

    def qualified(self, cur):
        names = self.names(cur)
        return "%s.%s" % (names["schema"], names["table"])

    # DDL -------------------------------------------------------------------------
    def exists(self, cur):
        cur.execute("SELECT to_regclass(%s)", ("%s.%s" % (quote_ident(self.schema, cur), quote_ident(self.table, cur)),))
        return cur.fetchone()[0] is not None

    def ensure(self, cur):
        """Create the table, index and view in one transaction; False when they exist."""
        if self.exists(cur):
            return False
        cur.execute("BEGIN")
        try:
            for template in (CREATE_TABLE, CREATE_INDEX, CREATE_STATE_VIEW):
                cur.execute(self.sql(cur, template))
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        return True

    # reads -----------------------------------------------------------------------
    def state(self, cur):
        """{version: (filename, kind, checksum, finished_at)} of the newest successful attempt."""
        if not self.exists(cur):
            return {}
        cur.execute(self.sql(cur, STATE_QUERY))
        return dict((row[0], row[1:]) for row in cur.fetchall())

    def unfinished(self, cur):
        """Failed or still-'running' attempts newer than the version's last success."""
        if not self.exists(cur):
            return []
        cur.execute(
            "SELECT l.id, l.version, l.filename, l.kind, l.status, l.started_at, l.error_sqlstate, l.error_message "
            "FROM %s l WHERE l.status <> 'success' AND l.id > coalesce((SELECT max(s.id) FROM %s s "
            "WHERE s.version = l.version AND s.status = 'success'), 0) ORDER BY l.id"
            % (self.qualified(cur), self.qualified(cur))
        )
        return [
            dict(id=r[0], version=r[1], file=r[2], kind=r[3], status=r[4],
                 started_at=r[5].isoformat() if r[5] else None, sqlstate=r[6], message=r[7])
            for r in cur.fetchall()
        ]

    # writes ----------------------------------------------------------------------
    def insert_sql(self, cur, run_id, attempt, status, started_at, execution_ms=None, statements_done=None,
                   error=None, controller_user=None, controller_host=None):
        """The INSERT of one attempt row, values bound (to send with other statements in one round trip)."""
        error = error or {}
        return cur.mogrify(
            "INSERT INTO %s (run_id, version, filename, description, kind, checksum, status, started_at, "
            "finished_at, execution_ms, controller_user, controller_host, statements_done, error_sqlstate, "
            "error_message, error_statement) VALUES (%%s, %%s, %%s, %%s, %%s, %%s, %%s, %%s, %%s, %%s, %%s, %%s, "
            "%%s, %%s, %%s, %%s)" % self.qualified(cur),
            (
                run_id, attempt.version, attempt.filename, attempt.description, attempt.kind, attempt.checksum,
                status, started_at, None if status == "running" else _now(), execution_ms, controller_user,
                controller_host, statements_done, error.get("sqlstate"), error.get("message"), error.get("statement"),
            ),
        ).decode("utf-8")

    def insert(self, cur, run_id, attempt, status, started_at, execution_ms=None, statements_done=None,
               error=None, controller_user=None, controller_host=None):
        """One attempt row; returns its id. 'running' rows have no finished_at yet."""
        cur.execute(self.insert_sql(cur, run_id, attempt, status, started_at, execution_ms, statements_done, error,
                                    controller_user, controller_host) + " RETURNING id")
        return cur.fetchone()[0]

    def close(self, cur, row_id, status, execution_ms, statements_done, error=None):
        """Close the 'running' row ``row_id`` this run opened."""
        error = error or {}
        cur.execute(
            "UPDATE %s SET status = %%s, finished_at = clock_timestamp(), execution_ms = %%s, statements_done = %%s, "
            "error_sqlstate = %%s, error_message = %%s, error_statement = %%s WHERE id = %%s AND status = 'running'"
            % self.qualified(cur),
            (status, execution_ms, statements_done, error.get("sqlstate"), error.get("message"),
             error.get("statement"), row_id),
        )

    def close_abandoned(self, cur, run_id):
        """Under the migration lock no other run is alive: every 'running' row is abandoned.
        Marks them failed (saying which run closed them) and returns them."""
        cur.execute(
            "UPDATE %s SET status = 'failed', finished_at = clock_timestamp(), error_message = %%s "
            "WHERE status = 'running' RETURNING id, version, filename, started_at" % self.qualified(cur),
            ("%s; closed by run %s" % (ABANDONED_MESSAGE, run_id),),
        )
        return sorted(cur.fetchall())


def table_view_name(table):
    """The state view beside the log table: migrations_log -> migrations_state."""
    return table.replace("_log", "") + "_state" if table.endswith("_log") else table + "_state"
