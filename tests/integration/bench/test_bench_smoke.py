"""Smoke test of the benchmark harness (bench/seed.py + bench/run.py) at scale 0.01.

Runs the whole harness end to end on a scratch database of the session cluster: migrations
through pg_migrate as sensa_migrator, the application grants, the COPY load, latency,
recall and plans. It checks that the harness works and that the plans the application
role gets use the indexes; the latency targets are reported by bench/run.py, never
asserted (machines are noisy).
"""

import json
import os
import sys
import uuid

import pytest

from support.collection import REPO_ROOT
from support.schema import apply_schema

sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))

import common  # noqa: E402
import recall_study  # noqa: E402
import run as bench_run  # noqa: E402
import seed as bench_seed  # noqa: E402

SCALE = 0.01
CALLS = 20
RECALL_QUERIES = 20
# The data set is tiny, so a sequential scan (and a sort) beats every index; switching
# them off shows whether an index path exists at all for the application role under RLS
# (the same technique as tests/integration/schema/test_plans.py). bench/run.py at s >= 0.1
# reports the plans the planner picks by itself.
DISCOURAGE = {
    "doc_similarity": ("seqscan", "sort"),
    "keyword_similarity_all": ("seqscan", "sort"),
    "keyword_search": ("seqscan", "indexscan"),
    "course_lookup": ("seqscan",),
    "course_list": ("seqscan",),
}


@pytest.fixture(scope="module")
def bench(pg_server):
    name = "bench_" + uuid.uuid4().hex[:10]
    login = "bench_app_" + uuid.uuid4().hex[:8]
    pg_server.create_database(name)
    target = common.Target(pg_server, name, app_role=login)
    try:
        # What the playbook does before the migrations: extensions, roles, CREATE for the migrator.
        uuid_ossp = "uuid-ossp" in pg_server.available_extensions()
        pg_server.psql("CREATE EXTENSION IF NOT EXISTS vector; CREATE EXTENSION IF NOT EXISTS pg_trgm;"
                       + (' CREATE EXTENSION IF NOT EXISTS "uuid-ossp";' if uuid_ossp else ""), dbname=name)
        setup = common.ensure_access(target, login=login)  # roles first (guarded), grants redone below
        pg_server.psql("GRANT CREATE ON SCHEMA public TO sensa_migrator", dbname=name)

        class Db:
            cluster = pg_server

            def __init__(self):
                self.name = name

            def conninfo(self, user=None):
                return pg_server.conninfo(name, user=user)

        apply_schema(Db(), role="sensa_migrator")
        setup += common.ensure_access(target, login=login)
        load = bench_seed.load(target, SCALE, seed=42, progress=False, log=lambda *a: None)
        results = bench_run.run_all(target, calls=CALLS, recall_queries=RECALL_QUERIES, discourage=DISCOURAGE,
                                    log=lambda *a: None)
        results["load"] = load
        results["setup"] = setup
        results["study"] = recall_study.study(target, queries=RECALL_QUERIES, seed=1, efs=(40,), pools=(100,),
                                              index_m=8, ef_construction=32, scale=SCALE, log=lambda *a: None)
        yield results
    finally:
        pg_server.drop_database(name)
        pg_server.psql('DROP ROLE IF EXISTS "%s"' % login)


def test_load_report_counts_match_the_scale(bench):
    n = bench_seed.counts(SCALE)
    tables = bench["load"]["tables"]
    assert tables["users"]["rows"] == n["users"]
    assert tables["courses"]["rows"] == n["courses"]
    assert tables["processed_documents"]["rows"] == n["courses"] * n["chunks_per_course"]
    assert tables["keywords"]["rows"] == n["courses"] * n["keywords_per_course"]
    assert bench["load"]["secondary_indexes_rebuilt"] > 50
    assert bench["load"]["total_s"] > 0


def test_latency_results_are_well_formed(bench):
    lat = bench["latency"]
    for name in bench_run.QUERY_ORDER:
        for variant in ("fn", "sql_rls", "sql_off"):
            s = lat[name][variant]
            assert s["n"] == CALLS, (name, variant)
            assert 0 < s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"] <= s["max_ms"], (name, variant, s)
        assert lat[name]["rls_overhead_p50_ratio"] is not None
    # Similarity always finds k rows among the caller's own chunks (every owner has >= 20).
    assert lat["doc_similarity"]["rows_returned_mean"] == 10
    assert lat["progress_summary"]["rows_returned_mean"] == 1
    assert lat["course_stats"]["rows_returned_mean"] == 1
    assert bench["result_shapes"]["doc_similarity"] == [7]
    json.dumps(bench)  # serialisable as the result file


def test_recall_is_measured_per_query_for_both_functions_and_the_index(bench):
    for scope in ("documents_all_rows", "keywords_all_rows", "documents_as_user", "keywords_as_user_in_course"):
        r = bench["recall"][scope]
        assert r["queries"] == RECALL_QUERIES
        f = r["function"]
        assert f["recall_at_10"] is not None and 0.0 <= f["recall_min"] <= f["recall_p5"] <= f["recall_at_10"] <= 1.0, (
            scope, f)
        # 0008: both similarity functions run with their own hnsw.ef_search
        assert r["function_ef_search"] == 400, scope
    for scope in ("documents_index", "keywords_index"):
        r = bench["recall"][scope]
        for ef in (40, 100, 400):
            value = r["ef_search_%d" % ef]
            assert 0.0 <= value["recall_min"] <= value["recall_p5"] <= value["recall_at_10"] <= 1.0, (scope, ef, value)
    # On 500 rows HNSW is close to exact; a collapse here means the harness compares wrong ids.
    assert bench["recall"]["documents_all_rows"]["function"]["recall_at_10"] >= 0.9
    assert bench["recall"]["documents_index"]["ef_search_100"]["recall_at_10"] >= 0.9


def test_recall_study_measures_index_pool_function_and_a_variant_index(bench):
    study = bench["study"]
    results = study["results"]
    assert set(results) == {"index ef_search 40", "pool 100 (ef_search 400)", "find_similar_documents as deployed",
                            "index m=8 ef_search 40"}
    for key, value in results.items():
        assert value["latency"]["n"] == RECALL_QUERIES and sum(value["histogram"].values()) == RECALL_QUERIES, key
        assert 0.0 <= value["recall_min"] <= value["recall_p5"] <= value["recall_at_10"] <= 1.0, (key, value)
    # On 500 chunks every path is close to exact; a collapse means the study compares wrong ids.
    for key in ("pool 100 (ef_search 400)", "find_similar_documents as deployed"):
        assert results[key]["recall_at_10"] >= 0.9, (key, results[key])
    assert study["meta"]["chunks"] == bench["load"]["tables"]["processed_documents"]["rows"]
    assert study["variant_index"]["m"] == 8 and study["variant_index"]["build_s"] >= 0


def test_load_reports_build_settings_and_peak_memory(bench):
    settings = bench["load"]["index_build_settings"]
    assert settings["graph_fits"] and int(settings["maintenance_work_mem"].rstrip("MB")) >= 64
    peak = bench["load"]["memory_peak"]
    assert peak.get("error") is None and peak["samples"] > 0, peak
    assert peak["loader_rss_bytes"] > 0 and peak["server_pss_sum_bytes"] > 0 and peak["server_processes"] >= 1
    assert "hnsw graph no longer fits" not in " ".join(bench["load"].get("index_build_notices", {}).values())


def test_similarity_plans_use_hnsw(bench):
    plans = bench["plans"]
    assert "processed_documents_embedding_hnsw" in plans["doc_similarity"]["indexes"], plans["doc_similarity"]["plan"]
    assert "keywords_embedding_hnsw" in plans["keyword_similarity_all"]["indexes"], (
        plans["keyword_similarity_all"]["plan"])


def test_text_search_plans_use_trigram_or_the_rls_owner_index(bench):
    plans = bench["plans"]
    # An ordinary user's keyword search is driven from their own courses (0005), then each
    # course's keywords; the trigram index serves callers who see every course.
    search = plans["keyword_search"]
    assert any(i.startswith("courses_owner_id_") for i in search["indexes"]), search["plan"]
    assert "keywords_course_id_importance_idx" in search["indexes"], search["plan"]
    assert "Seq Scan on keywords" not in search["plan"], search["plan"]
    lookup = plans["course_lookup"]["indexes"]
    assert any(i.startswith("courses_owner_id_") or i.endswith("_trgm") for i in lookup), plans["course_lookup"]["plan"]
    assert "Seq Scan on courses" not in plans["course_lookup"]["plan"]
    assert any(i.startswith("courses_owner_id_") for i in plans["course_list"]["indexes"]), plans["course_list"]["plan"]
