"""Issue 12's product fixes (migrations 0006/0007): streak over all courses, per-course similarity
search driven by indexes, chapters reordered in one statement, functions that work whatever the
caller's search_path, volatility and parallel safety true to what the functions do."""

import psycopg2
import pytest
from sensa_schema_helpers import session, superuser, vec


def test_a_users_streak_counts_study_on_any_course(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        # a studies course_a two days ago, course_a2 yesterday, course_a again today: 3 days.
        cur.execute("INSERT INTO user_progress (user_id, course_id, last_activity_at) VALUES (%s, %s, now() - interval '1 day')",
                    (d.a, d.course_a2))
        cur.execute("UPDATE user_progress SET last_activity_at = now() - interval '2 days' WHERE id = %s", (d.progress_a,))
        cur.execute("DELETE FROM user_streaks WHERE user_id = %s", (d.a,))
        for course, ago in ((d.course_a, 2), (d.course_a2, 1), (d.course_a, 0)):
            cur.execute("UPDATE user_progress SET last_activity_at = now() - make_interval(days => %s) + interval '1 second' "
                        "WHERE user_id = %s AND course_id = %s", (ago, d.a, course))
        cur.execute("SELECT current_streak, longest_streak FROM user_streaks WHERE user_id = %s", (d.a,))
        assert cur.fetchone() == (3, 3)
        cur.execute("SELECT current_streak, longest_streak FROM get_user_progress_summary(%s)", (d.a,))
        assert cur.fetchone() == (3, 3)
        # each course on its own never had more than one day in a row
        cur.execute("SELECT max(current_streak) FROM user_progress WHERE user_id = %s", (d.a,))
        assert cur.fetchone()[0] == 1


def test_per_course_similarity_search_is_index_driven(shared_db):
    d = shared_db.data
    q = vec(d.vectors[d.chunks["a"][3]])
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        cur.execute("SELECT document_id FROM find_similar_documents_in_course(%s, %s, 3)", (d.course_a, q))
        got = [r[0] for r in cur.fetchall()]
        assert got[0] == d.chunks["a"][3] and len(got) == 3
        cur.execute("SELECT count(*) FROM find_similar_documents_in_course(%s, %s, 3)", (d.course_b, q))
        assert cur.fetchone()[0] == 0, "another user's private course yields nothing"
    # The plan of the function's statement, as the application role under RLS (the tiny data
    # set is told to avoid sequential scans, to show that an index path exists).
    with superuser(shared_db) as cur:
        cur.execute("SET LOCAL ROLE %s" % shared_db.roles.app)
        cur.execute("SELECT set_current_user_id(%s)", (d.a,))
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN SELECT pd.id FROM public.course_documents AS d "
                    "JOIN public.processed_documents AS pd ON pd.course_document_id = d.id "
                    "WHERE d.course_id = %s AND pd.embedding IS NOT NULL ORDER BY pd.embedding <=> %s::vector, pd.id LIMIT 3",
                    (d.course_a, q))
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "course_documents_course_id" in plan and "Seq Scan" not in plan, plan


def test_chapters_reorder_in_one_statement(shared_db):
    d = shared_db.data
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        cur.execute("INSERT INTO chapters (course_id, position, title) VALUES (%s, 2, 'Two')", (d.course_a,))
        cur.execute("UPDATE chapters SET position = 3 - position WHERE course_id = %s", (d.course_a,))
        cur.execute("SELECT title FROM chapters WHERE course_id = %s ORDER BY position", (d.course_a,))
        assert [r[0] for r in cur.fetchall()] == ["Two", "One"]
        with pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute("UPDATE chapters SET position = 1 WHERE course_id = %s", (d.course_a,))


def _invoker_functions(db):
    return db.query(
        "SELECT p.oid::regprocedure::text, ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t) "
        "FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f' AND NOT p.prosecdef "
        "AND p.prorettype <> 'trigger'::regtype AND NOT EXISTS (SELECT 1 FROM pg_depend e "
        "WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e') ORDER BY 1")


ARGS = {"uuid": None, "text": "neural", "integer": 3, "real": 0.5, "double precision": 0.0, "boolean": True,
        "timestamp with time zone": None, "regclass": "public.courses", "text[]": ["a", "b"]}


def test_functions_work_whatever_the_callers_search_path(shared_db):
    d = shared_db.data
    q = vec(d.vectors[d.chunks["a"][0]])
    failures = []
    functions = _invoker_functions(shared_db)
    assert len(functions) >= 20
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        for signature, types in functions:
            name = signature.split("(")[0]
            if name in ("set_current_user_id", "enable_audit", "disable_audit"):
                continue
            args = [q if t == "vector" else (d.course_a if t == "uuid" else ARGS.get(t)) for t in types]
            # the casts are the test's, so they name the extension's type by schema
            casts = ", ".join("%%s::%s" % ("public.vector" if t == "vector" else t) for t in types)
            if name == "generate_cache_key":
                args, casts = ["ns", ["a"]], "%s::text, VARIADIC %s::text[]"
            cur.execute("SAVEPOINT f")
            try:
                cur.execute("SET LOCAL search_path = ''")
                cur.execute("SELECT * FROM public.%s(%s)" % (name, casts), args)
                cur.fetchall()
            except psycopg2.errors.UndefinedFunction as exc:
                failures.append("%s: %s" % (signature, str(exc).splitlines()[0]))
            except psycopg2.errors.UndefinedObject as exc:
                failures.append("%s: %s" % (signature, str(exc).splitlines()[0]))
            finally:
                cur.execute("ROLLBACK TO SAVEPOINT f")
    assert failures == [], "\n".join(failures)


def test_volatility_and_parallel_safety(shared_db):
    rows = dict(shared_db.query(
        "SELECT proname, provolatile::text || proparallel::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
        "AND proname = ANY(%s)", (["generate_cache_key", "get_course_stats", "get_user_progress_summary",
                                   "get_learning_statistics", "get_feedback_analysis", "course_learner_figures"],)))
    assert rows.pop("generate_cache_key") == "ss", "STABLE: convert_to() is STABLE"
    assert set(rows.values()) == {"ss"}, rows
