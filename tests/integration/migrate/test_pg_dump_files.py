"""Files produced by pg_dump apply through pg_migrate exactly as psql applies them."""

import subprocess
import uuid

from migrate_helpers import migrate

SOURCE_SCHEMA = r"""
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE SEQUENCE ticket_seq START 100;
CREATE TABLE people (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (name <> ''),
    feeling mood NOT NULL DEFAULT 'ok',
    tags text[] DEFAULT '{}',
    attrs jsonb,
    ticket int DEFAULT nextval('ticket_seq')
);
CREATE TABLE notes (
    person_id bigint REFERENCES people (id) ON DELETE CASCADE,
    body text
);
CREATE INDEX notes_person_idx ON notes (person_id);
CREATE VIEW happy_people AS SELECT id, name FROM people WHERE feeling = 'happy';
CREATE FUNCTION shout(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
  -- a comment; with a semicolon and $$ inside
  RETURN upper(t) || '!;';
END;
$fn$;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.name := trim(NEW.name); RETURN NEW; END $$;
CREATE TRIGGER people_touch BEFORE INSERT OR UPDATE ON people FOR EACH ROW EXECUTE FUNCTION touch();
COMMENT ON TABLE people IS 'people; with a semicolon and a ''quote''';
"""

SOURCE_DATA = r"""
INSERT INTO people (name, feeling, tags, attrs) VALUES
  ('ann', 'happy', '{a,b}', '{"k": "v;w"}'),
  (E'tab\there', 'sad', '{}', NULL),
  (E'new\nline and back\\slash', 'ok', '{"x y"}', '{"n": 1}');
INSERT INTO notes SELECT id, 'note ' || id FROM people;
"""


def pg_dump(db, *args):
    cluster = db.cluster
    return subprocess.run(
        [cluster.bindir + "/pg_dump", "--no-owner", "--no-privileges", *args,
         "-h", cluster.socket_dir, "-p", str(cluster.port), "-U", cluster.superuser, db.name],
        capture_output=True, text=True, check=True,
    ).stdout


def new_database(source):
    name = "t_" + uuid.uuid4().hex[:12]
    source.cluster.create_database(name)
    return type(source)(source.cluster, name, source.superuser_password)


def test_plain_dump_with_copy_data_applies(pg_db, tree):
    pg_db.psql(SOURCE_SCHEMA + SOURCE_DATA)
    dump = pg_dump(pg_db)
    assert "FROM stdin;" in dump
    tree.add("20250101_0001", "from_dump", dump)
    target = new_database(pg_db)
    try:
        result = migrate(target, tree)
        assert result["applied"][0]["version"] == "20250101_0001"
        query = "SELECT id, name, feeling::text, tags, attrs::text, ticket FROM people ORDER BY id"
        assert target.query(query) == pg_db.query(query)
        assert target.scalar("SELECT count(*) FROM notes") == 3
        assert target.scalar("SELECT shout('a')") == "A!;"
        # identity and sequence positions restored by the dump's setval calls
        target.psql("INSERT INTO people (name) VALUES ('later')")
        assert target.scalar("SELECT max(id) FROM people") == 4
    finally:
        target.cluster.drop_database(target.name)


def test_schema_only_dump_gives_the_same_schema_as_psql(pg_db, tree):
    pg_db.psql(SOURCE_SCHEMA)
    dump = pg_dump(pg_db, "--schema-only")
    tree.add("20250101_0001", "schema_dump", dump)
    via_module, via_psql = new_database(pg_db), new_database(pg_db)
    try:
        migrate(via_module, tree, table="schema_history_log")  # keep the log table out of the comparison's way
        via_psql.psql(dump)
        module_schema = via_module.pg_dump_schema()
        psql_schema = via_psql.pg_dump_schema()
        # The only difference allowed is pg_migrate's own log table and view.
        module_schema = _without_objects(module_schema, ("schema_history_log", "schema_history_state"))
        assert "CREATE TABLE public.people" in psql_schema and "shout" in psql_schema
        assert module_schema == psql_schema
    finally:
        via_module.cluster.drop_database(via_module.name)
        via_psql.cluster.drop_database(via_psql.name)


def _without_objects(dump, names):
    """Drop the dump's sections (split on the '--\\n-- Name:' headers) that mention any of ``names``."""
    sections = dump.split("\n--\n-- Name: ")
    kept = [sections[0]] + [s for s in sections[1:] if not any(n in s.split("\n", 1)[0] or n in s for n in names)]
    return "\n--\n-- Name: ".join(kept)
