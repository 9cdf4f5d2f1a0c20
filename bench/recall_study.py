#!/usr/bin/env python3
"""Per-query recall@10 of the documents HNSW index over every row, on many queries, and what changes it.

bench/run.py measures recall on 200 queries against exact scans in PostgreSQL (1.8 s each at
s=3). Misses at s=3 are rarer than 1 in 100, so telling two settings apart needs more queries:
this study reads every chunk embedding once, ranks 1,000+ queries exactly in numpy (a matrix
product), and then measures on the loaded, deployed database:

* the bare index scan (``ORDER BY embedding <=> q LIMIT 10``) at each ``--ef`` hnsw.ef_search;
* a candidate pool of each ``--pools`` size gathered with pgvector 0.8's iterative scan
  (relaxed order) and ranked exactly (the statement migration 0009 puts in
  find_similar_documents' every-row branch, with its pool size as a parameter);
* find_similar_documents(q, 10, 0) as deployed, as the superuser (the every-row branch);
* with ``--index-m M``: an index with m = M built beside the schema's (timed, with the loader's
  build settings), measured at each ``--ef`` inside a transaction that drops the schema's
  index (rolled back), then dropped.

Queries are drawn like run.py's: a course chosen at random, its centroid (the mean of its chunk
embeddings) plus the seed's item noise. Truth is cosine similarity in float32 over every chunk
with an embedding; exact near-ties can differ from pgvector's own arithmetic in the last bit,
which can only lower the measured recall. Nothing is asserted; results go to --out.

Usage: .venv/bin/python bench/recall_study.py --local-dir .local/bench-s3   (bench/README.md)
"""

import argparse
import json
import os
import re
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import common  # noqa: E402
import run as runmod  # noqa: E402
import seed as seedmod  # noqa: E402

INDEX = "processed_documents_embedding_hnsw"
BARE = ("SELECT pd.id FROM public.processed_documents AS pd WHERE pd.embedding IS NOT NULL "
        "ORDER BY pd.embedding <=> %(vec)s::vector LIMIT 10")
# 0009's every-row statement, the pool size a parameter (the migration writes a constant).
POOL = ("WITH pool AS MATERIALIZED ("
        " SELECT pd.id, 1 - (pd.embedding <=> %(vec)s::vector) AS similarity"
        "   FROM public.processed_documents AS pd WHERE pd.embedding IS NOT NULL"
        "  ORDER BY pd.embedding <=> %(vec)s::vector LIMIT %(pool)s)"
        " SELECT pool.id FROM pool ORDER BY pool.similarity DESC, pool.id LIMIT 10")
FUNCTION = "SELECT document_id FROM public.find_similar_documents(%(vec)s::vector, 10, 0)"


def load_embeddings(target, log=print):
    start = time.perf_counter()
    conn = target.superuser(autocommit=False)  # a named (server-side) cursor needs a transaction
    ids, courses, rows = [], [], []
    with conn.cursor(name="chunks") as cur:
        cur.itersize = 20000
        cur.execute("SELECT pd.id::text, d.course_id::text, pd.embedding::text FROM public.processed_documents AS pd "
                    "JOIN public.course_documents AS d ON d.id = pd.course_document_id WHERE pd.embedding IS NOT NULL")
        for chunk_id, course, text in cur:
            ids.append(chunk_id)
            courses.append(course)
            rows.append(np.array(json.loads(text), dtype=np.float32))
    conn.close()
    matrix = np.stack(rows)
    matrix /= np.linalg.norm(matrix, axis=1)[:, None]
    log("read %d embeddings in %.1f s" % (len(ids), time.perf_counter() - start))
    return np.array(ids), np.array(courses), matrix


def draw_queries(courses, matrix, count, seed):
    """``count`` query vectors (unit), each near a random course's centroid, and their exact top 10 (row indexes)."""
    rng = np.random.default_rng(seed)
    names, member = np.unique(courses, return_inverse=True)
    centroids = np.zeros((len(names), matrix.shape[1]), dtype=np.float64)
    np.add.at(centroids, member, matrix)
    centroids /= np.bincount(member)[:, None]
    picked = rng.integers(0, len(names), count)
    queries = centroids[picked] + rng.standard_normal((count, matrix.shape[1])) * seedmod.SIGMA_ITEM
    queries = (queries / np.linalg.norm(queries, axis=1)[:, None]).astype(np.float32)
    truth = []
    for start in range(0, count, 250):  # 250 x rows similarities at a time
        sims = queries[start:start + 250] @ matrix.T
        top = np.argpartition(-sims, 10, axis=1)[:, :10]
        truth.extend(top)
    return queries, [set(t) for t in truth]


def measure(conn, sql, queries, truth, ids, settings=(), extra=None, before=None):
    """Per-query recall and latency of ``sql`` over ``queries``; each call in its own transaction."""
    recalls, times = [], []
    with conn.cursor() as cur:

        def prepare():  # this transaction's statement before the query, and its settings
            if before:
                cur.execute(before)
            for name, value in settings:
                cur.execute("SELECT set_config(%s, %s, true)", (name, str(value)))

        for vector, want in zip(queries, truth):
            prepare()
            params = dict(extra or {}, vec=runmod.vec_text(vector))
            start = time.perf_counter()
            cur.execute(sql, params)
            got = {r[0] for r in cur.fetchall()}
            times.append(time.perf_counter() - start)
            conn.rollback()
            recalls.append(len(got & {ids[i] for i in want}) / len(want))
        # which index the statement used (the first query's plan; a function's inner plan is not shown)
        prepare()
        cur.execute("EXPLAIN (COSTS OFF) " + sql, dict(extra or {}, vec=runmod.vec_text(queries[0])))
        plan = "\n".join(r[0] for r in cur.fetchall())
        conn.rollback()
    scan = sorted(set(re.findall(r"Index Scan using (\w+)", plan))) or ["no index scan: " + plan.splitlines()[0]]
    values, counts = np.unique(np.array(recalls), return_counts=True)
    histogram = {"%.1f" % v: int(c) for v, c in zip(values, counts)}
    return dict(runmod.recall_stats(recalls), latency=runmod.percentiles(times), histogram=histogram, scan=scan)


def build_variant(target, m, ef_construction, scale, rows, log=print):
    """An index with m = ``m`` beside the schema's, built with the loader's settings sized for ``rows`` at that m."""
    name = "%s_m%d_study" % (INDEX, m)
    settings = seedmod.build_settings(target, scale)
    graph_mb = seedmod.hnsw_graph_bytes(rows, m=m) // 2 ** 20 + 1
    settings["maintenance_work_mem"] = "%dMB" % max(64, min(graph_mb, settings["cap_mb"]))
    conn = target.superuser(autocommit=True)
    seedmod.apply_build_settings(conn, settings)
    with conn.cursor() as cur:
        cur.execute("DROP INDEX IF EXISTS public.%s" % name)
        start = time.perf_counter()
        cur.execute("CREATE INDEX %s ON public.processed_documents USING hnsw (embedding vector_cosine_ops) "
                    "WITH (m = %d, ef_construction = %d)" % (name, m, ef_construction))
        seconds = time.perf_counter() - start
    conn.close()
    log("built %s (m=%d, ef_construction=%d) in %.1f s with %s" % (name, m, ef_construction, seconds,
                                                                   settings["maintenance_work_mem"]))
    return name, {"m": m, "ef_construction": ef_construction, "build_s": round(seconds, 1),
                  "maintenance_work_mem": settings["maintenance_work_mem"],
                  "max_parallel_maintenance_workers": settings["max_parallel_maintenance_workers"]}


def study(target, queries=1000, seed=11, efs=(40, 400, 1000), pools=(2000, 3000, 4000), index_m=None,
          ef_construction=128, scale=3.0, log=print):
    """The measurements described in the module docstring, on ``target``; returns the result dict."""
    out = {"meta": {"scale": scale, "queries": queries, "seed": seed, "machine": common.machine(),
                    "server": common.server_info(target), "loadavg_start": runmod.uptime(),
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}
    ids, courses, matrix = load_embeddings(target, log=log)
    vectors, truth = draw_queries(courses, matrix, queries, seed)
    sizes = np.bincount(np.unique(courses, return_inverse=True)[1])
    out["meta"]["chunks"] = int(len(ids))
    out["meta"]["chunks_per_course"] = {"min": int(sizes.min()), "median": int(np.median(sizes)), "max": int(sizes.max())}
    conn = target.superuser(autocommit=False)
    results = out["results"] = {}

    def record(key, value):
        results[key] = value
        log("%-34s mean %.4f min %.2f p5 %.2f under 0.8: %3d  p50 %7.2f ms  p95 %7.2f ms  %s %s" % (
            key, value["recall_at_10"], value["recall_min"], value["recall_p5"], value["queries_below_0_8"],
            value["latency"]["p50_ms"], value["latency"]["p95_ms"], value["histogram"], value["scan"]))

    off = ("hnsw.iterative_scan", "off")
    for ef in efs:
        record("index ef_search %d" % ef, measure(conn, BARE, vectors, truth, ids, [off, ("hnsw.ef_search", ef)]))
    for pool in pools:
        record("pool %d (ef_search 400)" % pool, measure(
            conn, POOL, vectors, truth, ids, [("hnsw.iterative_scan", "relaxed_order"), ("hnsw.ef_search", 400)],
            extra={"pool": pool}))
    record("find_similar_documents as deployed", measure(conn, FUNCTION, vectors, truth, ids))
    if index_m:
        name, info = build_variant(target, index_m, ef_construction, scale, len(ids), log=log)
        try:
            for ef in efs:
                record("index m=%d ef_search %d" % (index_m, ef), measure(
                    conn, BARE, vectors, truth, ids, [off, ("hnsw.ef_search", ef)],
                    before="DROP INDEX public.%s" % INDEX))
        finally:
            conn.rollback()
            with conn.cursor() as cur:
                cur.execute("DROP INDEX IF EXISTS public.%s" % name)
            conn.commit()
        out["variant_index"] = info
    conn.close()
    out["meta"]["loadavg_end"] = runmod.uptime()
    out["meta"]["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local-dir", default=os.path.join(common.REPO, ".local", "bench-s3"))
    parser.add_argument("--scale", type=float, default=3.0, help="the scale loaded in --local-dir (for build sizing)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--ef", default="40,400,1000", help="hnsw.ef_search values for the bare index")
    parser.add_argument("--pools", default="2000,3000,4000", help="candidate pool sizes (iterative scan)")
    parser.add_argument("--index-m", type=int, help="also build and measure an index with this m")
    parser.add_argument("--ef-construction", type=int, default=128)
    parser.add_argument("--out", default=os.path.join(common.RESULTS_DIR, "recall_study_s3.json"))
    args = parser.parse_args(argv)
    target = common.Target(common.local_cluster(os.path.abspath(args.local_dir)))
    out = study(target, queries=args.queries, seed=args.seed, efs=[int(x) for x in args.ef.split(",") if x],
                pools=[int(x) for x in args.pools.split(",") if x], index_m=args.index_m,
                ef_construction=args.ef_construction, scale=args.scale, log=lambda line: print(line, flush=True))
    out["meta"]["local_dir"] = os.path.basename(os.path.abspath(args.local_dir))
    with open(args.out, "w") as handle:
        json.dump(out, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("results: %s" % args.out)


if __name__ == "__main__":
    main()
