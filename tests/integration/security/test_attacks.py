"""The rest of the adversarial suite, each generated from the catalog where there is one:
every function with another user's ids, links from own rows to others' rows (every foreign key),
writes to every system-only column (read from the guard triggers), cascades and account
deletion, pg_stats and other catalog views, other databases, leaky functions in predicates."""

import json
import re

import psycopg2
import pytest
from security_helpers import (
    APP_LOGIN,
    SECRET,
    as_app,
    expect_refused,
    foreign_keys,
    pk_predicate,
    primary_key,
    rows_of_user,
)

A_SECRET = SECRET % "a"


@pytest.fixture(scope="module")
def rows(deployed):
    w = deployed.world
    return {key: rows_of_user(deployed, w.users[key]) for key in ("a", "b")}


def _a_ids(rows_a):
    return sorted({v for keys in rows_a.values() for key in keys for v in key})


# --- functions ---------------------------------------------------------------------------

# Functions that choose whose context the session runs in: the trust boundary
# (docs/access.md) - any session of the application login may act as any user it names.
CONTEXT_FUNCTIONS = {"set_current_user_id", "register_user"}

SAMPLE = {"text": "a", "integer": 5, "bigint": 5, "smallint": 1, "real": 0.1, "double precision": 0.0,
          "boolean": False, "timestamp with time zone": "2000-01-01", "regclass": "public.courses",
          "text[]": ["a"], "jsonb": "{}"}


def _callable_functions(db):
    return db.query(
        "SELECT p.proname, p.oid::regprocedure::text, "
        "       ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) AS t), p.provariadic <> 0 "
        "  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f' "
        "   AND p.prorettype <> 'trigger'::regtype "
        "   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid "
        "                   AND d.deptype = 'e') "
        "   AND has_function_privilege(%s, p.oid, 'EXECUTE') ORDER BY 2", (APP_LOGIN,))


def test_every_function_called_with_another_users_ids(deployed, rows):
    """As user b, every function the application may execute, with every one of user a's ids in
    each uuid argument: no result and no error message may carry user a's data or ids."""
    ids = _a_ids(rows["a"])
    uuids = [i for i in ids if re.match(r"^[0-9a-f-]{36}$", i)]
    vector = "[" + ",".join(["0.01"] * 768) + "]"
    leaks, calls = [], 0
    functions = _callable_functions(deployed)
    assert len(functions) >= 15
    for name, signature, types, variadic in functions:
        if name in CONTEXT_FUNCTIONS:
            continue
        uuid_args = [i for i, t in enumerate(types) if t == "uuid"]
        candidates = uuids if uuid_args else [None]
        casts = ", ".join("%%s::%s" % t for t in types)
        with as_app(deployed, deployed.world.users["b"]) as cur:
            for value in candidates:
                args = []
                for i, t in enumerate(types):
                    if t == "uuid":
                        args.append(value)
                    elif t == "vector":
                        args.append(vector)
                    elif variadic and i == len(types) - 1:
                        args.append(["a", value or "b"])
                    else:
                        args.append(SAMPLE.get(t, None))
                calls += 1
                refused, _n, state = expect_refused(cur, "SELECT * FROM %s(%s)" % (name, casts), args)
                text = json.dumps(expect_refused.rows, default=str) if not refused else str(state)
                if not refused:
                    for secret in [A_SECRET] + [i for i in ids if i != str(value)]:
                        if secret in text:
                            leaks.append("%s with %s returned user a's %s" % (signature, value, secret))
                            break
    assert leaks == [], "\n".join(leaks)
    print("\nfunction calls with another user's ids: %d" % calls)
    assert calls > len(functions)


def test_delete_user_account_refuses_another_user_and_plain_delete_is_refused(deployed):
    w = deployed.world
    with as_app(deployed, w.users["b"]) as cur:
        refused, _n, state = expect_refused(cur, "SELECT delete_user_account(%s)", (w.users["a"],))
        assert refused and state == "42501"
        refused, _n, state = expect_refused(cur, "DELETE FROM users WHERE id = %s", (w.users["a"],))
        assert refused and state == "42501"
        refused, _n, state = expect_refused(cur, "DELETE FROM users WHERE id = %s", (w.users["b"],))
        assert refused and state == "42501", "no plain DELETE on users, not even of one's own row"
    with as_app(deployed) as cur:
        refused, _n, _state = expect_refused(cur, "SELECT delete_user_account(%s)", (w.users["a"],))
        assert refused


# --- links from own rows to others' rows -----------------------------------------------------

def test_own_rows_cannot_point_at_another_users_rows(deployed, rows):
    """For every foreign key: user b moves one of their own rows to reference one of user a's
    rows. Refused (42501) or nothing updated, for every key of every table."""
    problems, probes = [], 0
    for table, cols, ref, ref_cols, name in foreign_keys(deployed):
        table, ref = table.replace("public.", ""), ref.replace("public.", "")
        own = rows["b"].get(table, [])
        target = rows["a"].get(ref, [])
        if not own or not target or len(cols) != 1:
            continue
        ref_pk = primary_key(deployed, ref)
        if ref_pk != ref_cols:
            continue
        where, param = pk_predicate(primary_key(deployed, table), own[:1])
        with as_app(deployed, deployed.world.users["b"]) as cur:
            probes += 1
            refused, count, state = expect_refused(
                cur, "UPDATE public.%s SET %s = %%s WHERE %s" % (table, cols[0], where), (target[0][0], param))
            if not refused and count:
                problems.append("%s (%s): b's row now points at a's %s" % (table, name, ref))
            elif refused and state != "42501":
                problems.append("%s (%s): refused for another reason (%s)" % (table, name, state))
            # and the same as a new row (the learner tables: progress on a's private course, ...)
    assert problems == [], "\n".join(problems)
    print("\nforeign-key link probes: %d" % probes)
    assert probes >= 15


def test_a_learner_reads_a_published_course_and_writes_nothing_of_it(deployed):
    w = deployed.world
    course = w.courses[("b", "published")]
    with as_app(deployed, w.users["l"]) as cur:
        cur.execute("SELECT count(*) FROM courses WHERE id = %s", (course,))
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT count(*) FROM chapters WHERE course_id = %s", (course,))
        assert cur.fetchone()[0] == 2
        cur.execute("SELECT count(*) FROM courses WHERE id = %s", (w.courses[("b", "private")],))
        assert cur.fetchone()[0] == 0
        for sql in ("UPDATE courses SET title = 'mine' WHERE id = %s", "UPDATE chapters SET title = 'x' WHERE course_id = %s",
                    "DELETE FROM keywords WHERE course_id = %s", "DELETE FROM course_documents WHERE course_id = %s"):
            refused, count, _state = expect_refused(cur, sql, (course,))
            assert refused or count == 0, sql
        # enrolling in a private course is refused
        refused, _n, state = expect_refused(cur, "INSERT INTO course_enrolments (user_id, course_id) VALUES (%s, %s)",
                                            (w.users["l"], w.courses[("a", "private")]))
        assert refused and state == "42501"
    # unpublished: the enrolled learner no longer reads it
    with as_app(deployed, w.users["b"]) as cur:
        cur.execute("UPDATE courses SET is_published = false, published_at = NULL WHERE id = %s", (course,))
        cur.execute("SELECT set_current_user_id(%s)", (w.users["l"],))
        cur.execute("SELECT count(*) FROM chapters WHERE course_id = %s", (course,))
        assert cur.fetchone()[0] == 0


# --- system-only columns -----------------------------------------------------------------

def _guarded_columns(db):
    """(table, column) pairs the guard triggers protect, read from pg_trigger's arguments."""
    out = []
    for table, args in db.query(
            "SELECT tgrelid::regclass::text, encode(tgargs, 'escape') FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE p.proname = 'sensa_refuse_system_columns'"):
        for column in json.loads(args.split("\\000")[0]):
            out.append((table, column))
    return sorted(out)


def _different(cur, table, column, where):
    cur.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
                (table, column))
    ctype = cur.fetchone()[0]
    new = {"boolean": "NOT coalesce({c}, false)", "uuid": "gen_random_uuid()", "integer": "{c} + 7",
           "numeric(5,2)": "CASE WHEN {c} < 100 THEN 100 ELSE 1 END", "jsonb": "'{{\"forged\": true}}'::jsonb",
           "date": "coalesce({c}, current_date) + 1", "timestamp with time zone": "now() - interval '3 days'",
           "text": "{c} || 'x'", "user_role": "'admin'", "progress_status": "'completed'"}.get(ctype)
    assert new, "no way to change a %s column yet: extend the test" % ctype
    if column == "badges":
        new = "'[{{\"id\": \"forged\"}}]'::jsonb"
    return "UPDATE %s SET %s = %s WHERE %s" % (table, column, new.format(c=column), where)


def test_system_only_columns_are_refused_to_the_application(deployed, rows):
    guarded = _guarded_columns(deployed)
    assert {("users", "role"), ("users", "id"), ("analogy_feedback", "consensus_reached"),
            ("user_progress", "badges"), ("user_progress", "completion_percent"),
            ("user_progress", "current_streak")} <= set(guarded), guarded
    failures = []
    for table, column in guarded:
        own = rows["a"][table]
        where, param = pk_predicate(primary_key(deployed, table), own[:1])
        with as_app(deployed, deployed.world.users["a"]) as cur:
            sql = _different(cur, table, column, where)
            refused, count, state = expect_refused(cur, sql, (param,))
            if not refused or state != "42501":
                failures.append("%s.%s: %s (%s rows)" % (table, column, state or "accepted", count))
    # user_streaks: the whole table is written by the system only (no UPDATE privilege).
    with as_app(deployed, deployed.world.users["a"]) as cur:
        refused, _n, state = expect_refused(cur, "UPDATE user_streaks SET current_streak = 99")
        if not (refused and state == "42501"):
            failures.append("user_streaks.current_streak: %s" % state)
        # a learner's own progress may not start completed / with badges either
        refused, _n, state = expect_refused(
            cur, "INSERT INTO user_progress (user_id, course_id, status, completion_percent) VALUES (%s, %s, 'completed', 100)",
            (deployed.world.users["a"], deployed.world.courses[("a", "published")]))
        if not (refused and state == "42501"):
            failures.append("user_progress insert with completion: %s" % state)
    assert failures == [], "\n".join(failures)
    print("\nsystem-only column probes: %d" % (len(guarded) + 2))


def test_completion_follows_the_chapters_completed(deployed):
    w = deployed.world
    course = w.courses[("a", "published")]
    with as_app(deployed, w.users["a"]) as cur:
        cur.execute("SELECT array_agg(id::text ORDER BY position) FROM chapters WHERE course_id = %s", (course,))
        chapters = cur.fetchone()[0]
        cur.execute("INSERT INTO user_progress (user_id, course_id, completed_chapter_ids) VALUES (%s, %s, %s::uuid[]) "
                    "RETURNING completion_percent, status", (w.users["a"], course, chapters[:1]))
        assert cur.fetchone() == (50, "in_progress")
        cur.execute("UPDATE user_progress SET completed_chapter_ids = %s::uuid[] WHERE user_id = %s AND course_id = %s "
                    "RETURNING completion_percent, status", (chapters, w.users["a"], course))
        assert cur.fetchone() == (100, "completed")
        refused, _n, _state = expect_refused(
            cur, "UPDATE user_progress SET completed_chapter_ids = ARRAY[gen_random_uuid()] WHERE course_id = %s", (course,))
        assert refused, "a chapter id of another course does not count"


# --- cascades ----------------------------------------------------------------------------

def test_cascades_take_only_the_users_own_rows(deployed, rows):
    """b deletes their account (the function): everything of b goes, nothing of a; a chapter
    re-extracted by its owner keeps the learners' annotations and feedback."""
    w = deployed.world
    before_a = rows_of_user(deployed, w.users["a"])
    conn = deployed.connect(user=APP_LOGIN, autocommit=False)
    try:
        cur = conn.cursor()
        # re-extraction: b deletes the chapter l annotated
        cur.execute("SELECT set_current_user_id(%s)", (w.users["b"],))
        cur.execute("SELECT id FROM chapters WHERE course_id = %s AND position = 1", (w.courses[("b", "published")],))
        chapter = cur.fetchone()[0]
        cur.execute("DELETE FROM chapters WHERE id = %s", (chapter,))
        assert cur.rowcount == 1
        cur.execute("SELECT set_current_user_id(%s)", (w.users["l"],))
        cur.execute("SELECT count(*), count(chapter_id) FROM user_annotations")
        assert cur.fetchone() == (1, 0), "the annotation stays, without its chapter"
        cur.execute("SELECT count(*), count(chapter_id) FROM analogy_feedback")
        assert cur.fetchone() == (1, 0)
        cur.execute("SELECT set_current_user_id(%s)", (w.users["b"],))
        cur.execute("SELECT delete_user_account(%s)", (w.users["b"],))
        assert cur.fetchone()[0] is True
        conn.rollback()
    finally:
        conn.close()
    assert rows_of_user(deployed, w.users["a"]) == before_a
    # The same deletion committed on a throwaway user, then compared.
    victim = deployed.scalar("INSERT INTO users (cognito_sub, email) VALUES ('sub-victim', 'victim@example.com') RETURNING id")
    deployed.query("INSERT INTO courses (owner_id, title) VALUES (%s, 'victim course')", (victim,))
    deployed.query("INSERT INTO course_enrolments (user_id, course_id) VALUES (%s, %s)", (victim, w.courses[("b", "published")]))
    with as_app(deployed, victim) as cur:
        cur.execute("SELECT delete_user_account(%s)", (victim,))
        cur.connection.commit()
    assert deployed.scalar("SELECT count(*) FROM users WHERE id = %s", (victim,)) == 0
    assert rows_of_user(deployed, w.users["a"]) == before_a
    assert rows_of_user(deployed, w.users["b"]) == rows["b"]


# --- catalog views and other databases ---------------------------------------------------

def test_statistics_views_show_nothing_of_protected_tables(deployed):
    deployed.psql("ANALYZE")
    with as_app(deployed, deployed.world.users["b"]) as cur:
        cur.execute("SELECT tablename, attname, most_common_vals::text, histogram_bounds::text FROM pg_stats "
                    "WHERE schemaname = 'public'")
        stats = cur.fetchall()
        cur.execute("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relrowsecurity")
        protected = {r[0] for r in cur.fetchall()}
        assert not [s for s in stats if s[0] in protected], "pg_stats shows columns of RLS tables"
        assert A_SECRET not in json.dumps(stats)
        cur.execute("SELECT * FROM pg_stats_ext WHERE schemaname = 'public'")
        assert A_SECRET not in json.dumps(cur.fetchall(), default=str)
        # Other logins' statements are hidden (different roles); counters only elsewhere.
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE usename <> current_user AND query LIKE %s",
                    ("%" + A_SECRET + "%",))
        assert cur.fetchone()[0] == 0


def test_statements_of_other_logins_are_not_visible(deployed):
    """sensa_app_b's running statement (it names user a's secret) is hidden from sensa_app_a."""
    other = deployed.connect(user="sensa_app_b", autocommit=False)
    try:
        ocur = other.cursor()
        ocur.execute("SELECT %s::text", (A_SECRET + " in a statement",))
        with as_app(deployed) as cur:
            cur.execute("SELECT query FROM pg_stat_activity WHERE usename = 'sensa_app_b'")
            seen = [r[0] for r in cur.fetchall()]
        assert seen and all(A_SECRET not in (q or "") for q in seen), seen
    finally:
        other.close()


@pytest.mark.parametrize("database", ["postgres", "template1"])
def test_application_logins_cannot_reach_other_databases(deployed, database):
    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
        psycopg2.connect(**deployed.cluster.conninfo(database, user=APP_LOGIN)).close()


# --- leaky functions -------------------------------------------------------------------------

def test_a_leaky_function_in_a_predicate_sees_no_hidden_row(deployed):
    """A non-LEAKPROOF function that reports every value it is given, made as cheap as possible
    so the planner would like to run it first: RLS quals still run before it, on every table."""
    deployed.psql(
        "CREATE SCHEMA IF NOT EXISTS leak_probe;"
        "CREATE OR REPLACE FUNCTION leak_probe.peek(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS "
        "$$ BEGIN RAISE NOTICE 'peek: %', v; RETURN true; END $$;"
        "GRANT USAGE ON SCHEMA leak_probe TO sensa_app; GRANT EXECUTE ON FUNCTION leak_probe.peek(text) TO sensa_app;")
    tables = [r[0] for r in deployed.query(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' "
        "AND has_table_privilege(%s, oid, 'SELECT')", (APP_LOGIN,))]
    assert len(tables) >= 12
    try:
        with as_app(deployed, deployed.world.users["b"]) as cur:
            for table in tables:
                del cur.connection.notices[:]
                cur.execute("SELECT count(*) FROM public.%s AS t WHERE leak_probe.peek(t::text)" % table)
                leaked = [n for n in cur.connection.notices if A_SECRET in n or deployed.world.users["a"] in n]
                assert leaked == [], (table, leaked[:2])
                cur.execute("SELECT count(*) FROM public.%s AS t WHERE leak_probe.peek(t::text) OR true" % table)
                assert not [n for n in cur.connection.notices if A_SECRET in n], table
    finally:
        deployed.psql("DROP SCHEMA leak_probe CASCADE")
