"""What users of Flyway and dbmate ask for: a status table, fail_on_pending, rollback by
steps, a schema dump after migrate, and a new-migration scaffold."""

import os
import subprocess
import sys

from migrate_helpers import table_exists
from test_module import result_of, run

from support.collection import REPO_ROOT


def _three(tree):
    for i, name in enumerate(["a", "b", "c"], start=1):
        tree.add("20250101_%04d" % i, name, "CREATE TABLE IF NOT EXISTS %s (id int);\n" % name,
                 "DROP TABLE IF EXISTS %s;\n" % name)


def test_status_table_shows_applied_pending_drift_and_failed_attempts(pg_db, tree):
    _three(tree)
    assert run(pg_db, tree, target="20250101_0002").returncode == 0
    tree.add("20250101_0001", "a", "CREATE TABLE IF NOT EXISTS a (id bigint);\n", "DROP TABLE IF EXISTS a;\n")
    tree.add("20250101_0004", "bad", "SELECT * FROM nowhere;\n")
    pg_db.psql("INSERT INTO migrations_log (run_id, version, filename, kind, checksum, status, error_message) "
               "VALUES (gen_random_uuid(), '20250101_0004', '20250101_0004_bad.sql', 'migrate', NULL, 'failed', "
               "'relation \"nowhere\" does not exist')")
    status = run(pg_db, tree, state="status")
    assert status.returncode == 0, status
    table = result_of(status)["status_table"]
    assert table[0].split() == ["VERSION", "STATE", "FILE"]
    rows = dict((line.split()[0], line.split()[1]) for line in table[1:5])
    assert rows == {"20250101_0001": "drift", "20250101_0002": "applied", "20250101_0003": "pending",
                    "20250101_0004": "pending"}
    assert any("20250101_0004_bad.sql" in line and "failed" in line and "nowhere" in line for line in table)
    assert table[-1].startswith("1 applied, 2 pending, 1 drifted, 1 failed")


def test_status_playbook_prints_the_table_and_gates_on_pending(pg_db, tree, tmp_path):
    from support.ansible_run import run_playbook

    _three(tree)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "sensa_databases:\n  hosts:\n    testdb:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: %s\n" % sys.executable)
    playbook = os.path.join(REPO_ROOT, "playbooks", "migration_status.yml")
    extra = {"sensa_db_login": pg_db.login, "pg_migrations_path": tree.path, "pg_migrations_session_role": "",
             "pg_migrations_fail_on_pending": True}
    gate = run_playbook(playbook, inventory=str(inventory), extra_vars=extra)
    assert gate.returncode != 0 and "3 migration(s) pending" in gate.stdout, gate
    assert run(pg_db, tree).returncode == 0
    ok = run_playbook(playbook, inventory=str(inventory), extra_vars=extra)
    assert ok.returncode == 0 and ok.changed() == 0, ok
    assert "20250101_0003  applied" in ok.stdout and "3 applied, 0 pending" in ok.stdout
    # The summary at the end (issue 15): the version and what is pending.
    summary = ok.stdout.split("Summarise the migrations", 1)[1]
    assert "schema_version: '20250101_0003'" in summary and "pending: none" in summary, ok


def test_rollback_playbook_ends_with_what_was_rolled_back_and_to_which_version(pg_db, tree, tmp_path):
    from support.ansible_run import run_playbook

    _three(tree)
    assert run(pg_db, tree).returncode == 0
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "sensa_databases:\n  hosts:\n    testdb:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: %s\n" % sys.executable)
    extra = {"sensa_db_login": pg_db.login, "pg_migrations_path": tree.path, "pg_migrations_session_role": "",
             "pg_migrations_steps": 2}
    playbook = os.path.join(REPO_ROOT, "playbooks", "rollback.yml")

    preview = run_playbook(playbook, inventory=str(inventory), extra_vars=extra, check=True)
    assert preview.returncode == 0, preview
    summary = " ".join(preview.stdout.split("Summarise the migrations", 1)[1].split())
    assert ("would run 2 rollback file(s), newest first: 20250101_0003_rollback.sql, 20250101_0002_rollback.sql"
            in summary), preview
    assert "schema_version: '20250101_0003 (unchanged: check mode)'" in summary, preview
    assert table_exists(pg_db, "c")

    back = run_playbook(playbook, inventory=str(inventory), extra_vars=extra)
    assert back.returncode == 0, back
    summary = " ".join(back.stdout.split("Summarise the migrations", 1)[1].split())
    assert "rolled back 2 (newest first): 20250101_0003, 20250101_0002" in summary, back
    assert "schema_version: was 20250101_0003, now 20250101_0001" in summary, back
    assert not table_exists(pg_db, "b")

    status = run_playbook(os.path.join(REPO_ROOT, "playbooks", "migration_status.yml"), inventory=str(inventory),
                          extra_vars={k: v for k, v in extra.items() if k != "pg_migrations_steps"})
    summary = " ".join(status.stdout.split("Summarise the migrations", 1)[1].split())
    assert "pending: '2: 20250101_0002, 20250101_0003'" in summary and "schema_version: '20250101_0001'" in summary, status


def test_fail_on_pending_fails_status_only_when_something_is_pending(pg_db, tree):
    _three(tree)
    gate = run(pg_db, tree, state="status", fail_on_pending=True)
    assert gate.returncode != 0 and "3 migration(s) pending: 20250101_0001, 20250101_0002, 20250101_0003" in gate.stdout
    assert not table_exists(pg_db, "migrations_log")
    assert run(pg_db, tree).returncode == 0
    assert run(pg_db, tree, state="status", fail_on_pending=True).returncode == 0


def test_rollback_by_steps(pg_db, tree):
    _three(tree)
    assert run(pg_db, tree).returncode == 0
    check = run(pg_db, tree, check=True, state="rolled_back", steps=2)
    assert check.changed() == 1 and table_exists(pg_db, "c")
    back = run(pg_db, tree, state="rolled_back", steps=2)
    data = result_of(back)
    assert [r["version"] for r in data["rolled_back"]] == ["20250101_0003", "20250101_0002"]
    assert data["current_version"] == "20250101_0001" and table_exists(pg_db, "a") and not table_exists(pg_db, "b")
    both = run(pg_db, tree, state="rolled_back", steps=1, target="0")
    assert both.returncode != 0 and "mutually exclusive" in both.stdout


def test_schema_dump_after_migrate_is_rewritten_only_on_change(pg_db, tree, tmp_path):
    dump = str(tmp_path / "schema.sql")
    pg_dump = os.path.join(pg_db.cluster.bindir, "pg_dump")
    tree.add("20250101_0001", "a", "CREATE TABLE IF NOT EXISTS a (id int);\n")
    first = run(pg_db, tree, schema_dump=dump, pg_dump_path=pg_dump)
    assert first.returncode == 0, first
    assert result_of(first)["schema_dump"] == {"path": dump, "changed": True}
    assert "CREATE TABLE public.a" in open(dump).read()
    again = run(pg_db, tree, schema_dump=dump, pg_dump_path=pg_dump)
    assert again.changed() == 0 and result_of(again)["schema_dump"]["changed"] is False


def test_scaffold_writes_the_next_migration_and_its_rollback(tmp_path):
    root = tmp_path / "sql"
    for name in ("migrations/20250122_0001_one.sql", "migrations/20250122_0005_five.sql",
                 "rollbacks/20250122_0001_rollback.sql", "rollbacks/20250122_0005_rollback.sql"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("SELECT 1;\n")
    script = os.path.join(REPO_ROOT, "scripts", "new_migration.py")
    proc = subprocess.run([sys.executable, script, "add_course_tags", "--sql-dir", str(root), "--date", "20260301"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    up = root / "migrations" / "20260301_0006_add_course_tags.sql"
    down = root / "rollbacks" / "20260301_0006_rollback.sql"
    assert up.exists() and down.exists() and str(up) in proc.stdout
    assert up.read_text().startswith("-- What:") and "IF NOT EXISTS" in up.read_text()
    assert "IF EXISTS" in down.read_text()
    from ansible_collections.sensa.infra.plugins.module_utils.migration_files import discover

    assert [m.version for m in discover(str(root / "migrations"))][-1] == "20260301_0006"
    bad = subprocess.run([sys.executable, script, "Add-Tags", "--sql-dir", str(root)], capture_output=True, text=True,
                         check=False)
    assert bad.returncode != 0 and "lower-case" in bad.stderr
