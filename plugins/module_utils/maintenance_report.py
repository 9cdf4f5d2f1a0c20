# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database maintenance report: what to read from the server, how to judge it, how to write it.

Three halves, so tests can use each without Ansible:

* ``gather(cursor, config, previous)`` reads the catalog, the statistics views,
  ``migrations_log`` and ``pg_stat_statements`` (only SELECT and EXPLAIN, inside a
  transaction the caller rolls back; safe in check mode);
* ``evaluate(facts, config)`` is pure Python: it turns the facts into findings and the
  findings into breaches of the configured thresholds;
* ``render_markdown`` / ``render_chart`` write what a person reads.

The protected-table list is the access model's (the database's ``sensa_user_data_tables()``
and ``access_checks.DEFAULT_PROTECTED_TABLES``, merged by access_checks, or what the caller
passes), never a copy. ``migrations_log`` is read with plain SQL on the
columns ``migration_log.COLUMNS`` documents, and only those the table really has.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import decimal
import json
import re
import uuid

from ansible_collections.sensa.infra.plugins.module_utils import access_checks, migration_log

REPORT_FORMAT = 1

# Every threshold: a finding count (or value) above it is a breach. Role defaults mirror these.
DEFAULT_THRESHOLDS = {
    "failed_migrations_max": 0,
    "abandoned_migrations_max": 0,
    "abandoned_after_minutes": 60,
    "slow_statement_mean_ms": 500.0,
    "slow_statement_min_calls": 5,
    "slow_statements_max": 0,
    "table_bloat_ratio": 0.5,
    "index_bloat_ratio": 0.5,
    "bloat_min_bytes": 8 * 1024 * 1024,
    "bloated_relations_max": 0,
    "unused_index_min_bytes": 8 * 1024 * 1024,
    "unused_indexes_max": 0,
    "duplicate_indexes_max": 0,
    "invalid_indexes_max": 0,
    "growth_ratio": 1.0,
    "growth_min_bytes": 256 * 1024 * 1024,
    "growing_relations_max": 0,
    "vacuum_age_days": 7.0,
    "vacuum_min_dead_tuples": 10000,
    "analyze_min_modified_tuples": 10000,
    "stale_tables_max": 0,
    "rls_not_forced_max": 0,
    "rls_plans_without_index_max": 0,
    "rls_plan_min_rows": 10000,
}

# Checks in report order: (key, title).
CHECKS = (
    ("failed_migrations", "Failed migration attempts since the last report"),
    ("abandoned_migrations", "Abandoned migration attempts (still 'running')"),
    ("slow_statements", "Slow statements (pg_stat_statements)"),
    ("bloated_relations", "Estimated table and index bloat"),
    ("unused_indexes", "Unused indexes"),
    ("duplicate_indexes", "Duplicate indexes"),
    ("invalid_indexes", "Invalid indexes"),
    ("growing_relations", "Relations that grew faster than the threshold"),
    ("stale_tables", "Tables whose last vacuum or analyze is too old"),
    ("rls_not_forced", "Row-level security not enabled or not forced"),
    ("rls_plans_without_index", "RLS owner lookups whose plan does not use an index"),
)

# The column a policy compares with the user context, e.g. "(owner_id = ( SELECT current_user_id() ..."
_POLICY_OWNER_COLUMN = re.compile(r"\(?\s*\"?([A-Za-z_][A-Za-z0-9_]*)\"?\s*=\s*\(\s*SELECT\s+(?:public\.)?current_user_id\(\)")


class MaintenanceConfig(object):
    def __init__(self, schemas=None, protected_tables=None, app_role="sensa_app", log_schema="public",
                 log_table="migrations_log", thresholds=None, top=10, ignore_indexes=None):
        self.schemas = list(schemas or access_checks.DEFAULT_SCHEMAS)
        # None: read at run time, from the database's own list when the schema has one
        # (public.sensa_user_data_tables(), issue 12), else from the access model's default.
        self.protected_tables = list(protected_tables) if protected_tables is not None else None
        self.protected_tables_source = "given" if protected_tables is not None else None
        self.app_role = app_role
        self.log_schema = log_schema
        self.log_table = log_table
        self.thresholds = dict(DEFAULT_THRESHOLDS)
        self.thresholds.update(dict((k, v) for k, v in (thresholds or {}).items() if v is not None))
        self.top = int(top)
        self.ignore_indexes = set(ignore_indexes or [])


# ---------------------------------------------------------------------------------------
# Reading the server

def _dicts(cursor, sql, params=None):
    cursor.execute(sql, params or {})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _iso(value):
    """JSON-safe: timestamps as ISO text, numerics (Decimal) as float."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _clean(rows):
    return [dict((k, _iso(v)) for k, v in row.items()) for row in rows]


SERVER_SQL = """
SELECT /* sensa.maintenance */ pg_catalog.current_database() AS database, current_user AS login_user,
       pg_catalog.current_setting('server_version') AS server_version,
       pg_catalog.current_setting('server_version_num')::int AS server_version_num,
       pg_catalog.current_setting('block_size')::int AS block_size,
       pg_catalog.now() AS server_time,
       pg_catalog.pg_database_size(pg_catalog.current_database()) AS database_bytes,
       (SELECT stats_reset FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()) AS stats_reset
"""

TABLES_SQL = """
SELECT /* sensa.maintenance */ n.nspname AS schema, c.relname AS name, pg_catalog.format('%%I.%%I', n.nspname, c.relname) AS qualified,
       pg_catalog.pg_relation_size(c.oid) AS table_bytes,
       pg_catalog.pg_total_relation_size(c.oid) AS total_bytes,
       pg_catalog.pg_indexes_size(c.oid) AS index_bytes,
       c.relpages AS pages, c.reltuples::bigint AS estimated_rows,
       coalesce((SELECT (regexp_match(o, '^fillfactor=(\\d+)$'))[1]::int FROM unnest(c.reloptions) AS o
                  WHERE o LIKE 'fillfactor=%%'), 100) AS fillfactor,
       s.n_live_tup AS live_tuples, s.n_dead_tup AS dead_tuples, s.n_mod_since_analyze AS modified_since_analyze,
       s.seq_scan, s.idx_scan,
       GREATEST(s.last_vacuum, s.last_autovacuum) AS last_vacuum,
       GREATEST(s.last_analyze, s.last_autoanalyze) AS last_analyze,
       EXTRACT(EPOCH FROM pg_catalog.now() - GREATEST(s.last_vacuum, s.last_autovacuum)) / 86400.0 AS vacuum_age_days,
       EXTRACT(EPOCH FROM pg_catalog.now() - GREATEST(s.last_analyze, s.last_autoanalyze)) / 86400.0 AS analyze_age_days,
       c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
       (SELECT sum(st.avg_width * (1 - st.null_frac)) FROM pg_catalog.pg_stats st
         WHERE st.schemaname = n.nspname AND st.tablename = c.relname AND NOT st.inherited) AS row_data_width,
       (SELECT count(*) FROM pg_catalog.pg_stats st
         WHERE st.schemaname = n.nspname AND st.tablename = c.relname AND NOT st.inherited) AS analyzed_columns,
       (SELECT count(*) FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid
 WHERE c.relkind IN ('r', 'm') AND n.nspname = ANY(%(schemas)s)
 ORDER BY pg_catalog.pg_total_relation_size(c.oid) DESC, 3
"""

INDEXES_SQL = """
SELECT /* sensa.maintenance */ n.nspname AS schema, i.relname AS name, pg_catalog.format('%%I.%%I', n.nspname, i.relname) AS qualified,
       pg_catalog.format('%%I.%%I', n.nspname, t.relname) AS table,
       am.amname AS method, pg_catalog.pg_relation_size(i.oid) AS index_bytes,
       i.relpages AS pages, i.reltuples::bigint AS estimated_rows,
       x.indisunique AS is_unique, x.indisprimary AS is_primary, x.indisvalid AS is_valid,
       x.indpred IS NOT NULL AS is_partial, x.indexprs IS NOT NULL AS has_expressions,
       EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.oid) AS backs_constraint,
       s.idx_scan AS scans,
       x.indrelid::text || ':' || x.indkey::text || ':' || x.indclass::text || ':' || x.indcollation::text || ':'
         || coalesce(pg_catalog.pg_get_expr(x.indexprs, x.indrelid), '') || ':'
         || coalesce(pg_catalog.pg_get_expr(x.indpred, x.indrelid), '') || ':' || am.amname AS signature,
       (SELECT sum(coalesce(st.avg_width, 8))
          FROM unnest(x.indkey) AS k(attnum)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
          LEFT JOIN pg_catalog.pg_stats st ON st.schemaname = n.nspname AND st.tablename = t.relname
                                           AND st.attname = a.attname AND NOT st.inherited) AS key_width,
       pg_catalog.pg_get_indexdef(i.oid) AS definition
  FROM pg_catalog.pg_index x
  JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
  JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace
  JOIN pg_catalog.pg_am am ON am.oid = i.relam
  LEFT JOIN pg_catalog.pg_stat_user_indexes s ON s.indexrelid = i.oid
 WHERE n.nspname = ANY(%(schemas)s)
 ORDER BY pg_catalog.pg_relation_size(i.oid) DESC, 3
"""

POLICIES_SQL = """
SELECT p.polname AS name, p.polcmd::text AS command,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using_expression
  FROM pg_catalog.pg_policy p
 WHERE p.polrelid = %(table)s::regclass
 ORDER BY p.polname
"""


def _find_protected(tables, config, name):
    for schema, rel in access_checks.table_candidates(name, config.schemas):
        for table in tables:
            if table["schema"] == schema and table["name"] == rel:
                return table
    return None


def _migration_attempts(cursor, config, since):
    """Failed attempts since ``since`` and attempts still 'running'; tolerant of the table's shape."""
    cursor.execute("SELECT pg_catalog.to_regclass(%s)", (
        '"%s"."%s"' % (config.log_schema.replace('"', '""'), config.log_table.replace('"', '""')),))
    if cursor.fetchone()[0] is None:
        return dict(available=False, note="%s.%s does not exist (no migration has run here)"
                    % (config.log_schema, config.log_table), failed=[], abandoned=[])
    cursor.execute(
        "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        ('"%s"."%s"' % (config.log_schema.replace('"', '""'), config.log_table.replace('"', '""')),))
    present = set(r[0] for r in cursor.fetchall())
    if not set(("status", "started_at")) <= present:
        return dict(available=False, failed=[], abandoned=[],
                    note="%s.%s has no status/started_at columns; not read" % (config.log_schema, config.log_table))
    wanted = [c for c in ("id", "version", "filename", "kind", "status", "started_at", "finished_at", "db_user",
                          "controller_user", "controller_host", "error_sqlstate", "error_message")
              if c in present and c in migration_log.COLUMNS]
    table = '"%s"."%s"' % (config.log_schema.replace('"', '""'), config.log_table.replace('"', '""'))
    columns = ", ".join('"%s"' % c for c in wanted)
    order = "started_at, id" if "id" in present else "started_at"
    failed = _dicts(cursor, "SELECT %s FROM %s WHERE status = 'failed' AND (%%(since)s::timestamptz IS NULL "
                            "OR started_at > %%(since)s::timestamptz) ORDER BY %s" % (columns, table, order),
                    {"since": since})
    abandoned = _dicts(cursor, "SELECT %s, EXTRACT(EPOCH FROM pg_catalog.now() - started_at) / 60.0 AS age_minutes "
                               "FROM %s WHERE status = 'running' AND started_at < pg_catalog.now() - "
                               "pg_catalog.make_interval(mins => %%(minutes)s) ORDER BY %s" % (columns, table, order),
                       {"minutes": int(config.thresholds["abandoned_after_minutes"])})
    # pg_migrate closes a 'running' row a dead run left behind as 'failed' with this message (issue 11).
    marker = getattr(migration_log, "ABANDONED_MESSAGE", None)
    failed = _clean(failed)
    for row in failed:
        row["abandoned"] = bool(marker and (row.get("error_message") or "").startswith(marker[:40]))
    return dict(available=True, note="", failed=failed, abandoned=_clean(abandoned), since=since)


NOT_IN_THIS_DATABASE = "not available in this database"


def statements(cursor, config, database=None):
    """Top statements of ``database`` (default: the connected one) by mean time and by calls, or why there
    are none. The statistics are cluster-wide, so the extension may live in another database (``postgres``)."""
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_stat_statements'), "
                   "'pg_stat_statements' = ANY(string_to_array(replace(pg_catalog.current_setting("
                   "'shared_preload_libraries'), ' ', ''), ',')), "
                   "(SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n "
                   "ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements')")
    shipped, loaded, schema = cursor.fetchone()
    if not shipped:
        return dict(status="not available on this server", slowest=[], most_frequent=[])
    if not loaded:
        return dict(status="not available on this server: pg_stat_statements is not in shared_preload_libraries "
                           "(RDS: the parameter group; restart needed)", slowest=[], most_frequent=[])
    if schema is None:
        hint = "CREATE EXTENSION pg_stat_statements (once, in this database or in postgres, as the owner or RDS master user)"
        return dict(status=NOT_IN_THIS_DATABASE + ": " + hint, slowest=[], most_frequent=[])
    cursor.execute("SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                   ('"%s".pg_stat_statements' % schema.replace('"', '""'),))
    present = set(r[0] for r in cursor.fetchall())
    total, mean = ("total_exec_time", "mean_exec_time") if "mean_exec_time" in present else ("total_time", "mean_time")
    base = ("SELECT queryid::text AS queryid, left(regexp_replace(query, '\\s+', ' ', 'g'), 300) AS query, calls, "
            "round(%s::numeric, 3)::float AS total_ms, round(%s::numeric, 3)::float AS mean_ms, rows "
            "FROM \"%s\".pg_stat_statements WHERE dbid = (SELECT oid FROM pg_catalog.pg_database "
            "WHERE datname = coalesce(%%(database)s, pg_catalog.current_database())) "
            "AND query NOT LIKE '%%%%sensa.maintenance%%%%' "
            % (total, mean, schema.replace('"', '""')))
    slowest = _dicts(cursor, base + "AND calls >= %(min_calls)s ORDER BY " + mean + " DESC LIMIT %(top)s",
                     {"min_calls": int(config.thresholds["slow_statement_min_calls"]), "top": config.top,
                      "database": database})
    frequent = _dicts(cursor, base + "ORDER BY calls DESC LIMIT %(top)s", {"top": config.top, "database": database})
    for row in slowest + frequent:
        row["query"] = redact(row["query"])
    return dict(status="available", slowest=slowest, most_frequent=frequent)


_SECRET_LITERAL = re.compile(r"(PASSWORD|ENCRYPTED\s+PASSWORD)\s+'(?:[^']|'')*'", re.I)


def redact(query):
    """Utility statements keep their literals in pg_stat_statements: never copy a password (or verifier) out."""
    return _SECRET_LITERAL.sub(r"\1 '********'", query or "")


def _plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []) or []:
        yield from _plan_nodes(child)


def _uses_index(plan, table_name, index_names):
    """(True, index) when a node scans one of the table's own indexes (not e.g. pg_authid's in an InitPlan)."""
    for node in _plan_nodes(plan):
        if "Index" in node.get("Node Type", "") and node.get("Index Name") in index_names:
            if node.get("Relation Name") in (None, table_name):
                return True, node.get("Index Name")
    return False, None


def _scan_node(plan, table_name):
    """How the plan reads the table itself (e.g. 'Index Scan', 'Seq Scan'), not the Result on top."""
    for node in _plan_nodes(plan):
        if node.get("Relation Name") == table_name:
            return node.get("Node Type")
    for node in _plan_nodes(plan):
        if node.get("Node Type") == "Bitmap Index Scan":
            return "Bitmap Heap Scan"
    return plan.get("Node Type")


def _rls_plans(cursor, config, tables, indexes):
    """EXPLAIN each protected table's owner lookup as the application role with a transaction-local context."""
    results = []
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s), "
                   "pg_catalog.to_regprocedure('public.set_current_user_id(uuid)') IS NOT NULL "
                   "OR pg_catalog.to_regprocedure('public.set_current_user_id(uuid, boolean)') IS NOT NULL",
                   (config.app_role,))
    role_exists, has_setter = cursor.fetchone()
    for name in config.protected_tables:
        table = _find_protected(tables, config, name)
        entry = dict(table=name, owner_column=None, uses_index=None, index_available=None, index=None,
                     plan_node=None, estimated_rows=None, applicable=True, note="")
        results.append(entry)
        if table is None:
            entry["note"] = "table does not exist"
            continue
        entry["table"] = table["qualified"]
        entry["estimated_rows"] = table["estimated_rows"]
        if not role_exists:
            entry["note"] = "application role %s does not exist" % config.app_role
            continue
        policies = _dicts(cursor, POLICIES_SQL, {"table": table["qualified"]})
        for policy in policies:
            match = _POLICY_OWNER_COLUMN.search(policy["using_expression"] or "")
            if match and policy["command"] in ("r", "*"):
                entry["owner_column"] = match.group(1)
                break
        if entry["owner_column"] is None:
            # Content reached through its course, system tables: there is no owner lookup to explain.
            entry["applicable"] = False
            entry["note"] = "no SELECT policy compares a column with current_user_id(); nothing to explain"
            continue
        own_indexes = set(i["name"] for i in indexes if i["table"] == table["qualified"])
        lookup = "SELECT * FROM %s WHERE %s = public.current_user_id() /* sensa.maintenance */" % (
            table["qualified"], '"%s"' % entry["owner_column"].replace('"', '""'))
        try:
            cursor.execute("SAVEPOINT sensa_maintenance_plan")
            cursor.execute("SET LOCAL ROLE \"%s\"" % config.app_role.replace('"', '""'))
            if has_setter:
                cursor.execute("SELECT public.set_current_user_id(%s::uuid)", (str(uuid.uuid4()),))
            else:
                cursor.execute("SELECT pg_catalog.set_config('sensa.current_user_id', %s, true)", (str(uuid.uuid4()),))
            for forced in (False, True):
                if forced:
                    cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("EXPLAIN (FORMAT JSON) " + lookup)
                raw = cursor.fetchone()[0]
                plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
                used, index = _uses_index(plan, table["name"], own_indexes)
                if forced:
                    entry["index_available"] = used
                    entry["index"] = entry["index"] or index
                else:
                    entry["uses_index"] = used
                    entry["index"] = index
                    entry["plan_node"] = _scan_node(plan, table["name"])
            cursor.execute("ROLLBACK TO SAVEPOINT sensa_maintenance_plan")
        except Exception as exc:  # pylint: disable=broad-except
            cursor.execute("ROLLBACK TO SAVEPOINT sensa_maintenance_plan")
            entry["note"] = "could not explain as %s: %s" % (config.app_role, str(exc).strip().splitlines()[0])
    return results


def resolve_protected_tables(cursor, config):
    """Fill in config.protected_tables when the caller gave none, from the access model: the
    database's own list of user-data tables (access_checks.read_user_data_tables, issue 12) when
    the schema has one, plus access_checks.DEFAULT_PROTECTED_TABLES."""
    if config.protected_tables is not None:
        return
    function = access_checks.DEFAULT_USER_DATA_FUNCTION
    rows = access_checks.read_user_data_tables(cursor, function)
    tables = access_checks.effective_protected_tables({"user_data_tables": rows}, access_checks.AccessConfig())
    sources = ["%s()" % function] if rows is not None else []
    if len(tables) > len(rows or ()) or not sources:
        sources.append("access_checks.DEFAULT_PROTECTED_TABLES")
    config.protected_tables = tables
    config.protected_tables_source = " + ".join(sources)


def gather(cursor, config, previous=None):
    """Everything the report needs. Read-only; run it in a transaction and roll back."""
    resolve_protected_tables(cursor, config)
    facts = _dicts(cursor, SERVER_SQL)[0]
    facts = dict((k, _iso(v)) for k, v in facts.items())
    params = {"schemas": config.schemas}
    facts["tables"] = _clean(_dicts(cursor, TABLES_SQL, params))
    for table in facts["tables"]:
        for key in ("row_data_width", "vacuum_age_days", "analyze_age_days"):
            if table[key] is not None:
                table[key] = float(table[key])
    facts["indexes"] = _clean(_dicts(cursor, INDEXES_SQL, params))
    for index in facts["indexes"]:
        if index["key_width"] is not None:
            index["key_width"] = float(index["key_width"])
    since = (previous or {}).get("server_time")
    facts["migrations"] = _migration_attempts(cursor, config, since)
    facts["statements"] = statements(cursor, config)
    facts["rls_plans"] = _rls_plans(cursor, config, facts["tables"], facts["indexes"])
    facts["previous"] = dict(server_time=since, generated=bool(previous),
                             sizes=dict((r["qualified"], r["bytes"]) for r in (previous or {}).get("sizes", [])))
    return facts


# ---------------------------------------------------------------------------------------
# Judging (pure)

def _maxalign(width):
    return (int(width) + 7) // 8 * 8


def estimate_table_bloat(table, block_size):
    """(bloat_bytes, method): width-based when the table is analyzed, else its dead-tuple share."""
    size = table["table_bytes"] or 0
    if size <= 0:
        return 0, "empty"
    rows = table["estimated_rows"] if table["estimated_rows"] is not None else -1
    columns = table["columns"] or 0
    if rows >= 0 and columns and (table["analyzed_columns"] or 0) >= columns and table["row_data_width"] is not None:
        tuple_bytes = 24 + _maxalign(table["row_data_width"]) + 4  # header, data, line pointer
        usable = (block_size - 24) * (table["fillfactor"] or 100) / 100.0
        per_page = max(int(usable // tuple_bytes), 1)
        expected_pages = -(-rows // per_page) if rows else 0
        return max(size - expected_pages * block_size, 0), "width"
    live, dead = table["live_tuples"] or 0, table["dead_tuples"] or 0
    if live + dead == 0:
        return 0, "no statistics"
    return int(size * dead / float(live + dead)), "dead tuples"


def estimate_index_bloat(index, block_size):
    """B-tree only: expected leaf pages at 90%% fill from the key width; None for other methods."""
    if index["method"] != "btree" or index["key_width"] is None or index["has_expressions"]:
        return None
    size = index["index_bytes"] or 0
    rows = max(index["estimated_rows"] or 0, 0)
    tuple_bytes = 8 + _maxalign(index["key_width"]) + 4
    per_page = max(int((block_size - 24 - 16) * 0.9 // tuple_bytes), 1)
    expected_pages = (-(-rows // per_page) if rows else 0) + 1  # + metapage
    return max(size - expected_pages * block_size, 0)


def evaluate(facts, config):
    """(findings, breaches): findings per check key; a breach per check over its threshold."""
    t = config.thresholds
    block = facts["block_size"]
    findings = dict((key, []) for key, _title in CHECKS)
    findings["failed_migrations"] = list(facts["migrations"]["failed"])
    findings["abandoned_migrations"] = list(facts["migrations"]["abandoned"])
    findings["slow_statements"] = [s for s in facts["statements"]["slowest"]
                                   if s["mean_ms"] is not None and s["mean_ms"] > float(t["slow_statement_mean_ms"])]

    for table in facts["tables"]:
        bloat, method = estimate_table_bloat(table, block)
        table["estimated_bloat_bytes"], table["bloat_method"] = bloat, method
        size = table["table_bytes"] or 0
        ratio = bloat / float(size) if size else 0.0
        table["estimated_bloat_ratio"] = round(ratio, 3)
        if size >= t["bloat_min_bytes"] and ratio > float(t["table_bloat_ratio"]):
            findings["bloated_relations"].append(dict(kind="table", name=table["qualified"], bytes=size,
                                                      estimated_bloat_bytes=bloat, ratio=round(ratio, 3), method=method))
    signatures = {}
    for index in facts["indexes"]:
        bloat = estimate_index_bloat(index, block)
        index["estimated_bloat_bytes"] = bloat
        size = index["index_bytes"] or 0
        if bloat is not None and size >= t["bloat_min_bytes"] and bloat / float(size) > float(t["index_bloat_ratio"]):
            findings["bloated_relations"].append(dict(kind="index", name=index["qualified"], bytes=size,
                                                      estimated_bloat_bytes=bloat, ratio=round(bloat / float(size), 3),
                                                      method="btree key width"))
        if not index["is_valid"]:
            findings["invalid_indexes"].append(dict(name=index["qualified"], table=index["table"],
                                                    definition=index["definition"]))
        ignored = index["name"] in config.ignore_indexes or index["qualified"] in config.ignore_indexes
        if (not ignored and (index["scans"] or 0) == 0 and not index["is_unique"] and not index["backs_constraint"]
                and size >= t["unused_index_min_bytes"]):
            findings["unused_indexes"].append(dict(name=index["qualified"], table=index["table"], bytes=size,
                                                   definition=index["definition"]))
        signatures.setdefault(index["signature"], []).append(index)
    for group in signatures.values():
        if len(group) > 1:
            findings["duplicate_indexes"].append(dict(table=group[0]["table"], indexes=[i["qualified"] for i in group],
                                                      definitions=[i["definition"] for i in group]))

    facts["sizes"] = size_rows(facts, facts["previous"]["sizes"])
    for rel in facts["sizes"]:
        before = rel["previous_bytes"]
        if before and rel["bytes"] >= t["growth_min_bytes"] and (rel["bytes"] - before) / float(before) > float(t["growth_ratio"]):
            findings["growing_relations"].append(dict(kind=rel["kind"], name=rel["qualified"], bytes=rel["bytes"],
                                                      previous_bytes=before,
                                                      ratio=round((rel["bytes"] - before) / float(before), 3)))

    for table in facts["tables"]:
        reasons = []
        vac = table["vacuum_age_days"]
        if (table["dead_tuples"] or 0) >= t["vacuum_min_dead_tuples"] and (vac is None or vac > float(t["vacuum_age_days"])):
            reasons.append("%s dead tuples, last vacuum %s" % (table["dead_tuples"], _age(vac)))
        ana = table["analyze_age_days"]
        if ((table["modified_since_analyze"] or 0) >= t["analyze_min_modified_tuples"]
                and (ana is None or ana > float(t["vacuum_age_days"]))):
            reasons.append("%s rows modified since the last analyze %s" % (table["modified_since_analyze"], _age(ana)))
        if reasons:
            findings["stale_tables"].append(dict(name=table["qualified"], reasons=reasons,
                                                 last_vacuum=table["last_vacuum"], last_analyze=table["last_analyze"]))

    protected = set()
    for name in config.protected_tables:
        table = _find_protected(facts["tables"], config, name)
        if table is None:
            findings["rls_not_forced"].append(dict(name=name, problem="protected table does not exist"))
            continue
        protected.add(table["qualified"])
        if not table["rls_enabled"]:
            findings["rls_not_forced"].append(dict(name=table["qualified"], problem="row-level security not enabled"))
        elif not table["rls_forced"]:
            findings["rls_not_forced"].append(dict(name=table["qualified"], problem="row-level security not forced"))
    for table in facts["tables"]:
        if table["qualified"] not in protected and table["rls_enabled"] and not table["rls_forced"]:
            findings["rls_not_forced"].append(dict(name=table["qualified"], problem="row-level security not forced"))

    for plan in facts["rls_plans"]:
        if plan["note"] == "table does not exist" or not plan["applicable"]:
            continue  # a missing table is already a rls_not_forced finding
        if plan["note"]:
            findings["rls_plans_without_index"].append(dict(name=plan["table"], problem=plan["note"]))
        elif not plan["index_available"]:
            findings["rls_plans_without_index"].append(dict(
                name=plan["table"], problem="no index serves %s = current_user_id() (plan: %s)"
                % (plan["owner_column"], plan["plan_node"])))
        elif not plan["uses_index"] and (plan["estimated_rows"] or 0) >= t["rls_plan_min_rows"]:
            findings["rls_plans_without_index"].append(dict(
                name=plan["table"], problem="the planner chose %s over %s for %s rows"
                % (plan["plan_node"], plan["index"], plan["estimated_rows"])))

    breaches = []
    for key, title in CHECKS:
        limit = t[key + "_max"]
        count = len(findings[key])
        if count > limit:
            breaches.append(dict(check=key, title=title, count=count, threshold=limit))
    return findings, breaches


def _age(days):
    return "never" if days is None else "%.1f days ago" % days


def size_rows(facts, previous=None):
    """Tables (with their TOAST and indexes) and indexes, largest first, for sizes and growth."""
    rows = [dict(kind="table", qualified=t["qualified"], bytes=t["total_bytes"]) for t in facts["tables"]]
    rows += [dict(kind="index", qualified=i["qualified"], bytes=i["index_bytes"]) for i in facts["indexes"]]
    if previous is not None:
        for row in rows:
            before = previous.get(row["qualified"])
            row["previous_bytes"] = before
            row["growth_bytes"] = None if before is None else row["bytes"] - before
    return sorted(rows, key=lambda r: (-r["bytes"], r["qualified"]))


def build_report(facts, config, vacuumed=None):
    findings, breaches = evaluate(facts, config)
    return dict(
        format=REPORT_FORMAT,
        database=facts["database"], server_version=facts["server_version"], server_time=facts["server_time"],
        login_user=facts["login_user"], database_bytes=facts["database_bytes"], stats_reset=facts["stats_reset"],
        previous_report_time=facts["previous"]["server_time"],
        thresholds=config.thresholds, protected_tables=config.protected_tables,
        protected_tables_source=config.protected_tables_source, app_role=config.app_role,
        statements=facts["statements"], migrations_log=dict(available=facts["migrations"]["available"],
                                                            note=facts["migrations"]["note"]),
        sizes=facts["sizes"],
        largest_tables=[r for r in facts["sizes"] if r["kind"] == "table"][:config.top],
        largest_indexes=[r for r in facts["sizes"] if r["kind"] == "index"][:config.top],
        maintenance=[dict(name=t["qualified"], last_vacuum=t["last_vacuum"], last_analyze=t["last_analyze"],
                          dead_tuples=t["dead_tuples"], modified_since_analyze=t["modified_since_analyze"],
                          estimated_bloat_ratio=t["estimated_bloat_ratio"]) for t in facts["tables"]],
        rls_plans=facts["rls_plans"], vacuumed=vacuumed or [],
        findings=findings, breaches=breaches,
    )


# ---------------------------------------------------------------------------------------
# Writing

def human_bytes(value):
    if value is None:
        return "-"
    value = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024.0
    return "%.1f TB" % value


def _cell(value):
    return str(value if value is not None else "-").replace("|", "\\|").replace("\n", " ")


def _table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(report, chart_name=None):
    r = report
    out = ["# Maintenance report: %s" % r["database"], "",
           "Server %s, as %s, at %s. Database size %s. Previous report: %s. Statistics since: %s." % (
               r["server_version"], r["login_user"], r["server_time"], human_bytes(r["database_bytes"]),
               r["previous_report_time"] or "none (first report)", r["stats_reset"] or "server start"), ""]
    if r["breaches"]:
        out.append("**%d check(s) over their threshold:** " % len(r["breaches"]) + "; ".join(
            "%s (%d > %s)" % (b["title"], b["count"], b["threshold"]) for b in r["breaches"]))
    else:
        out.append("**Every check is within its threshold.**")
    out.append("")
    if chart_name:
        out += ["![Sizes and statement latencies](%s)" % chart_name, ""]
    out += ["Protected tables (%s): %s." % (r["protected_tables_source"], ", ".join(r["protected_tables"])), ""]
    out += ["## Checks", ""]
    out += _table(["check", "findings", "threshold", "result"],
                  [(title, len(r["findings"][key]), r["thresholds"][key + "_max"],
                    "BREACH" if any(b["check"] == key for b in r["breaches"]) else "ok") for key, title in CHECKS])
    for key, title in CHECKS:
        items = r["findings"][key]
        if not items:
            continue
        out += ["", "### %s" % title, ""]
        for item in items:
            out.append("- " + _describe(key, item))
    if r["vacuumed"]:
        out += ["", "## VACUUM (ANALYZE) run by this report", ""]
        out += ["- " + v["table"] for v in r["vacuumed"]]
    out += ["", "## Largest tables (with indexes and TOAST)", ""]
    out += _table(["table", "size", "previous", "growth"],
                  [(s["qualified"], human_bytes(s["bytes"]), human_bytes(s.get("previous_bytes")),
                    human_bytes(s.get("growth_bytes"))) for s in r["largest_tables"]])
    out += ["", "## Largest indexes", ""]
    out += _table(["index", "size", "previous", "growth"],
                  [(s["qualified"], human_bytes(s["bytes"]), human_bytes(s.get("previous_bytes")),
                    human_bytes(s.get("growth_bytes"))) for s in r["largest_indexes"]])
    out += ["", "## Statements (pg_stat_statements: %s)" % r["statements"]["status"], ""]
    if r["statements"]["slowest"]:
        out += ["Slowest by mean time (at least %s calls):" % r["thresholds"]["slow_statement_min_calls"], ""]
        out += _table(["mean ms", "calls", "total ms", "query"],
                      [(s["mean_ms"], s["calls"], s["total_ms"], s["query"][:120]) for s in r["statements"]["slowest"]])
        out.append("")
    if r["statements"]["most_frequent"]:
        out += ["Most frequent:", ""]
        out += _table(["calls", "mean ms", "query"],
                      [(s["calls"], s["mean_ms"], s["query"][:120]) for s in r["statements"]["most_frequent"]])
    out += ["", "## Vacuum and analyze", ""]
    out += _table(["table", "last vacuum", "last analyze", "dead tuples", "modified since analyze", "est. bloat"],
                  [(m["name"], m["last_vacuum"] or "never", m["last_analyze"] or "never", m["dead_tuples"],
                    m["modified_since_analyze"], "%d%%" % round(100 * (m["estimated_bloat_ratio"] or 0)))
                   for m in r["maintenance"]])
    out += ["", "## RLS owner lookups as %s (EXPLAIN, transaction-local user context)" % r["app_role"], ""]
    out += _table(["table", "owner column", "plan", "index", "index usable", "note"],
                  [(p["table"], p["owner_column"], p["plan_node"], p["index"], p["index_available"], p["note"])
                   for p in r["rls_plans"]])
    if not r["migrations_log"]["available"]:
        out += ["", "migrations_log: %s" % r["migrations_log"]["note"]]
    return "\n".join(out) + "\n"


def _describe(key, item):
    if key in ("failed_migrations", "abandoned_migrations"):
        parts = ["%s %s" % (item.get("version", "?"), item.get("filename", ""))]
        parts.append("%s %s" % (item.get("kind", ""), item.get("status", "")))
        parts.append("started %s" % item.get("started_at"))
        if item.get("error_message"):
            parts.append("error %s: %s" % (item.get("error_sqlstate") or "", item["error_message"][:200]))
        if key == "abandoned_migrations":
            parts.append("running for %.0f min" % (item.get("age_minutes") or 0))
        elif item.get("abandoned"):
            parts.append("abandoned by a run that died, closed by a later one")
        return ", ".join(p.strip() for p in parts if p.strip())
    if key == "slow_statements":
        return "%.1f ms mean over %d calls: `%s`" % (item["mean_ms"], item["calls"], item["query"][:200].replace("`", "'"))
    if key == "bloated_relations":
        return "%s %s: about %s of %s (%d%%, %s)" % (
            item["kind"], item["name"], human_bytes(item["estimated_bloat_bytes"]), human_bytes(item["bytes"]),
            round(100 * item["ratio"]), item["method"])
    if key == "unused_indexes":
        return "%s on %s (%s), never scanned since statistics were reset" % (
            item["name"], item["table"], human_bytes(item["bytes"]))
    if key == "duplicate_indexes":
        return "%s on %s have the same definition" % (", ".join(item["indexes"]), item["table"])
    if key == "invalid_indexes":
        return "%s on %s is INVALID (a failed CREATE INDEX CONCURRENTLY): drop and recreate it" % (item["name"], item["table"])
    if key == "growing_relations":
        return "%s %s: %s, was %s (+%d%%)" % (
            item["kind"], item["name"], human_bytes(item["bytes"]), human_bytes(item["previous_bytes"]),
            round(100 * item["ratio"]))
    if key == "stale_tables":
        return "%s: %s" % (item["name"], "; ".join(item["reasons"]))
    return "%s: %s" % (item["name"], item["problem"])


def render_chart(report, path):
    """A PNG of the largest relations and the slowest statements. Returns None or why it was not drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed on the host running the module"
    sizes = report["sizes"][:12]
    statements = report["statements"]["slowest"][:8]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8))
    labels = [s["qualified"] for s in sizes][::-1]
    top.barh(labels, [s["bytes"] / 1048576.0 for s in sizes][::-1], color="#4c72b0")
    top.set_xlabel("MB")
    top.set_title("Largest tables (incl. indexes) and indexes: %s" % report["database"])
    top.tick_params(axis="y", labelsize=7)
    if statements:
        names = ["%s... (%d calls)" % (s["query"][:32], s["calls"]) for s in statements][::-1]
        means = [s["mean_ms"] or 0.0 for s in statements][::-1]
        bottom.barh(names, means, color="#dd8452")
        threshold = float(report["thresholds"]["slow_statement_mean_ms"])
        if threshold <= max(means) * 1.5:
            bottom.axvline(threshold, color="red", linestyle="--", linewidth=1)
            bottom.set_xlabel("mean ms (red: threshold %g ms)" % threshold)
        else:  # a far-away threshold line would squash every bar
            bottom.set_xlabel("mean ms (threshold %g ms, off the scale)" % threshold)
        bottom.tick_params(axis="y", labelsize=7)
    else:
        bottom.text(0.5, 0.5, "pg_stat_statements: %s" % report["statements"]["status"], ha="center", va="center",
                    wrap=True, fontsize=9)
        bottom.set_axis_off()
    bottom.set_title("Slowest statements by mean time")
    fig.tight_layout()
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return None
