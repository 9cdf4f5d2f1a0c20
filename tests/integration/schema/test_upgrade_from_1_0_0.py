"""A database at 1.0.0 (migrations 0001-0005, with data) upgrades with a plain re-run and ends
with exactly the schema of a fresh database (pg_dump --schema-only)."""

import pytest
from sensa_schema_helpers import prepare_database, seed

from support.database import Database
from support.schema import apply_schema


@pytest.mark.usefixtures("roles")  # creates sensa_migrator, which the migrations run as
def test_upgraded_database_equals_a_fresh_one(pg_server, pg_db):
    prepare_database(pg_db)
    apply_schema(pg_db, role="sensa_migrator")
    fresh = pg_db.pg_dump_schema()

    name = pg_db.name + "_up"
    pg_server.create_database(name)
    try:
        old = Database(pg_server, name, pg_server.superuser_password)
        prepare_database(old)
        assert apply_schema(old, upto="0005", role="sensa_migrator")[-1].endswith("_0005")
        data = seed(old)
        # A learner already studying A's course at 1.0.0, which A then published.
        old.query("UPDATE courses SET is_published = true, published_at = now() WHERE id = %s", (data.course_a,))
        old.query("INSERT INTO user_progress (user_id, course_id) VALUES (%s, %s)", (data.c, data.course_a))
        applied = apply_schema(old, role="sensa_migrator")
        assert [v[-4:] for v in applied] == ["0006", "0007", "0008", "0009"]
        assert old.pg_dump_schema() == fresh
        # The learner stays able to read the course; nothing else was enrolled.
        assert old.query("SELECT user_id, course_id FROM course_enrolments") == [(data.c, data.course_a)]
        # A second plain run changes nothing.
        assert apply_schema(old, role="sensa_migrator") == []
    finally:
        pg_server.drop_database(name)
