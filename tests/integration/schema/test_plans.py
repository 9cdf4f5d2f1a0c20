"""The plans the application role gets: HNSW for similarity, trigram and owner indexes for search.

Plans are read as the application role with RLS in force (a superuser bypasses RLS and would
get plans the application never sees). auto_explain, switched on for the test login in this
database only, reports the plan of the statement inside each function as a NOTICE.
"""

import re
import uuid

import pytest
from sensa_schema_helpers import SchemaDatabase, session, superuser, vec


@pytest.fixture(scope="module")
def explained(shared_db):
    role, name = shared_db.roles.app, shared_db.name
    settings = {"session_preload_libraries": "auto_explain", "auto_explain.log_min_duration": "0",
                "auto_explain.log_nested_statements": "on", "auto_explain.log_level": "notice"}
    for login in (role, shared_db.roles.admin):
        shared_db.psql("".join("ALTER ROLE %s IN DATABASE %s SET %s = '%s';" % (login, name, k, v)
                               for k, v in settings.items()))
    # Enough rows that an index is worth it; plans are also checked with seq scans discouraged.
    shared_db.psql("ANALYZE")
    yield shared_db
    for login in (role, shared_db.roles.admin):
        shared_db.psql("ALTER ROLE %s IN DATABASE %s RESET ALL" % (login, name))


def plans_of(db, user, sql, params=None, off=("seqscan",), role=None):
    """Plans of ``sql`` and the statements inside it. The data set is tiny, so the planner
    is told to avoid the plan shapes that only win on tiny tables (``off``): what is left
    shows whether an index path exists at all for the application role under RLS."""
    with session(db, role or db.roles.app, user) as cur:
        for setting in off:
            cur.execute("SET LOCAL enable_%s = off" % setting)
        del cur.connection.notices[:]
        cur.execute(sql, params)
        cur.fetchall()
        text = "\n".join(cur.connection.notices)
        cur.execute("EXPLAIN " + sql, params)
        text += "\n".join(r[0] for r in cur.fetchall())
    return text


def test_find_similar_documents_uses_hnsw(explained):
    d = explained.data
    plan = plans_of(explained, d.a, "SELECT * FROM find_similar_documents(%s, 5)", (vec(d.vectors[d.chunks["a"][0]]),),
                    off=("seqscan", "sort"))
    assert "processed_documents_embedding_hnsw" in plan, plan


def test_find_similar_keywords_uses_hnsw(explained):
    d = explained.data
    plan = plans_of(explained, d.a, "SELECT * FROM find_similar_keywords(%s, 5, 0, %s)",
                    (vec(d.vectors[d.chunks["a"][0]]), d.course_a), off=("seqscan", "sort"))
    assert "keywords_embedding_hnsw" in plan, plan


def test_search_keywords_uses_the_trigram_index_for_callers_who_see_every_course(explained):
    """Admin and analytics search every keyword: the trigram index. (An ordinary user's search is
    driven from their own courses instead, see test_search_keywords_starts_from_the_callers_courses.)"""
    d = explained.data
    plan = plans_of(explained, d.a, "SELECT * FROM search_keywords('neural')", off=("seqscan", "indexscan"),
                    role=explained.roles.admin)
    assert "keywords_term_trgm" in plan, plan


def test_search_courses_keeps_an_index_under_rls(explained):
    d = explained.data
    plan = plans_of(explained, d.a, "SELECT * FROM search_courses(%s, 'algebra')", (d.a,))
    assert "courses_owner_id_" in plan and "Seq Scan on courses" not in plan, plan


def test_why_search_courses_filters_by_owner(explained):
    """Control: under RLS a bare trigram filter on courses cannot use its index (% is not leakproof)."""
    d = explained.data
    plan = plans_of(explained, d.a, "SELECT id FROM courses WHERE title % 'algebra'",
                    off=("seqscan", "indexscan"))
    assert "courses_title_trgm" not in plan, plan


def test_rls_tables_use_the_owner_index_for_own_rows(explained):
    d = explained.data
    for sql in ("SELECT * FROM user_progress WHERE user_id = %s", "SELECT * FROM user_annotations WHERE user_id = %s",
                "SELECT * FROM analogy_feedback WHERE user_id = %s", "SELECT * FROM courses WHERE owner_id = %s",
                "SELECT * FROM user_profiles WHERE user_id = %s"):
        plan = plans_of(explained, d.a, sql, (d.a,))
        assert "Index" in plan and "Seq Scan" not in plan, (sql, plan)


# The owner condition written out (0005) -----------------------------------------------
#
# The courses policy is "owner OR admin OR analytics"; an OR of InitPlans is never an index
# condition, so a query that leaves "a course the caller can see" to RLS alone walks every
# user's rows. find_similar_documents, find_similar_keywords and search_keywords therefore
# repeat c.owner_id = current_user_id() for ordinary users. These tests use a database where
# another author owns almost everything (as at scale), with default planner settings, so the
# plans are the ones the planner really picks.

CROWD_COURSES = 1500


@pytest.fixture(scope="module")
def crowded(pg_server, schema_template, roles):
    """The fixture data set plus CROWD_COURSES courses of another author, each with a document,
    two chunks and two keywords (random embeddings), analysed; auto_explain on for the app login."""
    name = "t_" + uuid.uuid4().hex[:12]
    pg_server.create_database(name, template=schema_template)
    db = SchemaDatabase(pg_server, name, pg_server.superuser_password, roles).seeded()
    db.psql("""
        INSERT INTO users (cognito_sub, email, display_name) VALUES ('sub-crowd', 'crowd@example.com', 'Crowd');
        INSERT INTO courses (owner_id, title, description)
             SELECT u.id, 'Crowd course ' || g, 'Filler' FROM users u, generate_series(1, %(n)d) g
              WHERE u.cognito_sub = 'sub-crowd';
        INSERT INTO course_documents (course_id, s3_bucket, s3_key, original_filename, content_type, size_bytes)
             SELECT c.id, 'sensa-docs', 'crowd/' || c.id || '.pdf', 'c.pdf', 'application/pdf', 1000
               FROM courses c JOIN users u ON u.id = c.owner_id WHERE u.cognito_sub = 'sub-crowd';
        CREATE TEMP TABLE v AS
             SELECT i, (SELECT array_agg(random() - 0.5)::real[]::vector FROM generate_series(1, 768) WHERE i > 0) AS e
               FROM generate_series(1, 64) i;
        INSERT INTO processed_documents (course_document_id, chunk_index, content, content_sha256, token_count,
                                         embedding, embedding_model)
             SELECT d.id, g, 'crowd ' || d.id || ' ' || g, md5(d.id::text || g) || md5(g || d.id::text), 10,
                    (SELECT e FROM v WHERE v.i = 1 + (abs(hashtext(d.id::text || g)) %% 64)), 'test-model'
               FROM course_documents d JOIN courses c ON c.id = d.course_id
               JOIN users u ON u.id = c.owner_id, generate_series(1, 2) g
              WHERE u.cognito_sub = 'sub-crowd';
        INSERT INTO keywords (course_id, term, definition, embedding)
             SELECT c.id, t.term || ' ' || md5(c.id::text), 'def',
                    (SELECT e FROM v WHERE v.i = 1 + (abs(hashtext(c.id::text || t.term)) %% 64))
               FROM courses c JOIN users u ON u.id = c.owner_id,
                    (VALUES ('topic'), ('idea')) AS t(term)
              WHERE u.cognito_sub = 'sub-crowd';
        VACUUM ANALYZE;
    """ % {"n": CROWD_COURSES})
    settings = {"session_preload_libraries": "auto_explain", "auto_explain.log_min_duration": "0",
                "auto_explain.log_nested_statements": "on", "auto_explain.log_level": "notice"}
    for role in (roles.app, roles.admin):
        db.psql("".join("ALTER ROLE %s IN DATABASE %s SET %s = '%s';" % (role, name, k, v)
                        for k, v in settings.items()))
    try:
        yield db
    finally:
        for role in (roles.app, roles.admin):
            db.psql("ALTER ROLE %s IN DATABASE %s RESET ALL" % (role, name))
        pg_server.drop_database(name)


def plan_as(db, role, user, sql, params=None, discourage=()):
    with session(db, role, user) as cur:
        for setting in discourage:
            cur.execute("SET LOCAL enable_%s = off" % setting)
        del cur.connection.notices[:]
        cur.execute(sql, params)
        rows = cur.fetchall()
        return "\n".join(cur.connection.notices), rows


OWNER_INDEX_COND = re.compile(r"Index Scan (?:Backward )?(?:using|on) courses_owner_id_\w+.*\n(?:.*\n)*?\s*Index Cond: "
                              r"\(owner_id = ")


def test_find_similar_documents_starts_from_the_callers_courses(crowded):
    d = crowded.data
    plan, rows = plan_as(crowded, crowded.roles.app, d.a, "SELECT * FROM find_similar_documents(%s, 10, -1)",
                         (vec(d.vectors[d.chunks["a"][0]]),))
    assert OWNER_INDEX_COND.search(plan), plan
    assert "Seq Scan on processed_documents" not in plan and "Seq Scan on courses" not in plan, plan
    assert len(rows) == 10 and {r[2] for r in rows} == {d.course_a}


def test_find_similar_keywords_starts_from_the_callers_courses(crowded):
    d = crowded.data
    plan, rows = plan_as(crowded, crowded.roles.app, d.a, "SELECT * FROM find_similar_keywords(%s, 10, -1)",
                         (vec(d.vectors[d.chunks["a"][0]]),))
    assert OWNER_INDEX_COND.search(plan), plan
    assert "Seq Scan on keywords" not in plan, plan
    assert {r[1] for r in rows} == {d.course_a}


def test_search_keywords_starts_from_the_callers_courses(crowded):
    d = crowded.data
    plan, rows = plan_as(crowded, crowded.roles.app, d.a, "SELECT * FROM search_keywords('neural network')")
    assert OWNER_INDEX_COND.search(plan), plan
    assert "Seq Scan on keywords" not in plan, plan
    assert [r[2] for r in rows] == ["Neural Network", "neural networks"]


def test_admin_search_keeps_hnsw_over_every_row(crowded):
    """Admin (and analytics) see every course: the unrestricted statement (never the owner index),
    with an HNSW path. Since 0008 both functions search with hnsw.ef_search = 400, which on this
    3,024-chunk table costs about as much as reading every row, so the planner ranks them exactly
    (right at this size; at s=1 and above it picks HNSW: bench/results); with sequential scans and
    sorts discouraged it takes the HNSW path, which shows that the path exists."""
    d = crowded.data
    query = vec(d.vectors[d.chunks["a"][0]])
    plan, rows = plan_as(crowded, crowded.roles.admin, d.a, "SELECT * FROM find_similar_documents(%s, 10)", (query,))
    assert "courses_owner_id_" not in plan, plan
    assert rows[0][0] == d.chunks["a"][0]
    plan, hnsw_rows = plan_as(crowded, crowded.roles.admin, d.a, "SELECT * FROM find_similar_documents(%s, 10)",
                              (query,), discourage=("seqscan", "sort"))
    assert "processed_documents_embedding_hnsw" in plan and "courses_owner_id_" not in plan, plan
    assert hnsw_rows[0][0] == d.chunks["a"][0]
    plan, _rows = plan_as(crowded, crowded.roles.admin, d.a, "SELECT * FROM find_similar_keywords(%s, 10)",
                          (query,), discourage=("seqscan", "sort"))
    assert "keywords_embedding_hnsw" in plan, plan
    # (on this small table a sequential scan beats the trigram index; test_search_keywords_uses_the_trigram_
    # index_for_callers_who_see_every_course shows that the path exists)
    plan, rows = plan_as(crowded, crowded.roles.admin, d.a, "SELECT * FROM search_keywords('neural network')")
    assert "courses_owner_id_" not in plan, plan
    assert {r[1] for r in rows} == {d.course_a, d.course_b}


POOL_ROWS = re.compile(r"CTE pool\n\s*->  Limit  \(cost=[^)]*\) \(actual time=[^ ]+ rows=(\d+)")


def pool_rows(plan):
    match = POOL_ROWS.search(plan)
    assert match, plan
    return int(match.group(1))


def test_admin_search_ranks_its_whole_candidate_pool(crowded):
    """0009: over every row, find_similar_documents ranks a pool of HNSW candidates exactly (1 in 75
    chunks, 400 to 4,000). The pool must be read whole: ordered by the scan's own distance
    expression, an incremental sort would stop after match_count + 1 rows (seen while writing
    0009), and the function would be the bare first-10 HNSW scan again. Sequential scans are not
    discouraged by the caller: the function keeps the HNSW path itself, and leaves the caller's
    setting as it was."""
    d = crowded.data
    query = vec(d.vectors[d.chunks["a"][0]])
    admin, name = crowded.roles.admin, crowded.name
    chunks = crowded.query("SELECT count(*) FROM processed_documents WHERE embedding IS NOT NULL")[0][0]
    assert int(crowded.query("SELECT reltuples FROM pg_class WHERE oid = 'processed_documents'::regclass")[0][0]) \
        // 75 < 400 < chunks  # this table: the smallest pool, 400
    crowded.psql("ALTER ROLE %s IN DATABASE %s SET auto_explain.log_analyze = 'on'" % (admin, name))
    try:
        with session(crowded, admin, d.a) as cur:
            del cur.connection.notices[:]
            cur.execute("SELECT document_id FROM find_similar_documents(%s, 10)", (query,))
            rows = cur.fetchall()
            plan = "\n".join(cur.connection.notices)
            cur.execute("SHOW enable_seqscan")
            assert cur.fetchone()[0] == "on"
    finally:
        crowded.psql("ALTER ROLE %s IN DATABASE %s RESET auto_explain.log_analyze" % (admin, name))
    assert "processed_documents_embedding_hnsw" in plan, plan
    assert pool_rows(plan) == 400
    exact = crowded.query("SELECT id FROM processed_documents WHERE embedding IS NOT NULL "
                          "ORDER BY 1 - (embedding <=> %s::vector) DESC, id LIMIT 10", (query,))
    assert [r[0] for r in rows] == [r[0] for r in exact]

    # A caller who turns index scans off gets the exact scan (bench/run.py's truth is made so).
    with session(crowded, admin, d.a) as cur:
        cur.execute("SET LOCAL enable_indexscan = off")
        del cur.connection.notices[:]
        cur.execute("SELECT document_id FROM find_similar_documents(%s, 10)", (query,))
        assert [r[0] for r in cur.fetchall()] == [r[0] for r in exact]
        exact_plan = "\n".join(cur.connection.notices)
        assert "Seq Scan on processed_documents" in exact_plan and "embedding_hnsw" not in exact_plan, exact_plan

    # A table pg_class counts at 150,000 chunks gets a pool of 2,000: past the 400 of the search
    # list, which only pgvector 0.8's iterative scan walks (without it the scan ends at 400).
    version = crowded.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'")[0][0]
    iterative = tuple(int(x) for x in version.split("-")[0].split(".")) >= (0, 8, 0)
    with superuser(crowded) as cur:
        cur.execute("UPDATE pg_class SET reltuples = 150000 WHERE oid = 'processed_documents'::regclass")
        for setting in ("LOAD 'auto_explain'", "SET LOCAL auto_explain.log_min_duration = 0",
                        "SET LOCAL auto_explain.log_nested_statements = on", "SET LOCAL auto_explain.log_analyze = on",
                        "SET LOCAL auto_explain.log_level = notice"):
            cur.execute(setting)
        del cur.connection.notices[:]
        cur.execute("SELECT document_id FROM find_similar_documents(%s, 10)", (query,))
        assert [r[0] for r in cur.fetchall()] == [r[0] for r in exact]
        assert pool_rows("\n".join(cur.connection.notices)) == (2000 if iterative else 400)


def test_the_policy_alone_is_an_index_condition(crowded):
    """The seed's own example (set the context, then SELECT * FROM courses) and a statement that
    leaves visibility to RLS alone: since 0006 the application policies are scoped TO sensa_app
    (not OR-ed with the admin/analytics ones), so the owner test is an index condition."""
    d = crowded.data
    plan, rows = plan_as(crowded, crowded.roles.app, d.a, "EXPLAIN SELECT * FROM courses")
    plan = "\n".join(r[0] for r in rows)
    assert "Seq Scan on courses" not in plan and "Index Cond: (owner_id = " in plan, plan
    plan, rows = plan_as(crowded, crowded.roles.app, d.a, """
        EXPLAIN SELECT k.id FROM keywords k
         WHERE k.term %% %s AND EXISTS (SELECT 1 FROM courses c WHERE c.id = k.course_id)""",
                         ("neural network",))
    plan = "\n".join(r[0] for r in rows)
    assert "Index Cond: (owner_id = " in plan and "Seq Scan on keywords" not in plan, plan
