"""The plans the application role gets: HNSW for similarity, trigram and owner indexes for search.

Plans are read as the application role with RLS in force (a superuser bypasses RLS and would
get plans the application never sees). auto_explain, switched on for the test login in this
database only, reports the plan of the statement inside each function as a NOTICE.
"""

import pytest
from sensa_schema_helpers import session, vec


@pytest.fixture(scope="module")
def explained(shared_db):
    role, name = shared_db.roles.app, shared_db.name
    settings = {"session_preload_libraries": "auto_explain", "auto_explain.log_min_duration": "0",
                "auto_explain.log_nested_statements": "on", "auto_explain.log_level": "notice"}
    shared_db.psql("".join("ALTER ROLE %s IN DATABASE %s SET %s = '%s';" % (role, name, k, v)
                           for k, v in settings.items()))
    # Enough rows that an index is worth it; plans are also checked with seq scans discouraged.
    shared_db.psql("ANALYZE")
    yield shared_db
    shared_db.psql("ALTER ROLE %s IN DATABASE %s RESET ALL" % (role, name))


def plans_of(db, user, sql, params=None, off=("seqscan",)):
    """Plans of ``sql`` and the statements inside it. The data set is tiny, so the planner
    is told to avoid the plan shapes that only win on tiny tables (``off``): what is left
    shows whether an index path exists at all for the application role under RLS."""
    with session(db, db.roles.app, user) as cur:
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


def test_search_keywords_uses_the_trigram_index(explained):
    d = explained.data
    plan = plans_of(explained, d.a, "SELECT * FROM search_keywords('neural')", off=("seqscan", "indexscan"))
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
