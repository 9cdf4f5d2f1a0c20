"""Pure logic of plugins/module_utils/maintenance_report.py: facts in, findings and breaches out."""

import copy

from support.collection import ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import maintenance_report as mr  # noqa: E402

BLOCK = 8192


def table(name, **values):
    base = dict(schema="public", name=name, qualified="public." + name, table_bytes=BLOCK * 10, total_bytes=BLOCK * 12,
                index_bytes=BLOCK * 2, pages=10, estimated_rows=100, fillfactor=100, live_tuples=100, dead_tuples=0,
                modified_since_analyze=0, seq_scan=1, idx_scan=1, last_vacuum="2026-12-01T00:00:00+00:00",
                last_analyze="2026-12-01T00:00:00+00:00", vacuum_age_days=1.0, analyze_age_days=1.0,
                rls_enabled=False, rls_forced=False, row_data_width=40.0, analyzed_columns=3, columns=3)
    base.update(values)
    return base


def index(name, table_name="t", **values):
    base = dict(schema="public", name=name, qualified="public." + name, table="public." + table_name, method="btree",
                index_bytes=BLOCK * 2, pages=2, estimated_rows=100, is_unique=False, is_primary=False, is_valid=True,
                is_partial=False, has_expressions=False, backs_constraint=False, scans=5, signature=name,
                key_width=4.0, definition="CREATE INDEX %s ON public.%s (x)" % (name, table_name))
    base.update(values)
    return base


def facts(tables=(), indexes=(), failed=(), abandoned=(), slowest=(), plans=(), previous_sizes=None):
    return dict(database="db", login_user="postgres", server_version="18", server_version_num=180000,
                block_size=BLOCK, server_time="2026-12-02T00:00:00+00:00", database_bytes=1, stats_reset=None,
                tables=[copy.deepcopy(t) for t in tables], indexes=[copy.deepcopy(i) for i in indexes],
                migrations=dict(available=True, note="", failed=list(failed), abandoned=list(abandoned)),
                statements=dict(status="available", slowest=list(slowest), most_frequent=list(slowest)),
                rls_plans=list(plans),
                previous=dict(server_time=None, generated=previous_sizes is not None, sizes=previous_sizes or {}))


def config(**thresholds):
    return mr.MaintenanceConfig(protected_tables=[], thresholds=thresholds)


def checks(found):
    return [b["check"] for b in found[1]]


def test_a_clean_database_has_no_breach():
    assert checks(mr.evaluate(facts([table("t")], [index("t_x_idx")]), config())) == []


def test_width_based_bloat_needs_size_and_ratio():
    # 100 rows of 40 bytes fit one page; the table has 200 pages.
    bloated = table("b", table_bytes=BLOCK * 200)
    findings, breaches = mr.evaluate(facts([bloated]), config(bloat_min_bytes=BLOCK * 100))
    assert [f["name"] for f in findings["bloated_relations"]] == ["public.b"]
    assert findings["bloated_relations"][0]["method"] == "width" and findings["bloated_relations"][0]["ratio"] > 0.9
    assert checks((findings, breaches)) == ["bloated_relations"]
    # Below bloat_min_bytes it is not judged.
    assert mr.evaluate(facts([bloated]), config())[0]["bloated_relations"] == []


def test_unanalyzed_table_falls_back_to_the_dead_tuple_share():
    t = table("d", estimated_rows=-1, analyzed_columns=0, row_data_width=None, live_tuples=10, dead_tuples=90)
    bloat, method = mr.estimate_table_bloat(t, BLOCK)
    assert method == "dead tuples" and bloat == int(BLOCK * 10 * 0.9)


def test_unused_index_skips_unique_constraint_ignored_and_small_ones():
    idx = [index("big_unused", scans=0, index_bytes=BLOCK * 2000),
           index("big_unique", scans=0, index_bytes=BLOCK * 2000, is_unique=True),
           index("big_constraint", scans=0, index_bytes=BLOCK * 2000, backs_constraint=True),
           index("big_ignored", scans=0, index_bytes=BLOCK * 2000),
           index("small_unused", scans=0)]
    cfg = mr.MaintenanceConfig(protected_tables=[], ignore_indexes=["big_ignored"])
    findings, _breaches = mr.evaluate(facts([table("t")], idx), cfg)
    assert [f["name"] for f in findings["unused_indexes"]] == ["public.big_unused"]


def test_duplicate_and_invalid_indexes():
    idx = [index("a", signature="same"), index("b", signature="same"), index("c", is_valid=False)]
    findings, breaches = mr.evaluate(facts([table("t")], idx), config())
    assert findings["duplicate_indexes"][0]["indexes"] == ["public.a", "public.b"]
    assert [f["name"] for f in findings["invalid_indexes"]] == ["public.c"]
    assert checks((findings, breaches)) == ["duplicate_indexes", "invalid_indexes"]


def test_growth_is_measured_against_the_previous_report():
    big = table("g", total_bytes=300 * 1024 * 1024)
    previous = {"public.g": 100 * 1024 * 1024}
    found = mr.evaluate(facts([big], previous_sizes=previous), config())
    assert found[0]["growing_relations"][0]["ratio"] == 2.0
    sizes = dict((s["qualified"], s) for s in facts_sizes(big, previous))
    assert sizes["public.g"]["growth_bytes"] == 200 * 1024 * 1024
    # Without a previous report nothing grows.
    assert mr.evaluate(facts([big]), config())[0]["growing_relations"] == []


def facts_sizes(big, previous):
    f = facts([big], previous_sizes=previous)
    mr.evaluate(f, config())
    return f["sizes"]


def test_stale_vacuum_needs_dead_tuples_and_age():
    never = table("n", dead_tuples=50000, vacuum_age_days=None)
    recent = table("r", dead_tuples=50000, vacuum_age_days=0.5)
    quiet = table("q", dead_tuples=10, vacuum_age_days=None)
    findings = mr.evaluate(facts([never, recent, quiet]), config())[0]
    assert [f["name"] for f in findings["stale_tables"]] == ["public.n"]
    assert "never" in findings["stale_tables"][0]["reasons"][0]


def test_migrations_and_slow_statements_breach_over_their_threshold():
    f = facts([table("t")], failed=[dict(version="20250101_0001", status="failed")],
              slowest=[dict(query="SELECT 1", calls=10, mean_ms=900.0, total_ms=9000.0, rows=10),
                       dict(query="SELECT 2", calls=10, mean_ms=1.0, total_ms=10.0, rows=10)])
    findings, breaches = mr.evaluate(f, config())
    assert [s["query"] for s in findings["slow_statements"]] == ["SELECT 1"]
    assert checks((findings, breaches)) == ["failed_migrations", "slow_statements"]
    assert checks(mr.evaluate(f, config(failed_migrations_max=1, slow_statements_max=1))) == []


def test_rls_not_forced_and_plans():
    cfg = mr.MaintenanceConfig(protected_tables=["p", "missing"])
    f = facts([table("p", rls_enabled=True, rls_forced=False), table("other", rls_enabled=True, rls_forced=True)],
              plans=[dict(table="public.p", owner_column="user_id", uses_index=False, index_available=False,
                          index=None, plan_node="Seq Scan", estimated_rows=5, applicable=True, note=""),
                     dict(table="missing", owner_column=None, uses_index=None, index_available=None, index=None,
                          plan_node=None, estimated_rows=None, applicable=True, note="table does not exist")])
    findings, breaches = mr.evaluate(f, cfg)
    assert findings["rls_not_forced"] == [dict(name="public.p", problem="row-level security not forced"),
                                          dict(name="missing", problem="protected table does not exist")]
    assert [p["name"] for p in findings["rls_plans_without_index"]] == ["public.p"]
    assert checks((findings, breaches)) == ["rls_not_forced", "rls_plans_without_index"]


def test_a_large_table_must_use_its_index_by_itself():
    cfg = mr.MaintenanceConfig(protected_tables=[])
    plan = dict(table="public.p", owner_column="user_id", uses_index=False, index_available=True, index="p_idx",
                plan_node="Seq Scan", estimated_rows=50000, applicable=True, note="")
    assert len(mr.evaluate(facts([table("p")], plans=[plan]), cfg)[0]["rls_plans_without_index"]) == 1
    plan["estimated_rows"] = 50
    assert mr.evaluate(facts([table("p")], plans=[plan]), cfg)[0]["rls_plans_without_index"] == []


def test_policy_owner_column_and_plan_walk():
    match = mr._POLICY_OWNER_COLUMN.search("((owner_id = ( SELECT current_user_id() AS current_user_id)) OR x)")
    assert match.group(1) == "owner_id"
    plan = {"Node Type": "Result", "Plans": [{"Node Type": "Index Scan", "Relation Name": "pg_authid",
                                               "Index Name": "pg_authid_rolname_index"},
                                              {"Node Type": "Bitmap Heap Scan", "Relation Name": "t",
                                               "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "t_idx"}]}]}
    assert mr._uses_index(plan, "t", {"t_idx"}) == (True, "t_idx")
    assert mr._uses_index(plan, "t", {"other_idx"}) == (False, None)
    assert mr._scan_node(plan, "t") == "Bitmap Heap Scan"


def test_secrets_never_leave_pg_stat_statements():
    assert mr.redact("ALTER ROLE a PASSWORD 'SCRAM-SHA-256$4096:abc'") == "ALTER ROLE a PASSWORD '********'"
    assert mr.redact("CREATE ROLE b ENCRYPTED PASSWORD 'it''s'") == "CREATE ROLE b ENCRYPTED PASSWORD '********'"


def test_markdown_names_every_breach():
    f = facts([table("t")], failed=[dict(version="20250101_0001", filename="x.sql", kind="migrate", status="failed",
                                          started_at="2026", error_sqlstate="22012", error_message="division by zero")])
    cfg = config()
    cfg.protected_tables_source = "given"
    report = mr.build_report(f, cfg)
    text = mr.render_markdown(report, "report.png")
    assert "BREACH" in text and "20250101_0001" in text and "division by zero" in text and "(report.png)" in text
    assert mr.human_bytes(1536) == "1.5 kB" and mr.human_bytes(None) == "-"
