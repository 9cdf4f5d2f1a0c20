"""The pg_access role and pg_access_info module against a real PostgreSQL server.

The playbook runs the database stages in database.yml's order (pg_extensions, pg_access
roles.yml, pg_migrations with the real files/sql/migrations as sensa_migrator, pg_access
main) against a fresh database of the session cluster over its unix socket.

Roles are cluster-wide while databases are per test, so every test starts by dropping the
Sensa roles (the databases of earlier tests are gone by then, so nothing depends on them).
"""

import json
import os
import uuid

import psycopg2
import psycopg2.errors
import pytest

from support.ansible_run import run_playbook
from support.clusters import private_cluster_fixture
from support.collection import REPO_ROOT, ensure_collection_link
from support.database import Database

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import access_checks  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOKS = os.path.join(HERE, "playbooks")
MIGRATIONS = os.path.join(REPO_ROOT, "files", "sql", "migrations")

MIGRATOR = "sensa_migrator"
GROUPS = ("sensa_app", "sensa_admin", "sensa_readonly")
USERS = ("sensa_app_a", "sensa_app_b")
ALL_ROLES = (MIGRATOR,) + GROUPS + USERS
# The configuration the role's verification task uses.
CONFIG = access_checks.AccessConfig(app_roles=["sensa_app", "sensa_app_a", "sensa_app_b", "sensa_admin", "sensa_readonly"],
                                    require_user_data_function=True, connect_only_app_database=True,
                                    exempt_relations=["migrations_log", "migrations_state"])

pytestmark = pytest.mark.skipif(
    not os.path.exists(os.path.join(MIGRATIONS, "20250122_0004_row_level_security.sql")),
    reason="needs the row-level security migration (issue 4) in files/sql/migrations",
)


# These tests drop and recreate the cluster-wide sensa_* roles: a cluster of their own.
pg_server = private_cluster_fixture()


def reset_roles(db):
    for role in reversed(ALL_ROLES):
        db.psql('DROP ROLE IF EXISTS "%s";' % role)


class InventoriedDatabase(Database):
    """A database and the inventory, written in ``directory``, that points the playbooks at it."""

    def __init__(self, cluster, name, superuser_password, directory):
        super().__init__(cluster, name, superuser_password)
        self.inventory = os.path.join(str(directory), "hosts-%s.yml" % name)
        with open(self.inventory, "w") as handle:
            json.dump({"all": {"hosts": {"access_db": {
                "ansible_connection": "local",
                "ansible_python_interpreter": os.path.join(REPO_ROOT, ".venv", "bin", "python"),
                "sensa_db_login": self.login,
                "pg_extensions_uuid_ossp_required": False,
            }}}}, handle)


def play(db, name="database.yml", **kwargs):
    return run_playbook(os.path.join(PLAYBOOKS, name), inventory=db.inventory, **kwargs)


@pytest.fixture(scope="module")
def stage(pg_server, tmp_path_factory):
    """One database taken through the whole stage twice: (database, first run, second run).

    Roles are cluster-wide, so they are dropped first (earlier tests' databases are gone).
    Tests that change anything work on a clone (``clone`` fixture), never on this one.
    """
    name = "access_" + uuid.uuid4().hex[:10]
    pg_server.create_database(name)
    db = InventoriedDatabase(pg_server, name, pg_server.superuser_password, tmp_path_factory.mktemp("access"))
    reset_roles(db)
    first = play(db)
    second = play(db) if first.returncode == 0 else None
    try:
        yield db, first, second
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def applied(stage):
    db, first, _second = stage
    assert first.returncode == 0, first
    return db


@pytest.fixture
def clone(applied, pg_server, tmp_path):
    """A copy of the applied database that a test may change; role changes are undone after."""
    name = "access_" + uuid.uuid4().hex[:10]
    pg_server.create_database(name, template=applied.name)
    db = InventoriedDatabase(pg_server, name, pg_server.superuser_password, tmp_path)
    # CREATE DATABASE ... TEMPLATE copies the contents, not the database's own ACL: restore
    # what the role set on the original so the clone starts converged.
    db.psql('REVOKE ALL ON DATABASE "%s" FROM PUBLIC; GRANT CONNECT ON DATABASE "%s" TO sensa_app, sensa_admin, sensa_readonly;'
            % (name, name))
    try:
        yield db
    finally:
        pg_server.drop_database(name)
        pg_server.psql("ALTER ROLE sensa_app_b NOBYPASSRLS; ALTER ROLE sensa_app_a NOCREATEDB;", check=False)
        pg_server.psql("REVOKE sensa_migrator FROM sensa_app_a;", check=False)


def check_model(db):
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            return access_checks.check(cur, CONFIG)
    finally:
        conn.close()


def as_role(db, role):
    """A connection as ``role`` over the trusted unix socket (LOGIN users only)."""
    return db.connect(user=role, autocommit=False)


def fail_sql(conn, sql, params=None):
    """Run sql expecting a privilege error; roll back either way."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
    except psycopg2.errors.InsufficientPrivilege as exc:
        conn.rollback()
        return str(exc)
    conn.rollback()
    raise AssertionError("expected permission denied for: %s" % sql)


def test_check_mode_of_the_roles_entry_point_creates_nothing(pg_db, tmp_path):
    # Runs before the module's stage database exists, so the roles can be dropped.
    reset_roles(pg_db)
    preview = play(InventoriedDatabase(pg_db.cluster, pg_db.name, pg_db.superuser_password, tmp_path), "roles_only.yml",
                   check=True)
    assert preview.returncode == 0, preview
    assert preview.changed() > 0
    assert pg_db.scalar("SELECT count(*) FROM pg_roles WHERE rolname = ANY(%s)", (list(ALL_ROLES),)) == 0
    assert pg_db.scalar("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public'") != MIGRATOR


def test_first_run_creates_everything_and_second_run_changes_nothing(stage):
    _db, first, second = stage
    assert first.returncode == 0, first
    assert first.changed() > 0
    assert second.returncode == 0, second
    assert second.changed() == 0, second


def test_roles_have_least_privilege_attributes(applied):
    rows = applied.query(
        "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication "
        "FROM pg_roles WHERE rolname = ANY(%s)", (list(ALL_ROLES),))
    attrs = {r[0]: r[1:] for r in rows}
    assert set(attrs) == set(ALL_ROLES)
    for role in ALL_ROLES:
        login, superuser, createdb, createrole, bypassrls, replication = attrs[role]
        assert login is (role in USERS), role
        assert not (superuser or createdb or createrole or bypassrls or replication), role
    members = set(applied.query(
        "SELECT g.rolname, m.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
        "JOIN pg_roles m ON m.oid = a.member WHERE g.rolname = ANY(%s)", (list(ALL_ROLES),)))
    assert members >= {("sensa_app", "sensa_app_a"), ("sensa_app", "sensa_app_b"), ("sensa_app", "sensa_admin")}
    assert not any(g == MIGRATOR for g, _member in members), "nobody but the deployment login may be in the owner role"
    # Login users have no password until rotation sets one.
    assert applied.scalar("SELECT count(*) FROM pg_authid WHERE rolname = ANY(%s) AND rolpassword IS NOT NULL",
                          (list(USERS),)) == 0
    assert applied.scalar("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public'") == MIGRATOR


def test_model_holds_and_migrator_owns_everything(applied):
    facts, violations = check_model(applied)
    assert violations == []
    status = {s["table"]: s for s in access_checks.protected_table_status(facts, CONFIG)}
    # The database's own list (public.sensa_user_data_tables(), 0006), and nothing the role adds to it.
    listed = {"public." + r[0] for r in applied.query("SELECT table_name FROM public.sensa_user_data_tables()")}
    assert listed and set(status) == listed
    for table in listed:
        assert status[table]["rls_enabled"] and status[table]["rls_forced"], table
    owners = {r["owner"] for r in facts["relations"]} | {f["owner"] for f in facts["functions"]} | {t["owner"] for t in facts["types"]}
    assert owners == {MIGRATOR}


def test_grants_are_exactly_dml_and_no_internal_tables(applied):
    def priv(role, obj, what):
        return applied.scalar("SELECT has_table_privilege(%s, %s, %s)", (role, obj, what))

    for what in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        assert priv("sensa_app", "public.courses", what)
    for what in ("TRUNCATE", "TRIGGER", "REFERENCES"):
        assert not priv("sensa_app", "public.courses", what)
    assert priv("sensa_readonly", "public.courses", "SELECT")
    assert not priv("sensa_readonly", "public.courses", "INSERT")
    # Exactly what sensa_user_data_tables() names: accounts come and go through functions only.
    assert priv("sensa_app", "public.users", "SELECT") and priv("sensa_app", "public.users", "UPDATE")
    assert not priv("sensa_app", "public.users", "INSERT") and not priv("sensa_app", "public.users", "DELETE")
    assert not priv("sensa_app", "public.course_enrolments", "UPDATE")
    assert priv("sensa_app", "public.user_streaks", "SELECT") and not priv("sensa_app", "public.user_streaks", "UPDATE")
    assert not priv("sensa_app", "public.analogy_consensus", "SELECT")
    assert not priv("sensa_readonly", "public.analogy_consensus", "SELECT")
    for internal in ("public.migrations_log", "public.audit_log"):
        assert not priv("sensa_app", internal, "SELECT")
        assert not priv("sensa_app", internal, "INSERT")
        assert priv("sensa_admin", internal, "SELECT")
    assert not priv("sensa_readonly", "public.audit_log", "SELECT"), "audit rows would go around RLS"
    assert priv("sensa_readonly", "public.migrations_log", "SELECT")
    assert applied.scalar("SELECT has_function_privilege('sensa_app', 'public.set_current_user_id(uuid, boolean)', 'EXECUTE')")
    assert not applied.scalar("SELECT has_function_privilege('sensa_app', 'public.audit_row_change()', 'EXECUTE')")
    # PUBLIC lost CONNECT and TEMPORARY; the groups connect.
    assert applied.scalar("SELECT has_database_privilege('sensa_app_a', current_database(), 'CONNECT')")
    assert not applied.scalar("SELECT has_database_privilege('sensa_app_a', current_database(), 'TEMPORARY')")
    assert not applied.scalar("SELECT has_database_privilege('public', current_database(), 'CONNECT')")


def test_app_users_cannot_create_objects_anywhere(applied):
    conn = as_role(applied, "sensa_app_a")
    try:
        for sql in (
            "CREATE TABLE public.sneaky (id int)",
            "CREATE VIEW public.sneaky AS SELECT 1",
            "CREATE FUNCTION public.sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "CREATE TYPE public.sneaky AS ENUM ('a')",
            "CREATE SEQUENCE public.sneaky",
            "CREATE SCHEMA sneaky",
            "CREATE TEMPORARY TABLE sneaky (id int)",
            "CREATE TRIGGER sneaky AFTER INSERT ON public.courses FOR EACH ROW EXECUTE FUNCTION public.set_updated_at()",
            "ALTER TABLE public.courses NO FORCE ROW LEVEL SECURITY",
            "TRUNCATE public.courses",
            "DROP TABLE public.courses",
        ):
            fail_sql(conn, sql)
        # Table ownership is the only other way around RLS; SET ROLE to the owner is refused.
        fail_sql(conn, "SET ROLE sensa_migrator")
    finally:
        conn.close()


def test_app_logins_connect_only_to_the_application_database(applied, pg_server):
    """pg_access_app_connect_only_app_database (default on): PUBLIC lost CONNECT and TEMPORARY
    on every other database, so the application logins cannot reach postgres or template1."""
    for other in ("postgres", "template1"):
        assert not applied.scalar("SELECT has_database_privilege('sensa_app_a', %s, 'CONNECT')", (other,)), other
        assert not applied.scalar("SELECT has_database_privilege('sensa_app_a', %s, 'TEMPORARY')", (other,)), other
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            psycopg2.connect(**pg_server.conninfo(other, user="sensa_app_a")).close()
    # The application database itself still works for them.
    conn = as_role(applied, "sensa_app_a")
    conn.close()


def _seed_two_users(db):
    """Two users with a course each, inserted as the superuser (outside RLS)."""
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    for user in (a, b):
        db.query("INSERT INTO public.users (id, cognito_sub, email) VALUES (%s, %s, %s)", (user, "sub-" + user, user[:8] + "@example.com"))
        db.query("INSERT INTO public.courses (owner_id, title) VALUES (%s, %s)", (user, "Course of " + user[:8]))
    return a, b


def test_app_users_see_only_their_rows_and_nothing_without_context(applied):
    a, b = _seed_two_users(applied)
    conn = as_role(applied, "sensa_app_b")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM public.courses")
            assert cur.fetchone()[0] == 0, "no context must see no protected rows"
            cur.execute("SELECT public.set_current_user_id(%s)", (a,))
            cur.execute("SELECT owner_id::text FROM public.courses")
            assert [r[0] for r in cur.fetchall()] == [a]
            cur.execute("UPDATE public.courses SET title = 'stolen' WHERE owner_id = %s", (b,))
            assert cur.rowcount == 0
            cur.execute("DELETE FROM public.courses WHERE owner_id = %s", (b,))
            assert cur.rowcount == 0
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SELECT public.set_current_user_id(%s)", (a,))
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("INSERT INTO public.courses (owner_id, title) VALUES (%s, 'forged')", (b,))
        conn.rollback()
        with conn.cursor() as cur:
            # The context is transaction-local: the next transaction sees nothing again.
            cur.execute("SELECT count(*) FROM public.courses")
            assert cur.fetchone()[0] == 0
        conn.rollback()
    finally:
        conn.close()


def test_default_privileges_reach_objects_of_later_migrations(clone):
    applied = clone
    applied.psql(
        "SET ROLE sensa_migrator;"
        "CREATE TABLE public.later_notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);"
        "CREATE SEQUENCE public.later_counter;"
        "CREATE FUNCTION public.later_answer() RETURNS int LANGUAGE sql AS 'SELECT 42';"
    )
    conn = as_role(applied, "sensa_app_a")
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO public.later_notes (body) VALUES ('hello') RETURNING id")
            cur.execute("SELECT count(*) FROM public.later_notes")
            assert cur.fetchone()[0] == 1
            cur.execute("SELECT nextval('public.later_counter'), public.later_answer()")
            assert cur.fetchone()[1] == 42
        conn.rollback()
        fail_sql(conn, "TRUNCATE public.later_notes")
    finally:
        conn.close()
    assert applied.scalar("SELECT has_table_privilege('sensa_readonly', 'public.later_notes', 'SELECT')")
    assert not applied.scalar("SELECT has_table_privilege('sensa_readonly', 'public.later_notes', 'INSERT')")
    # The application can reach the new table, which has no row-level security: the
    # verification fails the play naming it, without anyone having to list it.
    refused = play(applied, "access_only.yml")
    assert refused.returncode != 0, refused
    assert "public.later_notes" in refused.output and "no forced row-level security" in refused.output, refused
    applied.psql("SET ROLE sensa_migrator; ALTER TABLE public.later_notes ENABLE ROW LEVEL SECURITY;"
                 "ALTER TABLE public.later_notes FORCE ROW LEVEL SECURITY;")
    # The stage has nothing left to grant for them.
    again = play(applied, "access_only.yml")
    assert again.returncode == 0, again
    assert again.changed() == 0, again


BREAKAGES = [
    ("ALTER TABLE public.courses NO FORCE ROW LEVEL SECURITY", "rls_not_forced", "public.courses"),
    ("ALTER TABLE public.user_progress DISABLE ROW LEVEL SECURITY", "rls_not_enabled", "public.user_progress"),
    ("SET ROLE sensa_migrator; CREATE FUNCTION public.risky_definer() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'; RESET ROLE",
     "security_definer_search_path", "public.risky_definer()"),
    ("SET ROLE sensa_migrator; CREATE FUNCTION public.open_definer(p uuid) RETURNS int LANGUAGE sql SECURITY DEFINER "
     "SET search_path = pg_catalog AS 'SELECT 1'; RESET ROLE", "security_definer_public_execute", "public.open_definer(p uuid)"),
    ("CREATE TABLE public.rogue_table (id int)", "owner_not_migrator", "public.rogue_table"),
    ("ALTER TABLE public.chapters OWNER TO sensa_app_a", "owner_not_migrator", "public.chapters"),
    ("ALTER ROLE sensa_app_b BYPASSRLS", "app_role_bypassrls", "sensa_app_b"),
    ("GRANT sensa_migrator TO sensa_app_a", "app_role_member_of_owner", "sensa_app_a"),
    ("GRANT TEMPORARY ON DATABASE {db} TO sensa_app", "app_role_can_create_temporary", "{db}"),
    ("GRANT TRIGGER ON public.keywords TO sensa_app", "app_role_ddl_privilege", "public.keywords"),
    # A later table the default privileges hand to the application, without RLS.
    ("SET ROLE sensa_migrator; CREATE TABLE public.unlisted_notes (id int); RESET ROLE",
     "app_reachable_without_rls", "public.unlisted_notes"),
    ("SET ROLE sensa_migrator; CREATE VIEW public.leaky_emails AS SELECT email FROM public.users; RESET ROLE",
     "app_reachable_view_not_invoker", "public.leaky_emails"),
    ("GRANT DELETE ON public.users TO sensa_app", "app_privilege_not_listed", "public.users"),
    ("GRANT CONNECT ON DATABASE postgres TO PUBLIC", "app_can_connect_elsewhere", "postgres"),
]


def test_each_violation_is_found_and_the_role_fails_naming_it(clone):
    for breakage, _check, _named in BREAKAGES:
        clone.psql(breakage.format(db='"%s"' % clone.name) + ";")
    _model, violations = check_model(clone)
    found = {(v["check"], v["object"]) for v in violations}
    for _breakage, check, named in BREAKAGES:
        assert (check, named.format(db=clone.name)) in found, violations
    result = play(clone, "access_only.yml")
    assert result.returncode != 0, result
    assert "Verify the access model" in result.output and "access-model violation" in result.output
    for _breakage, _check, named in BREAKAGES:
        assert named.format(db=clone.name) in result.output, named
    assert "public.chapters is owned by application role sensa_app_a" in result.output
    assert "public.rogue_table is owned by login role" in result.output


def test_check_mode_reports_changes_without_making_them(clone):
    access_db = clone
    # Drift: a lost grant, a database privilege back for PUBLIC, a risky role attribute.
    access_db.psql('REVOKE INSERT ON public.courses FROM sensa_app; GRANT TEMPORARY ON DATABASE "%s" TO PUBLIC;' % access_db.name)
    preview = play(access_db, "access_only.yml", check=True, diff=True)
    assert preview.returncode == 0, preview
    # One task applies the grant set; its diff names each privilege it would grant or revoke.
    assert preview.changed() >= 1
    assert "+sensa_app INSERT on table public.courses" in preview.output, preview
    assert "-PUBLIC TEMPORARY on database %s" % access_db.name in preview.output, preview
    assert "can create temporary tables" in preview.output  # reported, not fatal, in check mode
    assert not access_db.scalar("SELECT has_table_privilege('sensa_app', 'public.courses', 'INSERT')")
    assert access_db.scalar("SELECT has_database_privilege('sensa_app_a', current_database(), 'TEMPORARY')")

    fixed = play(access_db, "access_only.yml")
    assert fixed.returncode == 0, fixed
    assert fixed.changed() >= 1
    assert access_db.scalar("SELECT has_table_privilege('sensa_app', 'public.courses', 'INSERT')")
    assert not access_db.scalar("SELECT has_database_privilege('sensa_app_a', current_database(), 'TEMPORARY')")


def test_initial_scram_verifier_is_set_once_and_never_logged(clone):
    from ansible_collections.sensa.infra.plugins.module_utils import scram

    user = "sensa_app_t" + uuid.uuid4().hex[:6]
    verifier = scram.build_verifier("correct horse battery staple")
    extra = {"pg_access_app_users": [user], "pg_access_app_user_password_verifiers": {user: verifier}}
    try:
        first = play(clone, "roles_only.yml", extra_vars=extra, verbosity=3)
        assert first.returncode == 0, first
        # The verifier went in through -e here; what matters is the task output and results.
        task_output = first.stdout.split("Create the application login users", 1)[1]
        assert verifier.split("$", 2)[2] not in task_output
        assert clone.scalar("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (user,)) == verifier
        assert clone.scalar("SELECT pg_has_role(%s, 'sensa_app', 'MEMBER')", (user,))
        # Rotation owns the password from now on: another verifier is not applied.
        extra["pg_access_app_user_password_verifiers"] = {user: scram.build_verifier("another one")}
        again = play(clone, "roles_only.yml", extra_vars=extra)
        assert again.returncode == 0, again
        assert again.changed() == 0, again
        assert clone.scalar("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (user,)) == verifier
    finally:
        clone.psql('DROP ROLE IF EXISTS "%s";' % user, check=False)
