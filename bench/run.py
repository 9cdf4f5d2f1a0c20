#!/usr/bin/env python3
"""Query latency, RLS overhead, HNSW recall, plans and migration cost of the Sensa Learn schema.

End to end (default): deploy a fresh local database with site.yml (timed: first run on an
empty database, then a no-op re-run), load the seed data (bench/seed.py), time a no-op
re-run of site.yml on the loaded database, then on the warm server:

* latency: every seed query, >= --calls calls each with varied parameters, three ways
  per call (same parameters, interleaved so machine noise hits all three alike):
    - ``fn``      the public function as the application role (sensa_app_a) with
                  set_current_user_id() in the transaction: RLS on. The headline number.
    - ``sql_rls`` the function's query written out with an explicit owner WHERE, as the
                  application role with the context set: RLS on.
    - ``sql_off`` the same SQL text as the superuser (RLS does not apply): RLS off.
  RLS overhead = sql_rls vs sql_off (identical SQL, only the policy differs); fn vs
  sql_rls is the price of the function wrapper (plan caching, plpgsql).
* recall@10 of find_similar_documents / find_similar_keywords at hnsw.ef_search 40 and
  100 against an exact scan (same function, a session with enable_indexscan = off), over
  --recall-queries queries, both over every row (superuser: measures the index) and as
  the application user (RLS: what a user gets).
* plans: auto_explain (nested statements) for each function as the application role.

Writes bench/results/queries.json (s=1; queries_s<scale>.json otherwise), a Markdown
summary next to it, and the chart docs/benchmarks_latency.png. Nothing is asserted.

Usage: .venv/bin/python bench/run.py --scale 1      (bench/README.md has the details)
"""

import argparse
import json
import os
import random
import re
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import common  # noqa: E402
import seed as seedmod  # noqa: E402

TARGETS_MS = {  # p95 targets at s=1, RLS on (issue 7)
    "course_lookup": 2.0, "course_list": 2.0, "course_list_policy_only": 2.0, "doc_similarity": 10.0, "keyword_search": 5.0,
    "course_stats": 20.0, "progress_summary": 5.0,
}
LABELS = {
    "course_lookup": "user course lookup: search_courses(user, term, 20)",
    "course_list": "user course list: courses WHERE owner_id = current_user_id() ORDER BY created_at DESC LIMIT 20",
    "course_list_policy_only": "same list, no WHERE (RLS policy alone filters)",
    "doc_similarity": "document similarity k=10: find_similar_documents(q, 10)",
    "keyword_search": "keyword search: search_keywords(term)",
    "keyword_similarity": "keyword similarity in a course: find_similar_keywords(q, 10, 0, course)",
    "course_stats": "course statistics: get_course_stats(course)",
    "progress_summary": "progress summary: get_user_progress_summary(user)",
}

# The function bodies of 0005 with the RLS predicate written out (owner_id = %(user)s /
# user_id = %(user)s). Run as the superuser they are the "RLS off, explicit WHERE" baseline.
SQL = {
    "course_lookup": (
        "SELECT * FROM public.search_courses(%(user)s, %(term)s, 20)",
        """SELECT c.id, c.title, c.description,
                  greatest(word_similarity(%(term)s, c.title),
                           0.8 * word_similarity(%(term)s, coalesce(c.description, '')))::real AS relevance
             FROM public.courses AS c
            WHERE c.owner_id = %(user)s AND btrim(%(term)s) <> ''
              AND (%(term)s <%% c.title OR %(term)s <%% c.description)
            ORDER BY relevance DESC, c.title, c.id LIMIT 20"""),
    # The owner's course list as the application should write it: the policy predicate
    # repeated as an explicit, indexable condition (current_user_id() is STABLE).
    "course_list": (
        "SELECT id, title, created_at FROM public.courses WHERE owner_id = public.current_user_id() "
        "ORDER BY created_at DESC LIMIT 20",
        "SELECT id, title, created_at FROM public.courses WHERE owner_id = %(user)s ORDER BY created_at DESC LIMIT 20"),
    # The same list relying on the policy alone: the select_own predicate is OR-ed with the
    # admin and read-only policies, so it cannot become an index condition.
    "course_list_policy_only": (
        "SELECT id, title, created_at FROM public.courses ORDER BY created_at DESC LIMIT 20",
        "SELECT id, title, created_at FROM public.courses WHERE owner_id = %(user)s ORDER BY created_at DESC LIMIT 20"),
    "doc_similarity": (
        "SELECT * FROM public.find_similar_documents(%(vec)s::vector, 10, 0)",
        """WITH candidates AS MATERIALIZED (
               SELECT pd.id, pd.course_document_id, d.course_id, pd.chapter_id, pd.chunk_index, pd.content,
                      pd.embedding <=> %(vec)s::vector AS distance
                 FROM public.processed_documents AS pd
                 JOIN public.course_documents AS d ON d.id = pd.course_document_id
                WHERE pd.embedding IS NOT NULL
                  AND EXISTS (SELECT 1 FROM public.courses AS c WHERE c.id = d.course_id AND c.owner_id = %(user)s)
                ORDER BY pd.embedding <=> %(vec)s::vector LIMIT 10)
           SELECT id, course_document_id, course_id, chapter_id, chunk_index, content, 1 - distance
             FROM candidates WHERE 1 - distance >= 0 ORDER BY distance, id"""),
    # search_keywords' statement for ordinary users: driven from the caller's courses.
    "keyword_search": (
        "SELECT * FROM public.search_keywords(%(term)s, NULL, 20)",
        """SELECT m.id, c.id, m.term, m.definition, m.relevance
             FROM public.courses AS c
            CROSS JOIN LATERAL (
                  SELECT k.id, k.term, k.definition, similarity(k.term, %(term)s) AS relevance
                    FROM public.keywords AS k
                   WHERE k.course_id = c.id AND k.term %% %(term)s
                  OFFSET 0) AS m
            WHERE c.owner_id = %(user)s
            ORDER BY m.relevance DESC, m.term, m.id LIMIT 20"""),
    "keyword_similarity": (
        "SELECT * FROM public.find_similar_keywords(%(vec)s::vector, 10, 0, %(course)s)",
        """WITH candidates AS MATERIALIZED (
               SELECT k.id, k.course_id, k.term, k.definition, k.embedding <=> %(vec)s::vector AS distance
                 FROM public.keywords AS k
                WHERE k.embedding IS NOT NULL AND k.course_id = %(course)s
                  AND EXISTS (SELECT 1 FROM public.courses AS c WHERE c.id = k.course_id AND c.owner_id = %(user)s)
                ORDER BY k.embedding <=> %(vec)s::vector LIMIT 10)
           SELECT id, course_id, term, definition, 1 - distance FROM candidates
            WHERE 1 - distance >= 0 ORDER BY distance, id"""),
    "course_stats": (
        "SELECT * FROM public.get_course_stats(%(course)s)",
        """SELECT c.id, d.*, ch.*, pd.*, k.*, r.*, p.*
             FROM public.courses AS c
             CROSS JOIN LATERAL (SELECT count(*) AS document_count,
                       count(*) FILTER (WHERE cd.status = 'processed') AS documents_processed,
                       count(*) FILTER (WHERE cd.status IN ('uploaded', 'queued', 'processing')) AS documents_in_flight,
                       count(*) FILTER (WHERE cd.status = 'failed') AS documents_failed,
                       coalesce(sum(cd.size_bytes), 0)::bigint AS total_size_bytes
                  FROM public.course_documents AS cd WHERE cd.course_id = c.id) AS d
             CROSS JOIN LATERAL (SELECT count(*) AS chapter_count FROM public.chapters AS chp
                                  WHERE chp.course_id = c.id) AS ch
             CROSS JOIN LATERAL (SELECT count(*) AS chunk_count, count(x.embedding) AS embedded_chunk_count,
                       coalesce(sum(x.token_count), 0)::bigint AS total_tokens
                  FROM public.course_documents AS cd
                  JOIN public.processed_documents AS x ON x.course_document_id = cd.id
                 WHERE cd.course_id = c.id) AS pd
             CROSS JOIN LATERAL (SELECT count(*) AS keyword_count FROM public.keywords AS kw
                                  WHERE kw.course_id = c.id) AS k
             CROSS JOIN LATERAL (SELECT count(*) AS relationship_count FROM public.keywords AS kw
                  JOIN public.relationships AS rel ON rel.source_keyword_id = kw.id WHERE kw.course_id = c.id) AS r
             CROSS JOIN LATERAL (SELECT count(*) AS learner_count,
                       count(*) FILTER (WHERE up.status = 'completed') AS completed_learner_count,
                       round(avg(up.completion_percent), 2) AS avg_completion_percent
                  FROM public.user_progress AS up WHERE up.course_id = c.id AND up.user_id = %(user)s) AS p
            WHERE c.id = %(course)s AND c.owner_id = %(user)s"""),
    "progress_summary": (
        "SELECT * FROM public.get_user_progress_summary(%(user)s)",
        """WITH today AS (
               SELECT (now() AT TIME ZONE coalesce(
                   (SELECT u.time_zone FROM public.users AS u WHERE u.id = %(user)s), 'UTC'))::date AS d)
           SELECT %(user)s::uuid, count(up.id),
                  count(up.id) FILTER (WHERE up.status = 'in_progress'),
                  count(up.id) FILTER (WHERE up.status = 'completed'),
                  round(avg(up.completion_percent), 2),
                  coalesce(sum(cardinality(up.completed_chapter_ids)), 0)::bigint,
                  coalesce(max(CASE WHEN up.last_activity_date >= t.d - 1 THEN up.current_streak ELSE 0 END), 0)::integer,
                  coalesce(max(up.longest_streak), 0)::integer,
                  coalesce(sum(up.total_time_seconds), 0)::bigint,
                  coalesce(sum(jsonb_array_length(up.badges)), 0)::bigint,
                  max(up.last_activity_at)
             FROM today AS t LEFT JOIN public.user_progress AS up ON up.user_id = %(user)s"""),
}
VECTOR_QUERIES = ("doc_similarity", "keyword_similarity")
QUERY_ORDER = ("course_lookup", "course_list", "course_list_policy_only", "doc_similarity", "keyword_search", "keyword_similarity",
               "course_stats", "progress_summary")


def vec_text(v):
    return "[" + ",".join("%.6f" % x for x in v) + "]"


class Workload:
    """Parameters drawn from the loaded data: owners, their courses, course vectors, terms."""

    def __init__(self, target, seed=7):
        self.rng = random.Random(seed)  # noqa: S311 - benchmark parameters
        self.np = np.random.default_rng(seed)
        conn = target.superuser()
        with conn.cursor() as cur:
            cur.execute("SELECT owner_id, array_agg(id::text ORDER BY id) FROM public.courses GROUP BY owner_id ORDER BY 1")
            self.owners = [(str(u), [str(c) for c in cs]) for u, cs in cur.fetchall()]
            cur.execute("SELECT id FROM public.users ORDER BY id")
            self.users = [str(r[0]) for r in cur.fetchall()]
            # Course vector estimate: the mean of its chunk embeddings (pgvector avg()).
            cur.execute("SELECT d.course_id, avg(pd.embedding)::text FROM public.processed_documents pd "
                        "JOIN public.course_documents d ON d.id = pd.course_document_id GROUP BY 1")
            self.course_vec = {str(c): np.array(json.loads(v), dtype=np.float32) for c, v in cur.fetchall()}
            cur.execute("SELECT course_id, array_agg(term ORDER BY term) FROM public.keywords GROUP BY 1")
            self.terms = {str(c): t for c, t in cur.fetchall()}
            cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            version = tuple(int(x) for x in cur.fetchone()[0].split("-")[0].split("."))
            self.iterative = version >= (0, 8, 0)
        conn.close()
        self.owners = [(u, [c for c in cs if c in self.course_vec]) for u, cs in self.owners]
        self.owners = [(u, cs) for u, cs in self.owners if cs]

    def query_vector(self, course):
        v = self.course_vec[course] + self.np.standard_normal(seedmod.DIM).astype(np.float32) * seedmod.SIGMA_ITEM
        return v / np.linalg.norm(v)

    def search_term(self, course):
        term = self.rng.choice(self.terms.get(course) or ["vector"])
        word = self.rng.choice(term.split())
        roll = self.rng.random()
        if roll < 0.4:
            return term
        if roll < 0.8 or len(word) < 6:
            return word
        i = self.rng.randrange(1, len(word) - 1)  # a typo: one letter dropped
        return word[:i] + word[i + 1:]

    def params(self):
        user, courses = self.rng.choice(self.owners)
        course = self.rng.choice(courses)
        return {"user": user, "course": course, "term": self.search_term(course),
                "vec": vec_text(self.query_vector(course))}


def percentiles(samples):
    a = np.array(samples) * 1000.0
    return {"n": len(a), "p50_ms": round(float(np.percentile(a, 50)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3),
            "p99_ms": round(float(np.percentile(a, 99)), 3), "mean_ms": round(float(a.mean()), 3),
            "max_ms": round(float(a.max()), 3)}


def _timed(conn, user, sql, params, iterative):
    """One call in its own transaction; returns (seconds for the query alone, rows)."""
    with conn.cursor() as cur:
        if user is not None:
            cur.execute("SELECT public.set_current_user_id(%s)", (user,))
        if iterative:
            cur.execute("SET LOCAL hnsw.iterative_scan = 'relaxed_order'")
        start = time.perf_counter()
        cur.execute(sql, params)
        rows = cur.fetchall()
        elapsed = time.perf_counter() - start
    conn.commit()
    return elapsed, rows


def latency_samples(target, workload, calls=200, warmup=30, queries=QUERY_ORDER, into=None):
    """Time ``calls`` calls (after ``warmup``) of each query, three variants per call, interleaved.

    Returns (or extends ``into``) {query: {"fn": [s], "sql_rls": [s], "sql_off": [s], "rows": [n]}}
    plus "_shapes" (columns of the first row per query)."""
    app = target.app(autocommit=False)
    sup = target.superuser(autocommit=False)
    out = into if into is not None else {"_shapes": {}}
    for name in queries:
        fn_sql, explicit_sql = SQL[name]
        iterative = workload.iterative and name in VECTOR_QUERIES
        samples = out.setdefault(name, {"fn": [], "sql_rls": [], "sql_off": [], "rows": []})
        for i in range(warmup + calls):
            p = workload.params()
            runs = [("fn", app, p["user"], fn_sql, False), ("sql_rls", app, p["user"], explicit_sql, iterative),
                    ("sql_off", sup, None, explicit_sql, iterative)]
            k = i % 3
            for variant, conn, user, sql, it in runs[k:] + runs[:k]:
                elapsed, rows = _timed(conn, user, sql, p, it)
                if i >= warmup:
                    samples[variant].append(elapsed)
                    if variant == "fn":
                        samples["rows"].append(len(rows))
                        out["_shapes"].setdefault(name, [len(r) for r in rows[:1]])
    app.close()
    sup.close()
    return out


def latency_stats(target, workload, raw, log=print):
    """Percentiles per query and variant from latency_samples(); returns (stats, result shapes)."""
    results = {}
    for name in QUERY_ORDER:
        if name not in raw:
            continue
        samples = raw[name]
        rows_seen = samples["rows"]
        stats = {v: percentiles(samples[v]) for v in ("fn", "sql_rls", "sql_off")}
        stats["rows_returned_mean"] = round(float(np.mean(rows_seen)), 2)
        # every call's time (ms), for the growth analysis across scales (bootstrap of the p50)
        stats["fn_samples_ms"] = [round(x * 1000.0, 4) for x in samples["fn"]]
        stats["empty_results"] = int(sum(1 for r in rows_seen if r == 0))
        on, off = stats["sql_rls"]["p50_ms"], stats["sql_off"]["p50_ms"]
        stats["rls_overhead_p50_ratio"] = round(on / off - 1.0, 3) if off else None
        stats["rls_overhead_p50_ms"] = round(on - off, 3)
        stats["rls_overhead_p95_ms"] = round(stats["sql_rls"]["p95_ms"] - stats["sql_off"]["p95_ms"], 3)
        results[name] = stats
        log("%-18s fn p50 %7.2f p95 %7.2f p99 %7.2f ms | sql_rls p50 %7.2f | sql_off p50 %7.2f | rows %.1f"
            % (name, stats["fn"]["p50_ms"], stats["fn"]["p95_ms"], stats["fn"]["p99_ms"], on, off,
               stats["rows_returned_mean"]))
    # the cost of setting the context itself (one extra statement per transaction)
    app = target.app(autocommit=False)
    ctx = []
    with app.cursor() as cur:
        for _ in range(200):
            start = time.perf_counter()
            cur.execute("SELECT public.set_current_user_id(%s)", (workload.owners[0][0],))
            cur.fetchall()
            ctx.append(time.perf_counter() - start)
            app.commit()
    results["set_current_user_id"] = {"fn": percentiles(ctx)}
    app.close()
    return results, raw["_shapes"]


def latency(target, workload, calls=200, warmup=30, queries=QUERY_ORDER, log=print):
    """p50/p95/p99 per query and variant; returns (stats, examples)."""
    return latency_stats(target, workload, latency_samples(target, workload, calls, warmup, queries), log=log)


def _ids(conn, user, sql, params, ef=None):
    with conn.cursor() as cur:
        if user is not None:
            cur.execute("SELECT public.set_current_user_id(%s)", (user,))
        if ef is not None:
            cur.execute("SET LOCAL hnsw.ef_search = %s" % int(ef))
        start = time.perf_counter()
        cur.execute(sql, params)
        rows = cur.fetchall()
        elapsed = time.perf_counter() - start
    conn.commit()
    return [r[0] for r in rows], elapsed


def recall_stats(values):
    """Mean, minimum, 5th percentile and count under 0.8 of per-query recall@10."""
    if not values:
        return {"recall_at_10": None, "recall_min": None, "recall_p5": None, "queries_below_0_8": None}
    a = np.array(values)
    return {"recall_at_10": round(float(a.mean()), 4), "recall_min": round(float(a.min()), 2),
            "recall_p5": round(float(np.percentile(a, 5)), 2), "queries_below_0_8": int((a < 0.8).sum())}


def function_ef_search(target):
    """The hnsw.ef_search each similarity function sets for itself (0008), or None."""
    conn = target.superuser()
    with conn.cursor() as cur:
        cur.execute("SELECT p.proname, cfg FROM pg_proc AS p CROSS JOIN LATERAL unnest(p.proconfig) AS cfg "
                    "WHERE p.pronamespace = 'public'::regnamespace AND cfg LIKE 'hnsw.ef_search=%'")
        out = {name: int(cfg.split("=", 1)[1]) for name, cfg in cur.fetchall()}
    conn.close()
    return out


def recall(target, workload, queries=200, ef_values=(40, 100, 400), log=print):
    """recall@10 against an exact scan, per query: the two similarity functions as deployed, and the index alone.

    Function scopes call find_similar_documents / find_similar_keywords as they are deployed
    (since 0008 they run with their own hnsw.ef_search, which a caller's SET cannot change).
    Index scopes run the bare ``ORDER BY embedding <=> q LIMIT 10`` over every row at each
    ``ef_values`` (the index itself, no function, no filter), against the truth of the
    matching every-row function scope (same query vectors, same rows)."""
    exact_opts = "-c enable_indexscan=off"  # set before any call, so no cached plan predates it
    scopes = {
        # every row visible (superuser bypasses RLS): admin/analytics callers
        "documents_all_rows": (None, "SELECT * FROM public.find_similar_documents(%(vec)s::vector, 10, 0)"),
        "keywords_all_rows": (None, "SELECT * FROM public.find_similar_keywords(%(vec)s::vector, 10, 0)"),
        # as the application user, RLS on: what a user actually gets
        "documents_as_user": ("app", "SELECT * FROM public.find_similar_documents(%(vec)s::vector, 10, 0)"),
        "keywords_as_user_in_course": (
            "app", "SELECT * FROM public.find_similar_keywords(%(vec)s::vector, 10, 0, %(course)s)"),
    }
    index_scopes = {
        "documents_index": ("documents_all_rows", "SELECT pd.id FROM public.processed_documents AS pd "
                            "WHERE pd.embedding IS NOT NULL ORDER BY pd.embedding <=> %(vec)s::vector LIMIT 10"),
        "keywords_index": ("keywords_all_rows", "SELECT k.id FROM public.keywords AS k "
                           "WHERE k.embedding IS NOT NULL ORDER BY k.embedding <=> %(vec)s::vector LIMIT 10"),
    }
    out = {}
    rng_state = workload.rng.getstate()
    params = [workload.params() for _ in range(queries)]
    workload.rng.setstate(rng_state)
    # half of the all-rows queries come from random courses (not the prolific owners' ones)
    for p in params[::2]:
        c = workload.rng.choice(list(workload.course_vec))
        p["vec_any"] = vec_text(workload.query_vector(c))
    deployed = function_ef_search(target)
    truths = {}
    for scope, (who, sql) in scopes.items():
        if who == "app":
            hnsw_conn, exact_conn = target.app(autocommit=False), target.app(autocommit=False, options=exact_opts)
        else:
            hnsw_conn, exact_conn = target.superuser(autocommit=False), target.superuser(autocommit=False,
                                                                                          options=exact_opts)
        user_of = (lambda p: p["user"]) if who == "app" else (lambda p: None)
        qp = [dict(p, vec=p.get("vec_any", p["vec"])) if who is None else p for p in params]
        truth, exact_t = [], []
        for p in qp:
            ids, t = _ids(exact_conn, user_of(p), sql, p)
            truth.append(ids)
            exact_t.append(t)
        truths[scope] = (qp, truth)
        res = {"queries": len(qp), "exact": percentiles(exact_t), "exact_empty": sum(1 for t in truth if not t),
               "function_ef_search": deployed.get("find_similar_documents" if "documents" in scope
                                                  else "find_similar_keywords")}
        rec, times, short = [], [], 0
        for p, want in zip(qp, truth):
            got, t = _ids(hnsw_conn, user_of(p), sql, p)
            times.append(t)
            if want:
                rec.append(len(set(got) & set(want)) / len(want))
            if len(got) < len(want):
                short += 1
        res["function"] = dict(recall_stats(rec), queries_with_fewer_rows_than_exact=short,
                               latency=percentiles(times))
        f = res["function"]
        log("recall %-28s as deployed (ef_search %s): mean %.4f min %.2f p5 %.2f  p50 %.2f ms  p95 %.2f ms "
            "(exact p50 %.1f ms)" % (scope, res["function_ef_search"], f["recall_at_10"] or 0, f["recall_min"] or 0,
                                     f["recall_p5"] or 0, f["latency"]["p50_ms"], f["latency"]["p95_ms"],
                                     res["exact"]["p50_ms"]))
        out[scope] = res
        hnsw_conn.close()
        exact_conn.close()
    conn = target.superuser(autocommit=False)
    for scope, (source, sql) in index_scopes.items():
        qp, truth = truths[source]
        res = {"queries": len(qp), "truth_from": source}
        for ef in ef_values:
            rec, times = [], []
            for p, want in zip(qp, truth):
                got, t = _ids(conn, None, sql, p, ef)
                times.append(t)
                if want:
                    rec.append(len(set(got) & set(want)) / len(want))
            res["ef_search_%d" % ef] = dict(recall_stats(rec), latency=percentiles(times))
            r = res["ef_search_%d" % ef]
            log("recall %-28s ef_search %3d: mean %.4f min %.2f p5 %.2f  p50 %.2f ms  p95 %.2f ms"
                % (scope, ef, r["recall_at_10"] or 0, r["recall_min"] or 0, r["recall_p5"] or 0,
                   r["latency"]["p50_ms"], r["latency"]["p95_ms"]))
        out[scope] = res
    conn.close()
    return out


# Plans also shown for the unfiltered keyword similarity (the course filter above is served
# by the course index, rightly; this one shows the HNSW path).
PLAN_EXTRA = {"keyword_similarity_all": "SELECT * FROM public.find_similar_keywords(%(vec)s::vector, 10, 0)"}
INDEX_RE = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)")


def plans(target, workload, discourage=(), log=print):
    """Plans of each function's inner statement, as the application role, via auto_explain.

    ``discourage`` (e.g. ("seqscan", "sort")) is switched off with SET LOCAL first: on tiny
    data sets (the smoke test) a sequential scan wins, and what we want to know there is
    whether an index path exists for the application role under RLS at all."""
    role, db = target.app_role, target.dbname
    settings = {"session_preload_libraries": "auto_explain", "auto_explain.log_min_duration": "0",
                "auto_explain.log_nested_statements": "on", "auto_explain.log_level": "notice",
                "auto_explain.log_analyze": "on", "auto_explain.log_timing": "off",
                "auto_explain.log_buffers": "on"}
    sup = target.superuser()
    with sup.cursor() as cur:
        for key, value in settings.items():
            cur.execute('ALTER ROLE "%s" IN DATABASE "%s" SET %s = %%s' % (role, db, key), (value,))
    out = {}
    try:
        conn = target.app(autocommit=False)
        rng_state = workload.rng.getstate()
        p = workload.params()
        workload.rng.setstate(rng_state)
        statements = [(name, SQL[name][0]) for name in QUERY_ORDER] + list(PLAN_EXTRA.items())
        for name, fn_sql in statements:
            off = discourage.get(name, ()) if isinstance(discourage, dict) else discourage
            del conn.notices[:]
            with conn.cursor() as cur:
                cur.execute("SELECT public.set_current_user_id(%s)", (p["user"],))
                for setting in off:
                    cur.execute("SET LOCAL enable_%s = off" % setting)
                del conn.notices[:]
                cur.execute(fn_sql, p)
                cur.fetchall()
            conn.commit()
            text = "".join(conn.notices)
            text = re.sub(r"\[[-0-9.,e]{200,}\]", "[...768 floats...]", text)
            text = re.sub(r"'\[[^']{200,}\]'", "'[...768 floats...]'", text)
            out[name] = {"indexes": sorted(set(INDEX_RE.findall(text))), "plan": text.strip()}
            log("plan %-18s indexes: %s" % (name, ", ".join(out[name]["indexes"]) or "-"))
        conn.close()
    finally:
        with sup.cursor() as cur:
            for key in settings:
                cur.execute('ALTER ROLE "%s" IN DATABASE "%s" RESET %s' % (role, db, key))
        sup.close()
    return out


def warm(target, log=print):
    """Read every table and index once so the measured runs hit a warm cache."""
    conn = target.superuser()
    start = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_prewarm'")
        if cur.fetchone():
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            cur.execute("SELECT sum(pg_prewarm(c.oid)) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
                        "AND c.relkind IN ('r', 'i', 't')")
            how = "pg_prewarm"
        else:
            for table in seedmod.LOAD_TABLES:
                cur.execute("SELECT count(*) FROM public.%s" % table)
            how = "sequential reads"
    conn.close()
    log("warmed the cache with %s in %.1f s" % (how, time.perf_counter() - start))
    return how


def run_all(target, calls=200, recall_queries=200, ef_values=(40, 100, 400), seed=7, discourage=(), log=print,
            with_latency=True):
    workload = Workload(target, seed)
    out = {"warmup": warm(target, log)}
    if with_latency:
        out["latency"], out["result_shapes"] = latency(target, workload, calls=calls, warmup=min(30, calls), log=log)
    else:
        out["_workload"] = workload
    out["recall"] = recall(target, workload, queries=recall_queries, ef_values=ef_values, log=log)
    out["plans"] = plans(target, workload, discourage=discourage, log=log)
    out["workload"] = {"owners_with_courses": len(workload.owners), "users": len(workload.users),
                       "courses_per_owner_max": max(len(c) for _, c in workload.owners),
                       "courses_per_owner_median": float(np.median([len(c) for _, c in workload.owners])),
                       "iterative_scan": workload.iterative}
    return out


def chart(results, path, extra=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in QUERY_ORDER if n in results["latency"]]
    fig, ax = plt.subplots(figsize=(11, 5.5))
    width = 0.2
    x = np.arange(len(names))
    series = [("fn", "p50", "#4C72B0"), ("fn", "p95", "#DD8452"), ("fn", "p99", "#C44E52"),
              ("sql_off", "p95", "#8C8C8C")]
    for i, (variant, pct, color) in enumerate(series):
        vals = [results["latency"][n][variant]["%s_ms" % pct] for n in names]
        label = "%s RLS on (function, app role)" % pct if variant == "fn" else "p95 RLS off (superuser, explicit WHERE)"
        ax.bar(x + (i - 1.5) * width, vals, width, label=label, color=color)
    for j, n in enumerate(names):
        if n in TARGETS_MS:
            ax.plot([j - 2 * width, j + 2 * width], [TARGETS_MS[n]] * 2, color="black", lw=2)
    ax.plot([], [], color="black", lw=2, label="p95 target")
    ax.set_xticks(x)
    ax.set_xticklabels([n.replace("_", "\n") for n in names])
    ax.set_yscale("log")
    ax.set_ylabel("latency per call (ms, log scale)")
    meta = results["meta"]
    ax.set_title("Sensa Learn query latency, s=%s, %s vCPU (shared), PostgreSQL %s + pgvector %s, %d calls each"
                 % (meta["scale"], meta["machine"].get("cpus"), meta["server"]["server_version"],
                    meta["server"]["pgvector"], meta["calls"]), fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(results):
    lat = results["latency"]
    lines = ["| query | target p95 | p50 | p95 | p99 | RLS off p95 | RLS overhead (p50) | rows |",
             "|---|---|---|---|---|---|---|---|"]
    for n in QUERY_ORDER:
        if n not in lat:
            continue
        s = lat[n]
        target = TARGETS_MS.get(n)
        verdict = ""
        if target is not None:
            verdict = " (%s)" % ("met" if s["fn"]["p95_ms"] < target else "**missed**")
        lines.append("| %s | %s | %.2f | %.2f%s | %.2f | %.2f | %+.0f%% / %+.2f ms | %.1f |" % (
            LABELS[n], "< %g ms" % target if target else "-", s["fn"]["p50_ms"], s["fn"]["p95_ms"], verdict,
            s["fn"]["p99_ms"], s["sql_off"]["p95_ms"], 100 * (s["rls_overhead_p50_ratio"] or 0),
            s["rls_overhead_p50_ms"], s["rows_returned_mean"]))
    lines += ["", "| recall scope | ef_search | recall@10 mean | min | p5 | queries < 0.8 | p50 ms | p95 ms |",
              "|---|---|---|---|---|---|---|---|"]
    for scope, r in results["recall"].items():
        for key, v in r.items():
            if key == "function" or key.startswith("ef_search_"):
                ef = ("%s (function)" % r.get("function_ef_search")) if key == "function" else key.split("_")[-1]
                lines.append("| %s | %s | %s | %s | %s | %s | %.2f | %.2f |" % (
                    scope, ef, v["recall_at_10"], v["recall_min"], v["recall_p5"], v["queries_below_0_8"],
                    v["latency"]["p50_ms"], v["latency"]["p95_ms"]))
    return "\n".join(lines)


# The table whose size bounds each query's work (for the log-linear reference below).
QUERY_TABLE = {"course_lookup": "courses", "course_list": "courses", "course_list_policy_only": "courses",
               "doc_similarity": "processed_documents", "keyword_search": "keywords",
               "keyword_similarity": "keywords", "course_stats": "processed_documents",
               "progress_summary": "user_progress"}


def _bootstrap_ratio(a, b, rounds=2000, seed=11):
    """95% interval of p50(b) / p50(a) by resampling both sample sets."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(a), np.asarray(b)
    ra = np.median(rng.choice(a, (rounds, len(a))), axis=1)
    rb = np.median(rng.choice(b, (rounds, len(b))), axis=1)
    lo, hi = np.percentile(rb / ra, [2.5, 97.5])
    return round(float(lo), 3), round(float(hi), 3)


def growth(per_scale):
    """How each query's p50 grows with rows, scale to scale, against a log-linear model.

    For every pair of consecutive scales (rows N1 < N2 of the query's main table):
    ``ratio`` = p50(N2) / p50(N1) with a bootstrap 95% interval, ``log_bound`` =
    ln N2 / ln N1, the most a cost a + b ln N (a, b >= 0: an index descent plus
    constant work) can grow, and ``linear_bound`` = N2 / N1. A query "grows faster than
    log-linear" when the interval's lower end is above ``log_bound`` (the growth is
    not sampling noise). ``exponent`` is the least-squares slope of ln p50 against ln N
    over all scales (0: flat, 1: linear in rows). Machine load varies between scales and
    is not in the interval: read the verdict with the load figures beside it."""
    scales = sorted(per_scale)
    out = {}
    for name in QUERY_ORDER:
        if not all(name in per_scale[sc]["latency"] for sc in scales):
            continue
        rows = [per_scale[sc]["load"]["tables"][QUERY_TABLE[name]]["rows"] for sc in scales]
        p50 = [per_scale[sc]["latency"][name]["fn"]["p50_ms"] for sc in scales]
        p95 = [per_scale[sc]["latency"][name]["fn"]["p95_ms"] for sc in scales]
        entry = {"table": QUERY_TABLE[name], "rows": rows, "p50_ms": p50, "p95_ms": p95, "steps": []}
        if len(scales) >= 2:
            entry["exponent"] = round(float(np.polyfit(np.log(rows), np.log(p50), 1)[0]), 3)
        faster = False
        for i in range(len(scales) - 1):
            a = per_scale[scales[i]]["latency"][name]["fn_samples_ms"]
            b = per_scale[scales[i + 1]]["latency"][name]["fn_samples_ms"]
            lo, hi = _bootstrap_ratio(a, b)
            bound = float(np.log(rows[i + 1]) / np.log(rows[i]))
            step = {"from_scale": scales[i], "to_scale": scales[i + 1], "ratio": round(p50[i + 1] / p50[i], 3),
                    "ratio_ci95": [lo, hi], "log_bound": round(bound, 3),
                    "linear_bound": round(rows[i + 1] / rows[i], 3), "faster_than_log_linear": lo > bound}
            faster = faster or step["faster_than_log_linear"]
            entry["steps"].append(step)
        entry["faster_than_log_linear"] = faster
        out[name] = entry
    return out


def scale_chart(per_scale, grow, path, meta):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharey=True)
    scales = sorted(per_scale)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, key, title in ((axes[0], "p50_ms", "p50"), (axes[1], "p95_ms", "p95")):
        for i, (name, g) in enumerate(grow.items()):
            style = "-" if not g["faster_than_log_linear"] else "--"
            label = name + (" (faster than log-linear)" if g["faster_than_log_linear"] else "")
            ax.plot(scales, g[key], style, marker="o", color=colors[i % len(colors)], label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(scales)
        ax.set_xticklabels(["s=%g" % sc for sc in scales])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.set_xlabel("scale factor (rows of every table x s; s=1: 100k chunks, 50k keywords, 5k courses)")
        ax.set_title("%s latency, RLS on (function, app role)" % title, fontsize=10)
        ax.grid(which="both", alpha=0.3)
    axes[0].set_ylabel("ms per call (log scale)")
    axes[1].legend(fontsize=8, loc="upper left")
    fig.suptitle("Sensa Learn query latency against scale, one run, %s vCPU (shared, load %s), PostgreSQL %s + "
                 "pgvector %s" % (meta["machine"].get("cpus"), meta.get("load_summary", "?"),
                                  meta.get("server", {}).get("server_version", "?"),
                                  meta.get("server", {}).get("pgvector", "?")), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def uptime():
    try:
        with open("/proc/loadavg") as handle:
            return handle.read().strip()
    except OSError:
        return " ".join("%.2f" % x for x in os.getloadavg())


def result_path(scale):
    return os.path.join(common.RESULTS_DIR, "queries.json" if scale == 1 else "queries_s%g.json" % scale)


def run_scale(scale, args, local_dir, out_path, noop_site=True, build_compare=False, log=print, with_latency=True):
    """Deploy (site.yml), load and measure one scale; returns its result (also written to out_path).

    ``with_latency=False``: recall and plans only, nothing written; the caller measures the
    latency (main_scales interleaves it across scales) and writes the result."""
    meta = {"scale": scale, "seed": args.seed, "calls": args.calls, "recall_queries": args.recall_queries,
            "machine": common.machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "loadavg_start": uptime()}
    results = {"meta": meta}
    os.makedirs(local_dir, exist_ok=True)

    if not args.reuse:
        base = os.path.join(local_dir, "pg", "local")
        if os.path.isdir(base):  # a fresh, empty database for the migration timing
            common.pg_cluster.Cluster(base).destroy()
        mig = {}
        wall, roles = common.run_site(local_dir, log_path=os.path.join(local_dir, "site_first.log"))
        mig["first_run_empty"] = {"wall_s": round(wall, 2), "roles_s": roles}
        log("site.yml first run %.1f s" % wall)
        if noop_site:
            wall, roles = common.run_site(local_dir, log_path=os.path.join(local_dir, "site_noop.log"))
            mig["noop_rerun_empty"] = {"wall_s": round(wall, 2), "roles_s": roles}
            log("site.yml no-op re-run %.1f s" % wall)
        target = common.Target(common.local_cluster(local_dir))
        results["access_setup"] = common.ensure_access(target)
        results["load"] = seedmod.load(target, scale, args.seed, log=log)
        if noop_site:
            wall, roles = common.run_site(local_dir, log_path=os.path.join(local_dir, "site_noop_loaded.log"))
            mig["noop_rerun_loaded"] = {"wall_s": round(wall, 2), "roles_s": roles}
            log("site.yml no-op re-run on the loaded database %.1f s" % wall)
        results["migration"] = mig
    else:
        target = common.Target(common.local_cluster(local_dir))
        results["access_setup"] = common.ensure_access(target)
        # No deployment and no load in this run: keep those figures of the run that did them.
        if os.path.isfile(out_path):
            with open(out_path) as handle:
                previous = json.load(handle)
            for key in ("load", "migration"):
                if key in previous:
                    results[key] = previous[key]
                    meta.setdefault("carried_over", {})[key] = previous["meta"].get("carried_over", {}).get(
                        key, previous["meta"].get("started"))
    meta["server"] = common.server_info(target)
    results.update(run_all(target, calls=args.calls, recall_queries=args.recall_queries, with_latency=with_latency))
    if not with_latency:
        return results, target
    meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    meta["machine"]["loadavg_at_end"] = os.getloadavg()
    meta["loadavg_end"] = uptime()
    write_result(results, out_path)
    if build_compare:
        results["index_build_compare"] = compare_builds(target, results, log=log)
        write_result(results, out_path)
    return results, target


def compare_builds(target, results, index="processed_documents_embedding_hnsw", log=print):
    """The largest HNSW index built again with the loader's pre-issue-17 settings, beside the load's own build."""
    sampler = common.MemorySampler(target.cluster.datadir)
    start = uptime()
    with sampler:
        before = seedmod.timed_rebuild(target, index, seedmod.BEFORE_BUILD_SETTINGS, log=log)
    before["memory_peak"] = sampler.peaks()
    before["loadavg"] = [start, uptime()]
    load = results.get("load", {})
    after = {"seconds": load.get("index_build_s", {}).get(index), "settings": load.get("index_build_settings"),
             "notices": load.get("index_build_notices", {}).get(index, ""), "memory_peak": load.get("memory_peak"),
             "measured_in": "the load's index rebuild"}
    return {"index": index, "before": before, "after": after}


def write_result(results, out_path):
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as handle:
        json.dump(results, handle, indent=2, default=str)
    with open(os.path.splitext(out_path)[0] + ".md", "w") as handle:
        handle.write(markdown(results) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scales", help="comma-separated scales measured in sequence in one run (e.g. 0.1,1,3): "
                                         "one result file per scale, the growth analysis in queries_scaling.json "
                                         "and the chart docs/benchmarks_latency_scale.png")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--recall-queries", type=int, default=200)
    parser.add_argument("--local-dir", help="sensa_local_dir for site.yml (default .local/bench-s<scale>)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse an already deployed and seeded cluster in --local-dir (no site.yml, no seed)")
    parser.add_argument("--out", help="result JSON (default bench/results/queries.json at s=1)")
    parser.add_argument("--chart", default=os.path.join(common.REPO, "docs", "benchmarks_latency.png"))
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument("--build-compare", action="store_true",
                        help="after measuring, build the documents HNSW index again with the pre-issue-17 "
                             "settings (s >= 1 with --scales) and report both build times")
    parser.add_argument("--build-compare-min-scale", type=float, default=1.0,
                        help="with --scales --build-compare: the smallest scale whose build is compared (default 1)")
    args = parser.parse_args(argv)

    if args.scales:
        return main_scales(args)
    label = ("%g" % args.scale)
    local_dir = os.path.abspath(args.local_dir or os.path.join(common.REPO, ".local", "bench-s" + label))
    out_path = args.out or result_path(args.scale)
    results, _ = run_scale(args.scale, args, local_dir, out_path, build_compare=args.build_compare)
    if not args.no_chart:
        chart(results, args.chart)
    print(markdown(results))
    print("results: %s" % out_path)


def main_scales(args, rounds=5):
    """Every scale deployed and loaded, each with its own cluster, all running at once; recall and
    plans per scale; then the latency interleaved across scales: ``rounds`` rounds, each timing
    calls/rounds calls of every query on every scale (scale order rotated per round), so a change
    in machine load over the run hits every scale alike instead of biasing the growth figures.
    Last (with --build-compare), the documents HNSW index of each scale >= 1 built again with the
    loader's former settings."""
    scales = sorted(float(x) for x in args.scales.split(","))
    if args.reuse or args.local_dir or args.out:
        raise SystemExit("--scales deploys and loads each scale in .local/bench-s<scale>: no --reuse/--local-dir/--out")
    combined_path = os.path.join(common.RESULTS_DIR, "queries_scaling.json")
    combined = {"meta": {"scales": scales, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         "machine": common.machine(), "loadavg_start": uptime(), "nice": os.nice(0),
                         "latency_rounds": rounds, "per_scale": {}}}
    per_scale, targets, workloads = {}, {}, {}

    def save():
        combined["meta"]["loadavg_end"] = uptime()
        combined["meta"]["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with open(combined_path, "w") as handle:
            json.dump(combined, handle, indent=2, default=str)

    for scale in scales:
        local_dir = os.path.join(common.REPO, ".local", "bench-s%g" % scale)
        print("=== scale %g: deploy, load, recall, plans ===" % scale, flush=True)
        results, target = run_scale(scale, args, local_dir, result_path(scale), noop_site=False, with_latency=False)
        workloads[scale] = results.pop("_workload")
        per_scale[scale], targets[scale] = results, target
        combined["meta"]["per_scale"]["%g" % scale] = {
            "result": os.path.relpath(result_path(scale), common.REPO), "started": results["meta"]["started"],
            "loadavg_start": results["meta"]["loadavg_start"], "loaded_and_recall_done": uptime()}
        combined["meta"]["server"] = results["meta"]["server"]
        combined["load"] = {"%g" % sc: {k: r["load"].get(k) for k in (
            "total_s", "phases", "index_build_s", "index_build_settings", "index_build_notices", "memory_peak",
            "rows_total", "database_size")} for sc, r in per_scale.items()}
        combined["recall"] = {"%g" % sc: r["recall"] for sc, r in per_scale.items()}
        combined["plans_indexes"] = {"%g" % sc: {n: p["indexes"] for n, p in r["plans"].items()}
                                     for sc, r in per_scale.items()}
        save()

    print("=== latency, %d rounds interleaved over scales %s ===" % (rounds, scales), flush=True)
    combined["meta"]["latency_started"], combined["meta"]["latency_loadavg_start"] = (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), uptime())
    for scale in scales:  # caches of every cluster warm before the first timed round
        warm(targets[scale])
    raw = {scale: {"_shapes": {}} for scale in scales}
    per_round = max(1, args.calls // rounds)
    for r in range(rounds):
        order = scales[r % len(scales):] + scales[:r % len(scales)]
        for scale in order:
            latency_samples(targets[scale], workloads[scale], calls=per_round, warmup=30 if r == 0 else 5,
                            into=raw[scale])
        print("latency round %d/%d done, load %s" % (r + 1, rounds, uptime()), flush=True)
    combined["meta"]["latency_finished"], combined["meta"]["latency_loadavg_end"] = (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), uptime())
    for scale in scales:
        print("--- s=%g" % scale)
        results = per_scale[scale]
        results["latency"], results["result_shapes"] = latency_stats(targets[scale], workloads[scale], raw[scale])
        results["meta"].update(calls=per_round * rounds, latency_rounds=rounds, finished=time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime()), loadavg_end=uptime(),
            latency_window=[combined["meta"]["latency_started"], combined["meta"]["latency_finished"]])
        results["meta"]["machine"]["loadavg_at_end"] = os.getloadavg()
        write_result(results, result_path(scale))
        if scale == 1 and not args.no_chart:
            chart(results, args.chart)
    combined["growth"] = growth(per_scale)
    loads = [float(v.split()[0]) for v in (combined["meta"]["latency_loadavg_start"],
                                           combined["meta"]["latency_loadavg_end"])]
    combined["meta"]["load_summary"] = "%.1f-%.1f" % (min(loads), max(loads))
    save()
    if not args.no_chart:
        scale_chart(per_scale, combined["growth"], os.path.join(common.REPO, "docs", "benchmarks_latency_scale.png"),
                    combined["meta"])
    for name, g in combined["growth"].items():
        print("%-24s p50 %s ms, exponent %s, %s" % (name, g["p50_ms"], g.get("exponent"),
                                                  "FASTER than log-linear" if g["faster_than_log_linear"] else "ok"))

    if args.build_compare:
        for scale in scales:
            if scale < args.build_compare_min_scale:
                continue
            print("=== scale %g: documents HNSW build with the former settings ===" % scale, flush=True)
            per_scale[scale]["index_build_compare"] = compare_builds(targets[scale], per_scale[scale])
            write_result(per_scale[scale], result_path(scale))
            combined["index_build_compare"] = {"%g" % sc: r["index_build_compare"] for sc, r in per_scale.items()
                                               if "index_build_compare" in r}
            save()
    for scale in scales:
        targets[scale].cluster.stop()
    print("results: %s" % combined_path)


if __name__ == "__main__":
    sys.exit(main())
