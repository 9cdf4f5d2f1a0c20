"""Correct answers from the 0005 functions on the fixture data set."""

import psycopg2
import pytest
from sensa_schema_helpers import basis, session, sha, superuser, vec


def rows(cur, sql, params=None):
    cur.execute(sql, params)
    return cur.fetchall()


def test_cosine_similarity(shared_db):
    with superuser(shared_db) as cur:
        a, b = vec(basis(0)), vec(basis(1))
        got = rows(cur, "SELECT cosine_similarity(%s, %s), cosine_similarity(%s, %s), "
                        "cosine_similarity(%s, %s)", (a, a, a, b, a, vec(basis(0, -2.0))))[0]
        assert got == pytest.approx((1.0, 0.0, -1.0))
        assert rows(cur, "SELECT cosine_similarity(NULL, %s)", (a,)) == [(None,)]


def exact_top(cur, q, k, course=None):
    cur.execute("SET LOCAL enable_indexscan = off")
    cur.execute("SELECT pd.id, 1 - (pd.embedding <=> %s) FROM processed_documents pd "
                "JOIN course_documents d ON d.id = pd.course_document_id "
                "WHERE %s::uuid IS NULL OR d.course_id = %s ORDER BY pd.embedding <=> %s, pd.id LIMIT %s",
                (q, course, course, q, k))
    out = cur.fetchall()
    cur.execute("SET LOCAL enable_indexscan = on")
    return out


@pytest.mark.parametrize("k", [1, 5, 24])
def test_find_similar_documents_agrees_with_an_exact_scan(shared_db, k):
    d = shared_db.data
    q = vec(d.vectors[d.chunks["a"][3]])
    with superuser(shared_db) as cur:
        got = rows(cur, "SELECT document_id, similarity FROM find_similar_documents(%s, %s, -1)", (q, k))
        want = exact_top(cur, q, k)
        assert [r[0] for r in got] == [r[0] for r in want]
        assert [r[1] for r in got] == pytest.approx([r[1] for r in want])
        assert got[0][0] == d.chunks["a"][3] and got[0][1] == pytest.approx(1.0)
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        got = rows(cur, "SELECT document_id FROM find_similar_documents(%s, %s, -1)", (q, k))
    with superuser(shared_db) as cur:
        assert got == [(r[0],) for r in exact_top(cur, q, k, d.course_a)]


def test_find_similar_documents_threshold(shared_db):
    d = shared_db.data
    q = vec(d.vectors[d.chunks["b"][0]])
    with superuser(shared_db) as cur:
        got = rows(cur, "SELECT similarity FROM find_similar_documents(%s, 50, 0.05)", (q,))
        want = [r for r in exact_top(cur, q, 50) if r[1] >= 0.05]
        assert len(got) == len(want) and all(s >= 0.05 for s, in got)
        assert rows(cur, "SELECT count(*) FROM find_similar_documents(%s, 50, 0.999)", (q,)) == [(1,)]


@pytest.mark.parametrize("args,message", [
    ("NULL::vector, 5, 0", "query_embedding"), ("%(q)s, 0, 0", "match_count"), ("%(q)s, 1001, 0", "match_count"),
    ("%(q)s, 5, 1.5", "similarity_threshold"),
])
def test_similarity_arguments_are_validated(shared_db, args, message):
    with superuser(shared_db) as cur:
        with pytest.raises(psycopg2.errors.InvalidParameterValue, match=message):
            cur.execute("SELECT * FROM find_similar_documents(%s)" % args, {"q": vec(basis(0))})


def test_find_similar_keywords_with_course_filter(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        q, = rows(cur, "SELECT embedding::text FROM keywords WHERE id = %s", (d.kw[("b", "Eigenvalue")],))[0]
        got = rows(cur, "SELECT keyword_id, course_id FROM find_similar_keywords(%s, 3, -1, %s)", (q, d.course_b))
        assert got[0][0] == d.kw[("b", "Eigenvalue")] and {r[1] for r in got} == {d.course_b} and len(got) == 3
        cur.execute("SET LOCAL enable_indexscan = off")
        want = rows(cur, "SELECT id FROM keywords ORDER BY embedding <=> %s, id LIMIT 8", (q,))
        cur.execute("SET LOCAL enable_indexscan = on")
        got = rows(cur, "SELECT keyword_id FROM find_similar_keywords(%s, 8, -1)", (q,))
        assert got == want


def test_get_course_stats(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        cur.execute("INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type, weight) "
                    "VALUES (%s, %s, 'prerequisite_of', 0.9)", (d.kw[("a", "Eigenvalue")], d.kw[("a", "Neural Network")]))
        cur.execute("UPDATE course_documents SET status = 'queued' WHERE id = %s", (d.doc["a"],))
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        cur.execute("INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type) "
                    "VALUES (%s, %s, 'related_to')", (d.kw[("a", "Eigenvalue")], d.kw[("a", "Gradient Descent")]))
        cur.execute("SELECT * FROM get_course_stats(%s)", (d.course_a,))
        names = [c.name for c in cur.description]
        stats = dict(zip(names, cur.fetchone()))
    assert stats == {
        "course_id": d.course_a, "document_count": 1, "documents_processed": 0, "documents_in_flight": 1,
        "documents_failed": 0, "total_size_bytes": 1000, "chapter_count": 1, "chunk_count": 12,
        "embedded_chunk_count": 12, "total_tokens": 120, "keyword_count": 4, "relationship_count": 1,
        "learner_count": 1, "completed_learner_count": 0, "avg_completion_percent": 40,
    }


def test_get_user_progress_summary_and_broken_streaks(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        cur.execute("INSERT INTO user_progress (user_id, course_id, completion_percent, last_activity_at, badges, "
                    "total_time_seconds, completed_chapter_ids) VALUES (%s, %s, 100, now() - interval '5 days', "
                    "'[{\"id\": \"first\"}]', 600, ARRAY[%s]::uuid[])", (d.a, d.course_b, d.chapter_b))
        cur.execute("UPDATE user_progress SET last_activity_at = now(), total_time_seconds = 60 WHERE id = %s",
                    (d.progress_a,))
        cur.connection.commit()
    try:
        with session(shared_db, shared_db.roles.app, d.a) as cur:
            got = rows(cur, "SELECT courses_total, courses_in_progress, courses_completed, avg_completion_percent, "
                            "chapters_completed, current_streak, longest_streak, total_time_seconds, badge_count "
                            "FROM get_user_progress_summary(%s)", (d.a,))
            assert got == [(2, 1, 1, 70, 1, 1, 1, 660, 1)]
        with superuser(shared_db) as cur:
            # The user's last active day is 3 days ago: the streak is broken, so it reads 0.
            cur.execute("UPDATE user_progress SET last_activity_at = now() - interval '3 days' WHERE id = %s",
                        (d.progress_a,))
            cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute("UPDATE user_progress SET last_activity_date = current_date - 3 WHERE user_id = %s", (d.a,))
            # The summary reads the streak over all courses (user_streaks, 0006).
            cur.execute("UPDATE user_streaks SET last_activity_date = current_date - 3 WHERE user_id = %s", (d.a,))
            assert rows(cur, "SELECT current_streak, longest_streak FROM get_user_progress_summary(%s)",
                        (d.a,)) == [(0, 1)]
    finally:
        shared_db.query("DELETE FROM user_progress WHERE user_id = %s AND course_id = %s", (d.a, d.course_b))


def test_get_learning_statistics(shared_db):
    d = shared_db.data
    with session(shared_db, shared_db.roles.app, d.b) as cur:
        cur.execute("INSERT INTO user_annotations (user_id, course_id, annotation_type, content) "
                    "VALUES (%s, %s, 'question', 'why?'), (%s, %s, 'highlight', 'this')",
                    (d.b, d.course_b, d.b, d.course_b))
        got = rows(cur, "SELECT annotations_total, annotations_by_type, open_questions, feedback_total, "
                        "avg_feedback_rating, helpful_ratio, active_courses FROM get_learning_statistics(%s)", (d.b,))
        assert got == [(3, {"question": 2, "highlight": 1}, 2, 1, 2, 0, 1)]
        got = rows(cur, "SELECT annotations_total FROM get_learning_statistics(%s, now() + interval '1 day')", (d.b,))
        assert got == [(0,)]


def test_get_feedback_analysis(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        for user, helpful, rating in ((d.b, True, 4), (d.c, True, 3), (d.d, False, 1)):
            cur.execute("INSERT INTO analogy_feedback (user_id, course_id, analogy_hash, analogy_text, rating, helpful) "
                        "VALUES (%s, %s, %s, 'like a river', %s, %s)", (user, d.course_a, sha("river"), rating, helpful))
        got = rows(cur, "SELECT * FROM get_feedback_analysis(%s)", (d.course_a,))
        assert got == [(sha("river"), d.course_a, 4, 4, pytest.approx(3.25), 3, 1, pytest.approx(0.75), True, True)]
        assert rows(cur, "SELECT count(*) FROM get_feedback_analysis(NULL, 5)") == [(0,)]


def test_search_courses_ranks_by_relevance(shared_db):
    d = shared_db.data
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        cur.execute("INSERT INTO courses (owner_id, title, description) VALUES "
                    "(%s, 'Algebraic Geometry', NULL), (%s, 'Painting', 'colour and algebra of light')", (d.a, d.a))
        got = rows(cur, "SELECT title, relevance FROM search_courses(%s, 'algebra')", (d.a,))
        titles = [t for t, _rank in got]
        assert titles[0] == "Linear Algebra Basics" and "Cooking for Engineers" not in titles
        assert set(titles) == {"Linear Algebra Basics", "Algebraic Geometry", "Painting"}
        assert [r for _title, r in got] == sorted([r for _title, r in got], reverse=True)
        assert rows(cur, "SELECT count(*) FROM search_courses(%s, '   ')", (d.a,)) == [(0,)]
        assert rows(cur, "SELECT count(*) FROM search_courses(%s, 'algebra', 1)", (d.a,)) == [(1,)]


def test_search_keywords_ranks_by_similarity(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        got = rows(cur, "SELECT term, course_id, relevance FROM search_keywords('neural network', %s)", (d.course_a,))
        assert [g[0] for g in got] == ["Neural Network", "neural networks"]
        assert got[0][2] == pytest.approx(1.0) and got[1][2] < 1
        assert {g[1] for g in rows(cur, "SELECT term, course_id FROM search_keywords('eigenvalue')")} == {
            d.course_a, d.course_b}
        assert rows(cur, "SELECT count(*) FROM search_keywords('zzzzqqq')") == [(0,)]


def test_deduplication_helpers(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        assert rows(cur, "SELECT normalize_text(%s)", ("  Neural \t NETWORK\n",)) == [("neural network",)]
        pairs = rows(cur, "SELECT term, duplicate_term FROM find_duplicate_keywords(%s)", (d.course_a,))
        assert [sorted(p) for p in pairs] == [["Neural Network", "neural networks"]]
        cur.execute("INSERT INTO processed_documents (course_document_id, chunk_index, content, content_sha256, "
                    "token_count) VALUES (%s, 100, 'chunk a 0', %s, 3)", (d.doc["a"], sha("chunk a 0")))
        got = rows(cur, "SELECT content_sha256, occurrences, chunk_ids[1] FROM find_duplicate_chunks(%s)", (d.course_a,))
        assert got == [(sha("chunk a 0"), 2, d.chunks["a"][0])]


def test_generate_cache_key(shared_db):
    with superuser(shared_db) as cur:
        k1, k2, k3, k4, k5 = rows(cur, "SELECT generate_cache_key('analogy', 'a', 'b'), generate_cache_key('analogy', "
                                       "'a,b'), generate_cache_key('analogy', 'a', 'b'), generate_cache_key('analogy', "
                                       "NULL), generate_cache_key('analogy', 'NULL')")[0]
        assert k1 == k3 and len({k1, k2, k4, k5}) == 4
        assert k1.startswith("analogy:v1:") and len(k1) == len("analogy:v1:") + 64
        with pytest.raises(psycopg2.errors.InvalidParameterValue):
            cur.execute("SELECT generate_cache_key('Bad Namespace', 'x')")


# Ordinary users get the owner condition written out; admin and analytics the unrestricted
# statement (0005). Both must return exactly what RLS alone allows.

RLS_ALONE = {
    "documents": ("SELECT pd.id FROM processed_documents pd JOIN course_documents d ON d.id = pd.course_document_id "
                  "WHERE EXISTS (SELECT 1 FROM courses c WHERE c.id = d.course_id) "
                  "ORDER BY pd.embedding <=> %(q)s, pd.id LIMIT 100"),
    "keywords": ("SELECT k.id FROM keywords k WHERE EXISTS (SELECT 1 FROM courses c WHERE c.id = k.course_id) "
                 "ORDER BY k.embedding <=> %(q)s, k.id LIMIT 100"),
    "search": ("SELECT k.id FROM keywords k WHERE k.term %% %(term)s "
               "AND EXISTS (SELECT 1 FROM courses c WHERE c.id = k.course_id) "
               "ORDER BY similarity(k.term, %(term)s) DESC, k.term, k.id LIMIT 100"),
}
FUNCTIONS = {
    "documents": "SELECT document_id FROM find_similar_documents(%(q)s, 100, -1)",
    "keywords": "SELECT keyword_id FROM find_similar_keywords(%(q)s, 100, -1)",
    "search": "SELECT keyword_id FROM search_keywords(%(term)s, NULL, 100)",
}


@pytest.mark.parametrize("who", ["app_a", "app_b", "app_no_context", "admin", "readonly"])
@pytest.mark.parametrize("what", sorted(FUNCTIONS))
def test_functions_return_what_rls_alone_allows(shared_db, who, what):
    d = shared_db.data
    role = {"admin": shared_db.roles.admin, "readonly": shared_db.roles.readonly}.get(who, shared_db.roles.app)
    user = {"app_a": d.a, "app_b": d.b, "app_no_context": None}.get(who, d.a)
    params = {"q": vec(d.vectors[d.chunks["b"][5]]), "term": "neural network"}
    with session(shared_db, role, user) as cur:
        got = rows(cur, FUNCTIONS[what], params)
        cur.execute("SET LOCAL enable_indexscan = off")  # the exact answer, no HNSW
        want = rows(cur, RLS_ALONE[what], params)
    assert got == want
    expected_courses = {"app_a": 1, "app_b": 1, "app_no_context": 0, "admin": 2, "readonly": 2}[who]
    count_courses = {
        "documents": "SELECT count(DISTINCT d.course_id) FROM processed_documents pd "
                     "JOIN course_documents d ON d.id = pd.course_document_id WHERE pd.id = ANY(%s::uuid[])",
    }.get(what, "SELECT count(DISTINCT k.course_id) FROM keywords k WHERE k.id = ANY(%s::uuid[])")
    with superuser(shared_db) as cur:
        courses = rows(cur, count_courses, ([r[0] for r in got],))[0][0]
    assert courses == expected_courses, (who, what, got)
