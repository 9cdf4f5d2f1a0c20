"""The suite's own proof that it can fail: it catches what is added later, and it fails where
1.0.0 failed.

* A table of user data added without forced row-level security (as a later migration could
  add it) is reported by the catalog checks, its rows are found for the matrix by the catalog
  closure without anyone listing it, and the matrix's "another user reads them" probe sees them.
* The 1.0.0 schema (migrations 0001-0005) with 1.0.0's grants (DML on every table for the
  application group) fails the catalog check on the tables the outside review named.
"""

from security_helpers import (
    actor_session,
    expect_refused,
    rows_of_user,
    unlisted_user_tables,
    unprotected_tables,
)

from support.database import Database
from support.schema import apply_schema

LATER_TABLE = "zz_private_notes"
REVIEWED_LEAKS = {"chapters", "course_documents", "processed_documents", "keywords", "relationships",
                  "chapter_complexity", "users"}


def test_a_table_added_later_without_rls_is_caught(deployed, world):
    deployed.psql(
        "CREATE TABLE public.%s (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
        "user_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE, body text NOT NULL); "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON public.%s TO sensa_app; "
        "INSERT INTO public.%s (user_id, body) VALUES ('%s', 'secret-a note')"
        % (LATER_TABLE, LATER_TABLE, LATER_TABLE, world.users["a"]))
    try:
        assert unprotected_tables(deployed) == [LATER_TABLE]
        assert unlisted_user_tables(deployed) == [LATER_TABLE]
        assert len(rows_of_user(deployed, world.users["a"]).get(LATER_TABLE, [])) == 1
        with actor_session(deployed, world, "other") as cur:
            refused, count, _state = expect_refused(cur, "SELECT body FROM public.%s" % LATER_TABLE)
        assert not refused and count == 1, "user b reads user a's note: the matrix reports this cell as a leak"
    finally:
        deployed.psql("DROP TABLE public.%s" % LATER_TABLE)
    assert unprotected_tables(deployed) == []


def test_the_1_0_0_schema_fails_the_catalog_check(pg_server, deployed):
    name = "sensa_release_1_0_0"
    pg_server.create_database(name)
    old = Database(pg_server, name, pg_server.superuser_password)
    try:
        apply_schema(old, upto="0005")
        old.psql("GRANT CONNECT ON DATABASE %s TO sensa_app; GRANT USAGE ON SCHEMA public TO sensa_app; "
                 "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sensa_app" % name)
        holes = set(unprotected_tables(old))
        assert REVIEWED_LEAKS <= holes, REVIEWED_LEAKS - holes
    finally:
        pg_server.drop_database(name)
