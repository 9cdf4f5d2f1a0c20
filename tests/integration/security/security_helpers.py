"""The adversarial suite's shared pieces: a database deployed by the real playbooks/database.yml
(extensions, pg_access roles, every migration, pg_access grants and verification) on a cluster
of its own, a symmetric "world" per user, and everything the tests generate from the catalog.

The tests never list tables, columns, foreign keys or functions by hand: they read them from
pg_class / pg_attribute / pg_constraint / pg_proc / pg_trigger, so a table, key or function
added later is attacked automatically. Per user the world holds a private course with a
document, chapters, chunks, keywords, a relationship, complexity, a profile, progress,
annotations and feedback; a user's rows are found by following foreign keys from their users
row (catalog closure), so the tests also need no list of "owner columns".
"""

import json
import os
import random
import uuid
from contextlib import contextmanager

import psycopg2
import psycopg2.errors

from support.ansible_run import run_playbook
from support.collection import REPO_ROOT

DATABASE = "sensa_security"
APP_LOGIN = "sensa_app_a"
DIM = 768
SECRET = "secret-%s"  # marker in every text a user's world holds, e.g. secret-a


def vec(rng):
    return "[" + ",".join("%.5f" % rng.uniform(-1, 1) for _ in range(DIM)) + "]"


def deploy(cluster, work_dir):
    """The real playbooks/database.yml against a fresh database of ``cluster``."""
    cluster.create_database(DATABASE)
    inventory = os.path.join(str(work_dir), "hosts.json")
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": os.path.join(REPO_ROOT, ".venv", "bin", "python"),
        "sensa_db_login": {"login_unix_socket": cluster.socket_dir, "login_port": cluster.port,
                           "login_user": cluster.superuser, "login_db": DATABASE},
        "pg_extensions_uuid_ossp_required": False,
    }
    with open(inventory, "w") as handle:
        json.dump({"all": {"children": {"sensa_databases": {"hosts": {"security_db": host}}}}}, handle)
    result = run_playbook(os.path.join(REPO_ROOT, "playbooks", "database.yml"), inventory=inventory)
    assert result.returncode == 0, result
    return result


class World:
    """Ids of the seeded rows, per user key ('a', 'b', 'l')."""

    def __init__(self):
        self.users = {}
        self.courses = {}


def seed_world(db):
    """Users a and b each own a private course and a published one, with everything in them and
    their own learner rows; learner l is enrolled in b's published course and studies it.
    Seeded as the superuser (outside RLS)."""
    rng = random.Random(12)  # noqa: S311 - test data
    w = World()
    for key in ("a", "b", "l"):
        w.users[key] = db.scalar(
            "INSERT INTO users (cognito_sub, email, display_name) VALUES (%s, %s, %s) RETURNING id",
            ("sub-" + key, "%s@example.com" % (SECRET % key), "User " + SECRET % key))
        db.query("INSERT INTO user_profiles (user_id, interests) VALUES (%s, %s)", (w.users[key], [SECRET % key]))
    for key in ("a", "b"):
        owner = w.users[key]
        for kind in ("private", "published"):
            course = db.scalar(
                "INSERT INTO courses (owner_id, title, description, is_published, published_at) "
                "VALUES (%s, %s, %s, %s, CASE WHEN %s THEN now() END) RETURNING id",
                (owner, "%s %s course" % (SECRET % key, kind), "about " + SECRET % key,
                 kind == "published", kind == "published"))
            w.courses[(key, kind)] = course
            doc = db.scalar(
                "INSERT INTO course_documents (course_id, uploaded_by, s3_bucket, s3_key, original_filename, "
                "content_type, size_bytes) VALUES (%s, %s, 'sensa-docs', %s, %s, 'application/pdf', 100) RETURNING id",
                (course, owner, "c/%s/book.pdf" % course, SECRET % key + ".pdf"))
            chapters = [db.scalar(
                "INSERT INTO chapters (course_id, course_document_id, position, title) VALUES (%s, %s, %s, %s) "
                "RETURNING id", (course, doc, pos, "%s chapter %d" % (SECRET % key, pos))) for pos in (1, 2)]
            for chapter in chapters:
                db.query("INSERT INTO chapter_complexity (chapter_id, complexity_score, estimated_minutes, model_version) "
                         "VALUES (%s, 50, 10, %s)", (chapter, SECRET % key))
            for i in range(3):
                content = "%s chunk %d" % (SECRET % key, i)
                db.query("INSERT INTO processed_documents (course_document_id, chapter_id, chunk_index, content, "
                         "content_sha256, token_count, embedding, embedding_model) "
                         "VALUES (%s, %s, %s, %s, md5(%s) || md5(%s), 5, %s, 'm')",
                         (doc, chapters[0], i, content, content, content + "x", vec(rng)))
            kws = [db.scalar("INSERT INTO keywords (course_id, chapter_id, term, definition, embedding) "
                             "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                             (course, chapters[0], "%s term %d" % (SECRET % key, i), SECRET % key, vec(rng)))
                   for i in range(2)]
            db.query("INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type) "
                     "VALUES (%s, %s, 'related_to')", (kws[0], kws[1]))
    # Owners study their own private course; l studies b's published one.
    for key, course_key in (("a", ("a", "private")), ("b", ("b", "private")), ("l", ("b", "published"))):
        user, course = w.users[key], w.courses[course_key]
        if key == "l":
            db.query("INSERT INTO course_enrolments (user_id, course_id) VALUES (%s, %s)", (user, course))
        chapter = db.scalar("SELECT id FROM chapters WHERE course_id = %s ORDER BY position LIMIT 1", (course,))
        db.query("INSERT INTO user_progress (user_id, course_id, last_activity_at, completed_chapter_ids) "
                 "VALUES (%s, %s, now(), ARRAY[%s]::uuid[])", (user, course, chapter))
        db.query("INSERT INTO user_annotations (user_id, course_id, chapter_id, annotation_type, content) "
                 "VALUES (%s, %s, %s, 'note', %s)", (user, course, chapter, "%s note" % (SECRET % key)))
        db.query("INSERT INTO analogy_feedback (user_id, course_id, chapter_id, analogy_hash, analogy_text, rating, "
                 "helpful) VALUES (%s, %s, %s, encode(sha256(%s::bytea), 'hex'), %s, 4, true)",
                 (user, course, chapter, SECRET % key, "%s analogy" % (SECRET % key)))
    db.psql("ANALYZE")
    return w


# --- the catalog -----------------------------------------------------------------------

def tables(db):
    """Every ordinary and partitioned table of the public schema (nothing listed by hand)."""
    return [r[0] for r in db.query(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
        "AND c.relkind IN ('r', 'p') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
        "AND d.objid = c.oid AND d.deptype = 'e') ORDER BY 1")]


def user_data_list(db):
    return {r[0]: (list(r[1]), r[2]) for r in db.query(
        "SELECT table_name, app_privileges, ownership FROM public.sensa_user_data_tables()")}


def unprotected_tables(db, login=APP_LOGIN):
    """Tables of the public schema that ``login`` can read or write without forced row-level
    security (enabled and forced): each one is a hole, whatever the list says."""
    return [r[0] for r in db.query(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
        "AND NOT (c.relrowsecurity AND c.relforcerowsecurity) "
        "AND (has_table_privilege(%(l)s, c.oid, 'SELECT') OR has_table_privilege(%(l)s, c.oid, 'INSERT') "
        "     OR has_table_privilege(%(l)s, c.oid, 'UPDATE') OR has_table_privilege(%(l)s, c.oid, 'DELETE')) "
        "ORDER BY 1", {"l": login})]


def unlisted_user_tables(db):
    """Tables with a foreign key to users (the shape of user data) missing from the one list."""
    referencing = {r[0] for r in db.query(
        "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND confrelid = 'public.users'::regclass")}
    return sorted(referencing - set(user_data_list(db)))


def primary_key(db, table):
    return [r[0] for r in db.query(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
        ("public." + table,))]


def columns(db, table):
    """(name, type, generated_or_identity_always) of the table's live columns."""
    return db.query(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> '' OR a.attidentity = 'a' "
        "FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum", ("public." + table,))


def foreign_keys(db):
    """[(table, [columns], referenced table, [referenced columns], constraint)] for every foreign key."""
    return db.query(
        "SELECT c.conrelid::regclass::text, "
        "       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) "
        "              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), "
        "       c.confrelid::regclass::text, "
        "       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o) "
        "              JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o), "
        "       c.conname::text "
        "  FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace ORDER BY 1, 5")


def rows_of_user(db, user_id):
    """{table: [primary key tuple (text), ...]} of every row reachable from users.id = user_id by
    following foreign keys from the referencing side (catalog closure): the user's own rows and
    everything in their courses."""
    fks = [fk for fk in foreign_keys(db) if fk[0] != fk[2]]
    keys = {}
    content = {}

    def load(table):
        if table not in content:
            pk = keys.setdefault(table, primary_key(db, table))
            cols = sorted(set(c for fk in fks if fk[0] == table for c in fk[1]) | set(pk))
            rows = db.query("SELECT %s FROM public.%s" % (", ".join("%s::text" % c for c in cols), table))
            content[table] = [dict(zip(cols, r)) for r in rows]
        return content[table]

    found = {"users": {(str(user_id),)}}
    changed = True
    while changed:
        changed = False
        for table, cols, ref, ref_cols, _name in fks:
            if ref not in found:
                continue
            if ref_cols != keys.setdefault(ref, primary_key(db, ref)):
                continue
            targets = found[ref]
            pk = keys.setdefault(table, primary_key(db, table))
            for row in load(table):
                if tuple(row[c] for c in cols) in targets:
                    key = tuple(row[c] for c in pk)
                    if key not in found.setdefault(table, set()):
                        found[table].add(key)
                        changed = True
    return {t: sorted(v) for t, v in found.items() if v}


def pk_predicate(pk, rows):
    """WHERE clause (with its parameter) selecting ``rows`` (primary key tuples) of a table."""
    return "(%s) IN %%s" % ", ".join("%s::text" % c for c in pk), tuple(tuple(r) for r in rows)


# --- sessions --------------------------------------------------------------------------

ACTORS = ("owner", "other", "no_context", "garbage_context")


@contextmanager
def as_app(db, context=None, raw_setting=None, login=APP_LOGIN):
    """A transaction of the application login; the context set with set_current_user_id, or a
    raw value written with set_config (garbage). Rolled back at the end."""
    conn = db.connect(user=login, autocommit=False)
    try:
        cur = conn.cursor()
        if context is not None:
            cur.execute("SELECT public.set_current_user_id(%s)", (str(context),))
        if raw_setting is not None:
            cur.execute("SELECT set_config('sensa.current_user_id', %s, true)", (raw_setting,))
        yield cur
        conn.rollback()
    finally:
        conn.close()


def actor_session(db, world, actor):
    """The session of one actor of the matrix, against user a's rows."""
    if actor == "owner":
        return as_app(db, world.users["a"])
    if actor == "other":
        return as_app(db, world.users["b"])
    if actor == "no_context":
        return as_app(db)
    # a uuid with junk around it, an empty value and SQL text: none of them is a user
    return as_app(db, raw_setting="%s'; --x" % world.users["a"])


def expect_refused(cur, sql, params=None):
    """Run in a savepoint: returns (refused, rowcount, sqlstate); the result rows, if any, are
    left in ``expect_refused.rows``."""
    cur.execute("SAVEPOINT probe")
    try:
        cur.execute(sql, params)
        count = cur.rowcount
        expect_refused.rows = cur.fetchall() if cur.description else []
        cur.execute("RELEASE SAVEPOINT probe")
        return False, count, None
    except psycopg2.Error as exc:
        cur.execute("ROLLBACK TO SAVEPOINT probe")
        return True, 0, exc.pgcode


def new_id():
    return str(uuid.uuid4())
