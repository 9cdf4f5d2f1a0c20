"""pg_migrate as Ansible runs it: check mode, apply, idempotence, diff, failures without tracebacks."""

import json
import os

from migrate_helpers import table_exists

from support.ansible_run import run_playbook

PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "pg_migrate.yml")


def run(db, tree, check=False, diff=False, login=None, **migrate):
    migrate.setdefault("path", tree.path)
    result_file = os.path.join(os.path.dirname(tree.path), "result.json")
    if os.path.exists(result_file):
        os.unlink(result_file)
    result = run_playbook(PLAYBOOK, extra_vars={"login": login or db.login, "migrate": migrate, "result_file": result_file},
                          check=check, diff=diff, inventory="localhost,")
    result.result_file = result_file
    return result


def result_of(run_result):
    assert os.path.exists(run_result.result_file), run_result
    with open(run_result.result_file) as handle:
        return json.load(handle)


def test_check_apply_idempotent_status(pg_db, tree):
    tree.add("20250101_0001", "t", "CREATE TABLE t (id int);\n", "DROP TABLE t;\n")
    tree.add("20250101_0002", "u", "CREATE TABLE u (id int);\n", "DROP TABLE u;\n")

    check = run(pg_db, tree, check=True, diff=True)
    assert check.returncode == 0, check
    assert check.changed() == 1
    assert "CREATE TABLE t" in check.stdout and "20250101_0002" in check.stdout  # the diff shows the SQL
    assert not table_exists(pg_db, "migrations_log") and not table_exists(pg_db, "t")

    apply = run(pg_db, tree)
    assert apply.returncode == 0 and apply.changed() == 1, apply
    data = result_of(apply)
    assert [a["version"] for a in data["applied"]] == ["20250101_0001", "20250101_0002"]
    assert data["current_version"] == "20250101_0002" and isinstance(data["elapsed_ms"], int)

    again = run(pg_db, tree)
    assert again.returncode == 0 and again.changed() == 0, again

    status = run(pg_db, tree, state="status")
    assert status.changed() == 0 and result_of(status)["current_version"] == "20250101_0002"

    check_rollback = run(pg_db, tree, check=True, state="rolled_back", target="20250101_0001")
    assert check_rollback.changed() == 1 and table_exists(pg_db, "u")
    rollback = run(pg_db, tree, state="rolled_back", target="20250101_0001")
    assert rollback.changed() == 1 and not table_exists(pg_db, "u")


def test_application_name_is_visible_to_operators(pg_db, tree):
    tree.add("20250101_0001", "who", "CREATE TABLE who AS SELECT current_setting('application_name') AS app;\n")
    assert run(pg_db, tree).returncode == 0
    assert pg_db.scalar("SELECT app FROM who") == "sensa.pg_migrate"


def test_failed_file_fails_the_task_with_a_clear_message(pg_db, tree):
    tree.add("20250101_0001", "bad", "CREATE TABLE ok (id int);\nSELECT * FROM nowhere;\n")
    result = run(pg_db, tree)
    assert result.returncode != 0
    assert "20250101_0001_bad.sql failed at line 2" in result.stdout and "42P01" in result.stdout
    assert "Traceback" not in result.output


def test_invalid_tree_fails_before_connecting(pg_db, tree):
    tree.add("20250101_0001", "ok", "SELECT 1;\n", down=None)
    result = run(pg_db, tree)
    assert result.returncode != 0 and "migration with no rollback" in result.stdout
    assert "Traceback" not in result.output


def test_wrong_password_is_clear_and_never_printed(pg_db, tree):
    tree.add("20250101_0001", "t", "SELECT 1;\n")
    secret = "Wr0ng-Pa55word-that-must-not-leak"
    login = {"login_host": "127.0.0.1", "login_port": pg_db.cluster.port, "login_user": "postgres",
             "login_password": secret, "login_db": pg_db.name, "ssl_mode": "disable"}
    result = run(pg_db, tree, login=login)
    assert result.returncode != 0
    assert "password authentication failed" in result.stdout and "check login_user and login_password" in result.stdout
    assert secret not in result.output and "Traceback" not in result.output


def test_unreachable_server_is_clear(pg_db, tree):
    tree.add("20250101_0001", "t", "SELECT 1;\n")
    from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import free_port

    login = {"login_host": "127.0.0.1", "login_port": free_port(), "login_user": "postgres", "login_db": "x",
             "connect_timeout": 3}
    result = run(pg_db, tree, login=login)
    assert result.returncode != 0
    assert "cannot connect to PostgreSQL" in result.stdout and "is running" in result.stdout
    assert "Traceback" not in result.output


def test_lint_strict_fails_on_findings_and_warn_reports_them(pg_db, tree):
    tree.add("20250101_0001", "risky", "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN must int NOT NULL;\n")
    strict = run(pg_db, tree, lint="strict")
    assert strict.returncode != 0 and "adding-required-field" in strict.stdout
    assert not table_exists(pg_db, "t")
    warn = run(pg_db, tree, lint="warn")
    assert warn.returncode == 0 and "squawk" in warn.output and "adding-required-field" in warn.output


def test_check_mode_reports_drift_structured(pg_db, tree):
    tree.add("20250101_0001", "t", "CREATE TABLE t (id int);\n")
    assert run(pg_db, tree).returncode == 0
    tree.add("20250101_0001", "t", "CREATE TABLE t (id bigint);\n")
    tree.add("20250101_0002", "u", "CREATE TABLE u (id int);\n")
    check = run(pg_db, tree, check=True)
    assert check.returncode != 0 and "changed after it was applied" in check.stdout
    assert "20250101_0001_t.sql" in check.stdout
    assert '"recorded": "sha256:v1:' in check.stdout or "recorded: sha256:v1:" in check.stdout
    assert not table_exists(pg_db, "u")
