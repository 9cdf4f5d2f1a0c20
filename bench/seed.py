#!/usr/bin/env python3
"""Deterministic seed data for the Sensa Learn schema, loaded with COPY.

Scale factor s (default 1):

    users 1000*s, user_profiles 1 per user, courses 5000*s (owners Zipf-like: a few
    prolific authors, many with one or two courses), course_documents 2 per course
    (+5% still in flight or failed, without chunks), chapters 5 per course,
    processed_documents 100000*s (20 chunks per course, 768-dim embeddings),
    keywords 50000*s (10 per course, 768-dim embeddings), relationships 2 per keyword,
    user_progress 20 courses per user, user_annotations 20*users, analogy_feedback 10*users,
    chapter_complexity 1 per chapter.

Embeddings are clustered, not uniform noise (uniform random vectors in 768 dimensions are
all nearly orthogonal, so every "nearest neighbour" is a near tie and recall means nothing):

    topic centroid t (unit vector, one of TOPICS)
    course vector  c = t + N(0, sigma_course^2 I)        |noise| ~ 0.6
    chunk/keyword  v = normalise(c + N(0, sigma_item^2 I)) |noise| ~ 0.8

so cosine similarity is ~0.68 within a course, ~0.5 within a topic, ~0 across topics: a
neighbourhood structure like real text embeddings (a course is about one subject; chunks
of a course are close; a subject has many courses). Queries in bench/run.py are built the
same way from a course's vector, so their true neighbours are a tight but not trivial set.

Loading (as the superuser, which bypasses row-level security; every CHECK, foreign key and
trigger stays on):

* COPY, never row-by-row INSERT: text COPY for the relational tables, binary COPY for the
  two vector tables (no float formatting or parsing of 115 M floats), streamed in batches
  from in-memory buffers, in one transaction per table.
* Secondary (non-unique) indexes of the loaded tables are dropped before the load and
  re-created after it from their exact pg_get_indexdef() text: building an HNSW or GIN
  index once is several times faster than maintaining it row by row. Primary keys and
  unique indexes stay (they guard the data and serve the foreign key checks). The set of
  indexes after the load is checked to be identical to the set before it.
* Triggers are NOT disabled. course_documents may only be inserted as 'uploaded' or
  'queued' (0003), so documents are loaded as queued and then moved along the valid
  transitions (queued -> processing -> processed | failed) with set-based UPDATEs
  through the trigger. Streak values come from the streak trigger (1 on insert).
* The index rebuild runs with maintenance_work_mem sized so that the largest HNSW graph
  stays in memory (build_settings(): rows x dims, capped at a quarter of the machine's
  memory) and a parallel maintenance worker per CPU beyond the leader.
* VACUUM (ANALYZE) every table at the end (statistics and visibility map).
* Peak memory of the loader process and of the server (sum of PSS and of RSS over the
  postmaster and its children) is sampled from /proc during the load (common.MemorySampler).

Usage: .venv/bin/python bench/seed.py --scale 0.1 [--seed 42] [--local-dir .local/bench]
"""

import argparse
import datetime
import hashlib
import io
import json
import os
import random
import struct
import sys
import time
import uuid

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import common  # noqa: E402
from common import MemorySampler  # noqa: E402

DIM = 768
SIGMA_COURSE = 0.6 / np.sqrt(DIM)
SIGMA_ITEM = 0.8 / np.sqrt(DIM)
BATCH = 5000
BASE_TIME = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
TIME_ZONES = ["UTC", "Europe/Lisbon", "Europe/Berlin", "America/New_York", "America/Los_Angeles",
              "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney"]

TOPICS = {
    "linear algebra": "vector matrix eigenvalue determinant basis span kernel projection orthogonal rank",
    "calculus": "derivative integral limit series convergence gradient chain rule taylor differential",
    "statistics": "variance mean median regression hypothesis sampling distribution likelihood bayes estimator",
    "machine learning": "neural network training gradient descent overfitting classifier feature embedding loss",
    "organic chemistry": "carbon bond reaction alkene benzene ester isomer catalyst synthesis molecule",
    "cell biology": "membrane protein mitochondria nucleus ribosome enzyme organelle cytoplasm receptor gene",
    "genetics": "allele chromosome mutation phenotype genotype dominant recessive inheritance dna sequence",
    "classical mechanics": "force momentum energy velocity acceleration torque friction oscillation inertia mass",
    "thermodynamics": "entropy temperature heat pressure enthalpy engine equilibrium work cycle gas",
    "electromagnetism": "charge field current voltage magnet induction capacitor resistance circuit wave",
    "world history": "empire revolution treaty dynasty colonial trade war monarchy republic migration",
    "economics": "market supply demand inflation interest price elasticity monopoly trade budget",
    "accounting": "ledger asset liability equity revenue expense balance audit depreciation invoice",
    "marketing": "brand customer segment campaign pricing channel funnel retention persona advertising",
    "psychology": "memory cognition behavior emotion perception motivation learning attention bias therapy",
    "philosophy": "ethics logic knowledge truth argument virtue metaphysics reason mind freedom",
    "literature": "novel poetry narrative metaphor character plot theme sonnet irony author",
    "music theory": "scale chord harmony rhythm melody interval cadence tempo key counterpoint",
    "art history": "renaissance baroque painting sculpture perspective fresco portrait impressionism canvas gallery",
    "spanish": "verb conjugation subjunctive vocabulary pronoun grammar accent tense preterite noun",
    "databases": "table index query transaction schema join normalization replication constraint cursor",
    "networking": "packet router protocol latency bandwidth socket routing firewall subnet handshake",
    "operating systems": "process thread scheduler memory paging kernel interrupt filesystem mutex syscall",
    "algorithms": "sorting graph search complexity recursion dynamic programming heap hash tree",
    "cryptography": "cipher key encryption signature hash certificate random prime modulus protocol",
    "astronomy": "planet star galaxy orbit telescope nebula supernova gravity comet cosmology",
    "geology": "rock mineral plate tectonic erosion volcano sediment fossil crust magma",
    "ecology": "ecosystem species habitat predator population biodiversity climate niche food web",
    "nutrition": "protein vitamin calorie carbohydrate fiber mineral diet metabolism fat hydration",
    "anatomy": "bone muscle nerve heart lung artery tissue skeleton joint organ",
    "law": "contract tort statute precedent liability court plaintiff defendant evidence appeal",
    "project management": "scope schedule risk stakeholder milestone budget agile sprint backlog deliverable",
}
TOPIC_NAMES = sorted(TOPICS)
LEVELS = ["Introduction to", "Foundations of", "Advanced", "Applied", "A Practical Guide to", "Topics in",
          "Essentials of", "Modern"]


def counts(scale):
    """Row counts for scale factor ``scale`` (at least a handful of each)."""
    users = max(5, round(1000 * scale))
    courses = max(10, round(5000 * scale))
    return {
        "users": users,
        "courses": courses,
        "documents_per_course": 2,
        "chapters_per_course": 5,
        "chunks_per_course": 20,
        "keywords_per_course": 10,
        "relationships_per_keyword": 2,
        "progress_per_user": min(20, courses),
        "annotations_per_user": 20,
        "feedback_per_user": 10,
    }


class Json:
    """A value for a jsonb column in text COPY (a list would otherwise be written as an array)."""

    def __init__(self, value):
        self.value = value


def _copy_text_value(value):
    if isinstance(value, Json):
        value = json.dumps(value.value, separators=(",", ":"))
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "{" + ",".join('"%s"' % str(v).replace("\\", "\\\\").replace('"', '\\"') for v in value) + "}"
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"))
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class TableLoader:
    """Streams rows into one table with COPY in batches (one transaction per table)."""

    def __init__(self, conn, table, columns, binary_types=None, progress=None):
        self.conn = conn
        self.table = table
        self.columns = columns
        self.binary_types = binary_types  # None: text COPY; else a type code per column
        self.progress = progress
        self.rows = []
        self.loaded = 0
        self.seconds = 0.0

    def add(self, row):
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self):
        if not self.rows:
            return
        buf = self._binary_buffer() if self.binary_types else self._text_buffer()
        start = time.perf_counter()
        with self.conn.cursor() as cur:
            fmt = "(FORMAT binary)" if self.binary_types else ""
            cur.copy_expert("COPY public.%s (%s) FROM STDIN %s" % (self.table, ", ".join(self.columns), fmt), buf)
        self.seconds += time.perf_counter() - start
        self.loaded += len(self.rows)
        if self.progress is not None:
            self.progress.update(len(self.rows))
        self.rows = []

    def _text_buffer(self):
        out = io.StringIO()
        for row in self.rows:
            out.write("\t".join(_copy_text_value(v) for v in row))
            out.write("\n")
        out.seek(0)
        return out

    def _binary_buffer(self):
        out = io.BytesIO()
        out.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        for row in self.rows:
            out.write(struct.pack(">h", len(row)))
            for kind, value in zip(self.binary_types, row):
                if value is None:
                    out.write(struct.pack(">i", -1))
                    continue
                if kind == "uuid":
                    data = value.bytes
                elif kind == "text":
                    data = value.encode("utf-8")
                elif kind == "int4":
                    data = struct.pack(">i", value)
                elif kind == "float4":
                    data = struct.pack(">f", value)
                elif kind == "jsonb":
                    data = b"\x01" + json.dumps(value, separators=(",", ":")).encode("utf-8")
                elif kind == "vector":  # pgvector vector_recv: int16 dim, int16 unused, float4[dim]
                    data = struct.pack(">hh", DIM, 0) + value.astype(">f4").tobytes()
                else:
                    raise ValueError(kind)
                out.write(struct.pack(">i", len(data)))
                out.write(data)
        out.write(struct.pack(">h", -1))
        out.seek(0)
        return out


class Generator:
    """Builds the data set; every value depends only on (scale, seed)."""

    def __init__(self, scale, seed):
        self.scale = scale
        self.seed = seed
        self.n = counts(scale)
        self.rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
        self.np = np.random.default_rng(seed)
        self.centroids = self._unit(self.np.standard_normal((len(TOPIC_NAMES), DIM)))

    @staticmethod
    def _unit(m):
        return (m / np.linalg.norm(m, axis=-1, keepdims=True)).astype(np.float32)

    def uuid(self):
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def when(self, lo_days=0, hi_days=365):
        return BASE_TIME + datetime.timedelta(seconds=self.rng.randint(lo_days * 86400, hi_days * 86400))

    def items_near(self, course_vec, count):
        noise = self.np.standard_normal((count, DIM)).astype(np.float32) * SIGMA_ITEM
        return self._unit(course_vec[None, :] + noise)

    def words(self, topic, count):
        vocab = TOPICS[topic].split()
        return " ".join(self.rng.choice(vocab) for _ in range(count))


def _drop_secondary_indexes(conn, tables):
    with conn.cursor() as cur:
        cur.execute(
            """SELECT ci.relname, pg_get_indexdef(i.indexrelid)
                 FROM pg_index i
                 JOIN pg_class ci ON ci.oid = i.indexrelid
                 JOIN pg_class ct ON ct.oid = i.indrelid
                WHERE ct.relnamespace = 'public'::regnamespace AND ct.relname = ANY(%s)
                  AND NOT i.indisunique AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)
                ORDER BY ci.relname""", (list(tables),))
        defs = cur.fetchall()
        for name, _ in defs:
            cur.execute('DROP INDEX public."%s"' % name)
    conn.commit()
    return defs


def _index_snapshot(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
        return cur.fetchall()


LOAD_TABLES = ("users", "user_profiles", "courses", "course_documents", "chapters", "processed_documents",
               "keywords", "relationships", "user_progress", "user_annotations", "analogy_feedback",
               "chapter_complexity")


# What the loader used before issue 17 (kept to measure the build "before").
BEFORE_BUILD_SETTINGS = {"maintenance_work_mem": "1GB", "max_parallel_maintenance_workers": 1}
HNSW_M = 16  # the m of both HNSW indexes (0002)
# Measured: an in-memory pgvector 0.8 HNSW build (768 dims, m=16) reported "hnsw graph no
# longer fits into maintenance_work_mem after 8849 tuples" at 32 MB: 3,792 bytes per element.
# The estimate below gives 3,736 (vector + element header + 2m layer-0 neighbour candidates
# of 16 bytes + upper layers); the headroom covers the difference and allocator overhead.
HNSW_HEADROOM = 1.25


def hnsw_graph_bytes(rows, dims=DIM, m=HNSW_M):
    """Estimated memory of an in-memory HNSW graph of ``rows`` vectors of ``dims`` dimensions."""
    per_element = dims * 4 + 8 + 128 + 16 * (2 * m + 1)
    return int(rows * per_element * HNSW_HEADROOM)


def _mem_total_bytes():
    with open("/proc/meminfo") as handle:
        return int(handle.readline().split()[1]) * 1024


def build_settings(target, scale, dims=DIM):
    """maintenance_work_mem and parallel workers for the index rebuild at ``scale``.

    maintenance_work_mem: large enough for the largest HNSW graph (processed_documents,
    100,000 x s rows) to stay in memory, so pgvector never switches to its much slower
    on-disk build; at least 64 MB, and capped at a quarter of the machine's memory (the
    server's shared_buffers and the OS cache need the rest). A parallel build allocates the
    graph once, in dynamic shared memory, not per worker.

    max_parallel_maintenance_workers: one per CPU beyond the leader (pgvector's leader
    builds too), within what max_parallel_workers and max_worker_processes leave."""
    rows = counts(scale)["courses"] * counts(scale)["chunks_per_course"]
    need = hnsw_graph_bytes(rows, dims)
    cap = _mem_total_bytes() // 4
    mwm_mb = max(64, min(need, cap) // 2 ** 20 + 1)
    conn = target.superuser()
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('max_parallel_workers')::int, current_setting('max_worker_processes')::int")
        max_parallel, max_processes = cur.fetchone()
    conn.close()
    workers = max(0, min((os.cpu_count() or 1) - 1, max_parallel, max_processes - 1))
    return {"maintenance_work_mem": "%dMB" % mwm_mb, "max_parallel_maintenance_workers": workers,
            "hnsw_graph_estimate_mb": round(need / 2 ** 20), "cap_mb": cap // 2 ** 20,
            "graph_fits": need <= cap}


def apply_build_settings(conn, settings):
    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = %s", (settings["maintenance_work_mem"],))
        cur.execute("SET max_parallel_maintenance_workers = %s", (int(settings["max_parallel_maintenance_workers"]),))
    conn.commit()


def _build_notices(conn):
    text = " ".join(n.strip() for n in conn.notices)
    del conn.notices[:]
    return text


def timed_rebuild(target, index, settings, log=print):
    """Build a copy of ``index`` (same definition, another name) with ``settings``, time it, drop it.

    Measures a build setting on the loaded data without touching the index the schema owns.
    Returns {"seconds", "settings", "notices"}."""
    conn = target.superuser(autocommit=True)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_get_indexdef(%s::regclass)", ("public.%s" % index,))
        ddl = cur.fetchone()[0]
        probe = index + "_build_probe"
        ddl = ddl.replace("INDEX %s ON" % index, "INDEX %s ON" % probe, 1)
        cur.execute("DROP INDEX IF EXISTS public.%s" % probe)
        apply_build_settings(conn, settings)
        del conn.notices[:]
        start = time.perf_counter()
        cur.execute(ddl)
        seconds = time.perf_counter() - start
        notices = _build_notices(conn)
        cur.execute("DROP INDEX public.%s" % probe)
    conn.close()
    log("rebuilt %s with %s in %.1f s %s" % (index, settings, seconds, notices))
    return {"seconds": round(seconds, 2), "settings": settings, "notices": notices}


def load(target, scale=1.0, seed=42, progress=True, log=print, build="sized"):
    """Generate and load the data set into an empty migrated database. Returns the load report.

    ``build``: "sized" (maintenance_work_mem and parallel workers from build_settings()) or
    "before" (the settings the loader used before issue 17)."""
    sampler = MemorySampler(target.cluster.datadir)
    with sampler:
        report = _load(target, scale, seed, progress, log, build)
    report["memory_peak"] = sampler.peaks()
    log("peak memory during the load: loader RSS %.2f GiB, server PSS %.2f GiB (RSS sum %.2f GiB), "
        "%d server processes, %d parallel workers"
        % (report["memory_peak"]["loader_rss_gib"], report["memory_peak"]["server_pss_sum_gib"],
           report["memory_peak"]["server_rss_sum_gib"], report["memory_peak"]["server_processes"],
           report["memory_peak"]["parallel_workers"]))
    return report


def _load(target, scale, seed, progress, log, build):
    from tqdm import tqdm

    gen = Generator(scale, seed)
    n = gen.n
    conn = target.superuser(autocommit=False)
    report = {"scale": scale, "seed": seed, "tables": {}, "phases": {}}
    t_all = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public.users")
        if cur.fetchone()[0]:
            raise SystemExit("database %s already has users: seed into an empty migrated database" % target.dbname)
        cur.execute("SET synchronous_commit = off")
    conn.commit()
    settings = build_settings(target, scale) if build == "sized" else dict(BEFORE_BUILD_SETTINGS)
    report["index_build_settings"] = settings
    apply_build_settings(conn, settings)

    before = _index_snapshot(conn)
    t0 = time.perf_counter()
    dropped = _drop_secondary_indexes(conn, LOAD_TABLES)
    report["phases"]["drop_secondary_indexes_s"] = round(time.perf_counter() - t0, 2)
    report["secondary_indexes_rebuilt"] = len(dropped)

    bar = None

    def table(name, columns, total, binary=None):
        nonlocal bar
        bar = tqdm(total=total, desc="%-20s" % name, unit="row", disable=not progress, leave=True,
                   mininterval=0.5, file=sys.stderr)
        return TableLoader(conn, name, columns, binary, bar)

    def finish(loader):
        loader.flush()
        t = time.perf_counter()
        conn.commit()
        loader.seconds += time.perf_counter() - t
        bar.close()
        report["tables"][loader.table] = {"rows": loader.loaded, "seconds": round(loader.seconds, 2),
                                          "rows_per_s": round(loader.loaded / max(loader.seconds, 1e-9))}

    t_gen = 0.0

    # users + profiles ------------------------------------------------------------------
    users = []
    ld = table("users", ["id", "cognito_sub", "email", "display_name", "role", "time_zone", "is_active",
                         "last_login_at", "created_at", "updated_at"], n["users"])
    for i in range(n["users"]):
        uid = gen.uuid()
        users.append(uid)
        created = gen.when(0, 300)
        role = "admin" if i % 200 == 199 else ("instructor" if i % 10 == 0 else "learner")
        ld.add((uid, "bench-sub-%07d" % i, "user%07d@bench.example.com" % i, "Bench User %d" % i, role,
                gen.rng.choice(TIME_ZONES), i % 50 != 0, created + datetime.timedelta(days=30), created, created))
    finish(ld)

    ld = table("user_profiles", ["user_id", "interests", "learning_style", "daily_goal_minutes",
                                 "learning_preferences", "personalisation"], n["users"])
    for uid in users:
        ld.add((uid, gen.rng.sample(TOPIC_NAMES, 3), gen.rng.choice(["visual", "reading", "mixed", None]),
                gen.rng.choice([10, 15, 30, 60]), {"pace": gen.rng.choice(["slow", "normal", "fast"])},
                {"analogy_domain": gen.rng.choice(["sports", "cooking", "music", "games"])}))
    finish(ld)

    # courses: owners drawn with weight 1/(rank+10) -> a few prolific authors -----------
    weights = [1.0 / (r + 10) for r in range(n["users"])]
    owners = gen.rng.choices(users, weights=weights, k=n["courses"])
    courses = []  # (id, owner, topic index, course vector)
    ld = table("courses", ["id", "owner_id", "title", "description", "language", "difficulty", "is_published",
                           "published_at", "created_at", "updated_at"], n["courses"])
    for i in range(n["courses"]):
        cid = gen.uuid()
        topic = gen.rng.randrange(len(TOPIC_NAMES))
        name = TOPIC_NAMES[topic]
        t = time.perf_counter()
        cvec = gen.centroids[topic] + gen.np.standard_normal(DIM).astype(np.float32) * SIGMA_COURSE
        t_gen += time.perf_counter() - t
        courses.append((cid, owners[i], topic, cvec))
        created = gen.when(0, 330)
        published = gen.rng.random() < 0.6
        title = "%s %s: %s %d" % (gen.rng.choice(LEVELS), name.title(), gen.words(name, 2).title(), i)
        ld.add((cid, owners[i], title, "A course on %s covering %s." % (name, gen.words(name, 12)), "en",
                gen.rng.randint(1, 5), published, created + datetime.timedelta(days=1) if published else None,
                created, created))
    finish(ld)

    # course_documents: loaded as queued, moved along valid transitions below -----------
    docs = []  # (doc id, course index)
    extra_docs = max(1, round(n["courses"] * n["documents_per_course"] * 0.05))
    total_docs = n["courses"] * n["documents_per_course"] + extra_docs
    ld = table("course_documents", ["id", "course_id", "uploaded_by", "s3_bucket", "s3_key", "original_filename",
                                    "content_type", "size_bytes", "checksum_sha256", "status", "page_count",
                                    "created_at", "updated_at"], total_docs)
    for d in range(total_docs):
        ci = d // n["documents_per_course"] if d < n["courses"] * n["documents_per_course"] else gen.rng.randrange(
            n["courses"])
        cid, owner = courses[ci][0], courses[ci][1]
        did = gen.uuid()
        docs.append((did, ci))
        created = gen.when(0, 340)
        ld.add((did, cid, owner, "sensa-bench-documents", "courses/%s/%s.pdf" % (cid, did), "part-%d.pdf" % d,
                "application/pdf", gen.rng.randint(10_000, 50_000_000), hashlib.sha256(did.bytes).hexdigest(),
                "queued", gen.rng.randint(1, 400), created, created))
    finish(ld)
    t = time.perf_counter()
    in_flight = [str(did) for did, _ in docs[n["courses"] * n["documents_per_course"]:]]
    with conn.cursor() as cur:
        # Valid transitions only (trigger 0003): queued -> processing -> processed; the extra
        # documents stay queued, some go processing, some fail.
        half = len(in_flight) // 2
        cur.execute("UPDATE public.course_documents SET status = 'processing' WHERE NOT (id = ANY(%s::uuid[]))",
                    (in_flight,))
        cur.execute("UPDATE public.course_documents SET status = 'processed' WHERE status = 'processing'")
        cur.execute("UPDATE public.course_documents SET status = 'processing' WHERE id = ANY(%s::uuid[])",
                    (in_flight[:half],))
        cur.execute("UPDATE public.course_documents SET status = 'failed', error_message = 'bench: parser timeout' "
                    "WHERE id = ANY(%s::uuid[])", (in_flight[: half // 2],))
    conn.commit()
    report["phases"]["document_status_transitions_s"] = round(time.perf_counter() - t, 2)

    # chapters + complexity ---------------------------------------------------------------
    chapters = []  # per course: list of (chapter id, doc id)
    ld = table("chapters", ["id", "course_id", "course_document_id", "position", "title", "summary", "word_count",
                            "start_page", "end_page"], n["courses"] * n["chapters_per_course"])
    for ci, (cid, _, topic, _) in enumerate(courses):
        mine = []
        for p in range(1, n["chapters_per_course"] + 1):
            chid = gen.uuid()
            doc = docs[ci * n["documents_per_course"] + (p - 1) % n["documents_per_course"]][0]
            mine.append((chid, doc))
            start = gen.rng.randint(1, 200)
            ld.add((chid, cid, doc, p, "Chapter %d: %s" % (p, gen.words(TOPIC_NAMES[topic], 3)),
                    "About " + gen.words(TOPIC_NAMES[topic], 20), gen.rng.randint(500, 8000), start,
                    start + gen.rng.randint(0, 30)))
        chapters.append(mine)
    finish(ld)
    ld = table("chapter_complexity", ["chapter_id", "complexity_score", "reading_level", "estimated_minutes",
                                      "vocabulary_density", "model_version"], n["courses"] * n["chapters_per_course"])
    for mine in chapters:
        for chid, _ in mine:
            ld.add((chid, round(gen.rng.uniform(5, 95), 2), round(gen.rng.uniform(4, 18), 1), gen.rng.randint(5, 90),
                    round(gen.rng.random(), 3), "bench-v1"))
    finish(ld)

    # processed_documents (binary COPY, embeddings) ----------------------------------------
    ld = table("processed_documents", ["id", "course_document_id", "chapter_id", "chunk_index", "content",
                                       "content_sha256", "token_count", "page_number", "embedding",
                                       "embedding_model", "metadata"],
               n["courses"] * n["chunks_per_course"],
               ["uuid", "uuid", "uuid", "int4", "text", "text", "int4", "int4", "vector", "text", "jsonb"])
    for ci, (cid, _, topic, cvec) in enumerate(courses):
        t = time.perf_counter()
        vecs = gen.items_near(cvec, n["chunks_per_course"])
        t_gen += time.perf_counter() - t
        for k in range(n["chunks_per_course"]):
            d = k % n["documents_per_course"]
            doc = docs[ci * n["documents_per_course"] + d][0]
            chid = chapters[ci][k * n["chapters_per_course"] // n["chunks_per_course"]][0]
            # ~1% of chunks repeat a boilerplate text (find_duplicate_chunks has something to find).
            text = ("Copyright notice of %s." % cid) if k in (0, 19) and ci % 50 == 0 else (
                "%s. %s" % (TOPIC_NAMES[topic].capitalize(), gen.words(TOPIC_NAMES[topic], 60)))
            ld.add((gen.uuid(), doc, chid, k // n["documents_per_course"], text,
                    hashlib.sha256(text.encode()).hexdigest(), gen.rng.randint(60, 512), gen.rng.randint(1, 300),
                    vecs[k], "bench-embed-768", {"source": "bench", "course": ci}))
    finish(ld)

    # keywords (binary COPY, embeddings) and relationships ----------------------------------
    keywords = []  # per course: list of keyword ids
    ld = table("keywords", ["id", "course_id", "chapter_id", "term", "definition", "frequency", "importance",
                            "embedding"], n["courses"] * n["keywords_per_course"],
               ["uuid", "uuid", "uuid", "text", "text", "int4", "float4", "vector"])
    for ci, (cid, _, topic, cvec) in enumerate(courses):
        t = time.perf_counter()
        vecs = gen.items_near(cvec, n["keywords_per_course"])
        t_gen += time.perf_counter() - t
        vocab = TOPICS[TOPIC_NAMES[topic]].split()
        terms = set()
        while len(terms) < n["keywords_per_course"]:
            a, b = gen.rng.sample(vocab, 2)
            terms.add("%s %s" % (a, b) if gen.rng.random() < 0.7 else a)
        mine = []
        for k, term in enumerate(sorted(terms)):
            kid = gen.uuid()
            mine.append(kid)
            ld.add((kid, cid, chapters[ci][k % n["chapters_per_course"]][0], term,
                    "In %s, %s relates to %s." % (TOPIC_NAMES[topic], term, gen.words(TOPIC_NAMES[topic], 6)),
                    gen.rng.randint(1, 200), round(gen.rng.random(), 3), vecs[k]))
        keywords.append(mine)
    finish(ld)
    ld = table("relationships", ["source_keyword_id", "target_keyword_id", "relationship_type", "weight"],
               n["courses"] * n["keywords_per_course"] * n["relationships_per_keyword"])
    types = ["related_to", "prerequisite_of", "part_of", "example_of", "contrasts_with", "synonym_of"]
    for mine in keywords:
        for k, src in enumerate(mine):
            for r in range(1, n["relationships_per_keyword"] + 1):
                ld.add((src, mine[(k + r) % len(mine)], types[(k + r) % len(types)], round(gen.rng.uniform(0.05, 1), 3)))
    finish(ld)

    # per-user tables (RLS-protected) ----------------------------------------------------------
    enrolled = {}
    ld = table("user_progress", ["user_id", "course_id", "completion_percent", "completed_chapter_ids",
                                 "last_activity_at", "badges", "total_time_seconds"], n["users"] * n["progress_per_user"])
    for uid in users:
        picks = gen.rng.sample(range(n["courses"]), n["progress_per_user"])
        enrolled[uid] = picks
        for ci in picks:
            pct = gen.rng.choice([0, 0, 10, 25, 50, 75, 90, 100])
            done = [c for c, _ in chapters[ci][: round(pct / 100 * n["chapters_per_course"])]]
            last = gen.when(200, 360) if pct else None
            badges = [{"code": "first_step"}] if pct else []
            if pct == 100:
                badges.append({"code": "finisher"})
            ld.add((uid, courses[ci][0], pct, done, last, Json(badges), gen.rng.randint(0, 36000) if pct else 0))
    finish(ld)

    kinds = ["highlight", "note", "question", "correction", "feedback"]
    ld = table("user_annotations", ["user_id", "course_id", "chapter_id", "annotation_type", "content", "anchor",
                                    "rating", "is_resolved"], n["users"] * n["annotations_per_user"])
    for uid in users:
        for _ in range(n["annotations_per_user"]):
            ci = gen.rng.choice(enrolled[uid])
            ld.add((uid, courses[ci][0], gen.rng.choice(chapters[ci])[0], gen.rng.choice(kinds),
                    "Note on " + gen.words(TOPIC_NAMES[courses[ci][2]], 8), {"offset": gen.rng.randint(0, 5000)},
                    gen.rng.choice([None, 3, 4, 5]), gen.rng.random() < 0.3))
    finish(ld)

    # analogy_feedback: analogies drawn from a pool so several users rate the same one and the
    # consensus trigger (kept on) has work to do.
    pool = max(10, n["users"] * n["feedback_per_user"] // 4)
    ld = table("analogy_feedback", ["user_id", "course_id", "analogy_hash", "analogy_text", "rating", "helpful"],
               n["users"] * n["feedback_per_user"])
    for uid in users:
        for a in gen.rng.sample(range(pool), n["feedback_per_user"]):
            ci = a % n["courses"]
            helpful = gen.rng.random() < 0.7
            ld.add((uid, courses[ci][0], hashlib.sha256(b"analogy-%d" % a).hexdigest(),
                    "Think of %s like a %s." % (TOPIC_NAMES[courses[ci][2]], gen.rng.choice(["river", "kitchen", "game"])),
                    gen.rng.randint(3, 5) if helpful else gen.rng.randint(1, 3), helpful))
    finish(ld)

    # indexes back, exactly as they were -------------------------------------------------------
    t = time.perf_counter()
    rebuild = {}
    with conn.cursor() as cur:
        for name, ddl in tqdm(dropped, desc="%-20s" % "rebuild indexes", unit="idx", disable=not progress,
                              file=sys.stderr):
            ti = time.perf_counter()
            del conn.notices[:]
            cur.execute(ddl)
            conn.commit()
            rebuild[name] = round(time.perf_counter() - ti, 2)
            notices = _build_notices(conn)
            if notices:
                report.setdefault("index_build_notices", {})[name] = notices
    report["phases"]["rebuild_secondary_indexes_s"] = round(time.perf_counter() - t, 2)
    report["index_build_s"] = {k: v for k, v in sorted(rebuild.items(), key=lambda kv: -kv[1])[:6]}
    after = _index_snapshot(conn)
    if before != after:
        raise SystemExit("index set after the load differs from before it: %s" % sorted(set(before) ^ set(after)))
    conn.close()

    t = time.perf_counter()
    vconn = target.superuser(autocommit=True)
    with vconn.cursor() as cur:
        for name in LOAD_TABLES:
            cur.execute("VACUUM (ANALYZE) public.%s" % name)
    vconn.close()
    report["phases"]["vacuum_analyze_s"] = round(time.perf_counter() - t, 2)
    report["phases"]["embedding_generation_s"] = round(t_gen, 2)
    report["phases"]["copy_total_s"] = round(sum(v["seconds"] for v in report["tables"].values()), 2)
    report["total_s"] = round(time.perf_counter() - t_all, 2)
    report["rows_total"] = sum(v["rows"] for v in report["tables"].values())
    conn = target.superuser()
    with conn.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database())), "
                    "pg_size_pretty(pg_relation_size('public.processed_documents_embedding_hnsw')), "
                    "pg_size_pretty(pg_total_relation_size('public.processed_documents'))")
        report["database_size"], report["hnsw_documents_size"], report["processed_documents_total_size"] = cur.fetchone()
    conn.close()
    log("loaded %d rows in %.1f s (COPY %.1f s, index rebuild %.1f s, vacuum/analyze %.1f s); database %s"
        % (report["rows_total"], report["total_s"], report["phases"]["copy_total_s"],
           report["phases"]["rebuild_secondary_indexes_s"], report["phases"]["vacuum_analyze_s"],
           report["database_size"]))
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--local-dir", default=common.DEFAULT_LOCAL_DIR,
                        help="sensa_local_dir of the site.yml run whose cluster to load (default .local/bench)")
    parser.add_argument("--dbname", default=common.DATABASE)
    parser.add_argument("--report", help="write the load report (JSON) here")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--build", choices=("sized", "before"), default="sized",
                        help="index build settings: sized to the data (default) or those used before issue 17")
    args = parser.parse_args(argv)
    target = common.Target(common.local_cluster(os.path.abspath(args.local_dir)), args.dbname)
    report = load(target, args.scale, args.seed, progress=not args.no_progress, build=args.build)
    print(json.dumps(report, indent=2))
    if args.report:
        with open(args.report, "w") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
