"""Helpers shared by the schema tests (data set, sessions as login roles)."""

import hashlib
import random
from contextlib import contextmanager

from support.database import Database

GROUP_ROLES = {
    "sensa_migrator": "NOLOGIN NOSUPERUSER NOBYPASSRLS",
    "sensa_app": "NOLOGIN NOSUPERUSER NOBYPASSRLS",
    "sensa_admin": "NOLOGIN NOSUPERUSER NOBYPASSRLS",
    "sensa_readonly": "NOLOGIN NOSUPERUSER NOBYPASSRLS",
}
DIM = 768


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def vec(values):
    return "[" + ",".join("%.6f" % v for v in values) + "]"


def rand_vec(rng):
    return [rng.uniform(-1, 1) for _dim in range(DIM)]


def basis(i, scale=1.0):
    v = [0.0] * DIM
    v[i] = scale
    return v


class Roles:
    def __init__(self, suffix):
        self.app = "schema_app_" + suffix
        self.app_other = "schema_app2_" + suffix
        self.admin = "schema_admin_" + suffix
        self.readonly = "schema_ro_" + suffix


class SchemaDatabase(Database):
    """A copy of the migrated schema with the suite's LOGIN roles and, once ``seeded()``, the
    data set (``data``, a Data)."""

    def __init__(self, cluster, name, superuser_password, roles):
        super().__init__(cluster, name, superuser_password)
        self.roles = roles
        self.data = None

    def seeded(self):
        self.data = seed(self)
        return self


def prepare_database(db):
    """What the playbook does before migrations: extensions, and CREATE on public for the migrator."""
    have_uuid_ossp = db.scalar("SELECT count(*) FROM pg_available_extensions WHERE name = 'uuid-ossp'")
    db.psql(
        "CREATE EXTENSION IF NOT EXISTS vector; CREATE EXTENSION IF NOT EXISTS pg_trgm;"
        + (' CREATE EXTENSION IF NOT EXISTS "uuid-ossp";' if have_uuid_ossp else "")
        + " DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sensa_migrator') THEN"
        " GRANT CREATE ON SCHEMA public TO sensa_migrator; END IF; END $$;"
    )


GRANTS = """
GRANT USAGE ON SCHEMA public TO sensa_app, sensa_readonly;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sensa_app;
REVOKE ALL ON public.audit_log, public.migrations_log, public.migrations_state FROM sensa_app;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO sensa_readonly;
"""


@contextmanager
def session(db, role, user_id=None, is_local=True):
    """A transaction as a LOGIN role with the RLS context set (user_id None: no context).
    Rolled back at the end unless the body commits."""
    conn = db.connect(user=role, autocommit=False)
    try:
        cur = conn.cursor()
        if user_id is not None:
            cur.execute("SELECT public.set_current_user_id(%s, %s)", (str(user_id), is_local))
        yield cur
        conn.rollback()
    finally:
        conn.close()


@contextmanager
def superuser(db):
    """A superuser transaction (RLS does not apply), rolled back at the end."""
    conn = db.connect(autocommit=False)
    try:
        yield conn.cursor()
        conn.rollback()
    finally:
        conn.close()


def run(db, sql, params=None):
    """Run as the superuser in autocommit (bypasses RLS); returns rows."""
    return db.query(sql, params)


class Data:
    """The ids of the seeded rows: users a-e, their courses, documents, chapters, chunks, keywords, ..."""

    def __init__(self):
        self.a = self.b = self.c = self.d = self.e = None
        self.course_a = self.course_a2 = self.course_b = None
        self.chapter_a = self.chapter_b = None
        self.doc, self.chunks, self.vectors, self.kw = {}, {}, {}, {}
        self.progress_a = self.progress_b = None
        self.annotation_a = self.annotation_b = None
        self.feedback_a = self.feedback_b = None


def seed(db):
    """Two owners A and B, three more users; a course each for A and B with documents,
    chapters, chunks with embeddings, keywords, progress, annotations and feedback."""
    rng = random.Random(42)  # noqa: S311 - test data, not secrets
    d = Data()
    users = {}
    for n in ("a", "b", "c", "d", "e"):
        users[n] = db.scalar(
            "INSERT INTO users (cognito_sub, email, display_name) VALUES (%s, %s, %s) RETURNING id",
            ("sub-" + n, n + "@example.com", n.upper()),
        )
    d.a, d.b, d.c, d.d, d.e = users["a"], users["b"], users["c"], users["d"], users["e"]
    for n in ("a", "b"):
        db.query("INSERT INTO user_profiles (user_id, interests) VALUES (%s, %s)", (users[n], ["math"]))
    d.course_a = db.scalar(
        "INSERT INTO courses (owner_id, title, description) VALUES (%s, 'Linear Algebra Basics', "
        "'Vectors, matrices and linear maps') RETURNING id", (d.a,))
    d.course_a2 = db.scalar(
        "INSERT INTO courses (owner_id, title, description) VALUES (%s, 'Cooking for Engineers', "
        "'Heat, time and taste') RETURNING id", (d.a,))
    d.course_b = db.scalar(
        "INSERT INTO courses (owner_id, title, description) VALUES (%s, 'Abstract Algebra', "
        "'Groups, rings and fields') RETURNING id", (d.b,))
    chapters = {}
    for key, course in (("a", d.course_a), ("b", d.course_b)):
        doc = db.scalar(
            "INSERT INTO course_documents (course_id, uploaded_by, s3_bucket, s3_key, original_filename, content_type, "
            "size_bytes) VALUES (%s, %s, 'sensa-docs', %s, 'book.pdf', 'application/pdf', 1000) RETURNING id",
            (course, users[key], "courses/%s/book.pdf" % course),
        )
        d.doc[key] = doc
        chapter = db.scalar(
            "INSERT INTO chapters (course_id, course_document_id, position, title) VALUES (%s, %s, 1, 'One') RETURNING id",
            (course, doc),
        )
        chapters[key] = chapter
        d.chunks[key] = []
        for i in range(12):
            v = rand_vec(rng)
            content = "chunk %s %d" % (key, i)
            cid = db.scalar(
                "INSERT INTO processed_documents (course_document_id, chapter_id, chunk_index, content, content_sha256, "
                "token_count, embedding, embedding_model) VALUES (%s, %s, %s, %s, %s, 10, %s, 'test-model') RETURNING id",
                (doc, chapter, i, content, sha(content), vec(v)),
            )
            d.chunks[key].append(cid)
            d.vectors[cid] = v
    d.chapter_a, d.chapter_b = chapters["a"], chapters["b"]
    for key, course in (("a", d.course_a), ("b", d.course_b)):
        for term in ["Neural Network", "neural networks", "Gradient Descent", "Eigenvalue"]:
            kid = db.scalar(
                "INSERT INTO keywords (course_id, term, definition, embedding) VALUES (%s, %s, 'def', %s) RETURNING id",
                (course, term, vec(rand_vec(rng))),
            )
            d.kw[(key, term)] = kid
    d.progress_a = db.scalar(
        "INSERT INTO user_progress (user_id, course_id, completion_percent) VALUES (%s, %s, 40) RETURNING id",
        (d.a, d.course_a))
    d.progress_b = db.scalar(
        "INSERT INTO user_progress (user_id, course_id, completion_percent) VALUES (%s, %s, 60) RETURNING id",
        (d.b, d.course_b))
    d.annotation_a = db.scalar(
        "INSERT INTO user_annotations (user_id, course_id, annotation_type, content) VALUES (%s, %s, 'note', 'mine') "
        "RETURNING id", (d.a, d.course_a))
    d.annotation_b = db.scalar(
        "INSERT INTO user_annotations (user_id, course_id, annotation_type, content) VALUES (%s, %s, 'question', 'his') "
        "RETURNING id", (d.b, d.course_b))
    d.feedback_a = db.scalar(
        "INSERT INTO analogy_feedback (user_id, course_id, analogy_hash, analogy_text, rating, helpful) "
        "VALUES (%s, %s, %s, 'like a river', 5, true) RETURNING id", (d.a, d.course_a, sha("river")))
    d.feedback_b = db.scalar(
        "INSERT INTO analogy_feedback (user_id, course_id, analogy_hash, analogy_text, rating, helpful) "
        "VALUES (%s, %s, %s, 'like a tree', 2, false) RETURNING id", (d.b, d.course_b, sha("tree")))
    return d
