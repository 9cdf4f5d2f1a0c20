# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migrations_log table pg_migrate keeps, and the queries over it.

The table is append-only: one row per attempt. A row is only ever updated to close the
attempt it opened (a no-transaction file opens a 'running' row before its first
statement and closes it at the end). files/sql/migrations/*_0001_initial_schema.sql
creates the same table column for column; tests/integration compares the two.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

KINDS = ("migrate", "rollback", "fix", "baseline", "repair")
STATUSES = ("running", "success", "failed")

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
