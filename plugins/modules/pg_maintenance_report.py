#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_maintenance_report
short_description: Write the database maintenance report (Markdown, JSON and a PNG chart) and judge it against thresholds
version_added: 1.1.0
description:
  - Reads the database in one read-only transaction (the catalog, the statistics views, C(migrations_log),
    C(pg_stat_statements) and C(EXPLAIN) plans) and never changes it.
  - "Reports: failed migration attempts since the previous report and attempts still C(running) after
    C(abandoned_after_minutes); the slowest and most frequent statements of C(pg_stat_statements) where the server has
    it; estimated table and B-tree index bloat; unused, duplicate and invalid indexes; the largest tables and indexes
    and their growth since the previous report; the age of the last vacuum and analyze; tables whose row-level
    security is not enabled or not forced; and, for each protected table, the plan of its owner lookup
    (C(SELECT * FROM t WHERE <owner column> = current_user_id())) as O(app_role) with a transaction-local user context."
  - The owner column is the one the table's SELECT policy compares with C(current_user_id()).
  - Writes C(report.md), C(report.json) and C(report.png) into O(dest); the report found there before is kept as
    C(previous.json), and growth and "since the previous report" are measured against it.
  - Every check has a threshold (O(thresholds)); the module returns the breaches and does not fail on them, so the
    caller can write the report first and fail afterwards.
author:
  - Sensa Learn platform team (@sensa-learn)
extends_documentation_fragment:
  - sensa.infra.postgres
attributes:
  check_mode:
    support: full
    description: Reads and judges the database as usual, writes no file, and reports C(changed) because a real run would write the report.
  diff_mode:
    support: none
    description: The report is the output; there is nothing to diff.
options:
  dest:
    description:
      - Directory for the report files, on the host running the module. Created when missing.
    type: path
    required: true
  schemas:
    description:
      - Schemas whose tables and indexes are reported.
    type: list
    elements: str
    default: [ public ]
  protected_tables:
    description:
      - Tables that must have row-level security enabled and forced and whose owner lookup is explained.
      - Default, read when the module runs - the schema's own list (C(public.sensa_user_data_tables()), when the
        database has it), else the access model's (C(access_checks.DEFAULT_PROTECTED_TABLES) in this collection).
        The report says which.
    type: list
    elements: str
  app_role:
    description:
      - The application group the owner lookups are explained as (C(SET LOCAL ROLE)).
    type: str
    default: sensa_app
  log_schema:
    description:
      - Schema of the migrations log.
    type: str
    default: public
  log_table:
    description:
      - The table C(sensa.infra.pg_migrate) records every attempt in.
    type: str
    default: migrations_log
  thresholds:
    description:
      - Overrides of the thresholds. A check breaches when its number of findings is above C(<check>_max).
      - "Keys and defaults: C(failed_migrations_max=0), C(abandoned_migrations_max=0), C(abandoned_after_minutes=60),
        C(slow_statement_mean_ms=500), C(slow_statement_min_calls=5), C(slow_statements_max=0),
        C(table_bloat_ratio=0.5), C(index_bloat_ratio=0.5), C(bloat_min_bytes=8388608), C(bloated_relations_max=0),
        C(unused_index_min_bytes=8388608), C(unused_indexes_max=0), C(duplicate_indexes_max=0),
        C(invalid_indexes_max=0), C(growth_ratio=1.0), C(growth_min_bytes=268435456), C(growing_relations_max=0),
        C(vacuum_age_days=7), C(vacuum_min_dead_tuples=10000), C(analyze_min_modified_tuples=10000),
        C(stale_tables_max=0), C(rls_not_forced_max=0), C(rls_plans_without_index_max=0), C(rls_plan_min_rows=10000)."
    type: dict
    default: {}
  ignore_indexes:
    description:
      - Indexes (C(name) or C(schema.name)) never reported as unused, for example ones kept for a yearly job.
    type: list
    elements: str
    default: []
  top:
    description:
      - How many statements, tables and indexes the lists show.
    type: int
    default: 10
  vacuumed:
    description:
      - Tables a C(VACUUM (ANALYZE)) run just before the report went through (C(table)); listed in the report.
    type: list
    elements: dict
    default: []
  statements_database:
    description:
      - Where to read C(pg_stat_statements) when the extension is not created in O(login_db). Its statistics are
        cluster-wide, so the extension in the C(postgres) database serves every database (the local engines create it
        there). Empty - only O(login_db).
    type: str
    default: postgres
  chart:
    description:
      - Draw C(report.png) with matplotlib. Without matplotlib on the host the report says so and has no chart.
    type: bool
    default: true
notes:
  - Bloat is an estimate from C(pg_stats) widths (or the dead-tuple share when a table has no statistics), not a
    C(pgstattuple) measurement.
  - Unused means never scanned since the statistics were last reset; the report gives that date.
  - Connect as a role that can read C(pg_stats), C(migrations_log) and every query text of C(pg_stat_statements)
    (the local superuser, or the RDS master user, which has C(pg_read_all_stats)), and that may C(SET ROLE) to O(app_role).
seealso:
  - module: sensa.infra.pg_access_info
"""

EXAMPLES = r"""
- name: Write the maintenance report
  sensa.infra.pg_maintenance_report:
    dest: /var/lib/sensa/maintenance/prod
    thresholds:
      slow_statement_mean_ms: 250
  register: report

- name: Fail when a check breached its threshold
  ansible.builtin.fail:
    msg: "{{ report.breaches | map(attribute='title') | join('; ') }}"
  when: report.breaches | length > 0
"""

RETURN = r"""
report:
  description: The whole report, as written to C(report.json).
  returned: success
  type: dict
breaches:
  description: One entry per check over its threshold (C(check), C(title), C(count), C(threshold)).
  returned: success
  type: list
  elements: dict
  sample: [{"check": "unused_indexes", "title": "Unused indexes", "count": 1, "threshold": 0}]
summary:
  description: One line per check with its number of findings.
  returned: success
  type: list
  elements: str
files:
  description: Paths written (or that would be written in check mode).
  returned: success
  type: dict
  sample: {"markdown": "/srv/m/report.md", "json": "/srv/m/report.json", "chart": "/srv/m/report.png"}
chart_note:
  description: Why no chart was drawn, when none was.
  returned: success
  type: str
"""

import json
import os

from ansible_collections.sensa.infra.plugins.module_utils import maintenance_report
from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import (
    DatabaseError,
    PostgresModule,
    psycopg2,
)


def _read_previous(path):
    try:
        with open(path) as handle:
            previous = json.load(handle)
    except (OSError, ValueError):
        return None
    return previous if isinstance(previous, dict) else None


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _statements_from(module, config, database, target, fallback):
    """pg_stat_statements of ``target`` read through ``database``; ``fallback`` when that fails."""
    try:
        conn = psycopg2.connect(**module.conninfo(dbname=database))
    except DatabaseError:
        return fallback
    try:
        conn.set_session(readonly=True)
        with conn.cursor() as cursor:
            found = maintenance_report.statements(cursor, config, database=target)
    except DatabaseError:
        return fallback
    finally:
        conn.rollback()
        conn.close()
    if found["status"] != "available":
        return fallback
    found["status"] = "available (read through database %s)" % database
    return found


def main():
    argument_spec = dict(
        dest=dict(type="path", required=True),
        schemas=dict(type="list", elements="str", default=["public"]),
        protected_tables=dict(type="list", elements="str"),
        app_role=dict(type="str", default="sensa_app"),
        log_schema=dict(type="str", default="public"),
        log_table=dict(type="str", default="migrations_log"),
        thresholds=dict(type="dict", default={}),
        ignore_indexes=dict(type="list", elements="str", default=[]),
        top=dict(type="int", default=10),
        vacuumed=dict(type="list", elements="dict", default=[]),
        chart=dict(type="bool", default=True),
        statements_database=dict(type="str", default="postgres"),
    )
    module = PostgresModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    unknown = sorted(set(params["thresholds"]) - set(maintenance_report.DEFAULT_THRESHOLDS))
    if unknown:
        module.fail_json(msg="unknown threshold(s) %s; known: %s"
                         % (", ".join(unknown), ", ".join(sorted(maintenance_report.DEFAULT_THRESHOLDS))))
    config = maintenance_report.MaintenanceConfig(
        schemas=params["schemas"], protected_tables=params["protected_tables"], app_role=params["app_role"],
        log_schema=params["log_schema"], log_table=params["log_table"], thresholds=params["thresholds"],
        top=params["top"], ignore_indexes=params["ignore_indexes"])

    dest = params["dest"]
    files = dict(markdown=os.path.join(dest, "report.md"), json=os.path.join(dest, "report.json"),
                 chart=os.path.join(dest, "report.png"), previous=os.path.join(dest, "previous.json"))
    previous = _read_previous(files["json"])

    conn = module.connect(autocommit=False)
    try:
        # Read-only all the way; SET LOCAL ROLE and the user context are undone by the rollback.
        conn.set_session(readonly=True)
        with conn.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '120s'")
            facts = maintenance_report.gather(cursor, config, previous)
    except DatabaseError as exc:
        module.fail_on_database_error(exc, "reading the database")
    finally:
        conn.rollback()
        conn.close()
    other = params["statements_database"]
    if facts["statements"]["status"].startswith(maintenance_report.NOT_IN_THIS_DATABASE) and other and \
            other != facts["database"]:
        facts["statements"] = _statements_from(module, config, other, facts["database"], facts["statements"])

    report = maintenance_report.build_report(facts, config, vacuumed=params["vacuumed"])
    summary = ["%s: %d finding(s), threshold %s" % (key, len(report["findings"][key]), config.thresholds[key + "_max"])
               for key, _title in maintenance_report.CHECKS]
    chart_note = ""
    if not module.check_mode:
        os.makedirs(dest, exist_ok=True)
        if previous is not None:
            os.replace(files["json"], files["previous"])
        if params["chart"]:
            chart_note = maintenance_report.render_chart(report, files["chart"]) or ""
        else:
            chart_note = "chart disabled"
        drawn = params["chart"] and not chart_note
        if not drawn and os.path.exists(files["chart"]):
            os.unlink(files["chart"])  # never leave an older chart beside a newer report
        _write(files["json"], json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
        _write(files["markdown"], maintenance_report.render_markdown(report, "report.png" if drawn else None)
               + ("\nNo chart: %s.\n" % chart_note if chart_note else ""))
    module.exit_json(changed=True, report=report, breaches=report["breaches"], summary=summary, files=files,
                     chart_note=chart_note)


if __name__ == "__main__":
    main()
