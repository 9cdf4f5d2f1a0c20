"""playbooks/maintenance.yml against a real server (issue 17).

A migrated database is copied per test. The clean copy passes every check; the seeded copy
has a known unused index, a bloated table, a failed migration attempt, a slow statement and a
protected table whose RLS is no longer forced, and each is reported and fails the play after
the report is written. Check mode writes nothing; VACUUM runs with one line per table.
"""

import json
import os
import shutil

import pytest
from maintenance_helpers import apply_migrations, copy_of, migrated_template, write_inventory

from support.ansible_run import run_playbook
from support.clusters import private_cluster_fixture
from support.collection import REPO_ROOT, ensure_collection_link
from support.database import Database
from support.schema import MIGRATIONS_DIR

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import access_checks  # noqa: E402

PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "maintenance.yml")

# Thresholds scaled to a test-sized database; every other threshold keeps its default.
SMALL = {
    "pg_maintenance_bloat_min_bytes": 1048576,
    "pg_maintenance_unused_index_min_bytes": 262144,
    "pg_maintenance_slow_statement_mean_ms": 40,
    "pg_maintenance_slow_statement_min_calls": 3,
}

# The suite creates the cluster-wide sensa_migrator / sensa_app roles: a cluster of its own.
pg_server = private_cluster_fixture()


@pytest.fixture(scope="module")
def template(pg_server):
    name = migrated_template(pg_server)
    yield name
    pg_server.drop_database(name)


class ReportedDatabase(Database):
    """A copy of the migrated template, where its report goes, and the inventory that says so."""

    def __init__(self, cluster, name, directory):
        super().__init__(cluster, name, cluster.superuser_password)
        self.report_dir = os.path.join(str(directory), "report")
        self.inventory = write_inventory(self, directory, pg_maintenance_report_dir=self.report_dir)


@pytest.fixture
def db(pg_server, template, tmp_path):
    database = ReportedDatabase(pg_server, copy_of(pg_server, template), tmp_path)
    yield database
    pg_server.drop_database(database.name)


def play(db, check=False, **extra):
    variables = dict(SMALL)
    variables.update(extra)
    return run_playbook(PLAYBOOK, inventory=db.inventory, extra_vars=variables, check=check, timeout=300)


def report(db, name="report.json"):
    with open(os.path.join(db.report_dir, name)) as handle:
        return json.load(handle)


def fail_migration(db, tmp_path):
    """A real failed attempt: pg_migrate's engine runs every file plus one that divides by zero."""
    from ansible_collections.sensa.infra.plugins.module_utils.migration_files import MigrationError

    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, str(migrations))
    (migrations / "20991231_0001_broken_on_purpose.sql").write_text("SELECT 1 / 0;\n")
    with pytest.raises(MigrationError):
        apply_migrations(db, str(migrations))
    assert db.scalar("SELECT count(*) FROM migrations_log WHERE status = 'failed' AND version = '20991231_0001'") == 1


def seed(db, tmp_path):
    db.psql("""
        CREATE TABLE public.maint_events (id bigint PRIMARY KEY, category int NOT NULL, payload text NOT NULL);
        INSERT INTO public.maint_events SELECT g, (g * 7) % 29989, repeat('x', 40) FROM generate_series(1, 30000) AS g;
        CREATE INDEX maint_events_category_idx ON public.maint_events (category);
        CREATE TABLE public.maint_bloated (id bigint NOT NULL, payload text NOT NULL) WITH (autovacuum_enabled = false);
        INSERT INTO public.maint_bloated SELECT g, repeat('y', 100) FROM generate_series(1, 20000) AS g;
        DELETE FROM public.maint_bloated WHERE id % 10 <> 0;
        ANALYZE public.maint_events, public.maint_bloated;
        ALTER TABLE public.courses NO FORCE ROW LEVEL SECURITY;
    """)
    conn = db.connect()
    with conn.cursor() as cur:
        for _ in range(4):
            cur.execute("SELECT pg_sleep(0.06) /* maint_slow */")
    conn.close()
    fail_migration(db, tmp_path)
    # An attempt a dead run left 'running' two hours ago (documented migrations_log columns only).
    db.psql("INSERT INTO public.migrations_log (run_id, version, filename, kind, status, started_at) VALUES "
            "(gen_random_uuid(), '20991231_0002', '20991231_0002_stuck.sql', 'migrate', 'running', "
            "now() - interval '2 hours');")


def test_clean_database_passes_and_check_mode_writes_nothing(db):
    checked = play(db, check=True)
    assert checked.returncode == 0, checked
    assert not os.path.exists(db.report_dir), "check mode wrote %s" % os.listdir(db.report_dir)

    first = play(db)
    assert first.returncode == 0, first
    assert first.changed() == 1, first  # writing the report is the only change
    data = report(db)
    assert data["breaches"] == [], data["breaches"]
    for name in ("report.md", "report.png"):
        assert os.path.getsize(os.path.join(db.report_dir, name)) > 0
    assert data["statements"]["status"] == "available"
    # The protected tables are read at run time (the schema's list, else the access model's), and
    # every owner lookup is explained as the application role and can use an index.
    plans = dict((p["table"], p) for p in data["rls_plans"])
    assert expected_protected_tables(db) <= set(plans), sorted(plans)
    assert plans["public.user_profiles"]["owner_column"] == "user_id", plans
    explained = [p for p in data["rls_plans"] if p["applicable"]]
    assert len(explained) >= 5, data["rls_plans"]
    for plan in explained:
        assert plan["index_available"] is True and not plan["note"], plan
    assert "Every check is within its threshold" in open(os.path.join(db.report_dir, "report.md")).read()

    second = play(db)
    assert second.returncode == 0, second
    assert os.path.exists(os.path.join(db.report_dir, "previous.json"))
    assert report(db)["previous_report_time"] == data["server_time"]
    sizes = dict((s["qualified"], s) for s in report(db)["sizes"])
    assert sizes["public.courses"]["previous_bytes"] is not None


def test_seeded_problems_are_reported_and_fail_the_play(db, tmp_path):
    seed(db, tmp_path)
    result = play(db)
    assert result.returncode != 0, result
    data = report(db)  # written before the play failed
    breached = set(b["check"] for b in data["breaches"])
    assert {"failed_migrations", "abandoned_migrations", "unused_indexes", "bloated_relations", "stale_tables",
            "slow_statements", "rls_not_forced"} <= breached, data["breaches"]
    assert [f["version"] for f in data["findings"]["abandoned_migrations"]] == ["20991231_0002"]
    assert "over threshold" in result.output and "unused_indexes" in result.output
    findings = data["findings"]
    assert [f["version"] for f in findings["failed_migrations"]] == ["20991231_0001"]
    assert "division by zero" in findings["failed_migrations"][0]["error_message"]
    assert "public.maint_events_category_idx" in [f["name"] for f in findings["unused_indexes"]]
    assert "public.maint_events_pkey" not in [f["name"] for f in findings["unused_indexes"]]
    bloated = dict((f["name"], f) for f in findings["bloated_relations"])
    assert bloated["public.maint_bloated"]["ratio"] > 0.8, bloated
    assert "public.maint_events" not in bloated
    assert "public.maint_bloated" in [f["name"] for f in findings["stale_tables"]]
    assert any("maint_slow" in s["query"] for s in findings["slow_statements"]), findings["slow_statements"]
    assert {"name": "public.courses", "problem": "row-level security not forced"} in findings["rls_not_forced"]
    markdown = open(os.path.join(db.report_dir, "report.md")).read()
    for text in ("20991231_0001", "maint_events_category_idx", "maint_bloated", "BREACH"):
        assert text in markdown

    # Since the last report: the failed attempt is not reported twice. VACUUM clears the dead tuples.
    again = play(db, maintenance_vacuum=True, pg_maintenance_unused_indexes_max=1, pg_maintenance_bloated_relations_max=5,
                 pg_maintenance_slow_statements_max=5, pg_maintenance_rls_not_forced_max=1,
                 pg_maintenance_abandoned_migrations_max=1)
    assert again.returncode == 0, again
    assert "VACUUM (ANALYZE) each table" in again.output and "public.maint_bloated" in again.output
    data = report(db)
    assert data["findings"]["failed_migrations"] == []
    assert data["findings"]["stale_tables"] == []
    assert "public.maint_bloated" in [v["table"] for v in data["vacuumed"]]


def expected_protected_tables(db):
    """What the access model protects in this database: its own list (when the schema has one) and the defaults."""
    tables = set("public." + t for t in access_checks.DEFAULT_PROTECTED_TABLES)
    if db.scalar("SELECT to_regprocedure('public.sensa_user_data_tables()') IS NOT NULL"):
        tables |= set("public." + r[0] for r in db.query("SELECT table_name FROM public.sensa_user_data_tables()"))
    assert tables
    return tables


def test_a_plan_without_an_index_is_reported(db):
    # user_annotations' owner lookup (user_id = current_user_id()) loses every index that leads with user_id.
    leading = db.query("""
        SELECT i.relname, k.conname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
          LEFT JOIN pg_constraint k ON k.conindid = x.indexrelid
         WHERE x.indrelid = 'public.user_annotations'::regclass
           AND x.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = x.indrelid AND attname = 'user_id')""")
    assert leading and all(conname is None for _name, conname in leading), leading
    db.psql("DROP INDEX %s;" % ", ".join("public." + name for name, _con in leading))
    result = play(db)
    assert result.returncode != 0, result
    data = report(db)
    assert [b["check"] for b in data["breaches"]] == ["rls_plans_without_index"], data["breaches"]
    assert [f["name"] for f in data["findings"]["rls_plans_without_index"]] == ["public.user_annotations"]
    assert "no index serves user_id = current_user_id()" in data["findings"]["rls_plans_without_index"][0]["problem"]
