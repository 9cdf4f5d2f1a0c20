"""Row-level security through the application role: each user sees and writes only their own rows."""

import psycopg2
import pytest
from sensa_schema_helpers import session, sha, superuser

OWNER_COLUMN = {"user_profiles": "user_id", "courses": "owner_id", "user_annotations": "user_id",
                "user_progress": "user_id", "analogy_feedback": "user_id"}
TABLES = sorted(OWNER_COLUMN)


def insert_sql(table, d, owner):
    """An INSERT of a new row owned by ``owner`` that violates no other constraint."""
    if table == "user_profiles":
        return "INSERT INTO user_profiles (user_id) VALUES (%s)", (owner,)
    if table == "courses":
        return "INSERT INTO courses (owner_id, title) VALUES (%s, 'New')", (owner,)
    if table == "user_annotations":
        return ("INSERT INTO user_annotations (user_id, course_id, annotation_type, content) "
                "VALUES (%s, %s, 'note', 'x')", (owner, d.course_a))
    if table == "user_progress":
        return "INSERT INTO user_progress (user_id, course_id) VALUES (%s, %s)", (owner, d.course_a2)
    return ("INSERT INTO analogy_feedback (user_id, course_id, analogy_hash, analogy_text, rating, helpful) "
            "VALUES (%s, %s, %s, 'x', 3, true)", (owner, d.course_a, sha("new-" + str(owner))))


def count_rows(cur, table, owner=None):
    col = OWNER_COLUMN[table]
    if owner is None:
        cur.execute("SELECT count(*) FROM %s" % table)
    else:
        cur.execute("SELECT count(*) FROM %s WHERE %s = %%s" % (table, col), (owner,))
    return cur.fetchone()[0]


def fresh_owner(d, table):
    """A user who may insert one new row in ``table`` (user C has no profile yet)."""
    return d.c if table == "user_profiles" else d.a


@pytest.mark.parametrize("table", TABLES)
def test_select_sees_only_own_rows(shared_db, table):
    d = shared_db.data
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        total = count_rows(cur, table)
        assert total >= 1 and count_rows(cur, table, d.a) == total
        assert count_rows(cur, table, d.b) == 0
    with session(shared_db, shared_db.roles.app, d.b) as cur:
        assert count_rows(cur, table, d.a) == 0 and count_rows(cur, table, d.b) >= 1


@pytest.mark.parametrize("table", TABLES)
def test_insert_only_as_self(shared_db, table):
    d = shared_db.data
    me = fresh_owner(d, table)
    with session(shared_db, shared_db.roles.app, me) as cur:
        cur.execute(*insert_sql(table, d, me))
        assert cur.rowcount == 1
    other = d.c if table != "user_profiles" else d.d
    with session(shared_db, shared_db.roles.app, me) as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
            cur.execute(*insert_sql(table, d, other))


@pytest.mark.parametrize("table", TABLES)
def test_update_only_own_rows_and_never_hand_them_over(shared_db, table):
    d = shared_db.data
    col = OWNER_COLUMN[table]
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        cur.execute("UPDATE %s SET updated_at = now() WHERE %s = %%s" % (table, col), (d.b,))
        assert cur.rowcount == 0
        cur.execute("UPDATE %s SET updated_at = now()" % table)
        assert cur.rowcount == count_rows(cur, table, d.a) >= 1
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
            cur.execute("UPDATE %s SET %s = %%s WHERE %s = %%s" % (table, col, col), (d.e, d.a))
    with superuser(shared_db) as cur:
        assert count_rows(cur, table, d.b) >= 1


@pytest.mark.parametrize("table", TABLES)
def test_delete_only_own_rows(shared_db, table):
    d = shared_db.data
    col = OWNER_COLUMN[table]
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        cur.execute("DELETE FROM %s WHERE %s = %%s" % (table, col), (d.b,))
        assert cur.rowcount == 0
        cur.execute("DELETE FROM %s" % table)
        assert cur.rowcount >= 1
        cur.execute("SELECT set_current_user_id(%s)", (d.b,))
        assert count_rows(cur, table, d.b) >= 1


@pytest.mark.parametrize("table", TABLES)
def test_no_context_sees_and_writes_nothing(shared_db, table):
    d = shared_db.data
    with superuser(shared_db) as cur:
        assert count_rows(cur, table) >= 2
    with session(shared_db, shared_db.roles.app) as cur:
        assert count_rows(cur, table) == 0
        cur.execute("UPDATE %s SET updated_at = now()" % table)
        assert cur.rowcount == 0
        cur.execute("DELETE FROM %s" % table)
        assert cur.rowcount == 0
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(*insert_sql(table, d, fresh_owner(d, table)))


@pytest.mark.parametrize("table", TABLES)
def test_context_is_transaction_local_and_cleared_value_means_nothing(shared_db, table):
    d = shared_db.data
    conn = shared_db.connect(user=shared_db.roles.app, autocommit=False)
    try:
        cur = conn.cursor()
        cur.execute("SELECT set_current_user_id(%s)", (d.a,))
        assert count_rows(cur, table) >= 1
        conn.commit()
        # After COMMIT the setting reads '' (not NULL): still no rows, no error.
        cur.execute("SELECT current_setting('sensa.current_user_id', true), current_user_id()")
        assert cur.fetchone() == ("", None)
        assert count_rows(cur, table) == 0
        # The session-wide form is refused to members of sensa_app (0006): behind a
        # transaction pooler it would be inherited by the next client.
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="is_local => false"):
            cur.execute("SELECT set_current_user_id(%s, false)", (d.a,))
        conn.rollback()
        assert count_rows(cur, table) == 0
        conn.rollback()
    finally:
        conn.close()


@pytest.mark.parametrize("table", TABLES)
def test_admin_reads_and_writes_every_row(shared_db, table):
    d = shared_db.data
    col = OWNER_COLUMN[table]
    with superuser(shared_db) as cur:
        total = count_rows(cur, table)
    with session(shared_db, shared_db.roles.admin, d.a) as cur:
        assert count_rows(cur, table) == total
        cur.execute("UPDATE %s SET updated_at = now() WHERE %s = %%s" % (table, col), (d.b,))
        assert cur.rowcount >= 1
        cur.execute(*insert_sql(table, d, d.d))
        cur.execute("DELETE FROM %s WHERE %s = %%s" % (table, col), (d.b,))
        assert cur.rowcount >= 1
    # Admin without any user context too.
    with session(shared_db, shared_db.roles.admin) as cur:
        assert count_rows(cur, table) == total


@pytest.mark.parametrize("table", TABLES)
def test_readonly_analytics_reads_everything_and_writes_nothing(shared_db, table):
    with superuser(shared_db) as cur:
        total = count_rows(cur, table)
    with session(shared_db, shared_db.roles.readonly) as cur:
        assert count_rows(cur, table) == total
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("DELETE FROM %s" % table)


def test_admin_helper_tolerates_missing_role(shared_db):
    with superuser(shared_db) as cur:
        cur.execute("SELECT sensa_is_admin(), sensa_is_readonly()")
        cur.execute("SET ROLE %s" % shared_db.roles.app)
        cur.execute("SELECT sensa_is_admin(), sensa_is_readonly()")
        assert cur.fetchone() == (False, False)
        cur.execute("RESET ROLE")
        # Rename the group for the length of this transaction: "no such role" means "not admin".
        cur.execute("ALTER ROLE sensa_admin RENAME TO sensa_admin_gone_tmp")
        cur.execute("SET ROLE %s" % shared_db.roles.admin)
        cur.execute("SELECT sensa_is_admin()")
        assert cur.fetchone() == (False,)
        # The policies name the role itself (TO sensa_admin, by oid), so a rename does not
        # change who is admin; an application login with no context still sees nothing.
        cur.execute("RESET ROLE")
        cur.execute("SET ROLE %s" % shared_db.roles.app)
        cur.execute("SELECT set_current_user_id(NULL); SELECT count(*) FROM courses")
        assert cur.fetchone() == (0,)


def test_second_app_login_is_isolated_the_same_way(shared_db):
    d = shared_db.data
    with session(shared_db, shared_db.roles.app_other, d.b) as cur:
        assert count_rows(cur, "courses", d.a) == 0 and count_rows(cur, "courses", d.b) == 1


# The 0005 functions leak nothing across users ------------------------------------------

def test_functions_leak_nothing_across_users(shared_db):
    d = shared_db.data
    q = "[" + ",".join(["0.01"] * 768) + "]"
    with session(shared_db, shared_db.roles.app, d.a) as cur:
        cur.execute("SELECT count(*) FROM get_course_stats(%s)", (d.course_b,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM search_courses(%s, 'algebra')", (d.b,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT courses_total, longest_streak FROM get_user_progress_summary(%s)", (d.b,))
        assert cur.fetchone() == (0, 0)
        cur.execute("SELECT annotations_total, feedback_total, chapters_completed FROM get_learning_statistics(%s)",
                    (d.b,))
        assert cur.fetchone() == (0, 0, 0)
        cur.execute("SELECT analogy_hash FROM get_feedback_analysis()")
        assert [r[0] for r in cur.fetchall()] == [sha("river")]
        cur.execute("SELECT DISTINCT course_id FROM find_similar_documents(%s::vector, 100, -1)", (q,))
        assert cur.fetchall() == [(d.course_a,)]
        cur.execute("SELECT count(*) FROM find_similar_documents(%s::vector, 100, -1)", (q,))
        assert cur.fetchone()[0] == 12
        cur.execute("SELECT DISTINCT course_id FROM find_similar_keywords(%s::vector, 100, -1)", (q,))
        assert cur.fetchall() == [(d.course_a,)]
        cur.execute("SELECT count(*) FROM find_similar_keywords(%s::vector, 10, 0, %s)", (q, d.course_b))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT DISTINCT course_id FROM search_keywords('neural network')")
        assert cur.fetchall() == [(d.course_a,)]
        cur.execute("SELECT count(*) FROM find_duplicate_keywords(%s)", (d.course_b,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM find_duplicate_chunks(%s)", (d.course_b,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT DISTINCT user_id FROM user_course_progress")
        assert cur.fetchall() == [(d.a,)]
    with session(shared_db, shared_db.roles.app) as cur:
        for sql in ("SELECT count(*) FROM find_similar_documents(%s::vector, 100)" % ("'" + q + "'"),
                    "SELECT count(*) FROM search_keywords('neural network')",
                    "SELECT count(*) FROM user_course_progress",
                    "SELECT count(*) FROM get_feedback_analysis()"):
            cur.execute(sql)
            assert cur.fetchone()[0] == 0, sql
