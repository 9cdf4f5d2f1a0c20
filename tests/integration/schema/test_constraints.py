"""Every constraint that guards data refuses what it should (as the superuser, in rolled-back transactions)."""

import psycopg2
import pytest
from sensa_schema_helpers import sha, superuser

# (constraint name, SQL that must violate it); {x} placeholders come from the data set.
CASES = [
    ("users_cognito_sub_key", "INSERT INTO users (cognito_sub, email) VALUES ('sub-a', 'new@example.com')"),
    ("users_email_lower_key", "INSERT INTO users (cognito_sub, email) VALUES ('sub-z', 'A@EXAMPLE.COM')"),
    ("users_email_check", "UPDATE users SET email = 'not-an-email' WHERE id = '{a}'"),
    ("users_cognito_sub_check", "UPDATE users SET cognito_sub = '  ' WHERE id = '{a}'"),
    ("user_profiles_user_id_key", "INSERT INTO user_profiles (user_id) VALUES ('{a}')"),
    ("user_profiles_daily_goal_minutes_check", "UPDATE user_profiles SET daily_goal_minutes = 0"),
    ("user_profiles_learning_style_check", "UPDATE user_profiles SET learning_style = 'osmosis'"),
    ("user_profiles_personalisation_check", "UPDATE user_profiles SET personalisation = '[]'"),
    ("courses_title_check", "UPDATE courses SET title = '   ' WHERE id = '{course_a}'"),
    ("courses_difficulty_check", "UPDATE courses SET difficulty = 6 WHERE id = '{course_a}'"),
    ("courses_published_check", "UPDATE courses SET is_published = true WHERE id = '{course_a}'"),
    ("courses_language_check", "UPDATE courses SET language = 'English' WHERE id = '{course_a}'"),
    ("course_documents_size_bytes_check", "UPDATE course_documents SET size_bytes = 0"),
    ("course_documents_size_bytes_check", "UPDATE course_documents SET size_bytes = 524288001"),
    ("course_documents_content_type_check", "UPDATE course_documents SET content_type = 'pdf'"),
    ("course_documents_s3_object_key", "UPDATE course_documents SET s3_key = 'same'"),
    ("course_documents_checksum_sha256_check", "UPDATE course_documents SET checksum_sha256 = 'xyz'"),
    ("chapters_course_position_key", "INSERT INTO chapters (course_id, position, title) VALUES ('{course_a}', 1, 'x')"),
    ("chapters_position_check", "UPDATE chapters SET position = 0"),
    ("chapters_pages_check", "UPDATE chapters SET start_page = 5, end_page = 4"),
    ("processed_documents_token_count_check", "UPDATE processed_documents SET token_count = 0"),
    ("processed_documents_content_check", "UPDATE processed_documents SET content = ' '"),
    ("processed_documents_embedding_model_check", "UPDATE processed_documents SET embedding_model = NULL"),
    ("processed_documents_document_chunk_key", "UPDATE processed_documents SET chunk_index = 0"),
    ("keywords_course_term_key",
     "INSERT INTO keywords (course_id, term) VALUES ('{course_a}', '  NEURAL NETWORK ')"),
    ("keywords_importance_check", "UPDATE keywords SET importance = 1.5"),
    ("relationships_no_self_loop_check",
     "INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type) VALUES ('{kw}', '{kw}', 'related_to')"),
    ("relationships_weight_check",
     "INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type, weight) "
     "VALUES ('{kw}', '{kw2}', 'related_to', 0)"),
    ("user_annotations_content_check", "UPDATE user_annotations SET content = ''"),
    ("user_annotations_rating_check", "UPDATE user_annotations SET rating = 0"),
    ("analogy_feedback_rating_check", "UPDATE analogy_feedback SET rating = 6"),
    ("analogy_feedback_analogy_hash_check", "UPDATE analogy_feedback SET analogy_hash = 'abc'"),
    ("analogy_feedback_analogy_user_key",
     "INSERT INTO analogy_feedback (user_id, course_id, analogy_hash, analogy_text, rating, helpful) "
     "VALUES ('{a}', '{course_a}', '{river}', 'x', 3, true)"),
    ("user_progress_completion_percent_check", "UPDATE user_progress SET completion_percent = 100.5"),
    ("user_progress_badges_check", "UPDATE user_progress SET badges = '{{}}'"),
    ("user_progress_user_course_key", "INSERT INTO user_progress (user_id, course_id) VALUES ('{a}', '{course_a}')"),
    ("user_progress_total_time_check", "UPDATE user_progress SET total_time_seconds = -1"),
    ("chapter_complexity_score_check",
     "INSERT INTO chapter_complexity (chapter_id, complexity_score, estimated_minutes, model_version) "
     "VALUES ('{chapter_a}', 101, 5, 'v1')"),
    ("chapter_complexity_estimated_minutes_check",
     "INSERT INTO chapter_complexity (chapter_id, complexity_score, estimated_minutes, model_version) "
     "VALUES ('{chapter_a}', 10, 0, 'v1')"),
    ("user_profiles_user_id_fkey", "INSERT INTO user_profiles (user_id) VALUES (gen_random_uuid())"),
]


@pytest.mark.parametrize("name,sql", CASES, ids=["%s-%d" % (c[0], i) for i, c in enumerate(CASES)])
def test_constraint_refuses_bad_data(shared_db, name, sql):
    d = shared_db.data
    values = dict(a=d.a, course_a=d.course_a, chapter_a=d.chapter_a, river=sha("river"),
                  kw=d.kw[("a", "Eigenvalue")], kw2=d.kw[("a", "Neural Network")])
    with superuser(shared_db) as cur:
        with pytest.raises(psycopg2.IntegrityError) as err:
            cur.execute(sql.format(**values))
        assert err.value.diag.constraint_name == name


def test_on_delete_rules(shared_db):
    d = shared_db.data
    with superuser(shared_db) as cur:
        # A document uploaded by C into A's course keeps existing when C goes (uploaded_by SET NULL).
        cur.execute("UPDATE course_documents SET uploaded_by = %s WHERE id = %s", (d.c, d.doc["a"]))
        cur.execute("DELETE FROM users WHERE id = %s", (d.c,))
        cur.execute("SELECT uploaded_by FROM course_documents WHERE id = %s", (d.doc["a"],))
        assert cur.fetchone() == (None,)
        # Deleting a chapter keeps its chunks and keywords (SET NULL).
        cur.execute("DELETE FROM chapters WHERE id = %s", (d.chapter_a,))
        cur.execute("SELECT count(*) FROM processed_documents WHERE course_document_id = %s", (d.doc["a"],))
        assert cur.fetchone() == (12,)
        # Deleting a user removes everything they own.
        cur.execute("DELETE FROM users WHERE id = %s", (d.a,))
        for table, col in (("courses", "owner_id"), ("user_profiles", "user_id"), ("user_progress", "user_id"),
                           ("user_annotations", "user_id"), ("analogy_feedback", "user_id")):
            cur.execute("SELECT count(*) FROM %s WHERE %s = %%s" % (table, col), (d.a,))
            assert cur.fetchone() == (0,), table
        cur.execute("SELECT count(*) FROM processed_documents WHERE course_document_id = %s", (d.doc["a"],))
        assert cur.fetchone() == (0,)
        cur.execute("SELECT count(*) FROM keywords WHERE course_id = %s", (d.course_a,))
        assert cur.fetchone() == (0,)
