"""Behaviour of every trigger of 0003. Each test runs in a transaction it rolls back."""

import datetime

import psycopg2
import pytest
from sensa_schema_helpers import session, sha, superuser


def one(cur, sql, params=None):
    cur.execute(sql, params)
    return cur.fetchone()


def new_progress(cur, user_id, course_id, at=None):
    return one(cur, "INSERT INTO user_progress (user_id, course_id, last_activity_at) VALUES (%s, %s, %s) "
                    "RETURNING id, current_streak, longest_streak, last_activity_date", (user_id, course_id, at))


def activity(cur, pid, at):
    return one(cur, "UPDATE user_progress SET last_activity_at = %s WHERE id = %s "
                    "RETURNING current_streak, longest_streak, last_activity_date, last_activity_at", (at, pid))


# updated_at ------------------------------------------------------------------

@pytest.mark.parametrize("table", ["users", "user_profiles", "courses", "course_documents", "chapters",
                                   "processed_documents", "keywords", "relationships", "user_annotations",
                                   "analogy_feedback", "user_progress", "chapter_complexity"])
def test_updated_at_is_maintained(shared_db, table):
    d = shared_db.data
    with superuser(shared_db) as cur:
        if table == "relationships":
            cur.execute("INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type) "
                        "VALUES (%s, %s, 'related_to')", (d.kw[("a", "Neural Network")], d.kw[("a", "Eigenvalue")]))
        if table == "chapter_complexity":
            cur.execute("INSERT INTO chapter_complexity (chapter_id, complexity_score, estimated_minutes, "
                        "model_version) VALUES (%s, 50, 10, 'v1')", (d.chapter_a,))
        past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        # Back-date every row with triggers off (replica mode), then touch them normally.
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("UPDATE %s SET created_at = %%s, updated_at = %%s" % table, (past, past))
        cur.execute("SET LOCAL session_replication_role = origin")
        cur.execute("UPDATE %s SET created_at = created_at" % table)
        cur.execute("SELECT count(*) FILTER (WHERE updated_at = now()), count(*) FROM %s" % table)
        changed, total = cur.fetchone()
        assert total > 0 and changed == total


# users.time_zone ---------------------------------------------------------------

def test_unknown_time_zone_is_refused(shared_db):
    with superuser(shared_db) as cur:
        with pytest.raises(psycopg2.errors.InvalidParameterValue, match="unknown time zone"):
            cur.execute("UPDATE users SET time_zone = 'Mars/Olympus' WHERE id = %s", (shared_db.data.a,))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Lisbon", "America/Argentina/Salta", "Etc/GMT+3", "europe/lisbon",
                                  "GMT", "Japan", "EST5EDT"])
def test_iana_time_zones_are_accepted(shared_db, zone):
    """Area/location names take the fast path (a conversion), the rest the pg_timezone_names look-up."""
    with superuser(shared_db) as cur:
        cur.execute("UPDATE users SET time_zone = %s WHERE id = %s RETURNING time_zone", (zone, shared_db.data.a))
        assert cur.fetchone() == (zone,)


@pytest.mark.parametrize("zone", ["Europe/Nowhere", "Mars", "PST", "UTC+3", "+05:30", "XYZ-2", "Europe/Lisbon,M3"])
def test_abbreviations_and_posix_specs_are_refused(shared_db, zone):
    """AT TIME ZONE would take PST (meaning set per session by timezone_abbreviations) and POSIX specs
    such as UTC+3 (three hours WEST of Greenwich); a stored IANA name must be neither."""
    with superuser(shared_db) as cur:
        with pytest.raises(psycopg2.errors.InvalidParameterValue, match="unknown time zone"):
            cur.execute("UPDATE users SET time_zone = %s WHERE id = %s", (zone, shared_db.data.a))


# streaks -----------------------------------------------------------------------

def _ts(text):
    return datetime.datetime.fromisoformat(text)


def test_streak_first_activity_same_day_next_day_and_gap(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        pid, cur_s, longest, day = new_progress(cur, d.c, d.course_a, _ts("2025-01-10T09:00:00+00:00"))
        assert (cur_s, longest, day) == (1, 1, datetime.date(2025, 1, 10))
        # Same day counts once.
        assert activity(cur, pid, _ts("2025-01-10T22:00:00+00:00"))[:3] == (1, 1, datetime.date(2025, 1, 10))
        # Next calendar day continues the streak.
        assert activity(cur, pid, _ts("2025-01-11T00:05:00+00:00"))[:3] == (2, 2, datetime.date(2025, 1, 11))
        assert activity(cur, pid, _ts("2025-01-12T23:59:00+00:00"))[:3] == (3, 3, datetime.date(2025, 1, 12))
        # A gap of one missed day resets the current streak; the longest is kept.
        assert activity(cur, pid, _ts("2025-01-14T08:00:00+00:00"))[:3] == (1, 3, datetime.date(2025, 1, 14))
        assert activity(cur, pid, _ts("2025-01-15T08:00:00+00:00"))[:3] == (2, 3, datetime.date(2025, 1, 15))


def test_streak_late_event_and_direct_writes_are_ignored(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        pid = new_progress(cur, d.c, d.course_a, _ts("2025-01-10T09:00:00+00:00"))[0]
        activity(cur, pid, _ts("2025-01-11T09:00:00+00:00"))
        late = activity(cur, pid, _ts("2025-01-09T09:00:00+00:00"))
        assert late == (2, 2, datetime.date(2025, 1, 11), _ts("2025-01-11T09:00:00+00:00"))
        cur.execute("UPDATE user_progress SET current_streak = 40, longest_streak = 99 WHERE id = %s "
                    "RETURNING current_streak, longest_streak", (pid,))
        assert cur.fetchone() == (2, 2)
        # Activity cannot be un-recorded.
        cur.execute("UPDATE user_progress SET last_activity_at = NULL WHERE id = %s RETURNING last_activity_at", (pid,))
        assert cur.fetchone()[0] == _ts("2025-01-11T09:00:00+00:00")


def test_streak_midnight_boundary_in_the_user_time_zone(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        cur.execute("UPDATE users SET time_zone = 'America/New_York' WHERE id = %s", (d.c,))
        # 23:30 and 00:30 New York time: two calendar days there, the same day (04:30, 05:30) in UTC.
        pid, streak, _longest, day = new_progress(cur, d.c, d.course_a, _ts("2025-01-10T23:30:00-05:00"))
        assert (streak, day) == (1, datetime.date(2025, 1, 10))
        assert activity(cur, pid, _ts("2025-01-11T00:30:00-05:00"))[:3] == (2, 2, datetime.date(2025, 1, 11))
        # A UTC user with the same two instants stays on one day.
        pid2, streak, _longest, day = new_progress(cur, d.d, d.course_a, _ts("2025-01-11T04:30:00+00:00"))
        assert activity(cur, pid2, _ts("2025-01-11T05:30:00+00:00"))[:3] == (1, 1, datetime.date(2025, 1, 11))
        # 23:59 -> 00:01 across midnight in Tokyo (UTC+9) is the next day there.
        cur.execute("UPDATE users SET time_zone = 'Asia/Tokyo' WHERE id = %s", (d.e,))
        pid3 = new_progress(cur, d.e, d.course_a, _ts("2025-03-01T23:59:00+09:00"))[0]
        assert activity(cur, pid3, _ts("2025-03-02T00:01:00+09:00"))[:3] == (2, 2, datetime.date(2025, 3, 2))


# completion --------------------------------------------------------------------

def test_completion_timestamp_set_once(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        pid, = one(cur, "INSERT INTO user_progress (user_id, course_id) VALUES (%s, %s) RETURNING id", (d.c, d.course_a))
        row = one(cur, "SELECT status, started_at, completed_at FROM user_progress WHERE id = %s", (pid,))
        assert row == ("not_started", None, None)
        row = one(cur, "UPDATE user_progress SET completion_percent = 30 WHERE id = %s "
                       "RETURNING status, started_at IS NOT NULL, completed_at", (pid,))
        assert row == ("in_progress", True, None)
        row = one(cur, "UPDATE user_progress SET completion_percent = 100 WHERE id = %s "
                       "RETURNING status, completed_at", (pid,))
        assert row[0] == "completed" and row[1] is not None
        first = row[1]
        # Neither a direct write nor a reset moves or clears it.
        row = one(cur, "UPDATE user_progress SET completed_at = '2000-01-01', completion_percent = 50, "
                       "status = 'in_progress' WHERE id = %s RETURNING status, completed_at", (pid,))
        assert row == ("in_progress", first)
        row = one(cur, "UPDATE user_progress SET status = 'completed' WHERE id = %s "
                       "RETURNING completion_percent, completed_at", (pid,))
        assert row == (100, first)


def test_chapter_completion_timestamps_set_once(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        ch2, = one(cur, "INSERT INTO chapters (course_id, position, title) VALUES (%s, 2, 'Two') RETURNING id",
                   (d.course_a,))
        pid, = one(cur, "INSERT INTO user_progress (user_id, course_id, completed_chapter_ids) "
                        "VALUES (%s, %s, ARRAY[%s, %s]::uuid[]) RETURNING id", (d.c, d.course_a, d.chapter_a, d.chapter_a))
        ids, stamps = one(cur, "SELECT completed_chapter_ids, chapter_completed_at FROM user_progress WHERE id = %s", (pid,))
        assert ids == "{%s}" % d.chapter_a and list(stamps) == [str(d.chapter_a)]
        cur.execute("UPDATE user_progress SET chapter_completed_at = jsonb_build_object(%s, '1999-01-01'), "
                    "completed_chapter_ids = completed_chapter_ids || %s::uuid WHERE id = %s "
                    "RETURNING chapter_completed_at", (str(d.chapter_a), ch2, pid))
        stamps2 = cur.fetchone()[0]
        assert stamps2[str(d.chapter_a)] == stamps[str(d.chapter_a)]
        assert set(stamps2) == {str(d.chapter_a), str(ch2)}
        # Removing a chapter from the list keeps its first completion time.
        cur.execute("UPDATE user_progress SET completed_chapter_ids = '{}' WHERE id = %s RETURNING chapter_completed_at",
                    (pid,))
        assert set(cur.fetchone()[0]) == {str(d.chapter_a), str(ch2)}


# document status -------------------------------------------------------------------

def new_document(cur, course, status="uploaded"):
    return one(cur, "INSERT INTO course_documents (course_id, s3_bucket, s3_key, original_filename, content_type, "
                    "size_bytes, status) VALUES (%s, 'sensa-docs', gen_random_uuid()::text, 'f.pdf', "
                    "'application/pdf', 10, %s) RETURNING id", (course, status))[0]


def set_status(cur, doc, status, error=None):
    return one(cur, "UPDATE course_documents SET status = %s, error_message = coalesce(%s, error_message) "
                    "WHERE id = %s RETURNING queued_at IS NOT NULL, processing_started_at IS NOT NULL, "
                    "processed_at IS NOT NULL, failed_at IS NOT NULL, retry_count, error_message",
               (status, error, doc))


def test_document_status_happy_path_with_timestamps(shared_db):
    with superuser(shared_db) as cur:
        doc = new_document(cur, shared_db.data.course_a)
        assert set_status(cur, doc, "queued") == (True, False, False, False, 0, None)
        assert set_status(cur, doc, "processing") == (True, True, False, False, 0, None)
        assert set_status(cur, doc, "processed") == (True, True, True, False, 0, None)
        # Re-processing starts a clean run.
        assert set_status(cur, doc, "queued") == (True, False, False, False, 0, None)


def test_document_failure_and_retry(shared_db):
    with superuser(shared_db) as cur:
        doc = new_document(cur, shared_db.data.course_a, "queued")
        set_status(cur, doc, "processing")
        with pytest.raises(psycopg2.errors.CheckViolation, match="course_documents_failed_has_error_check"):
            with cur.connection.cursor() as c2:
                c2.execute("SAVEPOINT s")
                try:
                    c2.execute("UPDATE course_documents SET status = 'failed' WHERE id = %s", (doc,))
                finally:
                    c2.execute("ROLLBACK TO SAVEPOINT s")
        assert set_status(cur, doc, "failed", "parser crashed") == (True, True, False, True, 0, "parser crashed")
        assert set_status(cur, doc, "queued") == (True, False, False, False, 1, None)


@pytest.mark.parametrize("path", [
    ("uploaded", "processing"), ("uploaded", "processed"), ("queued", "processed"), ("queued", "uploaded"),
    ("processing", "queued"), ("processing", "uploaded"), ("processed", "failed"), ("failed", "processed"),
])
def test_invalid_document_transitions_are_refused(shared_db, path):
    start, target = path
    with superuser(shared_db) as cur:
        doc = new_document(cur, shared_db.data.course_a)
        route = {"uploaded": [], "queued": ["queued"], "processing": ["queued", "processing"],
                 "processed": ["queued", "processing", "processed"], "failed": ["failed"]}[start]
        for status in route:
            set_status(cur, doc, status, "boom" if status == "failed" else None)
        with pytest.raises(psycopg2.errors.CheckViolation, match="invalid document status transition"):
            set_status(cur, doc, target, "boom")


def test_new_document_must_start_uploaded_or_queued(shared_db):
    with superuser(shared_db) as cur:
        with pytest.raises(psycopg2.errors.CheckViolation, match="must start as uploaded or queued"):
            new_document(cur, shared_db.data.course_a, "processed")


# interests ---------------------------------------------------------------------------

def test_interests_are_normalised(shared_db):
    with superuser(shared_db) as cur:
        cur.execute("UPDATE user_profiles SET interests = %s WHERE user_id = %s RETURNING interests",
                    ([" Machine   Learning ", "machine learning", "AI", "", None, "ai", "\tMusic\n"], shared_db.data.a))
        assert cur.fetchone()[0] == ["machine learning", "ai", "music"]


def test_interests_are_bounded(shared_db):
    with superuser(shared_db) as cur:
        with pytest.raises(psycopg2.errors.CheckViolation, match="too many interests"):
            cur.execute("UPDATE user_profiles SET interests = %s WHERE user_id = %s",
                        (["topic %d" % i for i in range(51)], shared_db.data.a))
    with superuser(shared_db) as cur:
        cur.execute("UPDATE user_profiles SET interests = %s WHERE user_id = %s RETURNING cardinality(interests)",
                    (["topic %d" % (i % 50) for i in range(80)], shared_db.data.a))
        assert cur.fetchone()[0] == 50
    with superuser(shared_db) as cur:
        with pytest.raises(psycopg2.errors.CheckViolation, match="longer than 64"):
            cur.execute("UPDATE user_profiles SET interests = %s WHERE user_id = %s", (["x" * 65], shared_db.data.a))


# consensus -------------------------------------------------------------------------------

def feedback(cur, user, course, key, helpful):
    cur.execute("INSERT INTO analogy_feedback (user_id, course_id, analogy_hash, analogy_text, rating, helpful) "
                "VALUES (%s, %s, %s, 'an analogy', %s, %s)", (user, course, sha(key), 5 if helpful else 1, helpful))


def consensus(cur, key):
    cur.execute("SELECT DISTINCT consensus_reached, consensus_helpful FROM analogy_feedback WHERE analogy_hash = %s",
                (sha(key),))
    return cur.fetchall()


def test_consensus_needs_three_distinct_users_agreeing(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        feedback(cur, d.a, d.course_a, "k1", True)
        feedback(cur, d.b, d.course_a, "k1", True)
        assert consensus(cur, "k1") == [(False, None)]
        feedback(cur, d.c, d.course_a, "k1", False)
        assert consensus(cur, "k1") == [(False, None)]
        feedback(cur, d.d, d.course_a, "k1", True)
        assert consensus(cur, "k1") == [(True, True)]
        # A change of verdict that breaks the majority removes the flag from every row.
        cur.execute("UPDATE analogy_feedback SET helpful = false WHERE analogy_hash = %s AND user_id = %s",
                    (sha("k1"), d.d))
        assert consensus(cur, "k1") == [(False, None)]
        feedback(cur, d.e, d.course_a, "k1", False)
        assert consensus(cur, "k1") == [(True, False)]
        cur.execute("DELETE FROM analogy_feedback WHERE analogy_hash = %s AND user_id = %s", (sha("k1"), d.e))
        assert consensus(cur, "k1") == [(False, None)]


def test_consensus_works_through_the_application_role_under_rls(shared_db):
    """The trigger must see every user's verdict although each writer sees only their own row."""
    d = shared_db.data
    with session(shared_db, shared_db.roles.app) as cur:
        # Learners may give feedback only on a course they can read (0006): A publishes,
        # B and C enrol.
        cur.execute("SELECT set_current_user_id(%s)", (d.a,))
        cur.execute("UPDATE courses SET is_published = true, published_at = now() WHERE id = %s", (d.course_a,))
        for user in (d.b, d.c):
            cur.execute("SELECT set_current_user_id(%s)", (user,))
            cur.execute("INSERT INTO course_enrolments (user_id, course_id) VALUES (%s, %s)", (user, d.course_a))
        for user in (d.a, d.b, d.c):
            cur.execute("SELECT set_current_user_id(%s)", (user,))
            feedback(cur, user, d.course_a, "k2", True)
        for user in (d.a, d.b, d.c):
            cur.execute("SELECT set_current_user_id(%s)", (user,))
            assert consensus(cur, "k2") == [(True, True)], user
            cur.execute("SELECT count(*) FROM analogy_feedback WHERE analogy_hash = %s", (sha("k2"),))
            assert cur.fetchone()[0] == 1


# audit log -------------------------------------------------------------------------------

def test_audit_log_enabled_per_table(shared_db):
    """Committed on purpose (audit rows are written by the trigger); the course it creates is deleted again."""
    d = shared_db.data
    shared_db.psql("SET ROLE sensa_migrator; SELECT enable_audit('public.courses'); SELECT enable_audit('public.courses');")
    try:
        assert shared_db.scalar("SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_row_change'") == 1
        conn = shared_db.connect(user=shared_db.roles.app, autocommit=False)
        try:
            cur = conn.cursor()
            cur.execute("SELECT set_current_user_id(%s)", (d.a,))
            cur.execute("INSERT INTO courses (owner_id, title) VALUES (%s, 'Audited') RETURNING id", (d.a,))
            cid = cur.fetchone()[0]
            cur.execute("UPDATE courses SET title = 'Audited 2' WHERE id = %s", (cid,))
            cur.execute("DELETE FROM courses WHERE id = %s", (cid,))
            cur.execute("UPDATE user_annotations SET content = 'not audited' WHERE id = %s", (d.annotation_a,))
            conn.commit()
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("SELECT count(*) FROM audit_log")
            conn.rollback()
        finally:
            conn.close()
        rows = shared_db.query(
            "SELECT operation, table_name, db_user, app_user_id, old_row ->> 'title', new_row ->> 'title' "
            "FROM audit_log WHERE row_id = %s ORDER BY id", (str(cid),))
        assert [r[0] for r in rows] == ["INSERT", "UPDATE", "DELETE"]
        assert all(r[1] == "courses" and r[2] == shared_db.roles.app and str(r[3]) == str(d.a) for r in rows)
        assert rows[0][4:] == (None, "Audited") and rows[1][4:] == ("Audited", "Audited 2")
        assert rows[2][4:] == ("Audited 2", None)
        assert shared_db.scalar("SELECT count(*) FROM audit_log WHERE table_name <> 'courses'") == 0
    finally:
        shared_db.psql("SET ROLE sensa_migrator; SELECT disable_audit('public.courses'); "
                       "SELECT disable_audit('public.courses');")
    assert shared_db.scalar("SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_row_change'") == 0


def test_application_role_cannot_switch_auditing(shared_db):
    with session(shared_db, shared_db.roles.app) as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT enable_audit('public.courses')")
